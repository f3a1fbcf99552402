"""App profiles: what Entra granted the app in a customer tenant, checked against the
manifest, and the profile status that follows from it.

Verification reads the app's service principal, its app role assignments and OAuth2
permission grants (app-only, with the MSP's Directory.Read.All), and redeems the stored
delegated token. The profile is active only when every manifest permission is granted, no
manifest row is newer than the consent, and the delegated token works. Losing the Global
Administrator role does not by itself change anything: roles are checked only at consent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from m365.auth import redeem_refresh_token
from m365.directory.applications import granted_permissions
from m365.directory.users import iter_user_directory_roles
from m365.errors import AppNotConsented, AuthError, GraphError, InvalidGrant, M365Error
from tenants.choices import (
    AppProfileStatus,
    ConsentPurpose,
    DirectoryRole,
    GrantStatus,
    PermissionType,
)
from tenants.exceptions import MicrosoftUnavailable
from tenants.graph import app_graph, app_tokens, graph_settings, store_rotated_refresh_token
from tenants.manifest import ManifestPermission, manifest, rows_newer_than
from tenants.models import AppProfile, PermissionGrant, Tenant
from tenants.notifications import app_profile_status_changed
from tenants.principals import Principal
from tenants.services.audit import audit_record

logger = logging.getLogger(__name__)

# Which directory roles may give which consent (the seed's rule; a Global Administrator
# qualifies for both).
ROLES_FOR_PURPOSE: dict[str, tuple[DirectoryRole, ...]] = {
    ConsentPurpose.CREATE: (DirectoryRole.GLOBAL_ADMINISTRATOR,),
    ConsentPurpose.REAUTHORIZE: (
        DirectoryRole.GLOBAL_ADMINISTRATOR,
        DirectoryRole.BACKUP_ADMINISTRATOR,
    ),
}


@dataclass(frozen=True)
class GrantCheck:
    """What the customer tenant granted the app, against the manifest."""

    service_principal_id: str | None
    granted: frozenset[str]  # ManifestPermission.key of every row found granted
    missing: tuple[ManifestPermission, ...]

    @property
    def app_present(self) -> bool:
        return self.service_principal_id is not None


def grants_inspect(tenant: Tenant) -> GrantCheck:
    """Read the app's grants in the tenant (a handful of Graph calls; no database write)."""
    rows = manifest()
    try:
        with app_graph(tenant) as graph:
            granted = granted_permissions(graph, settings.M365_CLIENT_ID)
    except AppNotConsented:
        granted = None
    except (GraphError, AuthError) as exc:
        if getattr(exc, "transient", False):
            raise MicrosoftUnavailable(f"Microsoft did not answer: {exc}") from exc
        raise
    if granted is None:
        return GrantCheck(None, frozenset(), rows)
    present = frozenset(
        row.key
        for row in rows
        if row.value
        in (
            granted.application if row.type == PermissionType.APPLICATION else granted.delegated
        ).get(row.resource_app_id, frozenset())
    )
    return GrantCheck(
        granted.service_principal_id, present, tuple(r for r in rows if r.key not in present)
    )


def user_roles(tenant: Tenant, user_oid: str) -> set[str]:
    """Template ids of the directory roles a user holds, read through Graph (app-only)."""
    with app_graph(tenant) as graph:
        return {role.role_template_id for role in iter_user_directory_roles(graph, user_oid)}


def qualifying_role(purpose: str, roles: set[str]) -> DirectoryRole | None:
    for role in ROLES_FOR_PURPOSE[purpose]:
        if role.value in roles:
            return role
    return None


def grants_store(*, profile: AppProfile, check: GrantCheck, now: datetime) -> None:
    """Write one PermissionGrant per manifest row (granted or missing)."""
    existing = {grant.permission_key: grant for grant in profile.grants.all()}
    for row in manifest():
        status = GrantStatus.GRANTED if row.key in check.granted else GrantStatus.MISSING
        grant = existing.get(row.key)
        if grant is None:
            PermissionGrant.objects.create(
                profile=profile,
                permission_key=row.key,
                resource_app_id=row.resource_app_id,
                permission=row.value,
                type=row.type,
                status=status,
                granted_since=now if status == GrantStatus.GRANTED else None,
                last_checked_at=now,
            )
            continue
        if grant.status != status:
            grant.granted_since = now if status == GrantStatus.GRANTED else None
        grant.status = status
        grant.last_checked_at = now
        grant.save(update_fields=["status", "granted_since", "last_checked_at"])
    # Rows no longer in the manifest stop being reported.
    profile.grants.exclude(permission_key__in=[row.key for row in manifest()]).delete()


