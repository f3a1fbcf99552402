"""The tenant's Microsoft 365 Backup service: the MSP's app as the tenant's backup
controller, enablement (which starts Microsoft's billing of the MSP) and offboarding.

Graph allows controller operations (register, activate, enable, unregister) only with the
delegated BackupRestore-Control.ReadWrite.All of a customer administrator, so these services
act with the refresh token the app profile holds.

Controller rules (reference section 3): with no controller the MSP's app becomes active at
once; when another controller exists, activation takes effect 7 to 30 days ahead
(`pendingActive`, shown as a pending hand-over) and `backup_service_sync` finishes it.
Unregistering an active controller starts a 7-day grace period, then up to 30 days more of
billing: the MSP may pay for 37 days after offboarding.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backups.choices import BackupServiceStatus, ServiceAppStatus
from backups.exceptions import AppProfileNotActive, BackupServiceError
from backups.models import BackupService
from m365.backup.enums import BackupServiceStatus as GraphServiceStatus
from m365.backup.enums import ServiceAppStatus as GraphAppStatus
from m365.backup.models import ServiceApp, ServiceStatus
from m365.backup.service import (
    activate_service_app,
    create_service_app,
    delete_service_app,
    enable_backup_service,
    find_service_app,
    get_service_status,
)
from m365.errors import GraphError, GraphNotFound, InvalidGrant, M365Error
from tenants.choices import AppProfileStatus, TenantStatus
from tenants.exceptions import MicrosoftUnavailable
from tenants.graph import delegated_graph
from tenants.models import AppProfile, Tenant
from tenants.principals import Principal
from tenants.services import audit_record, tenant_set_status
from tenants.services.app_profiles import app_profile_set_status

logger = logging.getLogger(__name__)

GRACE_AFTER_UNREGISTER = timedelta(days=7)
BILLING_AFTER_GRACE = timedelta(days=30)

_SERVICE_STATUS = {
    GraphServiceStatus.DISABLED: BackupServiceStatus.DISABLED,
    GraphServiceStatus.ENABLED: BackupServiceStatus.ENABLED,
    GraphServiceStatus.PROTECTION_CHANGE_LOCKED: BackupServiceStatus.PROTECTION_CHANGE_LOCKED,
    GraphServiceStatus.RESTORE_LOCKED: BackupServiceStatus.RESTORE_LOCKED,
}
_APP_STATUS = {
    GraphAppStatus.INACTIVE: ServiceAppStatus.INACTIVE,
    GraphAppStatus.ACTIVE: ServiceAppStatus.ACTIVE,
    GraphAppStatus.PENDING_ACTIVE: ServiceAppStatus.PENDING_ACTIVE,
    GraphAppStatus.PENDING_INACTIVE: ServiceAppStatus.PENDING_INACTIVE,
}


def _active_profile(tenant: Tenant) -> AppProfile:
    profile = AppProfile.objects.select_related("tenant").filter(tenant=tenant).first()
    if profile is None or profile.status != AppProfileStatus.ACTIVE or not profile.refresh_token:
        state = profile.get_status_display().lower() if profile else "missing"
        raise AppProfileNotActive(
            f"The app profile of {tenant.name} is {state}; an administrator must authorize the "
            "app before the backup service can be changed."
        )
    return profile


def _graph_failure(exc: Exception, profile: AppProfile, now: datetime) -> Exception:
    """Translate a Graph or token failure into the portal's error, recording what it means."""
    if isinstance(exc, InvalidGrant):
        with transaction.atomic():
            app_profile_set_status(
                by=Principal.system(),
                profile=profile,
                status=AppProfileStatus.INVALID,
                reason=f"The administrator's sign-in ({profile.token_user_upn}) no longer works: {exc}",
                now=now,
            )
        return AppProfileNotActive(
            "The administrator's Microsoft sign-in no longer works; the profile needs "
            "re-authorization."
        )
    if getattr(exc, "transient", False):
        return MicrosoftUnavailable(f"Microsoft did not answer: {exc}")
    if isinstance(exc, GraphError):
        return BackupServiceError(f"Microsoft refused: {exc.code or exc.status}: {exc.message}")
    return BackupServiceError(f"Microsoft refused: {exc}")


def backup_service_connect(
    *, by: Principal, tenant: Tenant, now: datetime | None = None
) -> BackupService:
    """Make the MSP's app the tenant's backup controller and enable the service.

    Idempotent: each step is skipped when Graph already shows it done, so a retried task or
    a second click finishes the job without doubling anything.
    """
    now = now or timezone.now()
    profile = _active_profile(tenant)
    try:
        with delegated_graph(profile) as graph:
            status = get_service_status(graph)
            app = find_service_app(graph, application_id=settings.M365_CLIENT_ID)
            if app is None:
                app = create_service_app(graph)
            if app.status == GraphAppStatus.INACTIVE:
                if status.status == GraphServiceStatus.DISABLED:
                    app = activate_service_app(graph, app.id)
                else:
                    # Another controller holds the tenant: hand over on the earliest allowed
                    # day (plus an hour, so the request is not a moment short of 7 days).
                    effective = now + timedelta(days=settings.BACKUP_HANDOVER_DAYS, hours=1)
                    app = activate_service_app(graph, app.id, effective_at=effective)
            if app.status == GraphAppStatus.ACTIVE:
                status = enable_backup_service(
                    graph, app_owner_tenant_id=settings.M365_MSP_TENANT_ID
                )
    except (M365Error, MicrosoftUnavailable) as exc:
        raise _graph_failure(exc, profile, now) from exc
    return _record(by=by, tenant=tenant, app=app, status=status, now=now)


