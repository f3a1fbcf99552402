"""Restore sessions and their artifacts (reference 2.5 and the state machines of section 1).

A session is `draft` (editable) until activated. From activation A, each artifact is
`scheduling` [A, A+s), `scheduled` [A+s, A+2s), `inProgress` [A+2s, A+3s) and then
`succeeded` or `failed` (s = the artifact step). The session is `activating` during the
first step, `active` until the artifacts end, then `completed`, `completedWithError` or
`failed`. Whether an artifact fails is decided at activation: its unit is listed in the
`restoreFailureUnitIds` fault, its point expired, or the same unit is already being
restored by another running session.
"""

from __future__ import annotations

from typing import Any

from ..clock import iso
from ..errors import ControlError
from ..ids import guid_from, new_guid
from ..world import Tenant
from . import restore_points
from .state import backup_of, public_error
from .workloads import Workload

MAX_ARTIFACTS = 50
MAX_ACTIVE_SESSIONS = 25
DESTINATIONS = ("new", "inPlace")

_FAILURES = {
    "ArtifactCannotBeRestored": "The artifact cannot be restored.",
    "InvalidRestoreTime": "The restore point is outside the retention period.",
    "DuplicateArtifactRestoreRequest": "The same artifact is already being restored.",
}


def _restore_point_ref(item: dict[str, Any]) -> str | None:
    point = item.get("restorePoint")
    if isinstance(point, dict):
        ref = point.get("@odata.id") or point.get("id")
    else:
        ref = item.get("restorePoint@odata.bind") or item.get("restorePointId")
    if not isinstance(ref, str):
        return None
    return ref.rstrip("/").rsplit("/", 1)[-1].removeprefix("restorePoints(").strip("')")


