"""The tenant's Backup Storage switch and its controller apps (reference sections 2.1, 3).

`activate_service_app` and `deactivate_service_app` need a DELEGATED token (a customer admin
signed in): give them a GraphClient built on `m365.auth.DelegatedTokenSource`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from m365.backup.delta import entity_body
from m365.backup.models import ServiceApp, ServiceStatus
from m365.backup.workloads import PREFER_ALL_ENUMS, ROOT, backup_path
from m365.errors import GraphError
from m365.graph import GraphClient, GraphResponse
from m365.odata import format_datetime


def get_service_status(graph: GraphClient) -> ServiceStatus:
    """`GET /solutions/backupRestore` → its `serviceStatus` (enabled, locks, grace periods)."""
    root = graph.get(ROOT, headers=PREFER_ALL_ENUMS).json_object()
    status = root.get("serviceStatus")
    return ServiceStatus.from_graph(status if isinstance(status, dict) else {})


def enable_backup_service(graph: GraphClient, *, app_owner_tenant_id: str) -> ServiceStatus:
    """Bind the MSP's billing policy to the tenant (idempotent; call again after a billing
    change). Errors: 400 InvalidAppOwnerTenantId, 402 InvalidBillingProfile,
    403 UnableToReadBillingProfile."""
    response = graph.post(
        backup_path("enable"),
        json={"appOwnerTenantId": app_owner_tenant_id},
        headers=PREFER_ALL_ENUMS,
    )
    body = response.json_object()
    # v1.0 answers a bare serviceStatus, the beta example wraps it in {"value": {...}}.
    status = body.get("value") if isinstance(body.get("value"), dict) else body
    if not status.get("status"):
        return get_service_status(graph)
    return ServiceStatus.from_graph(status)


def create_service_app(graph: GraphClient) -> ServiceApp:
    """Register the calling app as a candidate controller (`status` inactive). The docs say
    201, the example 202 with Content-Location: both are accepted."""
    response = graph.post(backup_path("serviceApps"), json={}, headers=PREFER_ALL_ENUMS)
    return _service_app_from(graph, response)


def iter_service_apps(graph: GraphClient) -> Iterator[ServiceApp]:
    for item in graph.iter_items(backup_path("serviceApps"), headers=PREFER_ALL_ENUMS):
        yield ServiceApp.from_graph(item)


def get_service_app(graph: GraphClient, service_app_id: str) -> ServiceApp:
    body = graph.get(
        backup_path("serviceApps", service_app_id), headers=PREFER_ALL_ENUMS
    ).json_object()
    return ServiceApp.from_graph(body)


def find_service_app(graph: GraphClient, *, application_id: str) -> ServiceApp | None:
    """The tenant's service app of a given Entra application (e.g. our own client id)."""
    wanted = application_id.lower()
    for app in iter_service_apps(graph):
        if app.application_id.lower() == wanted or app.id.lower() == wanted:
            return app
    return None


def activate_service_app(
    graph: GraphClient, service_app_id: str, *, effective_at: datetime | None = None
) -> ServiceApp:
    """Become controller: at once when there is none (omit `effective_at`), else 7 to 30
    days ahead (`pendingActive`). Delegated token only; 403 if a change is already pending."""
    body: dict[str, Any] = {}
    if effective_at is not None:
        body["effectiveDateTime"] = format_datetime(effective_at)
    response = graph.post(
        backup_path("serviceApps", service_app_id, "activate"), json=body, headers=PREFER_ALL_ENUMS
    )
    return _service_app_from(graph, response, service_app_id)


def deactivate_service_app(graph: GraphClient, service_app_id: str) -> ServiceApp:
    """Cancel a pending activation (403 while `active`). Delegated token only."""
    response = graph.post(
        backup_path("serviceApps", service_app_id, "deactivate"), headers=PREFER_ALL_ENUMS
    )
    return _service_app_from(graph, response, service_app_id)


def delete_service_app(graph: GraphClient, service_app_id: str) -> None:
    """Unregister. For an `active` app this starts the 7-day grace period (and up to 30 more
    days of billing); 403 while `pendingInactive`."""
    graph.delete(backup_path("serviceApps", service_app_id))


def _service_app_from(
    graph: GraphClient, response: GraphResponse, service_app_id: str = ""
) -> ServiceApp:
    fallback = backup_path("serviceApps", service_app_id) if service_app_id else ""
    body = entity_body(graph, response, fallback)
    if not body:
        raise GraphError(
            "serviceApps answered without a body or a Content-Location",
            status=response.status,
            code="missingBody",
        )
    return ServiceApp.from_graph(body)
