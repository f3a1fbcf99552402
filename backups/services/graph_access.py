"""What must hold before the portal talks to a tenant's Microsoft 365 for backups, and how
Microsoft's failures read to the jobs: retry later (transient) or fail with the reason."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import InterfaceError, OperationalError

from backups.choices import BackupServiceStatus, ServiceAppStatus
from backups.exceptions import AppProfileNotActive, BackupServiceNotReady
from backups.models import BackupService
from m365.errors import (
    AppNotConsented,
    AuthError,
    GraphError,
    GraphForbidden,
    GraphThrottled,
    InvalidGrant,
    M365Error,
    UnknownTenant,
)
from tenants.choices import AppProfileStatus
from tenants.exceptions import MicrosoftUnavailable
from tenants.models import AppProfile, Tenant


def require_app_profile(tenant: Tenant) -> None:
    """The tenant's app profile must be active: its consent is complete and verified."""
    profile = AppProfile.objects.filter(tenant=tenant).only("status").first()
    if profile is None or profile.status != AppProfileStatus.ACTIVE:
        state = profile.get_status_display().lower() if profile else "missing"
        raise AppProfileNotActive(
            f"The app profile of {tenant.name} is {state}; an administrator of the tenant "
            "must authorize the app (again) before backups can run."
        )


def require_backup_service(tenant: Tenant) -> None:
    """The app profile is active and Microsoft 365 Backup is enabled with the MSP's app as
    the tenant's controller: what protection and restores need."""
    require_app_profile(tenant)
    service = BackupService.objects.filter(tenant=tenant).first()
    if (
        service is None
        or service.status != BackupServiceStatus.ENABLED
        or service.service_app_status != ServiceAppStatus.ACTIVE
        or service.offboard_requested_at is not None
    ):
        if service is None:
            state = "not connected"
        elif service.offboard_requested_at is not None:
            state = "offboarded"
        else:
            state = f"{service.get_status_display().lower()} ({service.get_service_app_status_display().lower()})"
        raise BackupServiceNotReady(
            f"Microsoft 365 Backup of {tenant.name} is {state}: enable it with the MSP's app as "
            "controller before protecting or restoring data."
        )


@dataclass(frozen=True)
class Failure:
    """How a job treats an exception: retry after `retry_after` seconds, or fail."""

    transient: bool
    code: str
    message: str
    retry_after: float | None = None


def classify(exc: BaseException) -> Failure | None:
    """The job's reading of a failure, or None for an unexpected one (a bug)."""
    if isinstance(exc, GraphThrottled):
        return Failure(
            True, exc.code or "throttled", f"Microsoft throttled: {exc}", exc.retry_after
        )
    if isinstance(exc, (OperationalError, InterfaceError)):
        return Failure(True, "database_unavailable", f"Database unavailable: {exc}")
    if isinstance(exc, MicrosoftUnavailable):
        return Failure(True, exc.code, exc.message)
    if isinstance(exc, InvalidGrant | AppNotConsented | UnknownTenant):
        return Failure(
            False,
            "app_not_consented",
            f"The tenant no longer lets the app in ({exc}); an administrator must consent again.",
        )
    if isinstance(exc, AuthError):
        return Failure(
            exc.transient, exc.error or "token_error", f"Sign-in to Microsoft failed: {exc}"
        )
    if isinstance(exc, GraphForbidden):
        return Failure(
            False,
            exc.code or "forbidden",
            f"Microsoft refused (a permission missing or not allowed now): {exc.code}: {exc.message}",
        )
    if isinstance(exc, GraphError):
        if exc.transient:
            return Failure(True, exc.code, f"Microsoft did not answer: {exc}", exc.retry_after)
        return Failure(
            False, exc.code or f"http{exc.status}", f"Microsoft refused: {exc.code}: {exc.message}"
        )
    if isinstance(exc, M365Error):
        return Failure(exc.transient, "microsoft_error", str(exc))
    return None
