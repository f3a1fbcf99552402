"""Writes of the tenants app: tenants, memberships, API keys and the audit trail.

Every service takes the acting `Principal` as `by`, runs in one transaction and records an
audit event in that same transaction, so a change and its record commit or fail together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from tenants.choices import StaffRole, TenantStatus
from tenants.exceptions import Conflict, InvalidTransition
from tenants.models import ApiKey, AuditEvent, Membership, Tenant
from tenants.principals import Principal

# --- audit ----------------------------------------------------------------------------------


def audit_record(
    *,
    by: Principal,
    action: str,
    tenant: Tenant | None = None,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one audit event. Call it inside the transaction of the change it records."""
    return AuditEvent.objects.create(
        created_at=now or timezone.now(),
        actor_user=by.user if by.user is not None and by.user.pk else None,
        actor_api_key=by.api_key,
        actor_label=by.label[:200],
        tenant=tenant,
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:300] if target is not None else "",
        details=details or {},
        source_ip=by.source_ip,
    )


def audit_events_purge(*, older_than: timedelta, now: datetime) -> int:
    """Delete audit events older than the retention period; returns how many went."""
    deleted, _ = AuditEvent.objects.filter(created_at__lt=now - older_than).delete()
    return deleted


# --- tenants --------------------------------------------------------------------------------

# Which status may follow which. Activation and offboarding are driven by onboarding.
TENANT_TRANSITIONS: dict[str, set[str]] = {
    TenantStatus.ONBOARDING: {TenantStatus.ACTIVE, TenantStatus.SUSPENDED, TenantStatus.OFFBOARDED},
    TenantStatus.ACTIVE: {TenantStatus.SUSPENDED, TenantStatus.OFFBOARDED},
    TenantStatus.SUSPENDED: {TenantStatus.ACTIVE, TenantStatus.ONBOARDING, TenantStatus.OFFBOARDED},
    TenantStatus.OFFBOARDED: set(),
}
EDITABLE_TENANT_FIELDS = ("name", "slug", "primary_domain")


@transaction.atomic
def tenant_create(
    *,
    by: Principal,
    name: str,
    slug: str,
    entra_tenant_id: uuid.UUID | str,
    primary_domain: str,
) -> Tenant:
    """Create a customer tenant in status onboarding. Raises Conflict on a duplicate."""
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(
                name=name,
                slug=slug,
                entra_tenant_id=entra_tenant_id,
                primary_domain=primary_domain.lower(),
                status=TenantStatus.ONBOARDING,
                status_changed_at=timezone.now(),
            )
    except IntegrityError as exc:
        raise _tenant_conflict(exc) from exc
    audit_record(
        by=by,
        action="tenant.created",
        tenant=tenant,
        target=tenant,
        details={"entra_tenant_id": str(tenant.entra_tenant_id), "domain": tenant.primary_domain},
    )
    return tenant


