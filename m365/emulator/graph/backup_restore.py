"""Restore points (list, get, search) and restore sessions with their artifacts (reference
2.4, 2.5)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..backup import restore_points as points
from ..backup import service
from ..backup import sessions as session_model
from ..backup import units as unit_model
from ..backup.state import backup_of
from ..backup.workloads import BY_KEY, WORKLOADS, Workload
from ..clock import parse_iso
from ..errors import ControlError
from ..ids import new_guid
from . import permissions as perm
from .backup_common import (
    CONTEXT,
    MAX_FILTER_CLAUSES,
    backup_route,
    entity_result,
    lazy_collection,
    unit_json,
)
from .core import Ctx, Result, no_content
from .odata import Collection, collection_page, reject_unknown_expand

RESTORE, READ, SEARCH = perm.BACKUP_RESTORE, perm.BACKUP_RESTORE_READ, perm.BACKUP_SEARCH

_EXPAND_UNIT = re.compile(r"protectionUnit\(\s*\$filter\s*=\s*id\s+eq\s+'([^']+)'\s*\)", re.I)
_FILTER_UNIT = re.compile(r"protectionUnit/id\s+eq\s+'([^']+)'", re.I)
_BOUND = re.compile(r"protectionDateTime\s+(lt|le|gt|ge)\s+(\S+)", re.I)
_EPISODE_BITS, _POSITION_BITS = 40, 48


# ---- restore points ------------------------------------------------------------------


def _time_bounds(text: str | None) -> tuple[float | None, float | None]:
    """Bounds on protectionDateTime implied by an and-only filter (to skip whole ranges)."""
    if not text or re.search(r"\sor\s", text, re.I):
        return None, None
    lower = upper = None
    for op, raw in _BOUND.findall(text):
        try:
            value = parse_iso(raw.strip("'"))
        except ValueError:
            continue
        if op.lower() in ("gt", "ge"):
            lower = value if lower is None else max(lower, value)
        else:
            upper = value if upper is None else min(upper, value)
    return lower, upper


def list_restore_points(ctx: Ctx) -> Result:
    expand = reject_unknown_expand(ctx, "microsoft.graph.restorePoint", ("protectionUnit",))
    only_unit = None
    for pattern, text in ((_EXPAND_UNIT, expand), (_FILTER_UNIT, ctx.args.get("$filter"))):
        found = pattern.search(text or "")
        if found:
            only_unit = found.group(1).lower()
    units = [
        u
        for u in backup_of(ctx.tenant)["units"].values()
        if only_unit is None or u["id"] == only_unit
    ]
    lower, upper = _time_bounds(ctx.args.get("$filter"))
    durations = ctx.world.durations
    unit_bodies: dict[str, dict[str, Any] | None] = {}

    def read(start: int) -> Iterator[tuple[int, dict[str, Any]]]:
        first_unit = start >> _POSITION_BITS
        episode = (start >> _EPISODE_BITS) & 0xFF
        k = start & ((1 << _EPISODE_BITS) - 1)
        for position in range(first_unit, len(units)):
            unit = units[position]
            if unit["id"] not in unit_bodies:
                unit_bodies[unit["id"]] = unit_json(ctx, unit)
            body = unit_bodies[unit["id"]]
            if body is None:
                continue
            after = (episode, k - 1) if position == first_unit and start else None
            for point in points.points_of(
                unit, ctx.now, durations, lower=lower, upper=upper, after=after
            ):
                cursor = (position << _POSITION_BITS) | (point.episode << _EPISODE_BITS) | point.k
                yield cursor, points.point_json(point, body)

    result = collection_page(
        ctx,
        Collection(
            name="restorePoints",
            context=f"{CONTEXT}/restorePoints",
            source=read,
            entity="microsoft.graph.restorePoint",
            max_page=None,
            max_filter_clauses=MAX_FILTER_CLAUSES,
            filterable=frozenset(
                {"id", "protectionDateTime", "expirationDateTime", "tags", "protectionUnit"}
            ),
        ),
    )
    if expand is None:
        for item in result.body["value"]:
            item.pop("protectionUnit", None)
    return result


def get_restore_point(ctx: Ctx, point_id: str) -> Result:
    found = points.find(ctx.tenant, point_id.lower(), ctx.now)
    if found is None:
        raise ControlError(404, "itemNotFound", f"Restore point '{point_id}' was not found.")
    unit, point = found
    expand = reject_unknown_expand(ctx, "microsoft.graph.restorePoint", ("protectionUnit",))
    body = points.point_json(point, unit_json(ctx, unit) if expand else None)
    return entity_result(ctx, "restorePoints", body)


def search_restore_points(ctx: Ctx) -> Result:
    body = ctx.json
    unit_ids = body.get("protectionUnitIds")
    period = body.get("protectionTimePeriod")
    if not isinstance(unit_ids, list) or not unit_ids or not isinstance(period, dict):
        raise ControlError(
            400, "InvalidSearchRequest", "protectionUnitIds and protectionTimePeriod are required."
        )
    for unit_id in unit_ids:
        if not unit_model.is_guid(unit_id):
            raise ControlError(
                400, "InvalidProtectionUnitId", f"'{unit_id}' is not a valid protection unit id."
            )
    try:
        start = parse_iso(period.get("startDateTime"))
        end = parse_iso(period.get("endDateTime"))
    except ValueError as exc:
        raise ControlError(
            400, "InvalidSearchRequest", "protectionTimePeriod needs startDateTime and endDateTime."
        ) from exc
    if start > end:
        raise ControlError(
            400, "InvalidSearchRequest", "startDateTime must not be after endDateTime."
        )
    preference = body.get("restorePointPreference", "latest")
    tags = body.get("tags")
    if preference not in ("latest", "oldest") or (
        tags is not None and str(tags).lower() not in ("none", "fastrestore")
    ):
        raise ControlError(
            400,
            "InvalidSearchRequest",
            "restorePointPreference is latest or oldest; tags is none or fastRestore.",
        )
    wanted_fast = None if tags is None else str(tags).lower() == "fastrestore"
    units = backup_of(ctx.tenant)["units"]
    results, missing = [], []
    for unit_id in unit_ids:
        unit = units.get(unit_id.lower())
        body_of_unit = unit_json(ctx, unit) if unit else None
        candidates = (
            []
            if body_of_unit is None
            else [
                p
                for p in points.points_of(
                    unit, ctx.now, ctx.world.durations, lower=start, upper=end
                )
                if wanted_fast is None or p.fast == wanted_fast
            ]
        )
        if not candidates:
            missing.append(unit_id)
            continue
        chosen = candidates[-1] if preference == "latest" else candidates[0]
        summary = {k: body_of_unit[k] for k in ("@odata.type", "id", "policyId")}
        key = BY_KEY[unit["workload"]].unit_key
        summary[key] = body_of_unit[key]
        results.append({"restorePoint": points.point_json(chosen, summary)})
    return Result(
        {
            "@odata.context": ctx.context_url(f"{CONTEXT}/restorePoints"),
            "searchResponseId": new_guid(),
            "searchResults": results,
            "noResultProtectionUnitIds": missing,
        }
    )


# ---- restore sessions ----------------------------------------------------------------


def _session_or_error(ctx: Ctx, session_id: str, workload: Workload | None) -> dict[str, Any]:
    if not unit_model.is_guid(session_id):
        raise ControlError(
            400, "InvalidRestoreSessionId", f"'{session_id}' is not a valid restore session id."
        )
    session = backup_of(ctx.tenant)["sessions"].get(session_id.lower())
    if session is None or (workload is not None and session["workload"] != workload.key):
        raise ControlError(
            404, "RestoreSessionNotFound", f"Restore session '{session_id}' was not found."
        )
    return session


def _session_json(ctx: Ctx, session: dict[str, Any]) -> dict[str, Any]:
    return session_model.session_json(
        ctx.tenant,
        BY_KEY[session["workload"]],
        session,
        ctx.now,
        ctx.include_unknown_enums,
        ctx.version,
    )


def _artifact_json(ctx: Ctx, artifact: dict[str, Any], session: dict[str, Any]) -> dict[str, Any]:
    workload = BY_KEY[session["workload"]]
    body = session_model.artifact_json(ctx.tenant, workload, artifact, session, ctx.now)
    if ctx.args.get("$expand", "").startswith("restorePoint"):
        found = points.find(ctx.tenant, artifact["restorePointId"], ctx.now)
        body["restorePoint"] = points.point_json(found[1]) if found else None
    return body


def list_sessions(ctx: Ctx, workload: Workload | None) -> Result:
    name = workload.sessions if workload else "restoreSessions"
    entity = workload.session_type if workload else "microsoft.graph.restoreSessionBase"
    sessions = [
        s
        for s in backup_of(ctx.tenant)["sessions"].values()
        if workload is None or s["workload"] == workload.key
    ]
    return collection_page(
        ctx, lazy_collection(name, name, entity, sessions, lambda s: _session_json(ctx, s))
    )


def create_session(ctx: Ctx, workload: Workload) -> Result:
    body = ctx.json
    service.require_restore(ctx.tenant, ctx.app_id)
    session = session_model.create(ctx.tenant, workload, body, ctx.identity_set(), ctx.now)
    return entity_result(
        ctx,
        workload.sessions,
        _session_json(ctx, session),
        201,
        location=f"/restoreSessions/{session['id']}",
    )


def get_session(ctx: Ctx, session_id: str, workload: Workload | None) -> Result:
    session = _session_or_error(ctx, session_id, workload)
    name = workload.sessions if workload else "restoreSessions"
    return entity_result(ctx, name, _session_json(ctx, session))


def update_session(ctx: Ctx, session_id: str, workload: Workload) -> Result:
    session = _session_or_error(ctx, session_id, workload)
    body = ctx.json
    service.require_restore(ctx.tenant, ctx.app_id)
    removed, added = session_model.update(
        ctx.tenant, workload, session, body, ctx.identity_set(), ctx.now
    )
    delta = [{"@removed": {"reason": "changed"}, "id": r} for r in removed]
    delta += [_artifact_json(ctx, a, session) for a in added]
    return entity_result(
        ctx,
        workload.sessions,
        {**_session_json(ctx, session), f"{workload.artifacts}@delta": delta},
    )


def delete_session(ctx: Ctx, session_id: str, workload: Workload | None) -> Result:
    session = _session_or_error(ctx, session_id, workload)
    session_model.delete(ctx.tenant, session)
    return no_content()


def activate_session(ctx: Ctx, session_id: str, workload: Workload | None) -> Result:
    session = _session_or_error(ctx, session_id, workload)
    service.require_restore(ctx.tenant, ctx.app_id)
    session_model.activate(ctx.tenant, session, ctx.identity_set(), ctx.now)
    return entity_result(ctx, "restoreSessions", _session_json(ctx, session))


def list_artifacts(ctx: Ctx, session_id: str, workload: Workload) -> Result:
    session = _session_or_error(ctx, session_id, workload)
    reject_unknown_expand(ctx, workload.artifact_type, ("restorePoint",))
    artifacts = session_model.artifacts_of(ctx.tenant, session)
    return collection_page(
        ctx,
        lazy_collection(
            workload.artifacts,
            f"{workload.sessions}('{session['id']}')/{workload.artifacts}",
            workload.artifact_type,
            artifacts,
            lambda a: _artifact_json(ctx, a, session),
        ),
    )


def get_artifact(ctx: Ctx, session_id: str, artifact_id: str, workload: Workload) -> Result:
    session = _session_or_error(ctx, session_id, workload)
    if artifact_id.lower() not in session["artifactIds"]:
        raise ControlError(404, "ArtifactNotFound", f"Artifact '{artifact_id}' was not found.")
    artifact = backup_of(ctx.tenant)["artifacts"][artifact_id.lower()]
    return entity_result(ctx, workload.artifacts, _artifact_json(ctx, artifact, session))


def _register() -> None:
    backup_route("/restorePoints", "GET", READ, list_restore_points)
    backup_route("/restorePoints/search", "POST", SEARCH, search_restore_points)
    backup_route("/restorePoints/<point_id>", "GET", READ, get_restore_point)
    backup_route("/restoreSessions", "GET", READ, list_sessions, workload=None)
    backup_route("/restoreSessions/<session_id>", "GET", READ, get_session, workload=None)
    backup_route("/restoreSessions/<session_id>", "DELETE", RESTORE, delete_session, workload=None)
    backup_route(
        "/restoreSessions/<session_id>/activate", "POST", RESTORE, activate_session, workload=None
    )
    for w in WORKLOADS:
        base = f"/{w.sessions}"
        backup_route(base, "GET", READ, list_sessions, workload=w)
        backup_route(base, "POST", RESTORE, create_session, workload=w)
        backup_route(f"{base}/<session_id>", "GET", READ, get_session, workload=w)
        backup_route(f"{base}/<session_id>", "PATCH", RESTORE, update_session, workload=w)
        backup_route(f"{base}/<session_id>", "DELETE", RESTORE, delete_session, workload=w)
        backup_route(f"{base}/<session_id>/activate", "POST", RESTORE, activate_session, workload=w)
        backup_route(f"{base}/<session_id>/{w.artifacts}", "GET", READ, list_artifacts, workload=w)
        backup_route(
            f"{base}/<session_id>/{w.artifacts}/<artifact_id>",
            "GET",
            READ,
            get_artifact,
            workload=w,
        )


_register()
