"""Restore points and restores against the emulator: points synced by search, a restore
to completion, one with a failed artifact, more than 25 restores queued beyond Microsoft's
limit and all finished (the emulator's clock moves instead of sleeping)."""

import pytest
from django.utils import timezone

from backups.choices import (
    RESTORE_RUNNING_STATUSES,
    ArtifactStatus,
    DestinationType,
    JobKind,
    JobState,
    ProtectionUnitStatus,
    RestoreStatus,
    ScopeMode,
    Workload,
)
from backups.models import BackupJob, ProtectionUnit, RestorePoint, RestoreSession
from backups.services.restores import ArtifactRequest, restore_request
from backups.services.scope import protection_scope_set
from tenants.principals import Principal

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def protected(backup_tenant, run_job, poll, clock):
    """Factory: a tenant whose mailboxes and OneDrives are protected, an hour of restore
    points behind them."""

    def make(users=20, workloads=(Workload.EXCHANGE, Workload.ONEDRIVE)):
        emulated, tenant = backup_tenant(users=users)
        assert run_job(tenant, JobKind.SCAN_INVENTORY).state == JobState.SUCCEEDED
        for workload in workloads:
            protection_scope_set(
                by=Principal.system(),
                tenant=tenant,
                workload=workload,
                now=timezone.now(),
                mode=ScopeMode.ALL,
            )
        job = run_job(tenant, JobKind.APPLY_SCOPE)
        clock.advance(emulated, 120)
        assert poll(job).state == JobState.SUCCEEDED
        clock.advance(emulated, 3600)
        return emulated, tenant

    return make


def request(tenant, units, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        session, _ = restore_request(
            by=Principal.system(),
            tenant=tenant,
            now=timezone.now(),
            artifacts=[ArtifactRequest(u) for u in units],
            **kwargs,
        )
    session.refresh_from_db()
    return session


def test_restore_points_are_synced_in_batches(protected, run_job, settings):
    settings.BACKUP_RESTORE_POINT_BATCH = 7
    _, tenant = protected(users=12)
    job = run_job(tenant, JobKind.SYNC_RESTORE_POINTS)
    assert job.state == JobState.SUCCEEDED, (job.error, job.log)
    units = ProtectionUnit.objects.filter(tenant=tenant, status=ProtectionUnitStatus.PROTECTED)
    assert job.summary["units"] == units.count() > 7
    assert (
        RestorePoint.objects.filter(tenant=tenant).values("unit").distinct().count()
        == units.count()
    )
    drive_point = RestorePoint.objects.filter(tenant=tenant, workload=Workload.ONEDRIVE).first()
    mail_point = RestorePoint.objects.filter(tenant=tenant, workload=Workload.EXCHANGE).first()
    assert drive_point.fast_restore and not mail_point.fast_restore  # Exchange has no fast points
    assert drive_point.protected_at <= timezone.now() < drive_point.expires_at


def test_a_restore_runs_to_completion(protected, poll, clock, django_capture_on_commit_callbacks):
    emulated, tenant = protected()
    unit = ProtectionUnit.objects.filter(tenant=tenant, workload=Workload.ONEDRIVE).first()
    session = request(
        tenant, [unit], django_capture_on_commit_callbacks, destination_type=DestinationType.NEW
    )

    assert session.status == RestoreStatus.ACTIVATING, session.error_message
    artifact = session.artifacts.get()
    assert artifact.restore_point_at is not None and artifact.fast_restore
    assert artifact.restore_point_at <= session.point_in_time
    job = session.job
    assert job.state == JobState.RUNNING and job.next_run_at is not None

    clock.advance(emulated, 100)
    job = poll(job)

    assert job.state == JobState.SUCCEEDED, (job.error, job.log)
    session.refresh_from_db()
    artifact.refresh_from_db()
    assert session.status == RestoreStatus.COMPLETED
    assert artifact.status == ArtifactStatus.SUCCEEDED
    assert "-restored-" in artifact.restored_to
    assert artifact.completed_at is not None
    assert job.progress_done == job.progress_total == 1


def test_a_restore_with_a_failed_artifact(
    protected, poll, clock, django_capture_on_commit_callbacks
):
    emulated, tenant = protected()
    good, bad = ProtectionUnit.objects.filter(tenant=tenant, workload=Workload.EXCHANGE)[:2]
    emulated.control.set_faults(emulated.id, restore_failure_unit_ids=[bad.graph_id])
    session = request(tenant, [good, bad], django_capture_on_commit_callbacks)

    clock.advance(emulated, 100)
    job = poll(session.job)

    session.refresh_from_db()
    assert session.status == RestoreStatus.COMPLETED_WITH_ERRORS
    results = {a.unit_id: a for a in session.artifacts.all()}
    assert results[good.pk].status == ArtifactStatus.SUCCEEDED
    assert results[bad.pk].status == ArtifactStatus.FAILED
    assert results[bad.pk].error_code == "ArtifactCannotBeRestored"
    assert job.state == JobState.PARTIALLY_SUCCEEDED
    assert job.summary == {"restores": 1, "succeeded": 1, "failed": 1, "cancelled": 0}


def test_more_than_25_restores_wait_for_a_slot_and_all_finish(
    protected, poll, clock, django_capture_on_commit_callbacks
):
    emulated, tenant = protected(users=40)
    units = list(ProtectionUnit.objects.filter(tenant=tenant, workload=Workload.EXCHANGE)[:30])
    assert len(units) == 30
    sessions = [request(tenant, [unit], django_capture_on_commit_callbacks) for unit in units]

    job = BackupJob.objects.get(tenant=tenant, kind=JobKind.RESTORE)
    assert {s.job_id for s in sessions} == {job.pk}  # one restore job per tenant takes them all
    statuses = RestoreSession.objects.filter(tenant=tenant)
    running = statuses.filter(status__in=RESTORE_RUNNING_STATUSES)
    assert running.count() == 25
    waiting = statuses.filter(status=RestoreStatus.QUEUED)
    assert waiting.count() == 5
    assert "25" in waiting.first().waiting_reason

    clock.advance(emulated, 100)
    job = poll(job)
    assert statuses.filter(status=RestoreStatus.COMPLETED).count() == 25
    assert running.count() == 5
    assert job.state == JobState.RUNNING

    clock.advance(emulated, 100)
    job = poll(job)
    assert job.state == JobState.SUCCEEDED, (job.error, job.log)
    assert statuses.filter(status=RestoreStatus.COMPLETED).count() == 30
    assert job.progress_done == job.progress_total == 30


def test_a_point_in_time_with_no_restore_point_before_it_fails_that_artifact(
    protected, poll, django_capture_on_commit_callbacks
):
    _, tenant = protected()
    unit = ProtectionUnit.objects.filter(tenant=tenant, workload=Workload.EXCHANGE).first()
    before_protection = unit.protected_at - timezone.timedelta(days=1)
    session = request(
        tenant, [unit], django_capture_on_commit_callbacks, point_in_time=before_protection
    )
    assert session.status == RestoreStatus.FAILED
    artifact = session.artifacts.get()
    assert artifact.error_code == "NoRestorePoint"
    assert session.job.state in (JobState.FAILED, JobState.RUNNING)
