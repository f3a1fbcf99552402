"""Metering: one record per tenant, workload and billable day, idempotent, from the
backups selectors; backfill; reconciliation."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from backups.choices import ResourceKind, Workload
from billing import services
from billing.exceptions import MeteringError
from billing.models import GIB, UsageRecord
from billing.periods import Period
from billing.selectors import usage_gaps
from tenants.models import AuditEvent
from tenants.principals import Principal
from tests.backups.factories import ProtectionUnitFactory, ResourceFactory
from tests.billing.factories import at, enable_backup, record_usage

pytestmark = pytest.mark.django_db

SYSTEM = Principal.system()
DAY = date(2026, 3, 10)
NOW = at(date(2026, 3, 11), 0)


def protect(tenant, kind=ResourceKind.USER_MAILBOX, gb=10, owner=None, **unit):
    resource = ResourceFactory(tenant=tenant, kind=kind, size_bytes=gb * GIB)
    if owner is not None:
        resource.owner_external_id = owner
        resource.save()
    return ProtectionUnitFactory(
        resource=resource, protected_at=at(DAY - timedelta(days=5)), **unit
    )


def records(tenant, day=DAY):
    return {
        r.workload: (r.protected_bytes // GIB, r.protected_units, r.protected_users)
        for r in UsageRecord.objects.filter(tenant=tenant, day=day)
    }


def test_a_day_is_metered_per_workload_with_zeros_and_attributed_seats(tenant_a, tenant_b):
    enable_backup(tenant_a, date(2026, 3, 1))
    enable_backup(tenant_b, date(2026, 3, 1))
    protect(tenant_a, gb=10, owner="u1")
    protect(tenant_a, kind=ResourceKind.ONEDRIVE, gb=4, owner="u1")  # same user: one seat
    protect(tenant_a, kind=ResourceKind.ONEDRIVE, gb=6, owner="u2")  # OneDrive only
    protect(tenant_a, kind=ResourceKind.SITE, gb=20)
    protect(tenant_b, gb=7, owner="b1")

    result = services.usage_meter_day(by=SYSTEM, day=DAY, now=NOW)

    assert (result.tenants, result.records) == (2, 6)
    assert records(tenant_a) == {
        Workload.EXCHANGE: (10, 1, 1),
        Workload.ONEDRIVE: (10, 2, 1),  # two OneDrives; u2 is the only seat it adds
        Workload.SHAREPOINT: (20, 1, 0),
    }
    assert sum(users for *_, users in records(tenant_a).values()) == 2
    assert records(tenant_b) == {
        Workload.EXCHANGE: (7, 1, 1),
        Workload.ONEDRIVE: (0, 0, 0),
        Workload.SHAREPOINT: (0, 0, 0),
    }
    event = AuditEvent.objects.get(action="usage.metered")
    assert event.details == {"day": "2026-03-10", "tenants": 2, "records": 6, "overwrite": True}


def test_metering_twice_updates_and_never_doubles(tenant_a):
    enable_backup(tenant_a, date(2026, 3, 1))
    unit = protect(tenant_a, gb=10)
    services.usage_meter_day(by=SYSTEM, day=DAY, now=NOW)
    unit.resource.size_bytes = 12 * GIB
    unit.resource.save()
    services.usage_meter_day(by=SYSTEM, day=DAY, now=NOW + timedelta(hours=1))
    assert UsageRecord.objects.filter(tenant=tenant_a, day=DAY).count() == 3
    assert records(tenant_a)[Workload.EXCHANGE][0] == 12


def test_a_backfill_fills_missing_days_and_leaves_recorded_ones_alone(tenant_a):
    enable_backup(tenant_a, date(2026, 3, 8))
    protect(tenant_a, gb=10)
    record_usage(tenant_a, Period(date(2026, 3, 9), date(2026, 3, 10)), gb=99)

    results = services.usage_backfill(
        by=SYSTEM, period=Period(date(2026, 3, 1), date(2026, 3, 20)), now=NOW
    )

    # Only finished days, only inside the billing window (from 8 March), 9 March kept.
    assert [r.day for r in results if r.tenants] == [date(2026, 3, 8), DAY - timedelta(1), DAY]
    assert [r.records for r in results if r.tenants] == [3, 0, 3]
    assert records(tenant_a, date(2026, 3, 9))[Workload.EXCHANGE][0] == 99
    assert records(tenant_a, DAY)[Workload.EXCHANGE][0] == 10
    assert not UsageRecord.objects.filter(day__lt=date(2026, 3, 8)).exists()


def test_metering_stops_after_the_offboarding_tail(tenant_a):
    enable_backup(tenant_a, date(2026, 1, 1), billing_ends=date(2026, 3, 9))
    protect(tenant_a)
    assert services.usage_meter_day(by=SYSTEM, day=date(2026, 3, 9), now=NOW).tenants == 1
    assert services.usage_meter_day(by=SYSTEM, day=DAY, now=NOW).tenants == 0


def test_a_day_that_is_not_over_cannot_be_metered(tenant_a):
    with pytest.raises(MeteringError) as error:
        services.usage_meter_day(by=SYSTEM, day=date(2026, 3, 11), now=NOW)
    assert error.value.field == "day"


def test_reconciliation_finds_billable_days_without_records(tenant_a, tenant_b):
    enable_backup(tenant_a, date(2026, 3, 1))
    enable_backup(tenant_b, date(2026, 3, 5))
    march = Period(date(2026, 3, 1), date(2026, 3, 11))
    record_usage(tenant_a, march, skip={date(2026, 3, 4)})
    record_usage(tenant_b, march)
    UsageRecord.objects.filter(
        tenant=tenant_b, day=date(2026, 3, 6), workload=Workload.SHAREPOINT
    ).delete()

    gaps = usage_gaps(period=march)

    assert [(g.tenant_id, g.day, g.missing) for g in gaps] == [
        (tenant_a.pk, date(2026, 3, 4), ("exchange", "onedrive", "sharepoint")),
        (tenant_b.pk, date(2026, 3, 6), ("sharepoint",)),
    ]


def test_reconcile_command_reports_and_fails_on_gaps(tenant_a):
    enable_backup(tenant_a, date(2026, 3, 1))
    record_usage(tenant_a, Period(date(2026, 3, 1), date(2026, 3, 3)))
    out = StringIO()
    with pytest.raises(CommandError, match="1 billable tenant-day"):
        call_command(
            "billing_reconcile_usage", "--start", "2026-03-01", "--end", "2026-03-04", stdout=out
        )
    assert "alpha" in out.getvalue() and "2026-03-03" in out.getvalue()
    call_command(
        "billing_reconcile_usage", "--start", "2026-03-01", "--end", "2026-03-03", stdout=out
    )


def test_backfill_command_meters_a_range_with_a_progress_bar(tenant_a, time_machine):
    time_machine.move_to(NOW)
    enable_backup(tenant_a, date(2026, 3, 1))
    protect(tenant_a, gb=3)
    out, err = StringIO(), StringIO()
    call_command(
        "billing_backfill_usage",
        "--start",
        "2026-03-01",
        "--end",
        "2026-03-11",
        stdout=out,
        stderr=err,
    )
    assert UsageRecord.objects.filter(tenant=tenant_a).count() == 30
    assert "10/10" in err.getvalue()  # tqdm's bar
    assert "30 record(s) written" in out.getvalue()


def test_the_daily_reconciliation_mails_msp_staff_about_unmetered_days(
    tenant_a, msp_operator, mailoutbox, settings
):
    from django.utils import timezone

    from billing.tasks import usage_reconcile

    settings.MSP_NOTIFICATION_EMAILS = ["billing-team@msp.example"]
    enable_backup(tenant_a, timezone.now().date() - timedelta(days=3))  # three days, no records
    assert usage_reconcile() == 3
    assert len(mailoutbox) == 1
    assert set(mailoutbox[0].to) == {msp_operator.email, "billing-team@msp.example"}
    assert "3 billable day(s) without usage records" in mailoutbox[0].subject
