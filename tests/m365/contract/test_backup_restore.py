"""Restore points and restore sessions against the emulator (reference 2.4 and 2.5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from m365.backup import policies, restore_points, restore_sessions, units
from m365.backup.enums import (
    ArtifactRestoreStatus,
    DestinationType,
    RestorePointPreference,
    RestoreSessionStatus,
)
from m365.backup.workloads import Workload
from m365.directory import users
from m365.errors import (
    ErrorCode,
    GraphBadRequest,
    GraphForbidden,
    GraphNotFound,
    GraphTransientError,
)
from tests.m365.contract.conftest import advance

pytestmark = pytest.mark.usefixtures("backup_enabled")


def tenant_now(control, tenant) -> datetime:
    return control.now(tenant.id)


@pytest.fixture
def protected_mailboxes(control, graph, tenant):
    """An active Exchange policy whose units have restore points for a few hours."""
    ids = [u.id for u in users.iter_users(graph) if u.mail][:6]
    created = policies.create_protection_policy(
        graph, workload=Workload.EXCHANGE, display_name="Mail", resource_ids=ids
    )
    policies.activate_protection_policy(graph, created.policy.id)
    advance(control, tenant, 4 * 3600)
    return list(
        units.iter_protection_units(graph, workload=Workload.EXCHANGE, policy_id=created.policy.id)
    )


def test_restore_points_list_and_search_in_chunks(control, graph, tenant, protected_mailboxes):
    unit = protected_mailboxes[0]
    points = list(restore_points.iter_restore_points(graph, protection_unit_id=unit.id))
    assert len(points) >= 10  # every 10 minutes for ~4 hours
    assert all(p.protection_at and p.expires_at and p.protection_at < p.expires_at for p in points)
    now = tenant_now(control, tenant)
    early = list(
        restore_points.iter_restore_points(
            graph, protection_unit_id=unit.id, before=now - timedelta(hours=2)
        )
    )
    assert 0 < len(early) < len(points)

    before = graph.stats.requests
    unknown = str(uuid.uuid4())
    found = restore_points.search_restore_points(
        graph,
        protection_unit_ids=[u.id for u in protected_mailboxes] + [unknown],
        start=now - timedelta(days=1),
        end=now,
        preference=RestorePointPreference.LATEST,
        chunk_size=4,
    )
    assert graph.stats.requests - before == 2  # 7 unit ids in chunks of 4
    assert len(found.search_response_ids) == 2
    assert {p.protection_unit_id for p in found.restore_points} == {
        u.id for u in protected_mailboxes
    }
    latest = max(points, key=lambda p: p.protection_at)
    assert latest.id in {p.id for p in found.restore_points}
    assert unknown in found.no_result_unit_ids


def test_invalid_search_range(graph, protected_mailboxes):
    now = datetime.now(UTC)
    with pytest.raises(GraphBadRequest) as caught:
        restore_points.search_restore_points(
            graph,
            protection_unit_ids=[protected_mailboxes[0].id],
            start=now,
            end=now - timedelta(days=1),
        )
    assert caught.value.has_code(ErrorCode.INVALID_SEARCH_REQUEST)


def latest_points(control, graph, tenant, protected):
    now = tenant_now(control, tenant)
    result = restore_points.search_restore_points(
        graph,
        protection_unit_ids=[u.id for u in protected],
        start=now - timedelta(days=1),
        end=now,
        preference=RestorePointPreference.LATEST,
    )
    return {p.protection_unit_id: p.id for p in result.restore_points}


def test_restore_session_lifecycle(control, graph, tenant, protected_mailboxes):
    points = latest_points(control, graph, tenant, protected_mailboxes)
    ordered = [points[u.id] for u in protected_mailboxes]
    session = restore_sessions.create_restore_session(
        graph,
        workload=Workload.EXCHANGE,
        restore_point_ids=ordered[:3],
        destination_type=DestinationType.NEW,
    )
    assert session.status is RestoreSessionStatus.DRAFT
    assert session.workload is Workload.EXCHANGE
    added = restore_sessions.add_restore_artifacts(
        graph,
        workload=Workload.EXCHANGE,
        session_id=session.id,
        restore_point_ids=ordered[3:5],
        destination_type=DestinationType.NEW,
    )
    assert len(added) == 2 and all(c.ok for c in added)
    artifacts = list(
        restore_sessions.iter_restore_artifacts(
            graph, workload=Workload.EXCHANGE, session_id=session.id
        )
    )
    assert len(artifacts) == 5
    assert {a.status for a in artifacts} == {ArtifactRestoreStatus.ADDED}
    assert {a.destination_type for a in artifacts} == {DestinationType.NEW}
    restore_sessions.remove_restore_artifacts(
        graph, workload=Workload.EXCHANGE, session_id=session.id, artifact_ids=[artifacts[0].id]
    )
    assert (
        len(
            list(
                restore_sessions.iter_restore_artifacts(
                    graph, workload=Workload.EXCHANGE, session_id=session.id
                )
            )
        )
        == 4
    )

    activated = restore_sessions.activate_restore_session(graph, session.id)
    assert activated.status is RestoreSessionStatus.ACTIVATING
    with pytest.raises(GraphForbidden) as caught:  # no PATCH once out of draft
        restore_sessions.add_restore_artifacts(
            graph,
            workload=Workload.EXCHANGE,
            session_id=session.id,
            restore_point_ids=ordered[5:],
            destination_type=DestinationType.NEW,
        )
    assert caught.value.has_code(ErrorCode.RESTORE_SESSION_ACTION_NOT_ALLOWED)
    with pytest.raises(GraphForbidden):  # nor delete
        restore_sessions.delete_restore_session(graph, session.id)

    advance(control, tenant, 600)
    done = restore_sessions.get_restore_session(graph, session.id)
    assert done.status is RestoreSessionStatus.COMPLETED and done.completed_at
    finished = list(
        restore_sessions.iter_restore_artifacts(
            graph, workload=Workload.EXCHANGE, session_id=session.id
        )
    )
    assert {a.status for a in finished} == {ArtifactRestoreStatus.SUCCEEDED}
    assert all(a.completed_at and a.restored_folder_name for a in finished)
    assert session.id in {s.id for s in restore_sessions.iter_restore_sessions(graph)}
    assert session.id in {
        s.id for s in restore_sessions.iter_restore_sessions(graph, workload=Workload.EXCHANGE)
    }


def test_draft_session_delete_and_not_found(control, graph, tenant, protected_mailboxes):
    points = latest_points(control, graph, tenant, protected_mailboxes)
    session = restore_sessions.create_restore_session(
        graph,
        workload=Workload.EXCHANGE,
        restore_point_ids=list(points.values())[:1],
        destination_type=DestinationType.IN_PLACE,
    )
    restore_sessions.delete_restore_session(graph, session.id)
    with pytest.raises(GraphNotFound) as caught:
        restore_sessions.get_restore_session(graph, session.id)
    assert caught.value.has_code(ErrorCode.RESTORE_SESSION_NOT_FOUND)


def test_mixed_destination_types_are_refused(control, graph, tenant, protected_mailboxes):
    points = list(latest_points(control, graph, tenant, protected_mailboxes).values())
    # The typed function takes one destination type; the raw request shows Graph's answer.
    with pytest.raises(GraphBadRequest) as caught:
        graph.post(
            "/solutions/backupRestore/exchangeRestoreSessions",
            json={
                "mailboxRestoreArtifacts": [
                    {"restorePoint": {"@odata.id": points[0]}, "destinationType": "new"},
                    {"restorePoint": {"@odata.id": points[1]}, "destinationType": "inPlace"},
                ]
            },
        )
    assert caught.value.has_code(ErrorCode.DIFFERENT_RESTORE_DESTINATION_TYPE)


def test_failed_restores_are_reported(control, graph, tenant, protected_mailboxes):
    points = latest_points(control, graph, tenant, protected_mailboxes)
    failing = protected_mailboxes[0].id
    control.set_faults(tenant.id, restore_failure_unit_ids=[failing])
    only_failing = restore_sessions.create_restore_session(
        graph,
        workload=Workload.EXCHANGE,
        restore_point_ids=[points[failing]],
        destination_type=DestinationType.NEW,
    )
    mixed = restore_sessions.create_restore_session(
        graph,
        workload=Workload.EXCHANGE,
        restore_point_ids=[points[failing], points[protected_mailboxes[1].id]],
        destination_type=DestinationType.IN_PLACE,
    )
    restore_sessions.activate_restore_session(graph, only_failing.id)
    restore_sessions.activate_restore_session(graph, mixed.id)
    advance(control, tenant, 600)
    # `failed` is hidden without Prefer: include-unknown-enum-members, which the client sends
    assert (
        restore_sessions.get_restore_session(graph, only_failing.id).status
        is RestoreSessionStatus.FAILED
    )
    assert (
        restore_sessions.get_restore_session(graph, mixed.id).status
        is RestoreSessionStatus.COMPLETED_WITH_ERROR
    )
    artifacts = list(
        restore_sessions.iter_restore_artifacts(
            graph, workload=Workload.EXCHANGE, session_id=mixed.id
        )
    )
    failed = [a for a in artifacts if a.status is ArtifactRestoreStatus.FAILED]
    assert len(failed) == 1 and failed[0].error and failed[0].error.code


def test_more_than_25_active_sessions(control, graph, tenant, protected_mailboxes):
    points = list(latest_points(control, graph, tenant, protected_mailboxes).values())
    sessions = [
        restore_sessions.create_restore_session(
            graph,
            workload=Workload.EXCHANGE,
            restore_point_ids=[points[i % len(points)]],
            destination_type=DestinationType.NEW,
        )
        for i in range(26)
    ]
    for session in sessions[:25]:
        restore_sessions.activate_restore_session(graph, session.id)
    with pytest.raises(GraphTransientError) as caught:
        restore_sessions.activate_restore_session(graph, sessions[25].id)
    assert caught.value.status == 500 and caught.value.transient
    assert caught.value.has_code(ErrorCode.TOO_MANY_ACTIVE_RESTORE_SESSIONS)
    advance(control, tenant, 600)  # the others finish; now it may run
    assert restore_sessions.activate_restore_session(graph, sessions[25].id).status in (
        RestoreSessionStatus.ACTIVATING,
        RestoreSessionStatus.ACTIVE,
    )


def test_more_than_fifty_units_and_artifacts_go_in_chunks(control, graph, tenant):
    ids = [u.id for u in users.iter_users(graph) if u.mail][:55]
    if len(ids) < 51:
        pytest.skip("the tenant has fewer than 51 mailboxes")
    created = policies.create_protection_policy(
        graph, workload=Workload.EXCHANGE, display_name="Many", resource_ids=ids
    )
    policies.activate_protection_policy(graph, created.policy.id)
    advance(control, tenant, 3600)
    unit_ids = [
        u.id
        for u in units.iter_protection_units(
            graph, workload=Workload.EXCHANGE, policy_id=created.policy.id
        )
    ]
    assert len(unit_ids) == len(ids)
    now = tenant_now(control, tenant)
    before = graph.stats.requests
    found = restore_points.search_restore_points(
        graph,
        protection_unit_ids=unit_ids,
        start=now - timedelta(days=1),
        end=now,
        preference=RestorePointPreference.LATEST,
    )
    assert graph.stats.requests - before == 2  # 50 + the rest
    point_ids = [p.id for p in found.restore_points]
    assert len(point_ids) == len(unit_ids)
    before = graph.stats.requests
    session = restore_sessions.create_restore_session(
        graph,
        workload=Workload.EXCHANGE,
        restore_point_ids=point_ids,
        destination_type=DestinationType.NEW,
    )
    assert graph.stats.requests - before == 2  # POST with 50, PATCH with the rest
    artifacts = list(
        restore_sessions.iter_restore_artifacts(
            graph, workload=Workload.EXCHANGE, session_id=session.id
        )
    )
    assert len(artifacts) == len(point_ids)
    with pytest.raises(GraphBadRequest) as caught:  # Graph's own limit, shown raw
        graph.post(
            "/solutions/backupRestore/exchangeRestoreSessions",
            json={
                "mailboxRestoreArtifacts": [
                    {"restorePoint": {"@odata.id": p}, "destinationType": "new"}
                    for p in point_ids[:51]
                ]
            },
        )
    assert caught.value.has_code(ErrorCode.RESTORE_ARTIFACTS_LIMIT_BREACHED)
