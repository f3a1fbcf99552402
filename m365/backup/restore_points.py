"""Restore points (reference section 2.4): listed per protection unit, or searched for many
units at once in chunks of unit ids."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from m365.backup.enums import RestorePointPreference, RestorePointTags
from m365.backup.models import RestorePoint, RestorePointSearchResult
from m365.backup.workloads import PREFER_ALL_ENUMS, backup_path
from m365.graph import GraphClient
from m365.odata import format_datetime, literal, strings

# Unit ids per search call. Graph documents no number, only FilterLengthExceeded; 50 matches
# its other per-request limits.
SEARCH_CHUNK_SIZE = 50


def iter_restore_points(
    graph: GraphClient,
    *,
    protection_unit_id: str,
    before: datetime | None = None,
    after: datetime | None = None,
) -> Iterator[RestorePoint]:
    """A unit's restore points, optionally within (after, before), streamed."""
    params: dict[str, Any] = {
        "$expand": f"protectionUnit($filter=id eq {literal(protection_unit_id)})"
    }
    clauses = []
    if before is not None:
        clauses.append(f"protectionDateTime lt {format_datetime(before)}")
    if after is not None:
        clauses.append(f"protectionDateTime gt {format_datetime(after)}")
    if clauses:
        params["$filter"] = " and ".join(clauses)
    for item in graph.iter_items(backup_path("restorePoints"), params, headers=PREFER_ALL_ENUMS):
        point = RestorePoint.from_graph(item)
        # Graph filters by the expanded unit; keep only matches in case a service does not.
        if point.protection_unit_id in ("", protection_unit_id):
            yield point


def search_restore_points(
    graph: GraphClient,
    *,
    protection_unit_ids: Sequence[str],
    start: datetime,
    end: datetime,
    preference: RestorePointPreference | None = None,
    tags: RestorePointTags | None = None,
    chunk_size: int = SEARCH_CHUNK_SIZE,
) -> RestorePointSearchResult:
    """The restore point(s) of each unit in [start, end] (`latest` or `oldest` per unit),
    searched `chunk_size` unit ids per call. 400 InvalidSearchRequest for a bad range."""
    if not protection_unit_ids:
        return RestorePointSearchResult((), (), ())
    response_ids: list[str] = []
    points: list[RestorePoint] = []
    missing: list[str] = []
    for offset in range(0, len(protection_unit_ids), chunk_size):
        body: dict[str, Any] = {
            "protectionUnitIds": list(protection_unit_ids[offset : offset + chunk_size]),
            "protectionTimePeriod": {
                "startDateTime": format_datetime(start),
                "endDateTime": format_datetime(end),
            },
        }
        if preference is not None:
            body["restorePointPreference"] = str(preference)
        if tags is not None:
            body["tags"] = str(tags)  # camelCase, as the example (the table says PascalCase)
        answer = graph.post(
            backup_path("restorePoints", "search"), json=body, headers=PREFER_ALL_ENUMS
        ).json_object()
        if answer.get("searchResponseId"):
            response_ids.append(str(answer["searchResponseId"]))
        for result in answer.get("searchResults") or []:
            point = result.get("restorePoint") if isinstance(result, dict) else None
            if isinstance(point, dict):
                points.append(RestorePoint.from_graph(point))
        missing.extend(strings(answer.get("noResultProtectionUnitIds")))
    return RestorePointSearchResult(tuple(response_ids), tuple(points), tuple(missing))
