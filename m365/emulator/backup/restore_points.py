"""Restore points, computed from protection windows and never stored one by one.

While a unit is protected, a first point appears `first_restore_point` seconds after
protection starts, then one every `restore_point_interval` (10 minutes) kept for 14 days;
every point falling on a weekly boundary of that series is kept for a year (the policy's
retentionSettings). SharePoint and OneDrive points younger than 14 days carry the
`fastRestore` tag. A point id encodes (unit, protection episode, sequence number), so any
point can be found again without an index.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..clock import iso
from ..world import Durations, Tenant
from . import units as unit_model
from .state import backup_of
from .workloads import BY_KEY


@dataclass(frozen=True)
class Point:
    unit_id: str
    episode: int
    k: int
    time: float
    expires: float
    fast: bool

    @property
    def id(self) -> str:
        # Same shape as a GUID: the unit id's first four groups, then episode and sequence.
        return f"{self.unit_id[:23]}-{self.episode:02x}{self.k:010x}"

    @property
    def sort_key(self) -> tuple[int, int]:
        return self.episode, self.k


def parse_id(point_id: str) -> tuple[str, int, int] | None:
    """(unit id prefix, episode, k) of a point id, or None."""
    if not isinstance(point_id, str) or len(point_id) != 36 or point_id[23] != "-":
        return None
    try:
        return point_id[:23].lower(), int(point_id[24:26], 16), int(point_id[26:], 16)
    except ValueError:
        return None


def points_of(
    unit: dict[str, Any],
    now: float,
    d: Durations,
    *,
    lower: float | None = None,
    upper: float | None = None,
    after: tuple[int, int] | None = None,
) -> Iterator[Point]:
    """The unit's unexpired points in time order, optionally within [lower, upper] and after
    a (episode, k) position."""
    fast_workload = BY_KEY[unit["workload"]].fast_restore
    step = d.restore_point_interval
    weekly = max(1, round(d.weekly_interval / step))
    for episode, begin, stop in unit_model.protected_windows(unit, d.unit_protect):
        first = begin + d.first_restore_point
        end = min(now, stop) if stop is not None else now
        if end < first:
            continue
        last_k = math.floor((end - first) / step)
        if upper is not None:
            last_k = min(last_k, math.floor((upper - first) / step))
        low_k = 0 if lower is None else max(0, math.ceil((lower - first) / step))
        if after is not None and after[0] == episode:
            low_k = max(low_k, after[1] + 1)
        elif after is not None and after[0] > episode:
            continue
        # Points younger than the short retention are all kept; older ones only weekly.
        short_k = max(0, math.floor((now - d.short_retention - first) / step) + 1)
        long_k = max(0, math.floor((now - d.long_retention - first) / step) + 1)
        start_weekly = max(low_k, long_k)
        k = start_weekly + (-start_weekly) % weekly
        while k < min(short_k, last_k + 1):
            t = first + k * step
            yield Point(unit["id"], episode, k, t, t + d.long_retention, False)
            k += weekly
        for k in range(max(low_k, short_k), last_k + 1):
            t = first + k * step
            retention = d.long_retention if k % weekly == 0 else d.short_retention
            yield Point(
                unit["id"],
                episode,
                k,
                t,
                t + retention,
                fast_workload and now < t + d.short_retention,
            )


def find(tenant: Tenant, point_id: str, now: float) -> tuple[dict[str, Any], Point] | None:
    parsed = parse_id(point_id)
    if parsed is None:
        return None
    prefix, episode, k = parsed
    d = tenant.world.durations
    for unit in backup_of(tenant)["units"].values():
        if not unit["id"].startswith(prefix):
            continue
        for point in points_of(unit, now, d, after=(episode, k - 1) if k else None):
            if point.sort_key == (episode, k):
                return unit, point
            if point.sort_key > (episode, k):
                break
    return None


def point_json(point: Point, unit_body: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {
        "@odata.type": "#microsoft.graph.restorePoint",
        "id": point.id,
        "protectionDateTime": iso(point.time),
        "expirationDateTime": iso(point.expires),
        "tags": "fastRestore" if point.fast else "none",
    }
    if unit_body is not None:
        body["protectionUnit"] = unit_body
    return body
