"""Service principals, their app role assignments and delegated permission grants.

The portal reads these to verify what a customer actually granted (and to notice grants
revoked since). The resource apps' service principals exist in every tenant.
"""

from __future__ import annotations

from typing import Any

from ..catalog import RESOURCE_APPS, ResourceApp
from ..clock import iso
from ..identity import consent
from . import permissions as perm
from .core import Ctx, no_content, not_found, route
from .odata import Collection, collection_page, entity, sequence_source


def _resource_sp_json(ctx: Ctx, app: ResourceApp) -> dict[str, Any]:
    return {
        "id": consent.resource_sp_id(ctx.tenant, app.app_id),
        "accountEnabled": True,
        "appId": app.app_id,
        "appDisplayName": app.display_name,
        "displayName": app.display_name,
        "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        "servicePrincipalType": "Application",
        "servicePrincipalNames": [app.app_id, *app.audiences],
        "signInAudience": "AzureADMultipleOrgs",
        "tags": [],
        "appRoles": [
            {
                "allowedMemberTypes": ["Application"],
                "description": p.description,
                "displayName": p.display_name,
                "id": p.id,
                "isEnabled": True,
                "origin": "Application",
                "value": p.value,
            }
            for p in app.permissions
            if p.type == "Role"
        ],
        "oauth2PermissionScopes": [
            {
                "adminConsentDescription": p.description,
                "adminConsentDisplayName": p.display_name,
                "id": p.id,
                "isEnabled": True,
                "type": "Admin",
                "userConsentDescription": None,
                "userConsentDisplayName": None,
                "value": p.value,
            }
            for p in app.permissions
            if p.type == "Scope"
        ],
    }


def _client_sp_json(sp: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": sp["id"],
        "accountEnabled": True,
        "appId": sp["appId"],
        "appDisplayName": sp["displayName"],
        "displayName": sp["displayName"],
        "appOwnerOrganizationId": sp.get("appOwnerOrganizationId"),
        "createdDateTime": iso(sp.get("createdDateTime")),
        "servicePrincipalType": "Application",
        "servicePrincipalNames": [sp["appId"]],
        "signInAudience": "AzureADMultipleOrgs",
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
        "appRoles": [],
        "oauth2PermissionScopes": [],
    }


def _all_sps(ctx: Ctx) -> list[dict[str, Any]]:
    items = [_resource_sp_json(ctx, app) for app in RESOURCE_APPS.values()]
    items += [
        _client_sp_json(sp) for sp in ctx.tenant.data["consent"]["servicePrincipals"].values()
    ]
    return items