def _parse_additions(
    tenant: Tenant,
    workload: Workload,
    items: list[Any],
    now: float,
    *,
    existing: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Validate artifacts to add: [{pointId, unitId, destinationType}] or a 400."""
    parsed = []
    for item in items:
        if not isinstance(item, dict):
            raise ControlError(400, "InvalidArtifactRequest", "Each artifact must be an object.")
        destination = item.get("destinationType")
        if destination not in DESTINATIONS:
            raise ControlError(
                400, "InvalidPathType", f"destinationType must be one of {', '.join(DESTINATIONS)}."
            )
        ref = _restore_point_ref(item)
        if ref is None:
            raise ControlError(
                400, "InvalidArtifactRequest", "Each artifact needs a restorePoint reference."
            )
        found = restore_points.find(tenant, ref.lower(), now)
        if found is None or found[0]["workload"] != workload.key:
            raise ControlError(
                400,
                "InvalidRestorePoint",
                f"Restore point '{ref}' does not exist for this workload.",
            )
        unit, point = found
        parsed.append({"pointId": point.id, "unitId": unit["id"], "destinationType": destination})
    everything = existing + parsed
    if len({a["destinationType"] for a in everything}) > 1:
        raise ControlError(
            400,
            "DifferentRestoreDestinationType",
            "Every artifact of a session must have the same destinationType.",
        )
    points = [a["pointId"] for a in everything]
    unit_ids = [a["unitId"] for a in everything]
    if len(set(points)) != len(points) or len(set(unit_ids)) != len(unit_ids):
        raise ControlError(
            400,
            "DuplicateArtifactInList",
            "The same artifact appears more than once in the session.",
        )
    return parsed


def _new_artifact(session: dict[str, Any], addition: dict[str, Any], now: float) -> dict[str, Any]:
    return {
        "id": new_guid(),
        "sessionId": session["id"],
        "restorePointId": addition["pointId"],
        "unitId": addition["unitId"],
        "destinationType": addition["destinationType"],
        "createdDateTime": now,
        "failCode": None,
    }


def artifacts_of(tenant: Tenant, session: dict[str, Any]) -> list[dict[str, Any]]:
    artifacts = backup_of(tenant)["artifacts"]
    return [artifacts[a] for a in session["artifactIds"] if a in artifacts]


def create(
    tenant: Tenant, workload: Workload, body: dict[str, Any], identity: dict[str, Any], now: float
) -> dict[str, Any]:
    items = body.get(workload.artifacts)
    if not isinstance(items, list) or not items:
        raise ControlError(
            400, "InvalidArtifactRequest", f"{workload.artifacts} must list at least one artifact."
        )
    if len(items) > MAX_ARTIFACTS:
        raise ControlError(
            413,
            "RestoreArtifactsLimitBreached",
            f"A request can hold at most {MAX_ARTIFACTS} restore artifacts.",
        )
    additions = _parse_additions(tenant, workload, items, now, existing=[])
    backup = backup_of(tenant)
    session = {
        "id": new_guid(),
        "workload": workload.key,
        "createdBy": identity,
        "createdDateTime": now,
        "lastModifiedBy": identity,
        "lastModifiedDateTime": now,
        "activatedAt": None,
        "artifactIds": [],
    }
    with tenant.mutation():
        backup["sessions"][session["id"]] = session
        for addition in additions:
            artifact = _new_artifact(session, addition, now)
            backup["artifacts"][artifact["id"]] = artifact
            session["artifactIds"].append(artifact["id"])
    return session


def _require_draft(session: dict[str, Any], action: str) -> None:
    if session["activatedAt"] is not None:
        raise ControlError(
            403,
            "RestoreSessionActionNotAllowed",
            f"A restore session can be {action} only while it is a draft.",
        )


def update(
    tenant: Tenant,
    workload: Workload,
    session: dict[str, Any],
    body: dict[str, Any],
    identity: dict[str, Any],
    now: float,
) -> tuple[list[str], list[dict[str, Any]]]:
    """PATCH `<artifacts>@delta` in draft: (removed artifact ids, added artifacts)."""
    _require_draft(session, "changed")
    delta = body.get(f"{workload.artifacts}@delta")
    if not isinstance(delta, list) or not all(isinstance(d, dict) for d in delta):
        raise ControlError(
            400, "InvalidPatchRequest", f"The body needs {workload.artifacts}@delta, a list."
        )
    if len(delta) > MAX_ARTIFACTS:
        raise ControlError(
            400,
            "RestoreArtifactsLimitBreached",
            f"A request can change at most {MAX_ARTIFACTS} restore artifacts.",
        )
    backup = backup_of(tenant)
    current = artifacts_of(tenant, session)
    removal_ids = [str(d.get("id", "")).lower() for d in delta if "@removed" in d]
    if any(r not in session["artifactIds"] for r in removal_ids) or len(set(removal_ids)) != len(
        removal_ids
    ):
        raise ControlError(
            400, "InvalidPatchRequest", "A removed artifact is not part of this session."
        )
    kept = [
        {
            "pointId": a["restorePointId"],
            "unitId": a["unitId"],
            "destinationType": a["destinationType"],
        }
        for a in current
        if a["id"] not in removal_ids
    ]
    additions = _parse_additions(
        tenant, workload, [d for d in delta if "@removed" not in d], now, existing=kept
    )
    added = []
    with tenant.mutation():
        for artifact_id in removal_ids:
            session["artifactIds"].remove(artifact_id)
            backup["artifacts"].pop(artifact_id, None)
        for addition in additions:
            artifact = _new_artifact(session, addition, now)
            backup["artifacts"][artifact["id"]] = artifact
            session["artifactIds"].append(artifact["id"])
            added.append(artifact)
        session.update(lastModifiedBy=identity, lastModifiedDateTime=now)
    return removal_ids, added


def is_running(session: dict[str, Any], now: float, step: float) -> bool:
    activated = session["activatedAt"]
    return activated is not None and now < activated + 3 * step


def activate(
    tenant: Tenant, session: dict[str, Any], identity: dict[str, Any], now: float
) -> dict[str, Any]:
    _require_draft(session, "activated")
    backup = backup_of(tenant)
    step = tenant.world.durations.artifact_step
    running = [s for s in backup["sessions"].values() if is_running(s, now, step)]
    if len(running) >= MAX_ACTIVE_SESSIONS:
        raise ControlError(
            500,
            "TooManyActiveRestoreSessions",
            f"At most {MAX_ACTIVE_SESSIONS} restore sessions can be active at "
            "once; retry when one completes.",
        )
    failing_units = set(((tenant.faults() or {}).get("restoreFailureUnitIds")) or [])
    busy_units = {a["unitId"] for s in running for a in artifacts_of(tenant, s)}
    with tenant.mutation():
        for artifact in artifacts_of(tenant, session):
            if artifact["unitId"] in failing_units:
                artifact["failCode"] = "ArtifactCannotBeRestored"
            elif restore_points.find(tenant, artifact["restorePointId"], now) is None:
                artifact["failCode"] = "InvalidRestoreTime"
            elif artifact["unitId"] in busy_units:
                artifact["failCode"] = "DuplicateArtifactRestoreRequest"
        session.update(activatedAt=now, lastModifiedBy=identity, lastModifiedDateTime=now)
    return session


def delete(tenant: Tenant, session: dict[str, Any]) -> None:
    _require_draft(session, "deleted")
    backup = backup_of(tenant)
    with tenant.mutation():
        for artifact_id in session["artifactIds"]:
            backup["artifacts"].pop(artifact_id, None)
        del backup["sessions"][session["id"]]


def artifact_status(
    artifact: dict[str, Any], session: dict[str, Any], now: float, step: float
) -> str:
    activated = session["activatedAt"]
    if activated is None:
        return "added"
    elapsed = now - activated
    if elapsed < step:
        return "scheduling"
    if elapsed < 2 * step:
        return "scheduled"
    if elapsed < 3 * step:
        return "inProgress"
    return "failed" if artifact["failCode"] else "succeeded"


def session_status(tenant: Tenant, session: dict[str, Any], now: float) -> str:
    step = tenant.world.durations.artifact_step
    activated = session["activatedAt"]
    if activated is None:
        return "draft"
    if now < activated + step:
        return "activating"
    if now < activated + 3 * step:
        return "active"
    failed = [a for a in artifacts_of(tenant, session) if a["failCode"]]
    if not failed:
        return "completed"
    return "failed" if len(failed) == len(session["artifactIds"]) else "completedWithError"


def session_json(
    tenant: Tenant,
    workload: Workload,
    session: dict[str, Any],
    now: float,
    include_unknown: bool,
    version: str,
) -> dict[str, Any]:
    from .enums import shown

    status = session_status(tenant, session, now)
    step = tenant.world.durations.artifact_step
    done = status in ("completed", "completedWithError", "failed")
    body = {
        "@odata.type": f"#{workload.session_type}",
        "id": session["id"],
        "status": shown("restoreSessionStatus", status, include_unknown),
        "createdBy": session["createdBy"],
        "createdDateTime": iso(session["createdDateTime"]),
        "completedDateTime": iso(session["activatedAt"] + 3 * step) if done else None,
        "lastModifiedBy": session["lastModifiedBy"],
        "lastModifiedDateTime": iso(session["lastModifiedDateTime"]),
        "error": None,
    }
    if version == "beta":
        body["restoreJobType"] = "standard"
    return body


def artifact_json(
    tenant: Tenant,
    workload: Workload,
    artifact: dict[str, Any],
    session: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    step = tenant.world.durations.artifact_step
    status = artifact_status(artifact, session, now, step)
    activated = session["activatedAt"]
    started = activated is not None and now >= activated + 2 * step
    finished = status in ("succeeded", "failed")
    body: dict[str, Any] = {
        "@odata.type": f"#{workload.artifact_type}",
        "id": artifact["id"],
        "destinationType": artifact["destinationType"],
        "status": status,
        "startDateTime": iso(activated + 2 * step) if started else None,
        "completionDateTime": iso(activated + 3 * step) if finished else None,
        "error": public_error(artifact["failCode"], _FAILURES[artifact["failCode"]])
        if status == "failed"
        else None,
    }
    body.update(_restored_fields(tenant, workload, artifact, status == "succeeded"))
    return body


def _restored_fields(
    tenant: Tenant, workload: Workload, artifact: dict[str, Any], succeeded: bool
) -> dict[str, Any]:
    unit = backup_of(tenant)["units"].get(artifact["unitId"])
    new = artifact["destinationType"] == "new"
    if workload.key == "exchange":
        return {
            "restoredFolderId": guid_from(artifact["id"], "folder") if succeeded else None,
            "restoredFolderName": f"Restored-{iso(artifact['createdDateTime'])[:10]}"
            if succeeded
            else None,
        }
    site = None
    if unit is not None:
        if workload.key == "sharePoint":
            site = tenant.gen.site_by_id(unit["resourceId"])
        else:
            user = tenant.user(unit["resourceId"], include_deleted=True)
            site = tenant.gen.personal_site_of(user.index) if user else None
    if not succeeded or site is None:
        return {"restoredSiteId": None, "restoredSiteName": None, "restoredSiteWebUrl": None}
    if not new:
        return {
            "restoredSiteId": site.id,
            "restoredSiteName": site.display_name,
            "restoredSiteWebUrl": site.web_url,
        }
    host = site.id.split(",")[0]
    return {
        "restoredSiteId": f"{host},{guid_from(artifact['id'], 'site')},"
        f"{guid_from(artifact['id'], 'web')}",
        "restoredSiteName": f"{site.display_name} (restored)",
        "restoredSiteWebUrl": f"{site.web_url}-restored-{artifact['id'][:8]}",
    }
