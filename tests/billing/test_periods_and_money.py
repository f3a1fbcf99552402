"""The month arithmetic helper and the one rounding function."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.money import (
    format_money,
    parse_major,
    quantity_ratio,
    quantize_quantity,
    ratio,
    to_major,
    to_minor,
)
from billing.periods import Period, add_months, months_between, utc_today


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 1), 24, date(2028, 5, 1)),
        (date(2026, 5, 1), 0, date(2026, 5, 1)),
    ],
)
def test_add_months_clamps_to_the_last_day(day, months, expected):
    assert add_months(day, months) == expected


def test_a_month_is_half_open_and_knows_its_days():
    feb = Period.month_of(date(2028, 2, 17))
    assert (feb.start, feb.end, feb.days) == (date(2028, 2, 1), date(2028, 3, 1), 29)
    assert date(2028, 2, 29) in feb and date(2028, 3, 1) not in feb
    assert feb.last_day == date(2028, 2, 29)
    assert feb.is_month and feb.label == "2028-02"
    assert list(feb.iter_days())[-1] == date(2028, 2, 29)
    assert Period.month_of(date(2026, 12, 31)).next_month() == Period.month_of(date(2027, 1, 1))
    assert Period.month_of(date(2026, 1, 1)).previous_month().start == date(2025, 12, 1)


def test_intersect_clips_and_may_be_empty():
    march = Period.parse_month("2026-03")
    assert march.intersect(date(2026, 3, 20), None) == Period(date(2026, 3, 20), date(2026, 4, 1))
    assert march.intersect(None, date(2026, 3, 11)).days == 10
    assert march.intersect(date(2026, 4, 5), None).is_empty
    assert march.intersect(date(2026, 1, 1), date(2026, 2, 1)).is_empty


@pytest.mark.parametrize("text", ["2026-13", "2026-3", "march", "1999-01", ""])
def test_parse_month_refuses_anything_but_yyyy_mm(text):
    with pytest.raises(ValueError):
        Period.parse_month(text)


def test_months_between_and_utc_today():
    months = months_between(date(2025, 11, 20), date(2026, 2, 3))
    assert [m.label for m in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert utc_today(datetime(2026, 3, 1, 0, 30, tzinfo=UTC)) == date(2026, 3, 1)
    with pytest.raises(ValueError):
        utc_today(datetime(2026, 3, 1))


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("0.125"), "USD", 13),  # half-up, not banker's (12)
        (Decimal("0.135"), "USD", 14),
        (Decimal("0.1249999"), "USD", 12),
        (Decimal("-0.125"), "USD", -13),  # ties away from zero
        (Decimal("1234.5"), "JPY", 1235),  # no minor unit
        (Decimal("10"), "EUR", 1000),
        (7, "USD", 700),
    ],
)
def test_to_minor_rounds_half_up(amount, currency, minor):
    assert to_minor(amount, currency) == minor


def test_no_float_gets_in():
    with pytest.raises(TypeError):
        to_minor(0.1, "USD")
    with pytest.raises(ValueError):
        to_minor(Decimal(1), "XXX")


def test_formatting_and_parsing_at_the_edge():
    assert to_major(123456, "USD") == Decimal("1234.56")
    assert format_money(123456, "USD") == "USD 1,234.56"
    assert format_money(-5, "EUR") == "-EUR 0.05"
    assert format_money(1500, "JPY") == "JPY 1,500"
    assert parse_major("250.5", "USD") == 25050
    with pytest.raises(ValueError):
        parse_major("250.505", "USD")
    assert quantize_quantity(Decimal("1.0000005")) == Decimal("1.000001")


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [(455, 31), (1, 3), (2, 3), (5, 10_000_000), (15, 10_000_000), (0, 7), (10**18, 33 * 2**30)],
)
def test_quantity_ratio_is_the_half_up_six_decimal_quotient(numerator, denominator):
    assert quantity_ratio(numerator, denominator) == quantize_quantity(
        ratio(numerator, denominator)
    )
    assert quantity_ratio(5, 10_000_000) == Decimal("0.000001")  # 0.0000005 rounds up
