"""Scope application against the emulator: one policy per workload created, more than 50
units added in requests of at most 50 (and through bulk addition jobs), activation, units
followed until protected, removals that freeze the billed size. Nothing is mocked."""

import pytest
from django.utils import timezone

from backups import selectors
from backups.choices import (
    JobKind,
    JobState,
    ProtectionUnitStatus,
    ResourceKind,
    ScopeMode,
    Workload,
)
from backups.models import ProtectionPolicy, ProtectionUnit, Resource
from backups.services.protection import GRAPH_WORKLOAD
from backups.services.scope import protection_scope_set
from m365.backup.units import iter_protection_units
from tenants.graph import app_graph
from tenants.principals import Principal

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def scope(tenant, workload, **kwargs):
    return protection_scope_set(
        by=Principal.system(), tenant=tenant, workload=workload, now=timezone.now(), **kwargs
    )


def graph_units(emulated, policy):
    """The policy's units as Microsoft lists them (through the portal's own client)."""
    with app_graph(policy.tenant) as graph:
        return list(
            iter_protection_units(
                graph, workload=GRAPH_WORKLOAD[policy.workload], policy_id=policy.graph_id
            )
        )


def test_scope_application_protects_more_than_50_units_and_follows_them(
    backup_tenant, run_job, poll, clock
):
    emulated, tenant = backup_tenant(users=80)
    assert run_job(tenant, JobKind.SCAN_INVENTORY).state == JobState.SUCCEEDED
    excluded = Resource.objects.filter(tenant=tenant, kind=ResourceKind.SITE).order_by("pk").first()
    scope(tenant, Workload.EXCHANGE, mode=ScopeMode.ALL)
    scope(tenant, Workload.SHAREPOINT, mode=ScopeMode.ALL, exclude=[excluded])
    scope(tenant, Workload.ONEDRIVE, mode=ScopeMode.RULES, url_patterns=["*/personal/*1_*"])

    job = run_job(tenant, JobKind.APPLY_SCOPE)

    assert job.state == JobState.RUNNING, (job.error, job.log)
    assert job.next_run_at is not None  # waiting for Microsoft
    exchange = ProtectionPolicy.objects.get(tenant=tenant, workload=Workload.EXCHANGE)
    wanted = Resource.objects.filter(tenant=tenant, workload=Workload.EXCHANGE).count()
    assert wanted > 50
    assert exchange.graph_id
    assert len(graph_units(emulated, exchange)) == wanted
    units = ProtectionUnit.objects.filter(tenant=tenant)
    assert units.filter(workload=Workload.EXCHANGE).count() == wanted
    assert not units.filter(status=ProtectionUnitStatus.PROTECTED).exists()
    sites = ProtectionUnit.objects.filter(tenant=tenant, workload=Workload.SHAREPOINT)
    assert not sites.filter(resource=excluded).exists()
    assert (
        sites.count() == Resource.objects.filter(tenant=tenant, kind=ResourceKind.SITE).count() - 1
    )
    drives = ProtectionUnit.objects.filter(tenant=tenant, workload=Workload.ONEDRIVE)
    assert (
        0
        < drives.count()
        < Resource.objects.filter(tenant=tenant, kind=ResourceKind.ONEDRIVE).count()
    )

    clock.advance(emulated, 120)
    job = poll(job)

    assert job.state == JobState.SUCCEEDED, (job.error, job.log)
    assert job.progress_done == job.progress_total == units.count()
    assert set(units.values_list("status", flat=True)) == {ProtectionUnitStatus.PROTECTED}
    assert not units.filter(protected_at__isnull=True).exists()
    assert not units.filter(graph_id="").exists()
    exchange.refresh_from_db()
    assert exchange.graph_status == "active"
    cover = {c.workload: c for c in selectors.coverage(Resource.objects.filter(tenant=tenant))}
    assert cover[Workload.EXCHANGE].protected == wanted
    assert cover[Workload.SHAREPOINT].unprotected == 1
    assert (
        selectors.resources_unprotected(
            Resource.objects.filter(tenant=tenant, workload="sharepoint")
        ).get()
        == excluded
    )

    # A second application finds nothing to do and asks Microsoft for nothing.
    again = run_job(tenant, JobKind.APPLY_SCOPE)
    assert again.state == JobState.SUCCEEDED, (again.error, again.log)
    assert again.progress_total == 0


