"""Restore sessions per workload (reference section 2.5).

A session is created in `draft` with at most 50 artifacts per request, all with ONE
destination type (the functions take one `destination_type`, so a mixed request,
400 DifferentRestoreDestinationType, cannot be built); it can be patched and deleted only
in draft, then activated (500 TooManyActiveRestoreSessions above 25 running sessions)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from m365.backup.delta import entity_body, patch_delta
from m365.backup.enums import ArtifactRestoreStatus, DestinationType
from m365.backup.models import RestoreArtifact, RestoreSession
from m365.backup.workloads import (
    MAX_ARTIFACTS_PER_REQUEST,
    PREFER_ALL_ENUMS,
    Workload,
    backup_path,
    names,
)
from m365.graph import GraphClient, GraphResponse
from m365.odata import text


@dataclass(frozen=True)
class ArtifactChange:
    """One entry of a session PATCH answer (the shape mirrors the policy PATCH [I])."""

    artifact_id: str
    status: ArtifactRestoreStatus | None
    error_code: str
    error_message: str

    @property
    def ok(self) -> bool:
        return not self.error_code

    @classmethod
    def from_graph(cls, data: dict[str, Any]) -> ArtifactChange:
        failure = data.get("@Core.DataModificationException")
        info = failure.get("info") if isinstance(failure, dict) else None
        info = info if isinstance(info, dict) else {}
        return cls(
            text(data, "id"),
            ArtifactRestoreStatus.parse(data.get("status")),
            text(info, "code"),
            text(info, "message"),
        )


def create_restore_session(
    graph: GraphClient,
    *,
    workload: Workload,
    restore_point_ids: Sequence[str],
    destination_type: DestinationType,
) -> RestoreSession:
    """A draft session restoring each restore point to `destination_type` (`inPlace` or
    `new`). More than 50 points: the rest are added by PATCH, 50 at a time."""
    if not restore_point_ids:
        raise ValueError("a restore session needs at least one restore point")
    table = names(workload)
    first = restore_point_ids[:MAX_ARTIFACTS_PER_REQUEST]
    body = {table.artifacts: _artifacts(first, destination_type)}
    response = graph.post(backup_path(table.sessions), json=body, headers=PREFER_ALL_ENUMS)
    session = _session_from(graph, response, workload)
    rest = restore_point_ids[MAX_ARTIFACTS_PER_REQUEST:]
    if rest:
        add_restore_artifacts(
            graph,
            workload=workload,
            session_id=session.id,
            restore_point_ids=rest,
            destination_type=destination_type,
        )
    return session


def add_restore_artifacts(
    graph: GraphClient,
    *,
    workload: Workload,
    session_id: str,
    restore_point_ids: Sequence[str],
    destination_type: DestinationType,
) -> tuple[ArtifactChange, ...]:
    """Add artifacts to a draft session, 50 per PATCH (403 RestoreSessionActionNotAllowed
    once the session left draft)."""
    return _patch_artifacts(
        graph, workload, session_id, _artifacts(restore_point_ids, destination_type)
    )


def remove_restore_artifacts(
    graph: GraphClient, *, workload: Workload, session_id: str, artifact_ids: Sequence[str]
) -> tuple[ArtifactChange, ...]:
    return _patch_artifacts(
        graph,
        workload,
        session_id,
        [{"@removed": {"reason": "changed"}, "id": artifact_id} for artifact_id in artifact_ids],
    )


def activate_restore_session(graph: GraphClient, session_id: str) -> RestoreSession:
    """draft → activating. 403 RestoreSessionActionNotAllowed when not draft; 500
    TooManyActiveRestoreSessions (transient: retry when others finished)."""
    response = graph.post(
        backup_path("restoreSessions", session_id, "activate"), headers=PREFER_ALL_ENUMS
    )
    return _session_from(graph, response, None, session_id)


def get_restore_session(graph: GraphClient, session_id: str) -> RestoreSession:
    body = graph.get(
        backup_path("restoreSessions", session_id), headers=PREFER_ALL_ENUMS
    ).json_object()
    return RestoreSession.from_graph(body)


def iter_restore_sessions(
    graph: GraphClient, *, workload: Workload | None = None
) -> Iterator[RestoreSession]:
    collection = names(workload).sessions if workload else "restoreSessions"
    for item in graph.iter_items(backup_path(collection), headers=PREFER_ALL_ENUMS):
        yield RestoreSession.from_graph(item, workload)


def iter_restore_artifacts(
    graph: GraphClient, *, workload: Workload, session_id: str, expand_restore_point: bool = False
) -> Iterator[RestoreArtifact]:
    """The session's artifacts with their status and, when failed, `error`
    (ArtifactNotFound, InvalidRestoreTime, ArtifactCannotBeRestored...).
    `expand_restore_point` asks Graph to include each artifact's restore point id."""
    table = names(workload)
    path = backup_path(table.sessions, session_id, table.artifacts)
    params = {"$expand": "restorePoint"} if expand_restore_point else None
    for item in graph.iter_items(path, params, headers=PREFER_ALL_ENUMS):
        yield RestoreArtifact.from_graph(item, workload)


def delete_restore_session(graph: GraphClient, session_id: str) -> None:
    """Only in draft (403 otherwise)."""
    graph.delete(backup_path("restoreSessions", session_id))


def _artifacts(
    restore_point_ids: Sequence[str], destination_type: DestinationType
) -> list[dict[str, Any]]:
    destination = str(DestinationType(destination_type))
    return [
        {"restorePoint": {"@odata.id": point_id}, "destinationType": destination}
        for point_id in restore_point_ids
    ]


def _patch_artifacts(
    graph: GraphClient, workload: Workload, session_id: str, entries: list[dict[str, Any]]
) -> tuple[ArtifactChange, ...]:
    table = names(workload)
    echoed = patch_delta(
        graph,
        backup_path(table.sessions, session_id),
        f"{table.artifacts}@delta",
        entries,
        MAX_ARTIFACTS_PER_REQUEST,
    )
    return tuple(ArtifactChange.from_graph(item) for item in echoed)


def _session_from(
    graph: GraphClient, response: GraphResponse, workload: Workload | None, session_id: str = ""
) -> RestoreSession:
    fallback = backup_path("restoreSessions", session_id) if session_id else ""
    return RestoreSession.from_graph(entity_body(graph, response, fallback), workload)
