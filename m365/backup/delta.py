"""Two request shapes that policies and restore sessions share."""

from __future__ import annotations

from typing import Any

from m365.backup.workloads import PREFER_ALL_ENUMS
from m365.graph import GraphClient, GraphResponse

Json = dict[str, Any]


def patch_delta(
    graph: GraphClient, path: str, delta_key: str, entries: list[Json], per_request: int
) -> list[Json]:
    """PATCH `{delta_key: [...]}` in chunks of at most `per_request` entries (Graph's limit
    per request) and return every entry Graph echoed, in order. Graph echoes under the same
    key; some answers put the list under `value` instead.

    A refused entry may come back as only `@contentId` (its 1-based position in the request)
    and the error, without the siteId / directoryObjectId it was about: the entry that was
    sent at that position is merged under it, so every echo names its resource."""
    echoed_all: list[Json] = []
    for start in range(0, len(entries), per_request):
        chunk = entries[start : start + per_request]
        body = graph.patch(path, json={delta_key: chunk}, headers=PREFER_ALL_ENUMS).json_object()
        echoed = body.get(delta_key)
        if not isinstance(echoed, list):
            echoed = body.get("value") if isinstance(body.get("value"), list) else []
        echoed_all.extend(_with_sent(item, chunk) for item in echoed if isinstance(item, dict))
    return echoed_all


def _with_sent(item: Json, chunk: list[Json]) -> Json:
    position = str(item.get("@contentId") or "")
    if position.isdigit() and 1 <= int(position) <= len(chunk):
        return {**chunk[int(position) - 1], **item}
    return item


def entity_body(graph: GraphClient, response: GraphResponse, fallback_path: str) -> Json:
    """The entity a create or action answered with; when the answer is empty (a bare 202),
    read it where Content-Location (or else `fallback_path`) points."""
    body = response.json_object()
    if body.get("id"):
        return body
    location = response.content_location or fallback_path
    return graph.get(location, headers=PREFER_ALL_ENUMS).json_object() if location else {}
