"""Writes of tenants: create, change, status transitions. Audited in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.choices import TenantStatus
from tenants.exceptions import Conflict, InvalidTransition
from tenants.models import Tenant
from tenants.principals import Principal
from tenants.services.audit import audit_record

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
