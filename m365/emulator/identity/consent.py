"""Consent state of a tenant: service principals, app role assignments, permission grants.

Admin consent to a registered app creates (or updates) its service principal in the tenant,
one app role assignment per `Role` of its requiredResourceAccess and one `AllPrincipals`
oauth2PermissionGrant per resource holding its `Scope`s. Client-credential tokens carry
the assigned roles; delegated tokens carry the granted scopes. The resource apps'
service principals (Graph, Exchange, SharePoint) exist in every tenant and are derived,
not stored.

Persisted shape (tenant.data["consent"]):
  servicePrincipals  {spId: {id, appId, displayName, appOwnerOrganizationId, createdDateTime}}
  appRoleAssignments {id: {id, principalId, resourceId, appRoleId, createdDateTime}}
  grants             {id: {id, clientId, resourceId, consentType, principalId, scope}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalog import GRAPH_APP_ID, RESOURCE_APPS, Permission, ResourceApp
from ..errors import ControlError
from ..ids import guid_from, new_guid
from ..world import Tenant


def resource_sp_id(tenant: Tenant, app_id: str) -> str:
    return guid_from(tenant.id, "service-principal", app_id)


def resource_by_sp_id(tenant: Tenant, sp_id: str) -> ResourceApp | None:
    for app in RESOURCE_APPS.values():
        if resource_sp_id(tenant, app.app_id) == sp_id:
            return app
    return None


def client_sp(tenant: Tenant, app_id: str) -> dict[str, Any] | None:
    app_id = app_id.lower()
    for sp in list(tenant.data["consent"]["servicePrincipals"].values()):
        if sp["appId"] == app_id:
            return sp
    return None


@dataclass(frozen=True)
class RequiredPermission:
    """One row of an app's requiredResourceAccess, resolved against the catalog."""

    resource_app_id: str
    resource: ResourceApp | None
    permission_id: str
    type: str  # "Role" | "Scope"
    permission: Permission | None

    @property
    def value(self) -> str:
        return self.permission.value if self.permission else self.permission_id

    @property
    def resource_name(self) -> str:
        return self.resource.display_name if self.resource else self.resource_app_id


def required_permissions(app: dict[str, Any]) -> list[RequiredPermission]:
    rows = []
    for block in app.get("requiredResourceAccess", []):
        resource = RESOURCE_APPS.get(block["resourceAppId"])
        for access in block.get("resourceAccess", []):
            permission = resource.permission(access["id"], access["type"]) if resource else None
            rows.append(
                RequiredPermission(
                    block["resourceAppId"], resource, access["id"], access["type"], permission
                )
            )
    return rows


def _ensure_sp(tenant: Tenant, app: dict[str, Any], now: float) -> dict[str, Any]:
    sp = client_sp(tenant, app["appId"])
    if sp is None:
        sp = {
            "id": new_guid(),
            "appId": app["appId"],
            "displayName": app["displayName"],
            "appOwnerOrganizationId": app.get("ownerTenantId"),
            "createdDateTime": now,
        }
        tenant.data["consent"]["servicePrincipals"][sp["id"]] = sp
    sp["displayName"] = app["displayName"]
    return sp


def grant_admin_consent(tenant: Tenant, app: dict[str, Any], now: float) -> list[str]:
    """Consent to every permission the app requires, on behalf of the whole tenant.

    Idempotent: existing assignments and scopes are kept, missing ones added (as Entra does,
    nothing the app stopped requiring is removed). Returns the consented Graph values.
    """
    consent = tenant.data["consent"]
    with tenant.mutation():
        sp = _ensure_sp(tenant, app, now)
        scopes_by_resource: dict[str, set[str]] = {}
        for row in required_permissions(app):
            if row.resource is None or row.permission is None:
                continue  # unknown to the emulator: nothing to grant
            resource_sp = resource_sp_id(tenant, row.resource.app_id)
            if row.type == "Role":
                exists = any(
                    a["principalId"] == sp["id"]
                    and a["resourceId"] == resource_sp
                    and a["appRoleId"] == row.permission_id
                    for a in consent["appRoleAssignments"].values()
                )
                if not exists:
                    assignment_id = new_guid()
                    consent["appRoleAssignments"][assignment_id] = {
                        "id": assignment_id,
                        "principalId": sp["id"],
                        "resourceId": resource_sp,
                        "appRoleId": row.permission_id,
                        "createdDateTime": now,
                    }
            else:
                scopes_by_resource.setdefault(row.resource.app_id, set()).add(row.value)
        for resource_app_id, scopes in scopes_by_resource.items():
            _add_scopes(tenant, sp, resource_app_id, scopes)
    return [
        r.value
        for r in required_permissions(app)
        if r.resource is not None and r.resource.app_id == GRAPH_APP_ID
    ]


