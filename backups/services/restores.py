"""Restores: requests checked and queued by the portal, carried out by the tenant's
`restore` job as Graph restore sessions.

A request restores units of one workload to one destination type (Graph refuses a session
mixing them: DifferentRestoreDestinationType), from a restore point the requester picked
or the latest one at or before a point in time. The tenant's restore job
- finds the restore points of point-in-time requests with Graph's search;
- creates each request's session in draft (at most 50 artifacts per request: the client
  adds the rest with PATCH), activates it, and keeps at most 25 sessions running at once
  (Microsoft's limit, 500 TooManyActiveRestoreSessions beyond): the others wait, queued;
- polls running sessions and records every artifact's result, until none is left.

A run lost between creating a draft in Graph and saving its id finds the draft again by
its restore points instead of creating a second one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from backups.choices import (
    ACTIVE_JOB_STATES,
    ARTIFACT_FINISHED_STATUSES,
    RESTORE_FINISHED_STATUSES,
    RESTORE_RUNNING_STATUSES,
    ArtifactStatus,
    DestinationType,
    JobKind,
    JobState,
    RestoreStatus,
    Workload,
)
from backups.conf import setting
from backups.exceptions import JobAlreadyActive, RestoreRequestInvalid
from backups.models import BackupJob, ProtectionUnit, RestoreArtifact, RestorePoint, RestoreSession
from backups.services.bulk import bulk_set
from backups.services.graph_access import require_backup_service
from backups.services.jobs import Done, JobRun, Wait, backup_job_start, job_enqueue
from backups.services.protection import GRAPH_WORKLOAD
from backups.services.restore_points import restore_points_search, restore_points_store
from m365.backup import restore_sessions as graph_sessions
from m365.backup.enums import ArtifactRestoreStatus, RestoreSessionStatus
from m365.backup.enums import DestinationType as GraphDestination
from m365.errors import ErrorCode, GraphBadRequest, GraphError, GraphForbidden, GraphNotFound
from m365.graph import GraphClient
from tenants.graph import app_graph
from tenants.models import Tenant
from tenants.principals import Principal
from tenants.services import audit_record

logger = logging.getLogger(__name__)

# A point in time this far ahead of the portal's clock is still "now" (clock skew).
FUTURE_TOLERANCE = timedelta(minutes=5)
GRAPH_DESTINATION = {
    DestinationType.IN_PLACE: GraphDestination.IN_PLACE,
    DestinationType.NEW: GraphDestination.NEW,
}
SESSION_STATUS = {
    RestoreSessionStatus.ACTIVATING: RestoreStatus.ACTIVATING,
    RestoreSessionStatus.ACTIVE: RestoreStatus.ACTIVE,
    RestoreSessionStatus.COMPLETED: RestoreStatus.COMPLETED,
    RestoreSessionStatus.COMPLETED_WITH_ERROR: RestoreStatus.COMPLETED_WITH_ERRORS,
    RestoreSessionStatus.FAILED: RestoreStatus.FAILED,
}
ARTIFACT_STATUS = {
    ArtifactRestoreStatus.ADDED: ArtifactStatus.ADDED,
    ArtifactRestoreStatus.SCHEDULING: ArtifactStatus.SCHEDULING,
    ArtifactRestoreStatus.SCHEDULED: ArtifactStatus.SCHEDULED,
    ArtifactRestoreStatus.IN_PROGRESS: ArtifactStatus.IN_PROGRESS,
    ArtifactRestoreStatus.SUCCEEDED: ArtifactStatus.SUCCEEDED,
    ArtifactRestoreStatus.FAILED: ArtifactStatus.FAILED,
}


@dataclass(frozen=True)
class ArtifactRequest:
    """One unit to restore, from a chosen restore point (or the point in time's)."""

    unit: ProtectionUnit
    restore_point: RestorePoint | None = None
    destination_type: str | None = None


# --- the request --------------------------------------------------------------------------


def restore_request(
    *,
    by: Principal,
    tenant: Tenant,
    artifacts: list[ArtifactRequest],
    now: datetime,
    destination_type: str = DestinationType.IN_PLACE,
    point_in_time: datetime | None = None,
    idempotency_key: str = "",
) -> tuple[RestoreSession, bool]:
    """Check and queue a restore; the tenant's restore job carries it out. Returns
    (session, created): with an idempotency key already used, the earlier request.

    Raises RestoreRequestInvalid (400, with the field to blame) for requests Microsoft
    would refuse or that cannot succeed, AppProfileNotActive / BackupServiceNotReady (409)
    when the tenant is not ready."""
    if idempotency_key:
        existing = RestoreSession.objects.filter(
            tenant=tenant, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return existing, False
    require_backup_service(tenant)
    workload, destination = _check(tenant, artifacts, now, destination_type, point_in_time)
    if point_in_time is None and any(a.restore_point is None for a in artifacts):
        point_in_time = now
    try:
        with transaction.atomic():
            session = RestoreSession.objects.create(
                tenant=tenant,
                workload=workload,
                destination_type=destination,
                point_in_time=point_in_time,
                idempotency_key=idempotency_key,
                requested_by=by.label[:200],
                requested_by_user=by.user if by.user is not None and by.user.pk else None,
                created_at=now,
            )
            RestoreArtifact.objects.bulk_create(
                RestoreArtifact(
                    tenant=tenant,
                    session=session,
                    unit=a.unit,
                    restore_point=a.restore_point,
                    restore_point_graph_id=a.restore_point.graph_id if a.restore_point else "",
                    restore_point_at=a.restore_point.protected_at if a.restore_point else None,
                    fast_restore=a.restore_point.fast_restore if a.restore_point else False,
                )
                for a in artifacts
            )
            session.job = _restore_job(by, tenant, now)
            session.save(update_fields=["job"])
            audit_record(
                by=by,
                action="restore.requested",
                tenant=tenant,
                target=session,
                details={
                    "workload": workload,
                    "destination_type": destination,
                    "units": len(artifacts),
                    "point_in_time": point_in_time.isoformat() if point_in_time else None,
                },
                now=now,
            )
    except IntegrityError:
        existing = RestoreSession.objects.filter(
            tenant=tenant, idempotency_key=idempotency_key
        ).first()
        if idempotency_key and existing is not None:
            return existing, False
        raise
    return session, True


def _check(
    tenant: Tenant,
    artifacts: list[ArtifactRequest],
    now: datetime,
    destination_type: str,
    point_in_time: datetime | None,
) -> tuple[str, str]:
    if not artifacts:
        raise RestoreRequestInvalid("Pick at least one unit to restore.", field="artifacts")
    limit = setting("BACKUP_RESTORE_MAX_ARTIFACTS")
    if len(artifacts) > limit:
        raise RestoreRequestInvalid(f"At most {limit} units per restore.", field="artifacts")
    units = [a.unit for a in artifacts]
    if len({u.pk for u in units}) != len(units):
        raise RestoreRequestInvalid("A unit appears more than once.", field="artifacts")
    for unit in units:
        if unit.tenant_id != tenant.pk:
            raise RestoreRequestInvalid(f"Unknown unit {unit.pk}.", field="artifacts")
        if not unit.graph_id or unit.protected_at is None:
            raise RestoreRequestInvalid(
                f"{unit.resource} has never been protected by Microsoft 365 Backup "
                f"({unit.get_status_display().lower()}): there is nothing to restore yet.",
                field="artifacts",
            )
    workloads = {u.workload for u in units}
    if len(workloads) > 1:
        raise RestoreRequestInvalid(
            "All units of one restore must belong to one workload (Microsoft restores one "
            "workload per session); request one restore per workload.",
            field="artifacts",
        )
    destinations = {DestinationType(a.destination_type or destination_type) for a in artifacts}
    if len(destinations) > 1:
        raise RestoreRequestInvalid(
            "All units of one restore must go to the same destination type (in place or to a "
            "new location): Microsoft refuses a session that mixes them "
            "(DifferentRestoreDestinationType). Request one restore per destination.",
            field="artifacts",
        )
    workload = workloads.pop()
    retention = max(u.policy.retention_days for u in units) or setting("BACKUP_RETENTION_DAYS")
    earliest = now - timedelta(days=retention)
    if point_in_time is not None:
        if point_in_time > now + FUTURE_TOLERANCE:
            raise RestoreRequestInvalid(
                "The point in time is in the future.", field="point_in_time"
            )
        if point_in_time < earliest:
            raise RestoreRequestInvalid(
                f"The point in time is outside retention: Microsoft keeps restore points for "
                f"{retention} days, so the earliest restorable moment is {earliest:%Y-%m-%d %H:%M} UTC.",
                field="point_in_time",
            )
    for position, artifact in enumerate(artifacts):
        point = artifact.restore_point
        if point is None:
            continue
        if point.unit_id != artifact.unit.pk:
            raise RestoreRequestInvalid(
                f"Restore point {point.pk} does not belong to unit {artifact.unit.pk}.",
                field=f"artifacts[{position}].restore_point",
            )
        if point.expires_at <= now:
            raise RestoreRequestInvalid(
                f"Restore point of {point.protected_at:%Y-%m-%d %H:%M} UTC expired on "
                f"{point.expires_at:%Y-%m-%d %H:%M} UTC: it is outside retention.",
                field=f"artifacts[{position}].restore_point",
            )
    return workload, destinations.pop()


def _restore_job(by: Principal, tenant: Tenant, now: datetime) -> BackupJob:
    """The tenant's active restore job, woken to take the new request; or a new one."""
    for _ in range(3):
        job = (
            BackupJob.objects.select_for_update()
            .filter(tenant=tenant, kind=JobKind.RESTORE, state__in=ACTIVE_JOB_STATES)
            .first()
        )
        if job is not None:
            if job.cancel_requested_at is None:
                if job.next_run_at is not None and job.next_run_at > now:
                    job.next_run_at = now
                    job.save(update_fields=["next_run_at"])
                    job_enqueue(job)
                return job
            raise RestoreRequestInvalid(
                f"The restore job {job.pk} of this tenant is being cancelled; try again when it ends.",
                field="non_field_errors",
            )
        try:
            job, _ = backup_job_start(by=by, tenant=tenant, kind=JobKind.RESTORE, now=now)
            return job
        except JobAlreadyActive:
            continue  # another request created it meanwhile: take that one
    raise RestoreRequestInvalid("Could not queue the restore; try again.", field="non_field_errors")


def restore_session_cancel(
    *, by: Principal, session: RestoreSession, now: datetime
) -> RestoreSession:
    """Cancel a restore that has not started at Microsoft yet."""
    from backups.exceptions import JobStateConflict

    with transaction.atomic():
        session = RestoreSession.objects.select_for_update().get(pk=session.pk)
        if session.status != RestoreStatus.QUEUED or session.graph_id:
            raise JobStateConflict(
                f"Restore {session.pk} is {session.get_status_display().lower()}: only a queued "
                "restore can be cancelled (Microsoft cannot stop a running one)."
            )
        _cancel(session, now)
        audit_record(
            by=by, action="restore.cancelled", tenant=session.tenant, target=session, now=now
        )
    return session


def _cancel(session: RestoreSession, now: datetime) -> None:
    session.status = RestoreStatus.CANCELLED
    session.completed_at = now
    session.waiting_reason = ""
    session.save(update_fields=["status", "completed_at", "waiting_reason"])
    RestoreArtifact.objects.filter(session=session).exclude(
        status__in=ARTIFACT_FINISHED_STATUSES
    ).update(status=ArtifactStatus.CANCELLED)


def restores_end_with_job(*, job: BackupJob, now: datetime) -> None:
    """The restore job failed or was cancelled: what never reached Microsoft ends with it
    (failed with the job's reason, or cancelled). Sessions Microsoft runs are taken over by
    the tenant's next restore job (`run_restores` adopts them)."""
    waiting = RestoreSession.objects.filter(job=job, status=RestoreStatus.QUEUED, graph_id="")
    if job.state == JobState.CANCELLED:
        for session in waiting:
            _cancel(session, now)
        return
    for session in waiting:
        _fail_session(
            session,
            job.error_code or "RestoreJobFailed",
            job.error or "The restore job failed.",
            now,
        )


def restores_cancel_queued(*, job: BackupJob, now: datetime) -> int:
    """Cancel the job's restores that have not reached Microsoft (job cancelled while queued)."""
    sessions = RestoreSession.objects.filter(job=job, status=RestoreStatus.QUEUED, graph_id="")
    count = 0
    for session in sessions:
        _cancel(session, now)
        count += 1
    return count


# --- the job ------------------------------------------------------------------------------


def run_restores(run: JobRun) -> Done | Wait:
    """Runner of the tenant's `restore` job (see the module docstring)."""
    job = run.job
    # Restores left unfinished by an earlier restore job that ended (failed) are taken over.
    RestoreSession.objects.filter(tenant=job.tenant).exclude(
        status__in=RESTORE_FINISHED_STATUSES
    ).exclude(job=job).exclude(job__state__in=ACTIVE_JOB_STATES).update(job=job)
    with app_graph(job.tenant) as graph:
        if run.cancel_requested:
            _cancel_waiting(run, graph)
        # A run woken by a new request does not poll again what was polled a moment ago.
        polled = run.checkpoint.get("polled_at")
        interval = timedelta(seconds=setting("BACKUP_RESTORE_POLL_SECONDS") / 2)
        if polled is None or run.now() - datetime.fromisoformat(polled) >= interval:
            for session in _sessions(job, RESTORE_RUNNING_STATUSES):
                _poll(run, graph, session)
            run.checkpoint["polled_at"] = run.now().isoformat()
        if not run.cancel_requested:
            _start_queued(run, graph)
    unfinished = RestoreSession.objects.filter(job=job).exclude(
        status__in=RESTORE_FINISHED_STATUSES
    )
    progress = _progress(job)
    with transaction.atomic():
        # Locked, so a request attaching itself now is either seen here or finds the job ended.
        BackupJob.objects.select_for_update().filter(pk=job.pk).first()
        left = unfinished.count()
        running = unfinished.filter(status__in=RESTORE_RUNNING_STATUSES).count()
        run.commit(
            checkpoint=run.checkpoint,
            **progress,
            phase=f"{running} restoring, {left - running} waiting" if left else "",
        )
        if left:
            return Wait(
                setting("BACKUP_RESTORE_POLL_SECONDS"),
                f"{running} restoring at Microsoft, {left - running} waiting",
            )
        return _outcome(run)


def _sessions(job: BackupJob, statuses) -> list[RestoreSession]:
    return list(
        RestoreSession.objects.filter(job=job, status__in=statuses).order_by("created_at", "pk")
    )


def _start_queued(run: JobRun, graph: GraphClient) -> None:
    job = run.job
    limit = setting("BACKUP_MAX_ACTIVE_RESTORE_SESSIONS")
    queued = _sessions(job, (RestoreStatus.QUEUED, RestoreStatus.CREATING))
    for session in queued:
        running = RestoreSession.objects.filter(
            tenant=job.tenant, status__in=RESTORE_RUNNING_STATUSES
        ).count()
        if running >= limit:
            _waiting(
                queued,
                f"Microsoft runs at most {limit} restores at once for a tenant; "
                f"{running} are running.",
            )
            return
        if not _resolve_points(run, graph, session):
            continue
        try:
            if not _create_in_graph(run, graph, session):
                continue
            _activate(run, graph, session)
        except GraphError as exc:
            if exc.has_code(ErrorCode.TOO_MANY_ACTIVE_RESTORE_SESSIONS):
                # Sessions the portal does not know of (another app, the admin center) count.
                RestoreSession.objects.filter(pk=session.pk).update(status=RestoreStatus.QUEUED)
                session.status = RestoreStatus.QUEUED
                _waiting(
                    [s for s in queued if s.status == RestoreStatus.QUEUED],
                    "Microsoft is already running 25 restores for this tenant.",
                )
                run.log(f"Restore {session.pk} waits: TooManyActiveRestoreSessions.", "warning")
                return
            if exc.transient:
                raise
            _fail_session(session, exc.code, exc.message, run.now())
            run.log(
                f"Restore {session.pk} refused by Microsoft: {exc.code}: {exc.message}", "error"
            )


def _waiting(sessions: list[RestoreSession], reason: str) -> None:
    ids = [s.pk for s in sessions if s.status == RestoreStatus.QUEUED]
    RestoreSession.objects.filter(pk__in=ids).update(waiting_reason=reason[:300])


def _resolve_points(run: JobRun, graph: GraphClient, session: RestoreSession) -> bool:
    """Find the latest point at or before the session's point in time for artifacts without
    one; those that have none fail. False when nothing is left to restore."""
    missing = list(
        RestoreArtifact.objects.filter(
            session=session, restore_point_graph_id="", status=ArtifactStatus.PENDING
        ).select_related("unit__policy")
    )
    now = run.now()
    if missing:
        units = [
            (a.unit_id, a.unit.graph_id, a.unit.workload, a.unit.policy.retention_days)
            for a in missing
        ]
        found, _without = restore_points_search(graph, units, end=session.point_in_time or now)
        with transaction.atomic():
            stored = restore_points_store(session.tenant_id, units, found, now)
            for artifact in missing:
                point = stored.get(artifact.unit_id)
                if point is not None:
                    artifact.restore_point = point
                    artifact.restore_point_graph_id = point.graph_id
                    artifact.restore_point_at = point.protected_at
                    artifact.fast_restore = point.fast_restore
                else:
                    when = session.point_in_time or now
                    artifact.status = ArtifactStatus.FAILED
                    artifact.error_code = "NoRestorePoint"
                    artifact.error_message = (
                        f"Microsoft has no restore point of this unit at or before "
                        f"{when:%Y-%m-%d %H:%M} UTC within retention."
                    )
                    artifact.completed_at = now
            bulk_set(
                missing,
                [
                    "restore_point",
                    "restore_point_graph_id",
                    "restore_point_at",
                    "fast_restore",
                    "status",
                    "error_code",
                    "error_message",
                    "completed_at",
                ],
            )
            run.commit(checkpoint=run.checkpoint)
    if not RestoreArtifact.objects.filter(session=session, status=ArtifactStatus.PENDING).exists():
        _fail_session(
            session,
            "NoRestorePoint",
            "No unit of this restore has a restore point to restore from.",
            now,
        )
        return False
    return True


def _create_in_graph(run: JobRun, graph: GraphClient, session: RestoreSession) -> bool:
    """The session's draft in Graph: found again after a lost run, or created. Its artifacts
    get their Graph ids through their restore points."""
    if session.graph_id:
        return True
    artifacts = list(RestoreArtifact.objects.filter(session=session, status=ArtifactStatus.PENDING))
    point_ids = [a.restore_point_graph_id for a in artifacts]
    workload = GRAPH_WORKLOAD[session.workload]
    if session.status == RestoreStatus.CREATING:
        session.graph_id = _find_draft(graph, workload, set(point_ids))
        if session.graph_id:
            run.log(
                f"Restore {session.pk}: found its draft {session.graph_id} from a lost run.",
                "warning",
            )
    if not session.graph_id:
        RestoreSession.objects.filter(pk=session.pk).update(
            status=RestoreStatus.CREATING, waiting_reason=""
        )
        session.status = RestoreStatus.CREATING
        created = graph_sessions.create_restore_session(
            graph,
            workload=workload,
            restore_point_ids=point_ids,
            destination_type=GRAPH_DESTINATION[session.destination_type],
        )
        session.graph_id = created.id
    by_point = {a.restore_point_graph_id.lower(): a for a in artifacts}
    for item in graph_sessions.iter_restore_artifacts(
        graph, workload=workload, session_id=session.graph_id, expand_restore_point=True
    ):
        artifact = by_point.get(item.restore_point_id.lower())
        if artifact is not None:
            artifact.graph_id = item.id
            artifact.status = ARTIFACT_STATUS.get(item.status, ArtifactStatus.ADDED)
    with transaction.atomic():
        RestoreSession.objects.filter(pk=session.pk).update(
            graph_id=session.graph_id, waiting_reason=""
        )
        bulk_set(artifacts, ["graph_id", "status"])
        run.commit(checkpoint=run.checkpoint)
    return True


def _find_draft(graph: GraphClient, workload, point_ids: set[str]) -> str:
    wanted = {p.lower() for p in point_ids}
    for candidate in graph_sessions.iter_restore_sessions(graph, workload=workload):
        if candidate.status != RestoreSessionStatus.DRAFT:
            continue
        got = {
            a.restore_point_id.lower()
            for a in graph_sessions.iter_restore_artifacts(
                graph, workload=workload, session_id=candidate.id, expand_restore_point=True
            )
        }
        if got == wanted:
            return candidate.id
    return ""


def _activate(run: JobRun, graph: GraphClient, session: RestoreSession) -> None:
    try:
        activated = graph_sessions.activate_restore_session(graph, session.graph_id)
    except GraphForbidden as exc:
        if not exc.has_code(ErrorCode.RESTORE_SESSION_ACTION_NOT_ALLOWED):
            raise
        activated = graph_sessions.get_restore_session(graph, session.graph_id)  # a lost run did it
    now = run.now()
    with transaction.atomic():
        session.status = SESSION_STATUS.get(activated.status, RestoreStatus.ACTIVATING)
        session.activated_at = now
        session.waiting_reason = ""
        session.save(update_fields=["status", "activated_at", "waiting_reason"])
        RestoreArtifact.objects.filter(
            session=session, status__in=[ArtifactStatus.PENDING, ArtifactStatus.ADDED]
        ).exclude(graph_id="").update(status=ArtifactStatus.SCHEDULING)
        run.commit(checkpoint=run.checkpoint)
    run.log(f"Restore {session.pk} started at Microsoft ({session.graph_id}).")


def _poll(run: JobRun, graph: GraphClient, session: RestoreSession) -> None:
    workload = GRAPH_WORKLOAD[session.workload]
    try:
        found = graph_sessions.get_restore_session(graph, session.graph_id)
    except GraphNotFound:
        _fail_session(
            session,
            "RestoreSessionNotFound",
            "Microsoft no longer knows this restore session.",
            run.now(),
        )
        return
    artifacts = {
        a.graph_id.lower(): a
        for a in RestoreArtifact.objects.filter(session=session).exclude(graph_id="")
    }
    for item in graph_sessions.iter_restore_artifacts(
        graph, workload=workload, session_id=session.graph_id
    ):
        artifact = artifacts.get(item.id.lower())
        if artifact is None:
            continue
        artifact.status = ARTIFACT_STATUS.get(item.status, artifact.status)
        artifact.started_at = item.started_at
        artifact.completed_at = item.completed_at
        artifact.error_code = item.error.code[:100] if item.error else ""
        artifact.error_message = item.error.message if item.error else ""
        artifact.restored_to = (item.restored_site_web_url or item.restored_folder_name or "")[
            :1000
        ]
    now = run.now()
    with transaction.atomic():
        bulk_set(
            list(artifacts.values()),
            ["status", "started_at", "completed_at", "error_code", "error_message", "restored_to"],
        )
        session.status = SESSION_STATUS.get(found.status, session.status)
        if session.status in RESTORE_FINISHED_STATUSES:
            session.completed_at = found.completed_at or now
            if found.error:
                session.error_code, session.error_message = (
                    found.error.code[:100],
                    found.error.message,
                )
        session.save(update_fields=["status", "completed_at", "error_code", "error_message"])
        run.commit(checkpoint=run.checkpoint)


def _fail_session(session: RestoreSession, code: str, message: str, now: datetime) -> None:
    with transaction.atomic():
        RestoreArtifact.objects.filter(session=session).exclude(
            status__in=ARTIFACT_FINISHED_STATUSES
        ).update(
            status=ArtifactStatus.FAILED,
            error_code=code[:100],
            error_message=message,
            completed_at=now,
        )
        failed = RestoreArtifact.objects.filter(
            session=session, status=ArtifactStatus.FAILED
        ).count()
        total = RestoreArtifact.objects.filter(session=session).count()
        session.status = (
            RestoreStatus.FAILED if failed == total else RestoreStatus.COMPLETED_WITH_ERRORS
        )
        session.error_code, session.error_message = code[:100], message
        session.completed_at = now
        session.waiting_reason = ""
        session.save(
            update_fields=[
                "status",
                "error_code",
                "error_message",
                "completed_at",
                "waiting_reason",
            ]
        )


def _cancel_waiting(run: JobRun, graph: GraphClient) -> None:
    """Cancelling the job: what has not started at Microsoft is cancelled (a draft there is
    deleted); running sessions cannot be stopped and are followed to their end."""
    now = run.now()
    for session in _sessions(run.job, (RestoreStatus.QUEUED, RestoreStatus.CREATING)):
        if session.graph_id:
            try:
                graph_sessions.delete_restore_session(graph, session.graph_id)
            except (GraphNotFound, GraphForbidden, GraphBadRequest) as exc:
                run.log(f"Draft {session.graph_id} not deleted: {exc.code}", "warning")
        _cancel(session, now)


def _progress(job: BackupJob) -> dict[str, int]:
    counts = RestoreArtifact.objects.filter(session__job=job).aggregate(
        total=Count("pk"), done=Count("pk", filter=Q(status__in=ARTIFACT_FINISHED_STATUSES))
    )
    return {"done": counts["done"], "total": counts["total"]}


def _outcome(run: JobRun) -> Done:
    job = run.job
    rows = dict(
        RestoreArtifact.objects.filter(session__job=job)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    ok, failed, cancelled = (
        rows.get(ArtifactStatus.SUCCEEDED, 0),
        rows.get(ArtifactStatus.FAILED, 0),
        rows.get(ArtifactStatus.CANCELLED, 0),
    )
    sessions = RestoreSession.objects.filter(job=job).count()
    job.summary = {"restores": sessions, "succeeded": ok, "failed": failed, "cancelled": cancelled}
    message = f"{sessions} restores: {ok} units restored, {failed} failed, {cancelled} cancelled."
    if run.cancel_requested:
        from backups.services.jobs import JobCancelled

        raise JobCancelled()
    if failed and not ok:
        return Done(JobState.FAILED, message)
    if failed or cancelled:
        return Done(JobState.PARTIALLY_SUCCEEDED, message)
    return Done(message=message)


__all__ = [
    "ArtifactRequest",
    "Workload",
    "restore_request",
    "restore_session_cancel",
    "run_restores",
]
