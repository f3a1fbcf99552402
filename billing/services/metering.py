"""Metering: one usage record per tenant, workload and billable day, from the backups
selectors (which apply Microsoft's billed-size rule and the billing window)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

from backups.selectors import billing_windows, protected_usage_on, protected_users_on
from billing.exceptions import MeteringError
from billing.models import UsageRecord
from billing.periods import Period, utc_today
from billing.pricing import WORKLOAD_ORDER
from tenants.principals import Principal
from tenants.services import audit_record

UPDATED_FIELDS = ["protected_bytes", "protected_units", "protected_users", "recorded_at"]


@dataclass(frozen=True)
class MeterResult:
    day: date
    tenants: int  # tenants whose billing window covers the day
    records: int  # rows written (inserted or updated; with overwrite=False, at most inserted)


@transaction.atomic
def usage_meter_day(
    *,
    by: Principal,
    day: date,
    now: datetime,
    overwrite: bool = True,
    tenant_ids: Iterable[int] | None = None,
) -> MeterResult:
    """Write the usage records of `day` for every tenant billed that day (or those listed).

    Idempotent: rows are unique per tenant, workload and day. `overwrite=True` (the nightly
    run) updates existing rows with today's reading; `overwrite=False` (a backfill) only
    fills days that have no row and leaves recorded ones alone. Zeros are written too, so a
    missing row always means "not metered". Four queries whatever the number of tenants.

    Backfilling a past day reads the units as they are now: protection and removal dates
    and frozen sizes are exact, but a live unit counts at its latest reported size.
    """
    if day >= utc_today(now):
        raise MeteringError(
            f"{day:%Y-%m-%d} is not over yet (UTC); only finished days are metered.", field="day"
        )
    windows = billing_windows(tenant_ids=tenant_ids)
    billed = sorted(tenant_id for tenant_id, window in windows.items() if window.covers(day))
    if not billed:
        return MeterResult(day, 0, 0)
    scope = None if tenant_ids is None else billed
    usage = {(u.tenant_id, u.workload): u for u in protected_usage_on(day=day, tenant_ids=scope)}
    seats = protected_users_on(day=day, tenant_ids=scope)

    rows = []
    for tenant_id in billed:
        exchange = usage.get((tenant_id, WORKLOAD_ORDER[0]))
        exchange_users = exchange.protected_users if exchange else 0
        # Seats are additive over a day's rows: mailbox owners count on Exchange, users with
        # only a OneDrive on OneDrive (protected_users_on counts each person once).
        attributed = {
            WORKLOAD_ORDER[0]: exchange_users,
            WORKLOAD_ORDER[1]: max(seats.get(tenant_id, 0) - exchange_users, 0),
            WORKLOAD_ORDER[2]: 0,
        }
        for workload in WORKLOAD_ORDER:
            measured = usage.get((tenant_id, workload))
            rows.append(
                UsageRecord(
                    tenant_id=tenant_id,
                    workload=workload,
                    day=day,
                    protected_bytes=measured.protected_bytes if measured else 0,
                    protected_units=measured.protected_units if measured else 0,
                    protected_users=attributed[workload],
                    recorded_at=now,
                )
            )
    if overwrite:
        UsageRecord.objects.bulk_create(
            rows,
            batch_size=3000,
            update_conflicts=True,
            unique_fields=["tenant", "workload", "day"],
            update_fields=UPDATED_FIELDS,
        )
        written = len(rows)
    else:
        before = UsageRecord.objects.filter(day=day, tenant_id__in=billed).count()
        UsageRecord.objects.bulk_create(rows, batch_size=3000, ignore_conflicts=True)
        written = UsageRecord.objects.filter(day=day, tenant_id__in=billed).count() - before
    audit_record(
        by=by,
        action="usage.metered",
        details={
            "day": day.isoformat(),
            "tenants": len(billed),
            "records": written,
            "overwrite": overwrite,
        },
        now=now,
    )
    return MeterResult(day, len(billed), written)


def usage_backfill(
    *,
    by: Principal,
    period: Period,
    now: datetime,
    overwrite: bool = False,
    tenant_ids: Iterable[int] | None = None,
    progress: Callable[[MeterResult], None] | None = None,
) -> list[MeterResult]:
    """Meter every finished day of `period`, one transaction per day (a crash keeps the
    days already done; a re-run skips or rewrites them, never doubles them)."""
    days = period.intersect(None, utc_today(now))
    ids = None if tenant_ids is None else list(tenant_ids)
    results = []
    for day in days.iter_days():
        result = usage_meter_day(by=by, day=day, now=now, overwrite=overwrite, tenant_ids=ids)
        results.append(result)
        if progress is not None:
            progress(result)
    return results
