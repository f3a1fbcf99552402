"""Inventory scans against the emulator over HTTPS, on PostgreSQL: paging, throttling,
sizes from the usage reports, resources that disappear and come back. Nothing is mocked."""

from collections import Counter

import pytest
from django.db import connection

from backups.choices import JobKind, JobState, ResourceKind
from backups.models import BackupJob, Resource
from tenants.models import GraphCallStats
from tests.backups.conftest import Expected

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def counts_of(tenant) -> Counter:
    return Counter(
        Resource.objects.filter(tenant=tenant, deleted_at__isnull=True).values_list(
            "kind", flat=True
        )
    )


def test_a_scan_with_small_pages_and_30_percent_throttling_finds_exactly_what_the_tenant_holds(
    backup_tenant, run_job
):
    emulated, tenant = backup_tenant(users=60)
    emulated.control.set_faults(
        emulated.id,
        seed=11,
        throttle_rate=0.3,
        retry_after_seconds=0.01,
        page_size={"users": 7, "groups": 2, "sites": 3},
    )
    job = run_job(tenant, JobKind.SCAN_INVENTORY)

    assert job.state == JobState.SUCCEEDED, (job.error, job.log)
    expected = Expected.of(emulated).counts
    assert counts_of(tenant) == expected
    assert job.summary["users"] == 60
    assert job.progress_done == job.progress_total > 0
    # Every row once: the unique key held across pages and retries.
    assert Resource.objects.filter(tenant=tenant).count() == sum(expected.values())
    # Sizes from the usage reports, for every mailbox, OneDrive and site.
    sized = Resource.objects.filter(tenant=tenant).exclude(workload="")
    assert not sized.filter(size_bytes=0).exists()
    assert not sized.filter(size_reported_on__isnull=True).exists()
    assert not Resource.objects.filter(
        tenant=tenant, kind=ResourceKind.ONEDRIVE, web_url=""
    ).exists()
    # Throttling was met, retried, and shows in the tenant's Graph health.
    health = GraphCallStats.objects.get(tenant=tenant)
    assert health.throttled > 0
    assert health.requests > health.throttled


def test_a_user_deleted_in_the_tenant_is_marked_deleted_and_cleared_when_it_returns(
    backup_tenant, run_job
):
    emulated, tenant = backup_tenant(users=30)
    first = run_job(tenant, JobKind.SCAN_INVENTORY)
    assert first.state == JobState.SUCCEEDED
    data = Expected.of(emulated).generator(emulated)
    gone = next(data.user(i) for i in range(4, 30) if data.user(i).has_onedrive)
    emulated.control.delete_user(emulated.id, gone.id)

    second = run_job(tenant, JobKind.SCAN_INVENTORY)

    assert second.state == JobState.SUCCEEDED
    rows = Resource.objects.filter(tenant=tenant, external_id=gone.id)
    assert {r.kind for r in rows} == {ResourceKind.USER_MAILBOX, ResourceKind.ONEDRIVE}
    assert all(r.deleted_at is not None for r in rows)
    assert second.summary["disappeared"] == 2
    assert counts_of(tenant) == Expected.of(emulated, deleted_user_ids=frozenset({gone.id})).counts
    first_seen = {r.kind: r.first_seen_at for r in rows}

    # The emulator cannot restore a deleted user, so bring the row back the other way round:
    # the next scan of a present user clears a deletion mark it finds.
    present = Resource.objects.filter(tenant=tenant, kind=ResourceKind.SITE).first()
    Resource.objects.filter(pk=present.pk).update(deleted_at=second.finished_at)
    third = run_job(tenant, JobKind.SCAN_SITES)
    assert third.state == JobState.SUCCEEDED
    present.refresh_from_db()
    assert present.deleted_at is None
    assert {r.kind: r.first_seen_at for r in rows.all()} == first_seen


def test_scan_queries_do_not_grow_with_the_number_of_items(
    backup_tenant, run_job, django_assert_max_num_queries
):
    """A page of 999 users is a handful of queries, not one per user."""
    emulated, tenant = backup_tenant(users=400)
    emulated.control.set_faults(emulated.id, page_size={"users": 100, "sites": 100})
    with django_assert_max_num_queries(120):
        job = run_job(tenant, JobKind.SCAN_INVENTORY)
    assert job.state == JobState.SUCCEEDED
    assert connection.vendor == "postgresql"
    assert BackupJob.objects.get(pk=job.pk).summary["users"] == 400


def test_the_scan_command_runs_a_job_with_a_progress_bar(backup_tenant):
    from io import StringIO

    from django.core.management import call_command

    emulated, tenant = backup_tenant(users=25)
    out, err = StringIO(), StringIO()
    call_command("scan_tenant", "--tenant", tenant.slug, stdout=out, stderr=err)
    job = BackupJob.objects.get(tenant=tenant, kind=JobKind.SCAN_INVENTORY)
    assert job.state == JobState.SUCCEEDED
    assert f"Job {job.pk} succeeded" in out.getvalue()
    assert "item" in err.getvalue()  # tqdm's bar
    assert counts_of(tenant) == Expected.of(emulated).counts
