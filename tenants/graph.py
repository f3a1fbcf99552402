"""The portal's way into Microsoft Graph: client settings from Django settings, one
process-wide app-token provider, and Graph sessions per tenant whose request statistics are
added to that tenant's daily Graph health (`GraphCallStats`) when the session ends.

Everything that talks to Microsoft goes through `app_graph` (app-only, the MSP's consented
application permissions) or `delegated_graph` (acting as the customer administrator who
signed in, for the controller operations Graph allows only with delegated tokens).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from m365.auth import AppTokenProvider, DelegatedTokenSource
from m365.config import GraphSettings
from m365.graph import GraphClient
from m365.stats import GraphStats
from tenants.models import AppProfile, GraphCallStats, Tenant

_lock = threading.Lock()
_provider: tuple[GraphSettings, AppTokenProvider] | None = None


def graph_settings() -> GraphSettings:
    return GraphSettings(
        client_id=settings.M365_CLIENT_ID,
        client_secret=settings.M365_CLIENT_SECRET,
        msp_tenant_id=settings.M365_MSP_TENANT_ID,
        login_base_url=settings.M365_LOGIN_BASE_URL,
        graph_base_url=settings.M365_GRAPH_BASE_URL,
        ca_bundle=settings.M365_CA_BUNDLE,
    )


def app_tokens() -> AppTokenProvider:
    """The process-wide app-token provider (msal caches per tenant), rebuilt when the
    settings change (tests point the portal at emulators on other ports)."""
    global _provider
    current = graph_settings()
    with _lock:
        if _provider is None or _provider[0] != current:
            _provider = (current, AppTokenProvider(current))
        return _provider[1]


def record_graph_stats(tenant: Tenant, stats: GraphStats, *, now: datetime | None = None) -> None:
    """Add a session's counters to the tenant's Graph health for today (one UPSERT-like
    update; created on the first session of the day)."""
    snapshot = stats.reset()
    if not snapshot.requests:
        return
    day = (now or timezone.now()).astimezone(UTC).date()
    increments = {
        "requests": F("requests") + snapshot.requests,
        "throttled": F("throttled") + snapshot.throttled,
        "errors": F("errors") + snapshot.errors,
        "waited_seconds": F("waited_seconds") + snapshot.waited_seconds,
    }
    updated = GraphCallStats.objects.filter(tenant=tenant, day=day).update(**increments)
    if not updated:
        _, created = GraphCallStats.objects.get_or_create(
            tenant=tenant,
            day=day,
            defaults={
                "requests": snapshot.requests,
                "throttled": snapshot.throttled,
                "errors": snapshot.errors,
                "waited_seconds": snapshot.waited_seconds,
            },
        )
        if not created:  # another worker created the row between our update and insert
            GraphCallStats.objects.filter(tenant=tenant, day=day).update(**increments)


@contextmanager
def app_graph(
    tenant: Tenant, *, api_version: str = "v1.0", **client_options
) -> Iterator[GraphClient]:
    """Graph as the MSP's app in the tenant (client credentials)."""
    stats = GraphStats()
    tenant_id = str(tenant.entra_tenant_id)
    client = GraphClient(
        graph_settings(),
        tenant_id,
        app_tokens().source(tenant_id),
        stats=stats,
        api_version=api_version,
        **client_options,
    )
    try:
        yield client
    finally:
        client.close()
        record_graph_stats(tenant, stats)


def store_rotated_refresh_token(profile_id: int, refresh_token: str) -> None:
    """Persist a rotated refresh token at once (encrypted), outside any caller transaction's
    fate: Microsoft has already invalidated the previous one."""
    # update() runs the field's get_prep_value, which encrypts.
    AppProfile.objects.filter(pk=profile_id).update(refresh_token=refresh_token)


@contextmanager
def delegated_graph(profile: AppProfile, *, api_version: str = "v1.0") -> Iterator[GraphClient]:
    """Graph as the administrator whose refresh token the profile holds; each rotated
    refresh token is stored at once. Raises m365.errors.InvalidGrant when it no longer works."""
    stats = GraphStats()
    tenant_id = str(profile.tenant.entra_tenant_id)

    def on_refresh(rotated: str) -> None:
        store_rotated_refresh_token(profile.pk, rotated)
        profile.refresh_token = rotated

    source = DelegatedTokenSource(graph_settings(), tenant_id, profile.refresh_token, on_refresh)
    client = GraphClient(graph_settings(), tenant_id, source, stats=stats, api_version=api_version)
    try:
        yield client
    finally:
        client.close()
        record_graph_stats(profile.tenant, stats)
