"""Celery tasks of the backups app: thin wrappers that load rows and call one service."""

from celery import shared_task

from backups.models import BackupService
from backups.services.backup_service import backup_service_connect as connect
from backups.services.backup_service import backup_service_sync as sync
from tenants.exceptions import MicrosoftUnavailable
from tenants.models import Tenant
from tenants.principals import Principal


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
