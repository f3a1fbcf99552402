"""Argument types shared by billing's management commands."""

from datetime import date

from django.core.management import CommandError

from tenants.models import Tenant


def iso_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {text!r}") from exc


def tenant_ids(slugs: list[str] | None) -> list[int] | None:
    if not slugs:
        return None
    found = dict(Tenant.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    missing = sorted(set(slugs) - set(found))
    if missing:
        raise CommandError(f"No tenant with slug: {', '.join(missing)}")
    return list(found.values())
