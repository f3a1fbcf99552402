"""The audit trail: one append-only event per change that matters, written in the
transaction of the change it records."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from tenants.models import AuditEvent, Tenant
from tenants.principals import Principal


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