def _lookup_sp(ctx: Ctx, sp_id: str) -> dict[str, Any]:
    for sp in _all_sps(ctx):
        if sp["id"] == sp_id.lower():
            return sp
    raise not_found(
        "Request_ResourceNotFound",
        f"Resource '{sp_id}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def _sp_name(ctx: Ctx, sp_id: str) -> str:
    resource = consent.resource_by_sp_id(ctx.tenant, sp_id)
    if resource is not None:
        return resource.display_name
    sp = ctx.tenant.data["consent"]["servicePrincipals"].get(sp_id)
    return sp["displayName"] if sp else ""


def _assignment_json(ctx: Ctx, a: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": a["id"],
        "appRoleId": a["appRoleId"],
        "createdDateTime": iso(a["createdDateTime"]),
        "deletedDateTime": None,
        "principalDisplayName": _sp_name(ctx, a["principalId"]),
        "principalId": a["principalId"],
        "principalType": "ServicePrincipal",
        "resourceDisplayName": _sp_name(ctx, a["resourceId"]),
        "resourceId": a["resourceId"],
    }


def _grant_json(g: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": g["id"],
        "clientId": g["clientId"],
        "consentType": g["consentType"],
        "principalId": g["principalId"],
        "resourceId": g["resourceId"],
        "scope": g["scope"],
    }


def _collection(
    name: str, context: str, items: list[dict[str, Any]], entity_type: str
) -> Collection:
    return Collection(
        name=name,
        context=context,
        source=sequence_source(items),
        entity=entity_type,
        filter_error_code="Request_UnsupportedQuery",
    )


@route("/servicePrincipals", "GET", perm.SERVICE_PRINCIPALS)
def list_service_principals(ctx: Ctx):
    return collection_page(
        ctx,
        _collection(
            "servicePrincipals",
            "servicePrincipals",
            _all_sps(ctx),
            "microsoft.graph.servicePrincipal",
        ),
    )


@route("/servicePrincipals/<sp_id>", "GET", perm.SERVICE_PRINCIPALS)
def get_service_principal(ctx: Ctx, sp_id: str):
    if sp_id.startswith("appId="):
        wanted = sp_id.split("=", 1)[1].strip("'").lower()
        matches = [sp for sp in _all_sps(ctx) if sp["appId"] == wanted]
        if not matches:
            raise not_found("Request_ResourceNotFound", f"Resource '{sp_id}' does not exist.")
        return entity(ctx, matches[0], "servicePrincipals/$entity")
    return entity(ctx, _lookup_sp(ctx, sp_id), "servicePrincipals/$entity")


@route("/servicePrincipals(appId='<app_id>')", "GET", perm.SERVICE_PRINCIPALS)
def get_service_principal_by_app_id(ctx: Ctx, app_id: str):
    return get_service_principal(ctx, f"appId={app_id}")


@route("/servicePrincipals/<sp_id>/appRoleAssignments", "GET", perm.SERVICE_PRINCIPALS)
def list_app_role_assignments(ctx: Ctx, sp_id: str):
    sp = _lookup_sp(ctx, sp_id)
    items = [
        _assignment_json(ctx, a)
        for a in ctx.tenant.data["consent"]["appRoleAssignments"].values()
        if a["principalId"] == sp["id"]
    ]
    return collection_page(
        ctx,
        _collection(
            "appRoleAssignments",
            f"servicePrincipals('{sp['id']}')/appRoleAssignments",
            items,
            "microsoft.graph.appRoleAssignment",
        ),
    )


@route("/servicePrincipals/<sp_id>/appRoleAssignedTo", "GET", perm.SERVICE_PRINCIPALS)
def list_app_role_assigned_to(ctx: Ctx, sp_id: str):
    sp = _lookup_sp(ctx, sp_id)
    items = [
        _assignment_json(ctx, a)
        for a in ctx.tenant.data["consent"]["appRoleAssignments"].values()
        if a["resourceId"] == sp["id"]
    ]
    return collection_page(
        ctx,
        _collection(
            "appRoleAssignedTo",
            f"servicePrincipals('{sp['id']}')/appRoleAssignedTo",
            items,
            "microsoft.graph.appRoleAssignment",
        ),
    )


@route(
    "/servicePrincipals/<sp_id>/appRoleAssignments/<assignment_id>",
    "DELETE",
    perm.APP_ROLE_ASSIGNMENT_WRITE,
)
def delete_app_role_assignment(ctx: Ctx, sp_id: str, assignment_id: str):
    sp = _lookup_sp(ctx, sp_id)
    if not consent.delete_assignment(ctx.tenant, sp["id"], assignment_id.lower()):
        raise not_found("Request_ResourceNotFound", f"Resource '{assignment_id}' does not exist.")
    return no_content()


@route("/servicePrincipals/<sp_id>/oauth2PermissionGrants", "GET", perm.PERMISSION_GRANTS)
def list_sp_permission_grants(ctx: Ctx, sp_id: str):
    sp = _lookup_sp(ctx, sp_id)
    items = [
        _grant_json(g)
        for g in ctx.tenant.data["consent"]["grants"].values()
        if g["clientId"] == sp["id"]
    ]
    return collection_page(
        ctx,
        _collection(
            "oauth2PermissionGrants",
            "oauth2PermissionGrants",
            items,
            "microsoft.graph.oAuth2PermissionGrant",
        ),
    )


@route("/oauth2PermissionGrants", "GET", perm.PERMISSION_GRANTS)
def list_permission_grants(ctx: Ctx):
    items = [_grant_json(g) for g in ctx.tenant.data["consent"]["grants"].values()]
    return collection_page(
        ctx,
        _collection(
            "oauth2PermissionGrants",
            "oauth2PermissionGrants",
            items,
            "microsoft.graph.oAuth2PermissionGrant",
        ),
    )