def app_profile_set_status(
    *, by: Principal, profile: AppProfile, status: str, reason: str, now: datetime
) -> bool:
    """Change the profile's status, audited and notified (after commit). Returns whether it
    changed. Call inside a transaction."""
    if profile.status == status and profile.status_reason == reason:
        return False
    previous = profile.status
    profile.status = status
    profile.status_reason = reason[:500]
    profile.status_changed_at = now
    profile.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    if previous == status:
        return False
    audit_record(
        by=by,
        action="app_profile.status_changed",
        tenant=profile.tenant,
        target=profile,
        details={"from": previous, "to": status, "reason": reason},
        now=now,
    )
    transaction.on_commit(lambda: app_profile_status_changed(profile.pk, previous))
    return True


def app_profile_verify(
    *, by: Principal, profile: AppProfile, now: datetime | None = None
) -> AppProfile:
    """Check the profile against the tenant and the manifest; update grants and status.

    Runs every six hours from beat and on demand. A profile still waiting for its first
    consent is left alone. Transient Microsoft errors raise MicrosoftUnavailable (the task
    retries) and change nothing.
    """
    now = now or timezone.now()
    profile = AppProfile.objects.select_related("tenant").get(pk=profile.pk)
    if profile.status == AppProfileStatus.PENDING_CONSENT:
        return profile
    tenant = profile.tenant
    app_tokens().forget(str(tenant.entra_tenant_id))  # grants may have changed since
    check = grants_inspect(tenant)
    token_problem = _delegated_token_problem(profile) if check.app_present else ""

    if not check.app_present:
        status, reason = (
            AppProfileStatus.REVOKED,
            (
                "The Cloud Backup Express app is no longer in the tenant (its enterprise app "
                "was deleted or consent was removed)."
            ),
        )
    elif token_problem:
        status, reason = AppProfileStatus.INVALID, token_problem
    elif check.missing:
        names = ", ".join(row.value for row in check.missing)
        status, reason = AppProfileStatus.REAUTHORIZATION_REQUIRED, f"Not granted: {names}."
    elif newer := rows_newer_than(profile.manifest_version or date.min):
        names = ", ".join(row.value for row in newer)
        status, reason = (
            AppProfileStatus.REAUTHORIZATION_REQUIRED,
            (f"Permissions changed after the consent: {names}."),
        )
    else:
        status, reason = AppProfileStatus.ACTIVE, ""

    with transaction.atomic():
        profile = AppProfile.objects.select_for_update().select_related("tenant").get(pk=profile.pk)
        grants_store(profile=profile, check=check, now=now)
        if check.service_principal_id:
            profile.service_principal_id = check.service_principal_id
        profile.last_verified_at = now
        profile.last_verification_error = ""
        profile.save(
            update_fields=["service_principal_id", "last_verified_at", "last_verification_error"]
        )
        app_profile_set_status(by=by, profile=profile, status=status, reason=reason, now=now)
    return profile


def _delegated_token_problem(profile: AppProfile) -> str:
    """Why the stored delegated token does not work ('' when it does). Redeeming it also
    rotates it; the rotated token is stored at once."""
    if not profile.refresh_token:
        return "No administrator token is stored: an administrator must sign in again."
    try:
        token = redeem_refresh_token(
            graph_settings(), str(profile.tenant.entra_tenant_id), profile.refresh_token
        )
    except InvalidGrant as exc:
        return (
            f"The administrator's sign-in ({profile.token_user_upn}) no longer works: "
            f"{exc}. Password resets, disabled accounts, MFA or conditional "
            "access cause this; an administrator must re-authorize."
        )[:500]
    except M365Error as exc:
        if getattr(exc, "transient", False):
            raise MicrosoftUnavailable(f"Microsoft did not answer: {exc}") from exc
        raise
    if token.refresh_token != profile.refresh_token:
        store_rotated_refresh_token(profile.pk, token.refresh_token)
        profile.refresh_token = token.refresh_token
    return ""
