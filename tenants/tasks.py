from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from tenants import services


@shared_task(ignore_result=True)
def audit_events_purge() -> int:
    """Drop audit events past the retention period (AUDIT_RETENTION_DAYS)."""
    return services.audit_events_purge(
        older_than=timedelta(days=settings.AUDIT_RETENTION_DAYS), now=timezone.now()
    )
