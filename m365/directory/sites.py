"""SharePoint sites and their document libraries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from m365.directory.models import Drive, Site
from m365.graph import GraphClient
from m365.odata import segment

SITE_FIELDS = ("id", "webUrl", "displayName", "name", "isPersonalSite", "createdDateTime")


def iter_sites(
    graph: GraphClient,
    *,
    include_personal: bool = False,
    select: Sequence[str] = SITE_FIELDS,
    page_size: int | None = None,
) -> Iterator[Site]:
    """Every site of the tenant through `getAllSites` (application permission only),
    streamed. OneDrive (personal) sites are skipped unless `include_personal`."""
    params = {"$select": ",".join(select)}
    if page_size:
        params["$top"] = str(page_size)
    for item in graph.iter_items("/sites/getAllSites", params):
        site = Site.from_graph(item)
        if include_personal or not site.is_personal_site:
            yield site


def search_sites(graph: GraphClient, query: str = "*") -> Iterator[Site]:
    """`GET /sites?search=` (delegated-friendly alternative to getAllSites)."""
    for item in graph.iter_items("/sites", {"search": query}):
        yield Site.from_graph(item)


def get_site(graph: GraphClient, site_id: str) -> Site:
    return Site.from_graph(graph.get(f"/sites/{segment(site_id)}").json_object())


def get_site_drive(graph: GraphClient, site_id: str) -> Drive:
    """The site's default document library (`quota.used` is its size)."""
    return Drive.from_graph(graph.get(f"/sites/{segment(site_id)}/drive").json_object())