def test_many_additions_go_through_bulk_addition_jobs(
    backup_tenant, run_job, poll, clock, settings
):
    settings.BACKUP_BULK_ADDITION_THRESHOLD = 5
    settings.BACKUP_BULK_JOB_SIZE = 4
    emulated, tenant = backup_tenant(users=60)
    assert run_job(tenant, JobKind.SCAN_MAILBOXES).state == JobState.SUCCEEDED
    ghost = (
        Resource.objects.filter(tenant=tenant, kind=ResourceKind.USER_MAILBOX).order_by("pk").last()
    )
    scope(tenant, Workload.EXCHANGE, mode=ScopeMode.ALL)
    # The user goes before Microsoft resolves the bulk job: it must come back as refused.
    job = run_job(tenant, JobKind.APPLY_SCOPE)
    assert job.state == JobState.RUNNING, (job.error, job.log)
    units = ProtectionUnit.objects.filter(tenant=tenant)
    # The policy is created with the first 50 units; the rest go in bulk jobs of 4 ids.
    in_bulk = units.exclude(bulk_job_id="")
    assert units.count() > 55
    assert in_bulk.count() == units.count() - 50
    assert in_bulk.values("bulk_job_id").distinct().count() == -(-in_bulk.count() // 4)
    assert in_bulk.filter(resource=ghost).exists()
    emulated.control.delete_user(emulated.id, ghost.external_id)

    clock.advance(emulated, 200)  # bulk jobs resolve (60 s + 30 s per thousand), units protect
    job = poll(job)
    clock.advance(emulated, 120)
    job = poll(job)

    assert job.state == JobState.PARTIALLY_SUCCEEDED, (job.error, job.log)
    refused = units.get(resource=ghost)
    assert refused.status == ProtectionUnitStatus.FAILED
    assert refused.error_code == "ProtectionUnitNotFound"
    assert units.filter(status=ProtectionUnitStatus.PROTECTED).count() == units.count() - 1
    assert "ProtectionUnitNotFound: 1" in job.error or "ProtectionUnitNotFound: 1" in str(job.log)


def test_a_deleted_user_leaves_protection_with_its_size_frozen(backup_tenant, run_job, poll, clock):
    emulated, tenant = backup_tenant(users=20)
    run_job(tenant, JobKind.SCAN_INVENTORY)
    scope(tenant, Workload.EXCHANGE, mode=ScopeMode.ALL)
    job = run_job(tenant, JobKind.APPLY_SCOPE)
    clock.advance(emulated, 120)
    assert poll(job).state == JobState.SUCCEEDED
    unit = ProtectionUnit.objects.filter(
        tenant=tenant, resource__kind=ResourceKind.USER_MAILBOX
    ).last()
    size = unit.resource.size_bytes
    assert size > 0
    emulated.control.delete_user(emulated.id, unit.resource.external_id)

    # The scan sees the user gone and, the scope adding and dropping by itself, applies it.
    scan = run_job(tenant, JobKind.SCAN_INVENTORY)
    assert scan.summary["disappeared"] == 2
    unit.refresh_from_db()
    assert unit.status == ProtectionUnitStatus.REMOVE_REQUESTED
    assert unit.removed_at is not None
    assert unit.size_at_removal_bytes == size
    application = unit.job
    clock.advance(emulated, 120)
    application = poll(application)
    assert application.state == JobState.SUCCEEDED, (application.error, application.log)
    unit.refresh_from_db()
    assert unit.status == ProtectionUnitStatus.REMOVED
    assert unit.size_at_removal_bytes == size
    assert unit.resource.external_id not in {
        u.resource_id for u in graph_units(emulated, unit.policy)
    }


def test_a_workload_without_a_scope_is_read_never_emptied(backup_tenant, run_job, poll, clock):
    """A policy the portal adopted (or whose scope was deleted) keeps its units."""
    from backups.models import ProtectionScope

    emulated, tenant = backup_tenant(users=12)
    run_job(tenant, JobKind.SCAN_MAILBOXES)
    scope(tenant, Workload.EXCHANGE, mode=ScopeMode.ALL)
    job = run_job(tenant, JobKind.APPLY_SCOPE)
    clock.advance(emulated, 120)
    assert poll(job).state == JobState.SUCCEEDED
    units = ProtectionUnit.objects.filter(tenant=tenant)
    before = units.count()
    ProtectionScope.objects.filter(tenant=tenant).delete()

    again = run_job(tenant, JobKind.APPLY_SCOPE)

    assert again.state == JobState.SUCCEEDED, (again.error, again.log)
    assert (
        units.filter(removed_at__isnull=True, status=ProtectionUnitStatus.PROTECTED).count()
        == before
    )
    policy = ProtectionPolicy.objects.get(tenant=tenant, workload=Workload.EXCHANGE)
    assert len(graph_units(emulated, policy)) == before