@transaction.atomic
def tenant_update(*, by: Principal, tenant: Tenant, **changes: Any) -> Tenant:
    """Change a tenant's name, slug or primary domain; records the before and after values."""
    unknown = set(changes) - set(EDITABLE_TENANT_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    diff = {
        name: {"from": getattr(tenant, name), "to": value}
        for name, value in changes.items()
        if getattr(tenant, name) != value
    }
    if not diff:
        return tenant
    for name, value in changes.items():
        setattr(tenant, name, value)
    try:
        with transaction.atomic():
            tenant.save(update_fields=[*diff, "updated_at"])
    except IntegrityError as exc:
        raise _tenant_conflict(exc) from exc
    audit_record(by=by, action="tenant.updated", tenant=tenant, target=tenant, details=diff)
    return tenant


@transaction.atomic
def tenant_set_status(
    *, by: Principal, tenant: Tenant, status: str, reason: str = "", now: datetime | None = None
) -> Tenant:
    """Move a tenant to `status` if the transition is allowed; a no-op if already there."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.status == status:
        return tenant
    if status not in TENANT_TRANSITIONS[tenant.status]:
        raise InvalidTransition(
            f"A tenant in status {tenant.get_status_display().lower()} cannot become "
            f"{TenantStatus(status).label.lower()}.",
            field="status",
        )
    previous = tenant.status
    tenant.status = status
    tenant.status_reason = reason
    tenant.status_changed_at = now or timezone.now()
    tenant.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    audit_record(
        by=by,
        action=f"tenant.{status}",
        tenant=tenant,
        target=tenant,
        details={"from": previous, "to": status, "reason": reason},
    )
    return tenant


def tenant_suspend(*, by: Principal, tenant: Tenant, reason: str) -> Tenant:
    return tenant_set_status(by=by, tenant=tenant, status=TenantStatus.SUSPENDED, reason=reason)


def tenant_reactivate(*, by: Principal, tenant: Tenant) -> Tenant:
    return tenant_set_status(by=by, tenant=tenant, status=TenantStatus.ACTIVE)


def _tenant_conflict(exc: IntegrityError) -> Conflict:
    text = str(exc)
    if "entra_tenant_id" in text:
        return Conflict(
            "A tenant with this Entra tenant ID already exists.", field="entra_tenant_id"
        )
    if "slug" in text:
        return Conflict("A tenant with this slug already exists.", field="slug")
    return Conflict("This tenant conflicts with an existing one.")


# --- memberships ----------------------------------------------------------------------------


@transaction.atomic
def membership_create(
    *, by: Principal, tenant: Tenant, email: str, role: str, full_name: str = ""
) -> Membership:
    """Give the user with `email` a role in `tenant`, creating the user if needed.

    A new user gets no usable password; they choose one through a password-reset link.
    """
    User = get_user_model()
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        first, _, last = full_name.strip().partition(" ")
        user = User(username=email[:150], email=email, first_name=first[:150], last_name=last[:150])
        user.set_unusable_password()
        user.save()
    return membership_add(by=by, tenant=tenant, user=user, role=role)


@transaction.atomic
def membership_add(
    *, by: Principal, tenant: Tenant, user: AbstractBaseUser, role: str
) -> Membership:
    """Give an existing user a role in `tenant`. MSP staff cannot be customer members."""
    if user.is_staff:
        raise Conflict("MSP staff accounts cannot be customer members.", field="email")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, tenant=tenant, role=role)
    except IntegrityError as exc:
        raise Conflict("This user is already a member of this tenant.", field="email") from exc
    audit_record(
        by=by,
        action="membership.created",
        tenant=tenant,
        target=membership,
        details={"user": user.get_username(), "role": role},
    )
    return membership


@transaction.atomic
def membership_update(*, by: Principal, membership: Membership, role: str) -> Membership:
    if membership.role == role:
        return membership
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        by=by,
        action="membership.updated",
        tenant=membership.tenant,
        target=membership,
        details={"role": {"from": previous, "to": role}},
    )
    return membership


@transaction.atomic
def membership_delete(*, by: Principal, membership: Membership) -> None:
    audit_record(
        by=by,
        action="membership.deleted",
        tenant=membership.tenant,
        target=membership,
        details={"user": membership.user.get_username(), "role": membership.role},
    )
    membership.delete()


# --- API keys -------------------------------------------------------------------------------


@transaction.atomic
def api_key_create(
    *,
    by: Principal,
    name: str,
    tenant: Tenant | None = None,
    read_only: bool = False,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext, which is never stored nor shown again."""
    api_key, plaintext = ApiKey.objects.create_key(
        name=name,
        tenant=tenant,
        read_only=read_only,
        expiry_date=expires_at,
        created_by=by.user if by.user is not None and by.user.pk else None,
    )
    audit_record(
        by=by,
        action="api_key.created",
        tenant=tenant,
        target=api_key,
        details={"prefix": api_key.prefix, "read_only": read_only, "scope": _key_scope(tenant)},
    )
    return api_key, plaintext


@transaction.atomic
def api_key_revoke(*, by: Principal, api_key: ApiKey, now: datetime | None = None) -> ApiKey:
    """Revoke a key for good (idempotent). Calls with it answer 401 from now on."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked:
        return api_key
    api_key.revoked = True
    api_key.revoked_at = now or timezone.now()
    api_key.save(update_fields=["revoked", "revoked_at"])
    audit_record(
        by=by,
        action="api_key.revoked",
        tenant=api_key.tenant,
        target=api_key,
        details={"prefix": api_key.prefix},
    )
    return api_key


def api_key_touch(*, api_key: ApiKey, now: datetime) -> None:
    """Record use, at most once a minute per key (a conditional UPDATE, no read)."""
    if api_key.last_used_at and now - api_key.last_used_at < timedelta(minutes=1):
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(
        models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=now - timedelta(minutes=1))
    ).update(last_used_at=now)
    api_key.last_used_at = now


def _key_scope(tenant: Tenant | None) -> str:
    return tenant.slug if tenant is not None else "msp"


# --- MSP staff roles ------------------------------------------------------------------------

# Permissions of each staff role as (app_label, codename prefix or full codename) pairs.
# MSP admins hold every permission of the portal's apps; operators run tenants and backups;
# billing staff run billing and read the rest.
PORTAL_APPS = ("tenants", "backups", "billing", "django_celery_beat")
STAFF_ROLE_PERMISSIONS: dict[str, Iterable[tuple[str, str]]] = {
    StaffRole.MSP_ADMIN: [(app, "") for app in PORTAL_APPS] + [("auth", "")],
    StaffRole.OPERATOR: [
        ("tenants", "view_"),
        ("tenants", "add_tenant"),
        ("tenants", "change_tenant"),
        ("tenants", "add_membership"),
        ("tenants", "change_membership"),
        ("tenants", "delete_membership"),
        ("backups", ""),
        ("billing", "view_"),
    ],
    StaffRole.BILLING: [
        ("tenants", "view_tenant"),
        ("tenants", "view_membership"),
        ("backups", "view_"),
        ("billing", ""),
    ],
}


def staff_roles_sync() -> None:
    """Create or update the staff role groups with their permissions (idempotent)."""
    for role, grants in STAFF_ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=StaffRole(role).label)
        query = models.Q(pk__in=[])
        for app_label, prefix in grants:
            query |= models.Q(content_type__app_label=app_label, codename__startswith=prefix)
        group.permissions.set(Permission.objects.filter(query))


def staff_user_set_roles(*, by: Principal, user: AbstractBaseUser, roles: Iterable[str]) -> None:
    """Make `user` MSP staff holding exactly `roles`."""
    with transaction.atomic():
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        groups = Group.objects.filter(name__in=[StaffRole(r).label for r in roles])
        user.groups.set(groups)
        audit_record(by=by, action="staff.roles_set", target=user, details={"roles": sorted(roles)})