def grant_scopes(
    tenant: Tenant, app: dict[str, Any], resource_app_id: str, scopes: set[str], now: float
) -> None:
    """Tenant-wide consent to delegated scopes (an admin accepting the authorize page)."""
    with tenant.mutation():
        sp = _ensure_sp(tenant, app, now)
        _add_scopes(tenant, sp, resource_app_id, scopes)


def _add_scopes(tenant: Tenant, sp: dict[str, Any], resource_app_id: str, scopes: set[str]) -> None:
    grants = tenant.data["consent"]["grants"]
    resource_sp = resource_sp_id(tenant, resource_app_id)
    grant = next(
        (
            g
            for g in grants.values()
            if g["clientId"] == sp["id"]
            and g["resourceId"] == resource_sp
            and g["consentType"] == "AllPrincipals"
        ),
        None,
    )
    if grant is None:
        grant_id = new_guid()
        grant = {
            "id": grant_id,
            "clientId": sp["id"],
            "resourceId": resource_sp,
            "consentType": "AllPrincipals",
            "principalId": None,
            "scope": "",
        }
        grants[grant_id] = grant
    current = grant["scope"].split()
    grant["scope"] = " ".join(current + sorted(s for s in scopes if s not in current))


def assigned_roles(tenant: Tenant, app_id: str, resource: ResourceApp) -> list[str]:
    """Values of the app roles the tenant granted the app on `resource`."""
    sp = client_sp(tenant, app_id)
    if sp is None:
        return []
    resource_sp = resource_sp_id(tenant, resource.app_id)
    values = []
    for a in list(tenant.data["consent"]["appRoleAssignments"].values()):
        if a["principalId"] == sp["id"] and a["resourceId"] == resource_sp:
            permission = resource.permission(a["appRoleId"], "Role")
            if permission is not None:
                values.append(permission.value)
    return sorted(set(values))


def consented_scopes(tenant: Tenant, app_id: str, resource: ResourceApp) -> set[str]:
    sp = client_sp(tenant, app_id)
    if sp is None:
        return set()
    resource_sp = resource_sp_id(tenant, resource.app_id)
    return {
        s
        for g in list(tenant.data["consent"]["grants"].values())
        if g["clientId"] == sp["id"] and g["resourceId"] == resource_sp
        for s in g["scope"].split()
    }


def revoke(
    tenant: Tenant, app_id: str, permission: str, resource_app_id: str | None = None
) -> list[str]:
    """Remove an app role assignment and/or delegated scope, by permission value.

    Returns what was removed ("Role:Reports.Read.All", ...); 404 when nothing matched.
    """
    sp = client_sp(tenant, app_id)
    if sp is None:
        raise ControlError(404, "notFound", f"app {app_id} has no service principal here")
    resources = (
        [RESOURCE_APPS[resource_app_id]]
        if resource_app_id in RESOURCE_APPS
        else (list(RESOURCE_APPS.values()) if resource_app_id is None else [])
    )
    removed: list[str] = []
    consent = tenant.data["consent"]
    with tenant.mutation():
        for resource in resources:
            resource_sp = resource_sp_id(tenant, resource.app_id)
            role = resource.by_value(permission, "Role")
            if role is not None:
                for key, a in list(consent["appRoleAssignments"].items()):
                    if (a["principalId"], a["resourceId"], a["appRoleId"]) == (
                        sp["id"],
                        resource_sp,
                        role.id,
                    ):
                        del consent["appRoleAssignments"][key]
                        removed.append(f"Role:{resource.display_name}:{role.value}")
            for grant in consent["grants"].values():
                if grant["clientId"] != sp["id"] or grant["resourceId"] != resource_sp:
                    continue
                scopes = grant["scope"].split()
                kept = [s for s in scopes if s.lower() != permission.lower()]
                if len(kept) != len(scopes):
                    grant["scope"] = " ".join(kept)
                    removed.append(f"Scope:{resource.display_name}:{permission}")
    if not removed:
        raise ControlError(404, "notFound", f"{permission} is not granted to {app_id}")
    return removed


def delete_assignment(tenant: Tenant, sp_id: str, assignment_id: str) -> bool:
    consent = tenant.data["consent"]
    with tenant.mutation():
        found = consent["appRoleAssignments"].get(assignment_id)
        if found is None or found["principalId"] != sp_id:
            return False
        del consent["appRoleAssignments"][assignment_id]
    return True