def backup_service_sync(
    *, by: Principal, tenant: Tenant, now: datetime | None = None
) -> BackupService:
    """Refresh the stored state from Graph; finish a hand-over whose date has come."""
    now = now or timezone.now()
    service = BackupService.objects.filter(tenant=tenant).first()
    if service is None or service.offboard_requested_at is not None:
        return service
    if service.service_app_status == ServiceAppStatus.PENDING_ACTIVE or service.enabled_at is None:
        return backup_service_connect(by=by, tenant=tenant, now=now)
    profile = _active_profile(tenant)
    try:
        with delegated_graph(profile) as graph:
            status = get_service_status(graph)
            app = find_service_app(graph, application_id=settings.M365_CLIENT_ID)
    except (M365Error, MicrosoftUnavailable) as exc:
        raise _graph_failure(exc, profile, now) from exc
    return _record(by=by, tenant=tenant, app=app, status=status, now=now)


def _record(
    *, by: Principal, tenant: Tenant, app: ServiceApp | None, status: ServiceStatus, now: datetime
) -> BackupService:
    with transaction.atomic():
        service, _ = BackupService.objects.select_for_update().get_or_create(tenant=tenant)
        before = (service.status, service.service_app_status, service.enabled_at)
        service.status = _SERVICE_STATUS.get(status.status, service.status)
        if app is not None:
            service.service_app_id = app.id
            service.service_app_status = _APP_STATUS.get(app.status, service.service_app_status)
            service.service_app_effective_at = (
                app.effective_at if app.status == GraphAppStatus.PENDING_ACTIVE else None
            )
        else:
            service.service_app_status = ServiceAppStatus.NONE
        controlling = service.service_app_status == ServiceAppStatus.ACTIVE
        if (
            controlling
            and service.status == BackupServiceStatus.ENABLED
            and service.enabled_at is None
        ):
            service.enabled_at = now  # billing of the MSP starts here
        service.last_synced_at = now
        service.save()
        after = (service.status, service.service_app_status, service.enabled_at)
        if after != before:
            action = (
                "backup_service.enabled"
                if before[2] is None and after[2]
                else (
                    "backup_service.handover_pending"
                    if service.service_app_status == ServiceAppStatus.PENDING_ACTIVE
                    else "backup_service.updated"
                )
            )
            audit_record(
                by=by,
                action=action,
                tenant=tenant,
                target=service,
                details={
                    "status": service.status,
                    "service_app_status": service.service_app_status,
                    "effective_at": service.service_app_effective_at.isoformat()
                    if service.service_app_effective_at
                    else None,
                },
                now=now,
            )
    return service


def backup_service_offboard(
    *, by: Principal, tenant: Tenant, now: datetime | None = None
) -> BackupService:
    """Unregister the MSP's app and offboard the tenant. Returns the service with the grace
    and billing-tail dates (what the MSP keeps paying for)."""
    now = now or timezone.now()
    service = BackupService.objects.filter(tenant=tenant).first()
    if service is None or not service.service_app_id:
        raise BackupServiceError("The backup service of this tenant was never connected.")
    if service.offboard_requested_at is not None:
        return service
    profile = _active_profile(tenant)
    try:
        with delegated_graph(profile) as graph:
            # Already unregistered (404): finish the bookkeeping all the same.
            with contextlib.suppress(GraphNotFound):
                delete_service_app(graph, service.service_app_id)
            status = get_service_status(graph)
    except (M365Error, MicrosoftUnavailable) as exc:
        raise _graph_failure(exc, profile, now) from exc
    grace_ends = status.grace_period_until or now + GRACE_AFTER_UNREGISTER
    billing_ends = status.restore_allowed_until or grace_ends + BILLING_AFTER_GRACE
    with transaction.atomic():
        service = BackupService.objects.select_for_update().get(pk=service.pk)
        service.offboard_requested_at = now
        service.grace_period_ends_at = grace_ends
        service.billing_ends_at = max(billing_ends, service.enabled_at or billing_ends)
        service.service_app_status = ServiceAppStatus.NONE
        service.status = _SERVICE_STATUS.get(status.status, service.status)
        service.last_synced_at = now
        service.save()
        audit_record(
            by=by,
            action="backup_service.offboarded",
            tenant=tenant,
            target=service,
            details={
                "grace_period_ends_at": grace_ends.isoformat(),
                "billing_ends_at": service.billing_ends_at.isoformat(),
                "billed_days_after_offboarding": (service.billing_ends_at - now).days,
            },
            now=now,
        )
        tenant_set_status(
            by=by, tenant=tenant, status=TenantStatus.OFFBOARDED, reason="Offboarded", now=now
        )
    return service
