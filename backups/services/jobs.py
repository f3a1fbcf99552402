"""Backup jobs: start (with an idempotency key), cancel, retry, and run.

A job is a `BackupJob` row first and a Celery task second: the task carries only the id.
`backup_job_run` takes a lease on the row (a conditional update), calls the runner of the
job's kind, and records the outcome. Runners work in small steps; each step's writes are
committed with the job's checkpoint in one transaction (`JobRun.commit`), so:

- a task delivered twice runs once: the second delivery finds the job finished, or leased
  by the first run (and retries after the lease), or not due yet;
- a worker killed mid-job (tasks are acknowledged late) leaves its lease to run out; the
  redelivered task resumes from the last checkpoint and writes nothing twice;
- a runner waiting for Microsoft (units being protected, restores running) returns `Wait`:
  the job stays `running` with `next_run_at`, and the poller (beat) runs it again then.

Transient failures (throttling, Microsoft or the database away) release the lease and ask
the task to retry later; anything else fails the job with the reason.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from backups.choices import ACTIVE_JOB_STATES, SCAN_KINDS, JobKind, JobState
from backups.conf import setting
from backups.exceptions import IdempotencyKeyReused, JobAlreadyActive, JobStateConflict
from backups.models import BackupJob
from backups.services.graph_access import classify, require_app_profile, require_backup_service
from tenants.choices import PrincipalKind
from tenants.exceptions import DomainError
from tenants.models import Tenant
from tenants.principals import Principal
from tenants.services import audit_record

logger = logging.getLogger(__name__)

# The Celery task that runs each kind (scans on the `scans` queue, see CELERY_TASK_ROUTES).
TASK_FOR_KIND = {
    **dict.fromkeys(SCAN_KINDS, "backups.tasks.scan_run"),
    JobKind.APPLY_SCOPE: "backups.tasks.scope_apply",
    JobKind.SYNC_RESTORE_POINTS: "backups.tasks.restore_points_sync",
    JobKind.RESTORE: "backups.tasks.restore_run",
}
RUNNER_FOR_KIND = {
    **dict.fromkeys(SCAN_KINDS, "backups.services.inventory.run_scan"),
    JobKind.APPLY_SCOPE: "backups.services.protection.run_scope_application",
    JobKind.SYNC_RESTORE_POINTS: "backups.services.restore_points.run_restore_point_sync",
    JobKind.RESTORE: "backups.services.restores.run_restores",
}
# Kinds that need Microsoft 365 Backup enabled (scans only read the directory).
NEEDS_BACKUP_SERVICE = (JobKind.APPLY_SCOPE, JobKind.SYNC_RESTORE_POINTS, JobKind.RESTORE)


# --- outcomes and signals of a run --------------------------------------------------------


@dataclass
class Wait:
    """Come back after `seconds` (Microsoft is still working)."""

    seconds: float
    phase: str = ""


@dataclass
class Done:
    state: str = JobState.SUCCEEDED
    message: str = ""
    # Run after the job's end is committed (e.g. start the scope application after a scan).
    then: Callable[[], None] | None = None


class JobCancelled(Exception):
    pass


class LeaseLost(Exception):
    """Another run took the job over (ours was presumed dead), or it was finished meanwhile."""


class LeaseHeld(Exception):
    """Another run holds the job; try again after `seconds`."""

    def __init__(self, seconds: float):
        super().__init__(f"job leased for {seconds:.0f} more seconds")
        self.seconds = seconds


class RetryLater(Exception):
    """A transient failure: the lease is released, the task should retry after `countdown`."""

    def __init__(self, message: str, countdown: float):
        super().__init__(message)
        self.message = message
        self.countdown = countdown


@dataclass
class JobRun:
    """One run of a job, holding its lease. Runners read `job.checkpoint`, do a step, and
    call `commit` inside the transaction of the step's writes."""

    job: BackupJob
    token: str
    clock: Callable[[], datetime]
    on_progress: Callable[[BackupJob], None] | None = None
    # Restore runs finish what Microsoft already runs before ending cancelled.
    handles_cancel: bool = False
    _log: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self):
        self._log = list(self.job.log or [])

    @property
    def tenant(self) -> Tenant:
        return self.job.tenant

    @property
    def checkpoint(self) -> dict[str, Any]:
        return self.job.checkpoint

    @property
    def cancel_requested(self) -> bool:
        return self.job.cancel_requested_at is not None

    def now(self) -> datetime:
        return self.clock()

    def log(self, message: str, level: str = "info") -> None:
        self._log.append(
            {
                "at": self.now().isoformat(timespec="seconds"),
                "level": level,
                "message": message[:500],
            }
        )
        del self._log[: -setting("BACKUP_JOB_LOG_LINES")]
        self.job.log = self._log
        getattr(logger, "warning" if level == "warning" else "info")(
            "job %s (%s): %s", self.job.pk, self.job.kind, message
        )

    def commit(
        self,
        *,
        checkpoint: dict[str, Any] | None = None,
        done: int | None = None,
        total: int | None = None,
        phase: str | None = None,
        summary: dict[str, Any] | None = None,
        total_known: bool = True,
    ) -> None:
        """Save progress and checkpoint, renew the lease. Call it inside the transaction of
        the step's writes: if the lease is lost (or the job cancelled) it raises, and the
        step's writes roll back with it."""
        job = self.job
        now = self.now()
        if checkpoint is not None:
            job.checkpoint = checkpoint
        if total is not None or not total_known:
            job.progress_total = total
        if done is not None:
            job.progress_done = done
        if job.progress_total is not None and job.progress_done > job.progress_total:
            job.progress_total = job.progress_done
        if phase is not None:
            job.phase = phase[:200]
        if summary is not None:
            job.summary = summary
        job.heartbeat_at = now
        job.lease_expires_at = now + timedelta(seconds=setting("BACKUP_JOB_LEASE_SECONDS"))
        mine = BackupJob.objects.filter(pk=job.pk, lease_token=self.token, state=JobState.RUNNING)
        if not self.handles_cancel:
            mine = mine.filter(cancel_requested_at__isnull=True)
        updated = mine.update(
            checkpoint=job.checkpoint,
            progress_done=job.progress_done,
            progress_total=job.progress_total,
            phase=job.phase,
            summary=job.summary,
            heartbeat_at=now,
            lease_expires_at=job.lease_expires_at,
            log=self._log,
        )
        if not updated:
            current = (
                BackupJob.objects.filter(pk=job.pk)
                .values("lease_token", "cancel_requested_at")
                .first()
            )
            if current and current["lease_token"] == self.token and current["cancel_requested_at"]:
                raise JobCancelled()
            raise LeaseLost()
        if self.on_progress is not None:
            self.on_progress(job)


