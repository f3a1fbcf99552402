"""Formatting at the edge: money from minor units, GB from bytes, decimals without noise."""

from decimal import Decimal

from django import template

from billing.documents import SOURCES, series_value
from billing.money import format_money

register = template.Library()


@register.filter
def money(minor, currency):
    """`{{ invoice.total_minor|money:invoice.currency }}` → `USD 1,234.56`."""
    if minor is None:
        return ""
    return format_money(int(minor), currency)


@register.filter
def plain(value):
    """A Decimal without trailing zeros: 12.500000 → 12.5."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"


@register.filter
def series_rows(line):
    """(day, value, source label) of an invoice line's daily series, value in GB or seats."""
    return [
        (day, series_value(value, line.unit), SOURCES.get(src, src))
        for day, value, src in line.daily()
    ]


@register.filter
def rate(value):
    """A unit price with at least two decimals and no trailing noise: 0.100000 → 0.10."""
    if value is None:
        return ""
    text = f"{Decimal(value).normalize():f}"
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"
