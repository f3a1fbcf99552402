"""The job machinery without Microsoft: leases, redelivery, waits, cancellation, give-up,
the poller, and a job that fails with the reason when the tenant stops being ready."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from backups.choices import JobKind, JobState
from backups.models import BackupJob
from backups.services import jobs as job_service
from backups.services.jobs import (
    LeaseHeld,
    backup_job_give_up,
    backup_job_run,
    backup_job_start,
    backup_jobs_due,
)
from backups.tasks import jobs_poll
from tenants.choices import AppProfileStatus
from tenants.models import AppProfile
from tenants.principals import Principal
from tests.backups.factories import BackupJobFactory
from tests.backups.test_api import ready

pytestmark = pytest.mark.django_db


def start(tenant, kind=JobKind.SCAN_GROUPS):
    job, _ = backup_job_start(by=Principal.system(), tenant=tenant, kind=kind, now=timezone.now())
    return job


def test_the_database_refuses_a_second_active_job_of_a_kind(tenant_a):
    BackupJobFactory(
        tenant=tenant_a, kind=JobKind.SCAN_SITES, state=JobState.RUNNING, finished_at=None
    )
    with pytest.raises(IntegrityError):
        BackupJobFactory(
            tenant=tenant_a, kind=JobKind.SCAN_SITES, state=JobState.QUEUED, finished_at=None
        )


def test_a_job_fails_with_the_reason_when_the_app_profile_turned_inactive(tenant_a):
    ready(tenant_a)
    job = start(tenant_a)
    AppProfile.objects.filter(tenant=tenant_a).update(status=AppProfileStatus.INVALID)
    backup_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error_code == "app_profile_not_active"
    assert "must authorize the app" in job.error
    assert job.finished_at is not None and not job.lease_token


def test_a_finished_job_is_not_run_again(tenant_a):
    job = BackupJobFactory(tenant=tenant_a, state=JobState.SUCCEEDED)
    assert backup_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.attempts == 1


def test_a_job_held_by_a_live_run_is_left_to_it(tenant_a):
    ready(tenant_a)
    job = start(tenant_a)
    BackupJob.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING,
        lease_token="other",
        lease_expires_at=timezone.now() + timedelta(seconds=90),
    )
    with pytest.raises(LeaseHeld) as held:
        backup_job_run(job_id=job.pk)
    assert 80 < held.value.seconds <= 90


def test_a_job_whose_run_died_is_resumed_after_its_lease(tenant_a, monkeypatch):
    ready(tenant_a)
    job = start(tenant_a)
    BackupJob.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING,
        attempts=1,
        lease_token="dead",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        checkpoint={"step": "groups"},
    )
    seen = {}

    def runner(run):
        seen["checkpoint"] = dict(run.checkpoint)
        return job_service.Done(message="resumed")

    monkeypatch.setitem(
        job_service.RUNNER_FOR_KIND, JobKind.SCAN_GROUPS, "tests.backups.test_jobs.RUNNER"
    )
    monkeypatch.setattr("tests.backups.test_jobs.RUNNER", runner, raising=False)
    backup_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert seen["checkpoint"] == {"step": "groups"}
    assert job.state == JobState.SUCCEEDED
    assert job.attempts == 2
    assert "previous run was lost" in job.log[-2]["message"]


def test_a_waiting_job_is_polled_when_due_and_a_lost_one_is_sent_again(tenant_a, monkeypatch):
    now = timezone.now()
    waiting = BackupJobFactory(
        tenant=tenant_a,
        kind=JobKind.RESTORE,
        state=JobState.RUNNING,
        finished_at=None,
        next_run_at=now - timedelta(seconds=1),
    )
    later = BackupJobFactory(
        tenant=tenant_a,
        kind=JobKind.APPLY_SCOPE,
        state=JobState.RUNNING,
        finished_at=None,
        next_run_at=now + timedelta(minutes=5),
    )
    lost = BackupJobFactory(
        tenant=tenant_a,
        kind=JobKind.SCAN_SITES,
        state=JobState.QUEUED,
        finished_at=None,
        created_at=now - timedelta(hours=1),
    )
    due = {j.pk for j in backup_jobs_due(now=now)}
    assert due == {waiting.pk, lost.pk}
    assert later.pk not in due
    sent = []
    monkeypatch.setattr(job_service, "job_enqueue", lambda job: sent.append(job.pk))
    monkeypatch.setattr("backups.tasks.job_enqueue", lambda job: sent.append(job.pk))
    assert jobs_poll() == 2
    assert set(sent) == {waiting.pk, lost.pk}


def test_a_job_gives_up_after_its_retries(tenant_a):
    ready(tenant_a)
    job = start(tenant_a)
    backup_job_give_up(job_id=job.pk, reason="Microsoft throttled: 429")
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error_code == "retries_exhausted"
    assert "429" in job.error


def test_cancelling_a_waiting_job_wakes_it_to_stop(tenant_a, django_capture_on_commit_callbacks):
    ready(tenant_a)
    job = BackupJobFactory(
        tenant=tenant_a,
        kind=JobKind.APPLY_SCOPE,
        state=JobState.RUNNING,
        finished_at=None,
        next_run_at=timezone.now() + timedelta(minutes=5),
        checkpoint={"step": "follow"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        job_service.backup_job_cancel(by=Principal.system(), job=job, now=timezone.now())
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert job.log[-1]["message"] == "Cancelled on request."


def test_a_failed_restore_job_fails_the_restores_it_had_not_started(tenant_a):
    from backups.choices import RestoreStatus
    from backups.services.restores import ArtifactRequest, restore_request
    from tests.backups.test_api import protected_unit

    ready(tenant_a)
    unit = protected_unit(tenant_a)
    session, _ = restore_request(
        by=Principal.system(),
        tenant=tenant_a,
        now=timezone.now(),
        artifacts=[ArtifactRequest(unit)],
    )
    AppProfile.objects.filter(tenant=tenant_a).update(status=AppProfileStatus.REVOKED)
    backup_job_run(job_id=session.job_id)
    session.refresh_from_db()
    assert session.job.state == JobState.FAILED
    assert session.status == RestoreStatus.FAILED
    assert session.error_code == "app_profile_not_active"
    assert session.artifacts.get().status == "failed"
