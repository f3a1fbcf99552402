"""Golden cases of Microsoft's billed-size rule as the backups selectors apply it."""

from datetime import UTC, date, datetime, timedelta

import pytest

from backups import selectors
from backups.choices import ProtectionUnitStatus, ResourceKind, Workload
from tests.backups.factories import BackupServiceFactory, ProtectionUnitFactory, ResourceFactory

pytestmark = pytest.mark.django_db

GB = 1024**3
DAY = date(2026, 3, 10)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def usage(tenant, day=DAY):
    return {u.workload: u for u in selectors.protected_usage_on(day=day, tenant_ids=[tenant.pk])}


def test_protected_units_count_at_their_current_size(tenant_a, tenant_b):
    for size in (3 * GB, 5 * GB):
        ProtectionUnitFactory(
            resource=ResourceFactory(tenant=tenant_a, size_bytes=size), protected_at=at(DAY, 1)
        )
    ProtectionUnitFactory(resource=ResourceFactory(tenant=tenant_b), protected_at=at(DAY, 1))
    exchange = usage(tenant_a)[Workload.EXCHANGE]
    assert (exchange.protected_bytes, exchange.protected_units, exchange.protected_users) == (
        8 * GB,
        2,
        2,
    )


def test_a_unit_protected_after_the_day_ends_counts_from_the_next_day(tenant_a):
    ProtectionUnitFactory(
        resource=ResourceFactory(tenant=tenant_a), protected_at=at(DAY + timedelta(days=1), 0)
    )
    assert usage(tenant_a) == {}
    assert usage(tenant_a, DAY + timedelta(days=1))[Workload.EXCHANGE].protected_units == 1


def test_requested_and_failed_units_count_nothing(tenant_a):
    ProtectionUnitFactory(
        resource=ResourceFactory(tenant=tenant_a),
        protected_at=None,
        status=ProtectionUnitStatus.PROTECT_REQUESTED,
    )
    ProtectionUnitFactory(
        resource=ResourceFactory(tenant=tenant_a),
        status=ProtectionUnitStatus.FAILED,
        protected_at=at(DAY, 1),
    )
    assert usage(tenant_a) == {}


def test_a_removed_unit_stays_billed_at_its_frozen_size_for_365_days(tenant_a):
    removed = at(DAY, 8)
    ProtectionUnitFactory(
        resource=ResourceFactory(tenant=tenant_a, size_bytes=50 * GB),  # grew after removal
        protected_at=at(DAY - timedelta(days=30)),
        removed_at=removed,
        size_at_removal_bytes=20 * GB,
        status=ProtectionUnitStatus.REMOVED,
    )
    on_removal_day = usage(tenant_a)[Workload.EXCHANGE]
    assert (on_removal_day.protected_bytes, on_removal_day.protected_units) == (20 * GB, 0)
    day_before = usage(tenant_a, DAY - timedelta(days=1))[Workload.EXCHANGE]
    assert (day_before.protected_bytes, day_before.protected_units) == (50 * GB, 1)
    last = removed.date() + timedelta(days=364)
    assert usage(tenant_a, last)[Workload.EXCHANGE].protected_bytes == 20 * GB
    assert usage(tenant_a, last + timedelta(days=1)) == {}


def test_protected_users_are_distinct_across_mailbox_and_onedrive(tenant_a):
    owner = "6f1c8e1e-0000-4000-8000-000000000001"
    for kind in (ResourceKind.USER_MAILBOX, ResourceKind.ONEDRIVE):
        ProtectionUnitFactory(
            resource=ResourceFactory(tenant=tenant_a, kind=kind, owner_external_id=owner),
            protected_at=at(DAY, 1),
        )
    ProtectionUnitFactory(
        resource=ResourceFactory(tenant=tenant_a, kind=ResourceKind.SITE), protected_at=at(DAY, 1)
    )
    per_workload = usage(tenant_a)
    assert per_workload[Workload.EXCHANGE].protected_users == 1
    assert per_workload[Workload.SHAREPOINT].protected_users == 0
    assert selectors.protected_users_on(day=DAY, tenant_ids=[tenant_a.pk]) == {tenant_a.pk: 1}


def test_billing_window_runs_from_enablement_through_the_offboarding_tail(tenant_a, tenant_b):
    BackupServiceFactory(tenant=tenant_a, enabled_at=at(date(2026, 3, 5), 15))
    BackupServiceFactory(
        tenant=tenant_b,
        enabled_at=at(date(2026, 1, 1)),
        offboard_requested_at=at(date(2026, 3, 1)),
        grace_period_ends_at=at(date(2026, 3, 8)),
        billing_ends_at=at(date(2026, 4, 7), 9),
    )
    windows = selectors.billing_windows()
    assert windows[tenant_a.pk] == selectors.BillingWindow(tenant_a.pk, date(2026, 3, 5), None)
    assert windows[tenant_b.pk].covers(date(2026, 4, 7))
    assert not windows[tenant_b.pk].covers(date(2026, 4, 8))
    assert not windows[tenant_a.pk].covers(date(2026, 3, 4))


def test_usage_is_one_query_for_any_number_of_tenants(
    django_assert_num_queries, tenant_a, tenant_b
):
    for tenant in (tenant_a, tenant_b):
        ProtectionUnitFactory.create_batch(3, resource__tenant=tenant, protected_at=at(DAY, 1))
    with django_assert_num_queries(1):
        rows = selectors.protected_usage_on(day=DAY)
    assert {row.tenant_id for row in rows} == {tenant_a.pk, tenant_b.pk}


def test_a_resource_protected_again_is_not_billed_twice(tenant_a):
    resource = ResourceFactory(tenant=tenant_a, size_bytes=30 * GB)
    ProtectionUnitFactory(
        resource=resource,
        protected_at=at(DAY - timedelta(days=60)),
        removed_at=at(DAY - timedelta(days=20)),
        size_at_removal_bytes=25 * GB,
        status=ProtectionUnitStatus.REMOVED,
    )
    # While removed, the frozen size is billed.
    between = usage(tenant_a, DAY - timedelta(days=10))[Workload.EXCHANGE]
    assert (between.protected_bytes, between.protected_units) == (25 * GB, 0)
    # Protected again: the live size only, not live plus frozen.
    ProtectionUnitFactory(resource=resource, protected_at=at(DAY - timedelta(days=5)))
    again = usage(tenant_a)[Workload.EXCHANGE]
    assert (again.protected_bytes, again.protected_units) == (30 * GB, 1)
    assert usage(tenant_a, DAY - timedelta(days=10))[Workload.EXCHANGE].protected_bytes == 25 * GB


def test_a_unit_refused_after_protection_counts_neither_size_nor_seat(tenant_a):
    resource = ResourceFactory(tenant=tenant_a, owner_external_id="u-1")
    ProtectionUnitFactory(
        resource=resource, protected_at=at(DAY, 1), status=ProtectionUnitStatus.FAILED
    )
    assert usage(tenant_a) == {}
    assert selectors.protected_users_on(day=DAY, tenant_ids=[tenant_a.pk]) == {}