# --- start, cancel, retry -----------------------------------------------------------------


def require_ready(tenant: Tenant, kind: str) -> None:
    if kind in NEEDS_BACKUP_SERVICE:
        require_backup_service(tenant)
    else:
        require_app_profile(tenant)


def job_enqueue(job: BackupJob) -> None:
    """Send the job's task once the current transaction commits (at once outside one)."""
    task = import_string(TASK_FOR_KIND[job.kind])
    job_id = job.pk
    transaction.on_commit(lambda: task.delay(job_id))


def backup_job_start(
    *,
    by: Principal,
    tenant: Tenant,
    kind: str,
    now: datetime,
    params: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    retry_of: BackupJob | None = None,
    enqueue: bool = True,
) -> tuple[BackupJob, bool]:
    """Queue a job and send its task on commit (`enqueue=False`: the caller runs it, as
    the management commands do). Returns (job, created).

    With an idempotency key already used in this tenant, returns that job unchanged
    (IdempotencyKeyReused when it was for another kind). When a job of the kind is already
    queued or running, raises JobAlreadyActive (the database constraint decides races).
    Raises AppProfileNotActive / BackupServiceNotReady when the tenant is not ready."""
    kind = JobKind(kind)
    if idempotency_key:
        existing = BackupJob.objects.filter(tenant=tenant, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_request(existing, kind), False
    require_ready(tenant, kind)
    try:
        with transaction.atomic():
            job = BackupJob.objects.create(
                tenant=tenant,
                kind=kind,
                params=params or {},
                idempotency_key=idempotency_key or "",
                requested_by=by.label[:200],
                retry_of=retry_of,
                created_at=now,
                log=[
                    {
                        "at": now.isoformat(timespec="seconds"),
                        "level": "info",
                        "message": f"Queued by {by.label}.",
                    }
                ],
            )
            if by.kind != PrincipalKind.SYSTEM:
                audit_record(
                    by=by,
                    action="backup_job.started",
                    tenant=tenant,
                    target=job,
                    details={
                        "kind": kind,
                        "idempotency_key": idempotency_key,
                        "retry_of": retry_of.pk if retry_of else None,
                    },
                    now=now,
                )
    except IntegrityError:
        if idempotency_key:
            existing = BackupJob.objects.filter(
                tenant=tenant, idempotency_key=idempotency_key
            ).first()
            if existing is not None:
                return _same_request(existing, kind), False
        active = BackupJob.objects.active().filter(tenant=tenant, kind=kind).first()
        if active is None:
            raise
        raise JobAlreadyActive(
            f"A {active.get_kind_display().lower()} of {tenant.name} is already "
            f"{active.get_state_display().lower()} (job {active.pk}).",
            job_id=active.pk,
        ) from None
    if enqueue:
        job_enqueue(job)
    return job, True


def _same_request(existing: BackupJob, kind: str) -> BackupJob:
    if existing.kind != kind:
        raise IdempotencyKeyReused(
            f"This idempotency key already started job {existing.pk} "
            f"({existing.get_kind_display().lower()}).",
            field="idempotency_key",
        )
    return existing


def backup_job_cancel(*, by: Principal, job: BackupJob, now: datetime) -> BackupJob:
    """Cancel a queued job at once; ask a running one to stop at its next checkpoint (a
    waiting one is woken to do so). Work Microsoft already accepted is not undone."""
    with transaction.atomic():
        job = BackupJob.objects.select_for_update().select_related("tenant").get(pk=job.pk)
        if job.state not in ACTIVE_JOB_STATES:
            raise JobStateConflict(
                f"Job {job.pk} is {job.get_state_display().lower()}: nothing to cancel."
            )
        if job.cancel_requested_at is not None:
            return job
        job.cancel_requested_at = now
        entry = {
            "at": now.isoformat(timespec="seconds"),
            "level": "warning",
            "message": f"Cancel requested by {by.label}.",
        }
        if job.state == JobState.QUEUED and not job.lease_token:
            job.state = JobState.CANCELLED
            job.finished_at = now
            job.log = [*job.log, entry][-setting("BACKUP_JOB_LOG_LINES") :]
        wake = job.state == JobState.RUNNING and job.next_run_at is not None
        if wake:
            job.next_run_at = now
        job.save()
        audit_record(
            by=by,
            action="backup_job.cancelled",
            tenant=job.tenant,
            target=job,
            details={"kind": job.kind, "state": job.state},
            now=now,
        )
        if job.kind == JobKind.RESTORE and job.state == JobState.CANCELLED:
            from backups.services.restores import restores_cancel_queued

            restores_cancel_queued(job=job, now=now)
        if wake:
            job_enqueue(job)
    return job


def backup_job_retry(
    *, by: Principal, job: BackupJob, now: datetime, idempotency_key: str | None = None
) -> BackupJob:
    """Start the same work again as a new job (`retry_of` points at this one)."""
    if job.state in ACTIVE_JOB_STATES:
        raise JobStateConflict(f"Job {job.pk} is still {job.get_state_display().lower()}.")
    if job.kind == JobKind.RESTORE:
        raise JobStateConflict(
            "A restore job is retried by requesting the restore again (its failed artifacts "
            "are listed on the restore)."
        )
    new, _ = backup_job_start(
        by=by,
        tenant=job.tenant,
        kind=job.kind,
        now=now,
        params=job.params,
        idempotency_key=idempotency_key,
        retry_of=job,
    )
    return new


# --- running ------------------------------------------------------------------------------


def backup_job_run(
    *,
    job_id: int,
    now: datetime | None = None,
    on_progress: Callable[[BackupJob], None] | None = None,
) -> BackupJob | None:
    """Run the job one step further (idempotent). Returns the job as left, or None when
    there was nothing to do (finished, not due). Raises LeaseHeld when another run holds
    it and RetryLater after a transient failure."""
    clock = (lambda: now) if now is not None else timezone.now
    token = uuid.uuid4().hex
    job = _acquire(job_id, token, clock())
    if job is None:
        return None
    run = JobRun(job, token, clock, on_progress, handles_cancel=job.kind == JobKind.RESTORE)
    try:
        if run.cancel_requested and not run.handles_cancel:
            raise JobCancelled()
        require_ready(job.tenant, job.kind)
        outcome = import_string(RUNNER_FOR_KIND[job.kind])(run)
    except JobCancelled:
        run.log("Cancelled on request.", "warning")
        _end(run, JobState.CANCELLED)
        return run.job
    except LeaseLost:
        logger.warning("job %s: lease lost, another run continues it", job_id)
        return None
    except DomainError as exc:
        failure = classify(exc)
        if failure is not None and failure.transient:
            _release(run, failure.message)
            raise RetryLater(failure.message, _countdown(job, failure.retry_after)) from exc
        run.log(exc.message, "error")
        _end(run, JobState.FAILED, exc.code, exc.message)
        return run.job
    except Exception as exc:
        failure = classify(exc)
        if failure is None:
            logger.exception("job %s (%s) failed", job_id, job.kind)
            message = f"Internal error: {type(exc).__name__}: {exc}"
            run.log(message, "error")
            _end(run, JobState.FAILED, "internal_error", message)
            return run.job
        if failure.transient:
            _release(run, failure.message)
            raise RetryLater(failure.message, _countdown(job, failure.retry_after)) from exc
        run.log(failure.message, "error")
        _end(run, JobState.FAILED, failure.code, failure.message)
        return run.job
    if isinstance(outcome, Wait):
        _wait(run, outcome)
        return run.job
    if outcome.message:
        run.log(outcome.message, "warning" if outcome.state != JobState.SUCCEEDED else "info")
    error = outcome.message if outcome.state == JobState.FAILED else ""
    _end(run, outcome.state, "failed" if error else "", error)
    if outcome.then is not None:
        try:
            outcome.then()
        except Exception:  # the job itself is done; what follows it must not undo that
            logger.exception("job %s: follow-up failed", job_id)
    return run.job


def backup_job_give_up(*, job_id: int, reason: str, now: datetime | None = None) -> None:
    """Fail a job whose task exhausted its retries (it holds no lease then)."""
    now = now or timezone.now()
    with transaction.atomic():
        job = (
            BackupJob.objects.select_for_update()
            .filter(pk=job_id, state__in=ACTIVE_JOB_STATES)
            .first()
        )
        if job is None:
            return
        job.log = [
            *job.log,
            {
                "at": now.isoformat(timespec="seconds"),
                "level": "error",
                "message": f"Gave up after {job.attempts} attempts: {reason}",
            },
        ][-setting("BACKUP_JOB_LOG_LINES") :]
        job.state = JobState.FAILED
        job.error_code = "retries_exhausted"
        job.error = reason[:2000]
        job.finished_at = now
        job.lease_token = ""
        job.lease_expires_at = None
        job.next_run_at = None
        job.save()


def backup_jobs_due(*, now: datetime) -> list[BackupJob]:
    """Jobs to send again: running ones whose wait is over, and ones whose task was lost
    (queued for too long, or running with a lease that ran out and no wait planned)."""
    stale = now - timedelta(seconds=setting("BACKUP_JOB_STALE_SECONDS"))
    free = Q(lease_token="") | Q(lease_expires_at__lt=now)
    return list(
        BackupJob.objects.filter(
            Q(state=JobState.RUNNING, next_run_at__lte=now)
            | Q(state=JobState.QUEUED, created_at__lt=stale)
            | Q(state=JobState.RUNNING, next_run_at__isnull=True, heartbeat_at__lt=stale)
        )
        .filter(free)
        .only("id", "kind")
    )


def _acquire(job_id: int, token: str, now: datetime) -> BackupJob | None:
    with transaction.atomic():
        job = (
            BackupJob.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.state not in ACTIVE_JOB_STATES:
            return None
        if job.lease_token and job.lease_expires_at and job.lease_expires_at > now:
            raise LeaseHeld((job.lease_expires_at - now).total_seconds())
        due = job.next_run_at is None or job.next_run_at <= now or job.cancel_requested_at
        if not due:
            return None
        planned = job.next_run_at is not None
        resumed = bool(job.lease_token)  # the previous run died holding the lease
        job.lease_token = token
        job.lease_expires_at = now + timedelta(seconds=setting("BACKUP_JOB_LEASE_SECONDS"))
        job.heartbeat_at = now
        job.next_run_at = None
        if job.state == JobState.QUEUED:
            job.state = JobState.RUNNING
            job.started_at = now
        if not planned:
            job.attempts += 1
            if job.attempts > 1:
                step = job.checkpoint.get("step", "start")
                why = "its previous run was lost" if resumed else "a retry"
                job.log = [
                    *job.log,
                    {
                        "at": now.isoformat(timespec="seconds"),
                        "level": "warning",
                        "message": f"Attempt {job.attempts} ({why}), resuming at {step}.",
                    },
                ][-setting("BACKUP_JOB_LOG_LINES") :]
        job.save(
            update_fields=[
                "lease_token",
                "lease_expires_at",
                "heartbeat_at",
                "next_run_at",
                "state",
                "started_at",
                "attempts",
                "log",
            ]
        )
    return job


def _end(run: JobRun, state: str, code: str = "", message: str = "") -> None:
    job = run.job
    now = run.now()
    if job.progress_total is None or state == JobState.SUCCEEDED:
        job.progress_total = max(job.progress_done, job.progress_total or 0)
        if state == JobState.SUCCEEDED:
            job.progress_done = job.progress_total
    job.state = state
    job.finished_at = now
    job.error_code = code[:100]
    job.error = message[:2000]
    job.phase = "" if state == JobState.SUCCEEDED else job.phase
    BackupJob.objects.filter(pk=job.pk, lease_token=run.token).update(
        state=state,
        finished_at=now,
        heartbeat_at=now,
        error_code=job.error_code,
        error=job.error,
        phase=job.phase,
        progress_done=job.progress_done,
        progress_total=job.progress_total,
        checkpoint=job.checkpoint,
        summary=job.summary,
        log=run._log,
        lease_token="",
        lease_expires_at=None,
        next_run_at=None,
    )
    job.lease_token = ""
    if job.kind == JobKind.RESTORE and state in (JobState.FAILED, JobState.CANCELLED):
        from backups.services.restores import restores_end_with_job

        restores_end_with_job(job=job, now=now)
    if run.on_progress is not None:
        run.on_progress(job)


def _wait(run: JobRun, outcome: Wait) -> None:
    job = run.job
    now = run.now()
    job.next_run_at = now + timedelta(seconds=outcome.seconds)
    if outcome.phase:
        job.phase = outcome.phase[:200]
    BackupJob.objects.filter(pk=job.pk, lease_token=run.token).update(
        next_run_at=job.next_run_at,
        phase=job.phase,
        heartbeat_at=now,
        checkpoint=job.checkpoint,
        summary=job.summary,
        progress_done=job.progress_done,
        progress_total=job.progress_total,
        log=run._log,
        lease_token="",
        lease_expires_at=None,
    )
    job.lease_token = ""
    if run.on_progress is not None:
        run.on_progress(job)


def _release(run: JobRun, message: str) -> None:
    run.log(f"{message}; will retry.", "warning")
    BackupJob.objects.filter(pk=run.job.pk, lease_token=run.token).update(
        lease_token="",
        lease_expires_at=None,
        log=run._log,
        heartbeat_at=run.now(),
        checkpoint=run.job.checkpoint,
    )


def _countdown(job: BackupJob, retry_after: float | None) -> float:
    if retry_after is not None:
        return max(1.0, retry_after)
    return min(600.0, 5.0 * 2 ** max(0, job.attempts - 1))
