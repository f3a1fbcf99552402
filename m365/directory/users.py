"""The organization, its users, their OneDrives and directory roles."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from m365.directory.models import DirectoryObject, DirectoryRole, Drive, Organization, User
from m365.errors import ErrorCode, GraphNotFound
from m365.graph import GraphClient
from m365.odata import segment

USER_FIELDS = (
    "id",
    "displayName",
    "userPrincipalName",
    "mail",
    "accountEnabled",
    "assignedLicenses",
    "userType",
)
# Graph's largest page for /users (and /groups): fewest round trips for big tenants.
MAX_PAGE_SIZE = 999

# Role template ids never change (and, unlike names, are not localized).
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
BACKUP_ADMINISTRATOR = "1707125e-0aa2-4d4d-8655-a7c786c76a25"


def get_organization(graph: GraphClient) -> Organization:
    """The tenant (`GET /organization` is a one-item collection)."""
    items = graph.get("/organization").json_object().get("value") or []
    if not items:
        raise GraphNotFound(
            "the tenant returned no organization", status=404, code=ErrorCode.ITEM_NOT_FOUND
        )
    return Organization.from_graph(items[0])


def iter_users(
    graph: GraphClient,
    *,
    select: Sequence[str] = USER_FIELDS,
    filter: str | None = None,  # OData $filter, e.g. "accountEnabled eq false"
    page_size: int = MAX_PAGE_SIZE,
) -> Iterator[User]:
    """Every user, streamed page by page (`$top` ≤ 999)."""
    params = {"$select": ",".join(select), "$top": str(min(page_size, MAX_PAGE_SIZE))}
    if filter:
        params["$filter"] = filter
    for item in graph.iter_items("/users", params):
        yield User.from_graph(item)


def get_user(graph: GraphClient, user_id: str, *, select: Sequence[str] = USER_FIELDS) -> User:
    """A user by object id or UPN."""
    body = graph.get(
        f"/users/{segment(user_id)}", params={"$select": ",".join(select)}
    ).json_object()
    return User.from_graph(body)


def get_user_drive(graph: GraphClient, user_id: str) -> Drive | None:
    """The user's OneDrive, or None when the user has none (404 itemNotFound). Other errors,
    such as an unknown user, are raised."""
    try:
        body = graph.get(f"/users/{segment(user_id)}/drive").json_object()
    except GraphNotFound as error:
        # An unknown user answers Request_ResourceNotFound, which must not read as "no drive".
        if error.has_code(ErrorCode.ITEM_NOT_FOUND):
            return None
        raise
    return Drive.from_graph(body)


def iter_user_directory_roles(graph: GraphClient, user_id: str) -> Iterator[DirectoryRole]:
    """The activated directory roles the user is a direct member of."""
    path = f"/users/{segment(user_id)}/memberOf/microsoft.graph.directoryRole"
    for item in graph.iter_items(path):
        yield DirectoryRole.from_graph(item)


def iter_directory_roles(graph: GraphClient) -> Iterator[DirectoryRole]:
    for item in graph.iter_items("/directoryRoles"):
        yield DirectoryRole.from_graph(item)


def iter_directory_role_members(graph: GraphClient, role_id: str) -> Iterator[DirectoryObject]:
    for item in graph.iter_items(f"/directoryRoles/{segment(role_id)}/members"):
        yield DirectoryObject.from_graph(item)
