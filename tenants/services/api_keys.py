"""Writes of API keys: create (plaintext returned once), revoke, record use."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models, transaction
from django.utils import timezone

from tenants.models import ApiKey, Tenant
from tenants.principals import Principal
from tenants.services.audit import audit_record


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
