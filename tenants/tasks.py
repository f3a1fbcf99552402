from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from tenants import services
from tenants.choices import AppProfileStatus
from tenants.exceptions import MicrosoftUnavailable
from tenants.models import AppProfile
from tenants.principals import Principal
from tenants.services.app_profiles import app_profile_verify as verify


@shared_task(ignore_result=True)
def audit_events_purge() -> int:
    """Drop audit events past the retention period (AUDIT_RETENTION_DAYS)."""
    return services.audit_events_purge(
        older_than=timedelta(days=settings.AUDIT_RETENTION_DAYS), now=timezone.now()
    )


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(MicrosoftUnavailable,),
    retry_backoff=60,
    retry_backoff_max=1800,
    max_retries=6,
)
def app_profile_verify(self, profile_id: int) -> None:
    verify(by=Principal.system(), profile=AppProfile.objects.get(pk=profile_id))


@shared_task
def app_profiles_verify_all() -> int:
    """Every six hours: one verification task per consented profile."""
    ids = list(
        AppProfile.objects.exclude(status=AppProfileStatus.PENDING_CONSENT).values_list(
            "pk", flat=True
        )
    )
    for profile_id in ids:
        app_profile_verify.delay(profile_id)
    return len(ids)
