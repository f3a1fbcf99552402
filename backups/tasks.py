"""Celery tasks of the backups app: thin wrappers that load rows and call one service.

Job tasks take a `BackupJob` id and run it one step (`backup_job_run` is idempotent). They
are acknowledged late and requeued if their worker is lost (settings), retried with the
delay Microsoft asked for after a transient failure, and retried after the lease when a
redelivered message finds the job still leased by a run presumed dead.
"""

import logging

from celery import shared_task
from django.utils import timezone

from backups.choices import SCAN_KINDS, JobKind
from backups.conf import setting
from backups.exceptions import AppProfileNotActive, BackupServiceNotReady, JobAlreadyActive
from backups.models import BackupService
from backups.selectors import tenants_ready_for_backups
from backups.services.backup_service import backup_service_connect as connect
from backups.services.backup_service import backup_service_sync as sync
from backups.services.jobs import (
    LeaseHeld,
    RetryLater,
    backup_job_give_up,
    backup_job_run,
    backup_job_start,
    backup_jobs_due,
    job_enqueue,
)
from tenants.exceptions import MicrosoftUnavailable
from tenants.models import Tenant
from tenants.principals import Principal

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(MicrosoftUnavailable,),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=8,
)
def backup_service_connect(self, tenant_id: int) -> None:
    """Register, activate and enable after a consent (queued by the tenants app by name)."""
    connect(by=Principal.system(), tenant=Tenant.objects.get(pk=tenant_id))


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(MicrosoftUnavailable,),
    retry_backoff=60,
    max_retries=5,
)
def backup_service_sync_one(self, tenant_id: int) -> None:
    sync(by=Principal.system(), tenant=Tenant.objects.get(pk=tenant_id))


@shared_task
def backup_services_sync_all() -> int:
    """Hourly: follow pending hand-overs and controller state of every connected tenant."""
    ids = list(
        BackupService.objects.filter(offboard_requested_at__isnull=True)
        .exclude(service_app_id="")
        .values_list("tenant_id", flat=True)
    )
    for tenant_id in ids:
        backup_service_sync_one.delay(tenant_id)
    return len(ids)


# --- job tasks ----------------------------------------------------------------------------


def _run_job(task, job_id: int) -> None:
    try:
        backup_job_run(job_id=job_id)
    except RetryLater as exc:
        if task.request.retries >= setting("BACKUP_JOB_MAX_RETRIES"):
            backup_job_give_up(job_id=job_id, reason=exc.message)
            return
        raise task.retry(
            countdown=exc.countdown, max_retries=setting("BACKUP_JOB_MAX_RETRIES")
        ) from exc
    except LeaseHeld as exc:
        # Another run holds it: alive (this is a duplicate; it will find the job done) or
        # killed with its worker (its lease runs out and this delivery takes over).
        if task.request.retries >= setting("BACKUP_JOB_MAX_RETRIES") + 20:
            logger.warning("job %s still leased; leaving it to the poller", job_id)
            return
        raise task.retry(countdown=exc.seconds + 1, max_retries=None) from exc


@shared_task(bind=True, acks_late=True)
def scan_run(self, job_id: int) -> None:
    """Inventory scans and size collection (the `scans` queue)."""
    _run_job(self, job_id)


@shared_task(bind=True, acks_late=True)
def scope_apply(self, job_id: int) -> None:
    """Scope application: policies and units in step with the scope (the `scans` queue)."""
    _run_job(self, job_id)


@shared_task(bind=True, acks_late=True)
def restore_points_sync(self, job_id: int) -> None:
    _run_job(self, job_id)


@shared_task(bind=True, acks_late=True)
def restore_run(self, job_id: int) -> None:
    """A tenant's restores: start, queue beyond Microsoft's 25, poll to completion."""
    _run_job(self, job_id)


# --- beat ---------------------------------------------------------------------------------


@shared_task
def jobs_poll() -> int:
    """Every half minute: run jobs whose wait is over (restores and scope applications
    following Microsoft) and send again the ones whose task was lost."""
    due = backup_jobs_due(now=timezone.now())
    for job in due:
        job_enqueue(job)
    return len(due)


def _start_for_ready_tenants(kind: str) -> int:
    started = 0
    now = timezone.now()
    for tenant in tenants_ready_for_backups(needs_backup_service=kind not in SCAN_KINDS):
        try:
            backup_job_start(by=Principal.system(), tenant=tenant, kind=kind, now=now)
            started += 1
        except (JobAlreadyActive, AppProfileNotActive, BackupServiceNotReady) as exc:
            logger.info("%s not started for %s: %s", kind, tenant.slug, exc.message)
    return started


@shared_task
def scans_start_all() -> int:
    """Nightly: an inventory scan of every tenant whose app profile is active."""
    return _start_for_ready_tenants(JobKind.SCAN_INVENTORY)


@shared_task
def scope_apply_all() -> int:
    """Nightly, after the scans: apply every tenant's protection scope."""
    return _start_for_ready_tenants(JobKind.APPLY_SCOPE)


@shared_task
def restore_points_sync_all() -> int:
    return _start_for_ready_tenants(JobKind.SYNC_RESTORE_POINTS)


@shared_task
def sizes_collect_all() -> int:
    """Daily: sizes from the usage reports (what Microsoft bills) for every tenant."""
    return _start_for_ready_tenants(JobKind.COLLECT_SIZES)
