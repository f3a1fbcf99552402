"""Service principals and what a tenant granted them (admin consent and its drift)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from m365.directory.models import (
    AppRoleAssignment,
    GrantedPermissions,
    PermissionGrant,
    ServicePrincipal,
)
from m365.graph import GraphClient
from m365.odata import literal, segment


def find_service_principal(graph: GraphClient, app_id: str) -> ServicePrincipal | None:
    """The tenant's service principal of an application (None: never consented)."""
    params = {"$filter": f"appId eq {literal(app_id)}"}
    for item in graph.iter_items("/servicePrincipals", params):
        return ServicePrincipal.from_graph(item)
    return None


def get_service_principal(graph: GraphClient, service_principal_id: str) -> ServicePrincipal:
    body = graph.get(f"/servicePrincipals/{segment(service_principal_id)}").json_object()
    return ServicePrincipal.from_graph(body)


def iter_app_role_assignments(
    graph: GraphClient, service_principal_id: str
) -> Iterator[AppRoleAssignment]:
    """The application permissions granted to the service principal."""
    path = f"/servicePrincipals/{segment(service_principal_id)}/appRoleAssignments"
    for item in graph.iter_items(path):
        yield AppRoleAssignment.from_graph(item)


def delete_app_role_assignment(
    graph: GraphClient, service_principal_id: str, assignment_id: str
) -> None:
    graph.delete(
        f"/servicePrincipals/{segment(service_principal_id)}"
        f"/appRoleAssignments/{segment(assignment_id)}"
    )


def iter_permission_grants(
    graph: GraphClient, client_service_principal_id: str
) -> Iterator[PermissionGrant]:
    """Delegated permission grants whose client is the service principal."""
    params = {"$filter": f"clientId eq {literal(client_service_principal_id)}"}
    for item in graph.iter_items("/oauth2PermissionGrants", params):
        yield PermissionGrant.from_graph(item)


def granted_permissions(graph: GraphClient, app_id: str) -> GrantedPermissions | None:
    """Every permission the tenant granted `app_id`, by resource app id and value (ids
    resolved through each resource's service principal). None when the app has no service
    principal (no consent at all). Compare with the permissions the app requires to find
    consent drift before backups fail."""
    client = find_service_principal(graph, app_id)
    if client is None:
        return None
    resources: dict[str, ServicePrincipal] = {}

    def resource(resource_sp_id: str) -> ServicePrincipal:
        if resource_sp_id not in resources:
            resources[resource_sp_id] = get_service_principal(graph, resource_sp_id)
        return resources[resource_sp_id]

    application: dict[str, set[str]] = defaultdict(set)
    for assignment in iter_app_role_assignments(graph, client.id):
        target = resource(assignment.resource_id)
        values = {role.id: role.value for role in target.app_roles}
        application[target.app_id].add(values.get(assignment.app_role_id, assignment.app_role_id))
    delegated: dict[str, set[str]] = defaultdict(set)
    for grant in iter_permission_grants(graph, client.id):
        if grant.consent_type.lower() == "allprincipals":
            delegated[resource(grant.resource_id).app_id].update(grant.scopes)
    return GrantedPermissions(
        service_principal_id=client.id,
        application={key: frozenset(value) for key, value in application.items()},
        delegated={key: frozenset(value) for key, value in delegated.items()},
    )
