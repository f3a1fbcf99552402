"""Groups (Microsoft 365 groups, Teams) and their members."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from m365.directory.models import DirectoryObject, Group
from m365.directory.users import MAX_PAGE_SIZE
from m365.graph import GraphClient
from m365.odata import segment

GROUP_FIELDS = (
    "id",
    "displayName",
    "mail",
    "groupTypes",
    "resourceProvisioningOptions",
    "mailEnabled",
    "securityEnabled",
)
MEMBER_FIELDS = ("id", "displayName", "userPrincipalName", "mail")


def iter_groups(
    graph: GraphClient,
    *,
    microsoft_365_only: bool = False,
    select: Sequence[str] = GROUP_FIELDS,
    page_size: int = MAX_PAGE_SIZE,
) -> Iterator[Group]:
    """Every group, streamed; `microsoft_365_only` keeps "Unified" groups (Teams among
    them: see `Group.is_team`)."""
    params = {"$select": ",".join(select), "$top": str(min(page_size, MAX_PAGE_SIZE))}
    if microsoft_365_only:
        params["$filter"] = "groupTypes/any(c:c eq 'Unified')"
    for item in graph.iter_items("/groups", params):
        yield Group.from_graph(item)


def iter_group_members(
    graph: GraphClient, group_id: str, *, page_size: int = MAX_PAGE_SIZE
) -> Iterator[DirectoryObject]:
    params = {"$select": ",".join(MEMBER_FIELDS), "$top": str(min(page_size, MAX_PAGE_SIZE))}
    for item in graph.iter_items(f"/groups/{segment(group_id)}/members", params):
        yield DirectoryObject.from_graph(item)
