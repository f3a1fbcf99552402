"""Scope application: keep one Graph protection policy per workload in step with the
portal's scope, and follow every unit until Microsoft protects (or refuses) it.

Per workload the `apply_scope` job
1. finds the workload's policy in Graph (ours by id, else one it can adopt) or creates it;
2. reads the policy's units from Graph page by page and brings the local `ProtectionUnit`
   rows up to date (this makes the step repeatable: whatever a lost run already asked
   Graph for is seen here, not asked again);
3. adds the in-scope resources that have no unit: PATCH requests of at most 50, or bulk
   addition jobs when there are many; removes units whose resource left the scope
   (freezing the size Microsoft keeps billing); activates the policy when it is inactive;
4. then waits (the job stays running, polled every few minutes) until no unit is pending,
   reading Graph's unit list and bulk jobs again each time and recording per-unit errors.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q

from backups.choices import (
    UNIT_PENDING_STATUSES,
    JobKind,
    JobState,
    ProtectionUnitStatus,
    ScopeMode,
    Workload,
)
from backups.conf import setting
from backups.exceptions import AppProfileNotActive, BackupServiceNotReady, JobAlreadyActive
from backups.models import (
    GroupMember,
    ProtectionPolicy,
    ProtectionScope,
    ProtectionUnit,
    Resource,
)
from backups.services.bulk import bulk_set
from backups.services.jobs import Done, JobRun, Wait, backup_job_start
from backups.services.scope import scope_resources
from m365.backup import policies as graph_policies
from m365.backup.bulk_jobs import create_bulk_addition_job
from m365.backup.enums import ProtectionPolicyStatus, ProtectionUnitsBulkJobStatus
from m365.backup.enums import ProtectionUnitStatus as GraphUnitStatus
from m365.backup.models import ProtectionPolicy as GraphPolicy
from m365.backup.models import ProtectionUnit as GraphUnit
from m365.backup.models import UnitChange
from m365.backup.workloads import MAX_UNITS_PER_REQUEST, PREFER_ALL_ENUMS, backup_path, names
from m365.backup.workloads import Workload as GraphWorkload
from m365.directory.groups import iter_group_members
from m365.errors import GraphBadRequest, GraphConflict, GraphForbidden, GraphNotFound
from m365.graph import GraphClient
from tenants.graph import app_graph
from tenants.models import Tenant
from tenants.principals import Principal

logger = logging.getLogger(__name__)

GRAPH_WORKLOAD = {
    Workload.EXCHANGE: GraphWorkload.EXCHANGE,
    Workload.ONEDRIVE: GraphWorkload.ONEDRIVE,
    Workload.SHAREPOINT: GraphWorkload.SHAREPOINT,
}
UNIT_STATUS = {
    GraphUnitStatus.PROTECT_REQUESTED: ProtectionUnitStatus.PROTECT_REQUESTED,
    GraphUnitStatus.PROTECTED: ProtectionUnitStatus.PROTECTED,
    GraphUnitStatus.UNPROTECT_REQUESTED: ProtectionUnitStatus.UNPROTECT_REQUESTED,
    GraphUnitStatus.UNPROTECTED: ProtectionUnitStatus.UNPROTECTED,
    GraphUnitStatus.REMOVE_REQUESTED: ProtectionUnitStatus.REMOVE_REQUESTED,
    GraphUnitStatus.OFFBOARD_REQUESTED: ProtectionUnitStatus.UNPROTECT_REQUESTED,
    GraphUnitStatus.OFFBOARDED: ProtectionUnitStatus.UNPROTECTED,
    GraphUnitStatus.CANCEL_OFFBOARD_REQUESTED: ProtectionUnitStatus.PROTECT_REQUESTED,
}
UNIT_FIELDS = [
    "graph_id",
    "status",
    "error_code",
    "error_message",
    "protected_at",
    "removed_at",
    "size_at_removal_bytes",
    "last_checked_at",
    "bulk_job_id",
]
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?", re.I)


def run_scope_application(run: JobRun) -> Done | Wait:
    """Runner of `apply_scope` (steps in the module docstring)."""
    checkpoint = run.checkpoint
    job = run.job
    if "workloads" not in checkpoint:
        wanted = job.params.get("workloads") or list(Workload.values)
        checkpoint.update(
            workloads=[Workload(w).value for w in wanted],
            step="apply",
            index=0,
            counts={},
            failed_workloads={},
        )
        with transaction.atomic():
            run.commit(checkpoint=checkpoint, done=0, total=0, phase="Comparing scope and policies")
    with app_graph(job.tenant) as graph:
        while checkpoint["step"] == "apply" and checkpoint["index"] < len(checkpoint["workloads"]):
            workload = checkpoint["workloads"][checkpoint["index"]]
            try:
                _apply_workload(run, graph, workload)
            except (GraphConflict, GraphForbidden, GraphBadRequest) as exc:
                # One workload refused (e.g. another active policy exists): the others go on.
                checkpoint["failed_workloads"][workload] = f"{exc.code}: {exc.message}"
                run.log(
                    f"{Workload(workload).label}: Microsoft refused: {exc.code}: {exc.message}",
                    "error",
                )
            checkpoint["index"] += 1
            with transaction.atomic():
                run.commit(checkpoint=checkpoint, **_progress(job))
        if checkpoint["step"] == "apply":
            checkpoint.update(step="follow", follow_since=run.now().isoformat())
            with transaction.atomic():
                run.commit(checkpoint=checkpoint, phase="Following units at Microsoft")
        return _follow(run, graph)


# --- one workload -------------------------------------------------------------------------


def _apply_workload(run: JobRun, graph: GraphClient, workload: str) -> None:
    tenant = run.tenant
    now = run.now()
    scope = ProtectionScope.objects.filter(tenant=tenant, workload=workload).first()
    policy = ProtectionPolicy.objects.filter(tenant=tenant, workload=workload).first()
    if scope is None:
        # No scope defined for the workload: nothing is decided here. A policy made outside
        # the portal (adopted) is only read, never emptied.
        if policy is not None and policy.graph_id and _find_graph_policy(run, graph, policy):
            _sync_units(run, graph, policy)
        return
    in_scope = scope.mode != ScopeMode.NONE or scope.selections.exists()
    if not in_scope and (policy is None or not policy.graph_id):
        return
    if policy is None:
        policy = ProtectionPolicy.objects.create(
            tenant=tenant,
            workload=workload,
            display_name=setting("BACKUP_POLICY_NAME").format(workload=Workload(workload).label),
        )
    graph_policy = _find_graph_policy(run, graph, policy)
    if scope is not None and scope.mode == ScopeMode.RULES and scope.group_ids:
        _refresh_group_members(run, graph, scope)
    desired = scope_resources(scope) if in_scope else Resource.objects.none()
    if graph_policy is not None:
        _sync_units(run, graph, policy)
    counts = run.checkpoint["counts"].setdefault(workload, {"added": 0, "removed": 0, "refused": 0})
    active = ProtectionUnit.objects.filter(policy=policy, removed_at__isnull=True)
    to_add = desired.exclude(
        pk__in=active.exclude(status=ProtectionUnitStatus.FAILED).values("resource_id")
    ).order_by("pk")
    pending_count = to_add.count()
    if pending_count:
        run.log(f"{Workload(workload).label}: {pending_count:,} resources to protect.")
        if graph_policy is None:
            graph_policy = _create_policy(run, graph, policy, to_add)
            pending_count = to_add.count()
        if pending_count > setting("BACKUP_BULK_ADDITION_THRESHOLD"):
            _add_in_bulk(run, graph, policy, to_add, counts)
        else:
            _add_by_patch(run, graph, policy, to_add, counts)
    if graph_policy is None:
        return
    _remove_out_of_scope(run, graph, policy, desired, counts)
    _activate(run, graph, policy)
    policy.last_synced_at = now
    policy.save(
        update_fields=[
            "last_synced_at",
            "graph_status",
            "activated_at",
            "retention_days",
            "updated_at",
        ]
    )


def _find_graph_policy(
    run: JobRun, graph: GraphClient, policy: ProtectionPolicy
) -> GraphPolicy | None:
    """Our policy in Graph: by its id, else the workload's policy we can adopt (a run lost
    after creating it, or one made before the portal managed the tenant)."""
    if policy.graph_id:
        try:
            found = graph_policies.get_protection_policy(graph, policy.graph_id)
            _note_policy(policy, found)
            return found
        except GraphNotFound:
            run.log(
                f"Policy {policy.graph_id} no longer exists in Microsoft 365; looking again.",
                "warning",
            )
            policy.graph_id = ""
    candidates = list(
        graph_policies.iter_protection_policies(graph, workload=GRAPH_WORKLOAD[policy.workload])
    )
    if not candidates:
        policy.save(update_fields=["graph_id", "updated_at"])
        return None
    candidates.sort(
        key=lambda p: (
            p.display_name != policy.display_name,
            p.status == ProtectionPolicyStatus.INACTIVE,
        )
    )
    chosen = candidates[0]
    policy.graph_id = chosen.id
    _note_policy(policy, chosen)
    policy.save(update_fields=["graph_id", "graph_status", "retention_days", "updated_at"])
    run.log(
        f"Adopted the {Workload(policy.workload).label} policy '{chosen.display_name}' ({chosen.id})."
    )
    return chosen


def _note_policy(policy: ProtectionPolicy, found: GraphPolicy) -> None:
    policy.graph_status = str(found.status)
    days = [_duration_days(r.period) for r in found.retention_settings]
    days = [d for d in days if d]
    if days:
        policy.retention_days = max(days)


def _duration_days(period: str) -> int:
    match = _DURATION.match(period or "")
    if not match or not any(match.groups()):
        return 0
    years, months, weeks, days = (int(g or 0) for g in match.groups())
    return years * 365 + months * 30 + weeks * 7 + days


def _create_policy(
    run: JobRun, graph: GraphClient, policy: ProtectionPolicy, to_add
) -> GraphPolicy:
    first = list(to_add.values_list("pk", "external_id")[:MAX_UNITS_PER_REQUEST])
    created = graph_policies.create_protection_policy(
        graph,
        workload=GRAPH_WORKLOAD[policy.workload],
        display_name=policy.display_name,
        resource_ids=[external for _, external in first],
    )
    now = run.now()
    with transaction.atomic():
        policy.graph_id = created.policy.id
        _note_policy(policy, created.policy)
        policy.save(update_fields=["graph_id", "graph_status", "retention_days", "updated_at"])
        _request_units(run, policy, [pk for pk, _ in first], now)
        counts = run.checkpoint["counts"][policy.workload]
        counts["added"] += len(first)
        run.commit(checkpoint=run.checkpoint, **_progress(run.job))
    run.log(
        f"Created the {Workload(policy.workload).label} policy {created.policy.id} with "
        f"{len(first)} units."
    )
    return created.policy


def _request_units(
    run: JobRun,
    policy: ProtectionPolicy,
    resource_ids: list[int],
    now: datetime,
    bulk_job_id: str = "",
) -> None:
    """Local rows for units just asked of Graph (a refused one is retried in place)."""
    existing = {
        unit.resource_id: unit
        for unit in ProtectionUnit.objects.filter(
            policy=policy, removed_at__isnull=True, resource_id__in=resource_ids
        )
    }
    new, again = [], []
    for resource_id in resource_ids:
        unit = existing.get(resource_id)
        if unit is None:
            new.append(
                ProtectionUnit(
                    tenant_id=policy.tenant_id,
                    policy=policy,
                    resource_id=resource_id,
                    workload=policy.workload,
                    status=ProtectionUnitStatus.PROTECT_REQUESTED,
                    requested_at=now,
                    bulk_job_id=bulk_job_id,
                    job=run.job,
                )
            )
        else:
            unit.status, unit.error_code, unit.error_message = (
                ProtectionUnitStatus.PROTECT_REQUESTED,
                "",
                "",
            )
            unit.requested_at, unit.bulk_job_id, unit.job = now, bulk_job_id, run.job
            again.append(unit)
    batch = setting("BACKUP_DB_BATCH_SIZE")
    ProtectionUnit.objects.bulk_create(new, batch_size=batch)
    bulk_set(
        again,
        ["status", "error_code", "error_message", "requested_at", "bulk_job_id", "job"],
        batch_size=batch,
    )


def _add_by_patch(
    run: JobRun, graph: GraphClient, policy: ProtectionPolicy, to_add, counts: dict[str, int]
) -> None:
    """PATCH `<units>@delta`, 50 per request; per-item refusals come back inside the 200."""
    workload = GRAPH_WORKLOAD[policy.workload]
    while True:
        chunk = list(
            to_add.exclude(pk__in=_requested_by(run, policy)).values_list("pk", "external_id")[
                :MAX_UNITS_PER_REQUEST
            ]
        )
        if not chunk:
            return
        changes = graph_policies.add_protection_units(
            graph,
            workload=workload,
            policy_id=policy.graph_id,
            resource_ids=[external for _, external in chunk],
        )
        now = run.now()
        with transaction.atomic():
            _request_units(run, policy, [pk for pk, _ in chunk], now)
            refused = _record_changes(policy, chunk, changes, now)
            counts["added"] += len(chunk) - refused
            counts["refused"] += refused
            run.commit(
                checkpoint=run.checkpoint,
                **_progress(run.job),
                phase=f"{Workload(policy.workload).label}: {counts['added']:,} units requested",
            )


def _requested_by(run: JobRun, policy: ProtectionPolicy):
    """Resources this run already asked for (refused ones included), so the loop moves on."""
    return ProtectionUnit.objects.filter(
        policy=policy, removed_at__isnull=True, job=run.job
    ).values("resource_id")


def _record_changes(
    policy: ProtectionPolicy,
    chunk: list[tuple[int, str]],
    changes: Iterable[UnitChange],
    now: datetime,
) -> int:
    by_external = {external.lower(): pk for pk, external in chunk}
    units = {
        u.resource_id: u
        for u in ProtectionUnit.objects.filter(
            policy=policy, removed_at__isnull=True, resource_id__in=by_external.values()
        )
    }
    changed, refused = [], 0
    for change in changes:
        pk = by_external.get(change.resource_id.lower())
        unit = units.get(pk)
        if unit is None:
            continue
        if change.ok:
            unit.graph_id = change.unit_id or unit.graph_id
            if change.status in UNIT_STATUS:
                unit.status = UNIT_STATUS[change.status]
        else:
            refused += 1
            unit.status = ProtectionUnitStatus.FAILED
            unit.error_code = change.error_code[:100]
            unit.error_message = change.error_message
        unit.last_checked_at = now
        changed.append(unit)
    bulk_set(changed, ["graph_id", "status", "error_code", "error_message", "last_checked_at"])
    return refused


def _add_in_bulk(
    run: JobRun, graph: GraphClient, policy: ProtectionPolicy, to_add, counts: dict[str, int]
) -> None:
    """Bulk addition jobs of ids; Graph resolves them over minutes. Local rows carry the job
    id until the job completes (see `_follow_bulk_jobs`)."""
    workload = GRAPH_WORKLOAD[policy.workload]
    size = setting("BACKUP_BULK_JOB_SIZE")
    batch = setting("BACKUP_DB_BATCH_SIZE")
    while True:
        chunk = list(
            to_add.exclude(pk__in=_requested_by(run, policy)).values_list("pk", "external_id")[
                :size
            ]
        )
        if not chunk:
            return
        bulk = create_bulk_addition_job(
            graph,
            workload=workload,
            policy_id=policy.graph_id,
            display_name=f"Cloud Backup Express job {run.job.pk} ({len(chunk)} units)",
            ids=[external for _, external in chunk],
        )
        now = run.now()
        for start in range(0, len(chunk), batch):
            with transaction.atomic():
                part = chunk[start : start + batch]
                _request_units(run, policy, [pk for pk, _ in part], now, bulk_job_id=bulk.id)
                counts["added"] += len(part)
                run.commit(
                    checkpoint=run.checkpoint,
                    **_progress(run.job),
                    phase=f"{Workload(policy.workload).label}: {counts['added']:,} units requested",
                )
        run.log(
            f"{Workload(policy.workload).label}: bulk addition job {bulk.id} for {len(chunk):,} units."
        )


def _remove_out_of_scope(
    run: JobRun, graph: GraphClient, policy: ProtectionPolicy, desired, counts: dict[str, int]
) -> None:
    """Units whose resource left the scope (or the tenant): removed 50 per PATCH; the size
    Microsoft keeps billing is frozen at removal."""
    workload = GRAPH_WORKLOAD[policy.workload]
    leaving = ProtectionUnit.objects.filter(policy=policy, removed_at__isnull=True).exclude(
        resource__in=desired.values("pk")
    )
    if not setting("BACKUP_UNPROTECT_DELETED"):
        leaving = leaving.exclude(resource__deleted_at__isnull=False)
    now = run.now()
    # Never added at Microsoft (refused, or still unresolved without a job): just closed.
    closed = leaving.filter(graph_id="", bulk_job_id="").update(
        removed_at=now, status=ProtectionUnitStatus.REMOVED, size_at_removal_bytes=0
    )
    if closed:
        run.log(f"{Workload(policy.workload).label}: {closed} refused units left the scope.")
    leaving = leaving.exclude(graph_id="").exclude(status=ProtectionUnitStatus.REMOVE_REQUESTED)
    while True:
        chunk = list(leaving.select_related("resource")[:MAX_UNITS_PER_REQUEST])
        if not chunk:
            return
        changes = graph_policies.remove_protection_units(
            graph,
            workload=workload,
            policy_id=policy.graph_id,
            unit_ids=[u.graph_id for u in chunk],
        )
        failures = {c.unit_id.lower(): c for c in changes if not c.ok}
        now = run.now()
        for unit in chunk:
            failure = failures.get(unit.graph_id.lower())
            unit.removed_at = now
            unit.size_at_removal_bytes = unit.resource.size_bytes
            unit.job = run.job
            if failure is not None and failure.error_code.lower() == "protectionunitnotfound":
                unit.status = ProtectionUnitStatus.REMOVED  # already gone at Microsoft
            elif failure is not None:
                unit.removed_at = None
                unit.size_at_removal_bytes = None
                unit.error_code, unit.error_message = (
                    failure.error_code[:100],
                    failure.error_message,
                )
            else:
                unit.status = ProtectionUnitStatus.REMOVE_REQUESTED
        with transaction.atomic():
            bulk_set(
                chunk,
                [
                    "removed_at",
                    "size_at_removal_bytes",
                    "status",
                    "error_code",
                    "error_message",
                    "job",
                ],
            )
            counts["removed"] += sum(1 for u in chunk if u.removed_at is not None)
            run.commit(checkpoint=run.checkpoint, **_progress(run.job))
        if any(u.removed_at is None for u in chunk):
            leaving = leaving.exclude(pk__in=[u.pk for u in chunk])


def _activate(run: JobRun, graph: GraphClient, policy: ProtectionPolicy) -> None:
    found = graph_policies.get_protection_policy(graph, policy.graph_id)
    _note_policy(policy, found)
    if found.status != ProtectionPolicyStatus.INACTIVE:
        return
    if not ProtectionUnit.objects.filter(policy=policy, removed_at__isnull=True).exists():
        return
    try:
        activated = graph_policies.activate_protection_policy(graph, policy.graph_id)
    except (GraphForbidden, GraphBadRequest) as exc:
        # Activated meanwhile (PolicyActionNotAllowed / invalidStateForActivation).
        run.log(
            f"Activation of {policy.graph_id} refused: {exc.code}; reading it again.", "warning"
        )
        activated = graph_policies.get_protection_policy(graph, policy.graph_id)
    _note_policy(policy, activated)
    policy.activated_at = policy.activated_at or run.now()
    run.log(f"{Workload(policy.workload).label} policy activated ({activated.status}).")


# --- Graph's view of the units ------------------------------------------------------------


def _sync_units(run: JobRun, graph: GraphClient, policy: ProtectionPolicy) -> dict[str, int]:
    """Bring local unit rows in line with Graph's unit list of the policy (page by page,
    a handful of queries per page). Returns counts of what was seen."""
    workload = GRAPH_WORKLOAD[policy.workload]
    table = names(workload)
    params: dict[str, str] = {}
    if setting("BACKUP_UNIT_PAGE_SIZE"):
        params["$top"] = str(setting("BACKUP_UNIT_PAGE_SIZE"))
    sync_at = run.now()
    seen = unknown = 0
    path = backup_path(table.policies, policy.graph_id, table.units)
    for page in graph.iter_pages(path, params, headers=PREFER_ALL_ENUMS):
        units = [GraphUnit.from_graph(item, workload) for item in page.items]
        with transaction.atomic():
            unknown += _sync_page(policy, units, sync_at)
            seen += len(units)
            run.commit(
                checkpoint=run.checkpoint,
                phase=f"{Workload(policy.workload).label}: {seen:,} units read from Microsoft",
            )
    with transaction.atomic():
        # Removals Microsoft has finished: the unit is no longer listed.
        ProtectionUnit.objects.filter(
            policy=policy, status=ProtectionUnitStatus.REMOVE_REQUESTED, removed_at__isnull=False
        ).exclude(last_checked_at__gte=sync_at).update(status=ProtectionUnitStatus.REMOVED)
        # Units gone from Graph without us removing them (someone else did): their data is
        # kept and billed like any removal.
        vanished = (
            ProtectionUnit.objects.filter(policy=policy, removed_at__isnull=True)
            .exclude(graph_id="")
            .exclude(last_checked_at__gte=sync_at)
            # Not units asked for moments ago: Graph's list may lag behind its answers.
            .exclude(requested_at__gte=sync_at - timedelta(minutes=10))
        )
        vanished_count = _close_vanished(vanished, sync_at)
        if vanished_count:
            run.log(
                f"{Workload(policy.workload).label}: {vanished_count} units were removed outside "
                "the portal.",
                "warning",
            )
    if unknown:
        run.log(
            f"{Workload(policy.workload).label}: {unknown} units protect resources the inventory "
            "does not know (left as they are; scan the tenant).",
            "warning",
        )
    return {"seen": seen, "unknown": unknown}


def _close_vanished(vanished, sync_at: datetime) -> int:
    units = list(vanished.select_related("resource"))
    for unit in units:
        unit.removed_at = sync_at
        unit.status = ProtectionUnitStatus.REMOVED
        unit.size_at_removal_bytes = unit.resource.size_bytes if unit.protected_at else 0
    bulk_set(
        units,
        ["removed_at", "status", "size_at_removal_bytes"],
        batch_size=setting("BACKUP_DB_BATCH_SIZE"),
    )
    return len(units)


def _sync_page(policy: ProtectionPolicy, units: list[GraphUnit], sync_at: datetime) -> int:
    ids = {u.resource_id for u in units if u.resource_id}
    lookup = ids | {i.lower() for i in ids}
    resources = {
        external.lower(): (pk, size)
        for pk, external, size in Resource.objects.filter(
            tenant_id=policy.tenant_id, workload=policy.workload, external_id__in=lookup
        ).values_list("pk", "external_id", "size_bytes")
    }
    graph_ids = [u.id for u in units if u.id]
    rows = ProtectionUnit.objects.filter(policy=policy).filter(
        Q(graph_id__in=graph_ids)
        | Q(removed_at__isnull=True, resource_id__in=[pk for pk, _ in resources.values()])
    )
    by_graph = {}
    by_resource = {}
    for row in rows:
        if row.graph_id:
            by_graph[row.graph_id] = row
        if row.removed_at is None:
            by_resource[row.resource_id] = row
    new, changed, unknown = [], [], 0
    for unit in units:
        match = resources.get(unit.resource_id.lower())
        row = by_graph.get(unit.id) or (by_resource.get(match[0]) if match else None)
        status = _local_status(unit)
        if row is None:
            if match is None:
                unknown += 1
                continue
            if status == ProtectionUnitStatus.REMOVE_REQUESTED:
                continue  # leaving anyway; nothing of ours to follow
            row = ProtectionUnit(
                tenant_id=policy.tenant_id,
                policy=policy,
                resource_id=match[0],
                workload=policy.workload,
                requested_at=unit.created_at or sync_at,
            )
            new.append(row)
            by_resource[match[0]] = row
        else:
            changed.append(row)
        row.graph_id = unit.id
        row.bulk_job_id = ""
        row.last_checked_at = sync_at
        if row.removed_at is not None and status != ProtectionUnitStatus.REMOVE_REQUESTED:
            continue  # removal asked; Graph's answer lags
        row.status = status
        row.error_code = unit.error.code[:100] if unit.error else ""
        row.error_message = unit.error.message if unit.error else ""
        if status == ProtectionUnitStatus.PROTECTED and row.protected_at is None:
            row.protected_at = sync_at
        if status == ProtectionUnitStatus.REMOVE_REQUESTED and row.removed_at is None:
            row.removed_at = sync_at
            row.size_at_removal_bytes = match[1] if match else 0
    batch = setting("BACKUP_DB_BATCH_SIZE")
    ProtectionUnit.objects.bulk_create(new, batch_size=batch)
    bulk_set(changed, UNIT_FIELDS, batch_size=batch)
    return unknown


def _local_status(unit: GraphUnit) -> str:
    status = UNIT_STATUS.get(unit.status, ProtectionUnitStatus.UNPROTECTED)
    if status == ProtectionUnitStatus.UNPROTECTED and unit.error is not None:
        return ProtectionUnitStatus.FAILED
    return status


def _refresh_group_members(run: JobRun, graph: GraphClient, scope: ProtectionScope) -> None:
    """Members (users) of the scope's groups, or for SharePoint each group's own site."""
    now = run.now()
    for group_id in scope.group_ids:
        members: list[str] = []
        if scope.workload == Workload.SHAREPOINT:
            try:
                # The client has no helper for a group's site; the path is Graph's own.
                site = graph.get(
                    f"/groups/{group_id}/sites/root", params={"$select": "id"}
                ).json_object()
                if site.get("id"):
                    members.append(str(site["id"]))
            except GraphNotFound:
                pass  # a security group has no site
        else:
            members = [m.id for m in iter_group_members(graph, group_id) if m.is_user and m.id]
        with transaction.atomic():
            GroupMember.objects.filter(
                tenant_id=scope.tenant_id, group_external_id=group_id
            ).delete()
            GroupMember.objects.bulk_create(
                (
                    GroupMember(
                        tenant_id=scope.tenant_id,
                        group_external_id=group_id,
                        member_external_id=m,
                        synced_at=now,
                    )
                    for m in dict.fromkeys(members)
                ),
                batch_size=setting("BACKUP_DB_BATCH_SIZE"),
            )
            run.commit(checkpoint=run.checkpoint)


# --- following ----------------------------------------------------------------------------


def _follow(run: JobRun, graph: GraphClient) -> Done | Wait:
    job = run.job
    policies = list(
        ProtectionPolicy.objects.filter(
            tenant=job.tenant, workload__in=run.checkpoint["workloads"]
        ).exclude(graph_id="")
    )
    for policy in policies:
        _follow_bulk_jobs(run, graph, policy)
        _sync_units(run, graph, policy)
        policy.last_synced_at = run.now()
        found = graph_policies.get_protection_policy(graph, policy.graph_id)
        _note_policy(policy, found)
        policy.save(
            update_fields=["last_synced_at", "graph_status", "retention_days", "updated_at"]
        )
    pending = ProtectionUnit.objects.filter(
        policy__in=policies, status__in=UNIT_PENDING_STATUSES
    ).count()
    with transaction.atomic():
        run.commit(
            checkpoint=run.checkpoint,
            **_progress(job),
            phase=f"Following units at Microsoft: {pending:,} pending",
        )
    since = datetime.fromisoformat(run.checkpoint["follow_since"])
    if pending and run.now() - since < timedelta(hours=setting("BACKUP_FOLLOW_TIMEOUT_HOURS")):
        return Wait(
            setting("BACKUP_FOLLOW_POLL_SECONDS"),
            f"Following units at Microsoft: {pending:,} pending",
        )
    return _outcome(run, pending)


def _follow_bulk_jobs(run: JobRun, graph: GraphClient, policy: ProtectionPolicy) -> None:
    """Completed bulk addition jobs: units they could not add are refused with the reason
    Microsoft gave for each; the ones they added are found by the unit list that follows."""
    open_jobs = set(
        ProtectionUnit.objects.filter(policy=policy, removed_at__isnull=True)
        .exclude(bulk_job_id="")
        .values_list("bulk_job_id", flat=True)
        .distinct()
    )
    if not open_jobs:
        return
    workload = GRAPH_WORKLOAD[policy.workload]
    table = names(workload)
    for job_id in open_jobs:
        try:
            # Read raw: the client's PublicError keeps no `target` of error details, which
            # is the only link from a failure to the resource.
            body = graph.get(
                backup_path(table.policies, policy.graph_id, table.bulk_jobs, job_id),
                headers=PREFER_ALL_ENUMS,
            ).json_object()
        except GraphNotFound:
            body = {
                "status": "completedWithErrors",
                "error": {
                    "code": "BulkJobNotFound",
                    "message": "Microsoft no longer knows the bulk addition job.",
                },
            }
        status = ProtectionUnitsBulkJobStatus.parse(body.get("status"))
        if status not in (
            ProtectionUnitsBulkJobStatus.COMPLETED,
            ProtectionUnitsBulkJobStatus.COMPLETED_WITH_ERRORS,
        ):
            continue
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        failures: dict[str, tuple[str, str]] = {}
        for detail in error.get("details") or []:
            if isinstance(detail, dict) and detail.get("target"):
                failures[str(detail["target"]).lower()] = (
                    str(detail.get("code") or error.get("code") or ""),
                    str(detail.get("message") or ""),
                )
        with transaction.atomic():
            rows = list(
                ProtectionUnit.objects.filter(
                    policy=policy, bulk_job_id=job_id, removed_at__isnull=True
                ).select_related("resource")
            )
            for row in rows:
                row.bulk_job_id = ""
                failure = failures.get(row.resource.external_id.lower())
                if failure is not None and not row.graph_id:
                    row.status = ProtectionUnitStatus.FAILED
                    row.error_code, row.error_message = failure[0][:100], failure[1]
            bulk_set(
                rows,
                ["bulk_job_id", "status", "error_code", "error_message"],
                batch_size=setting("BACKUP_DB_BATCH_SIZE"),
            )
            run.commit(checkpoint=run.checkpoint)
        run.log(f"Bulk addition job {job_id} {status}: {len(failures)} refused.")


def _progress(job) -> dict[str, Any]:
    """done = units this job asked for that Microsoft has finished with; total = all."""
    counts = ProtectionUnit.objects.filter(job=job).aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(status__in=UNIT_PENDING_STATUSES)),
    )
    return {"done": counts["total"] - counts["pending"], "total": counts["total"]}


def _outcome(run: JobRun, pending: int) -> Done:
    job = run.job
    units = ProtectionUnit.objects.filter(job=job)
    # Additions a bulk job finished without adding (nothing listed, no error given).
    units.filter(
        removed_at__isnull=True,
        bulk_job_id="",
        graph_id="",
        status=ProtectionUnitStatus.PROTECT_REQUESTED,
    ).update(
        status=ProtectionUnitStatus.FAILED,
        error_code="NotAdded",
        error_message="Microsoft did not add this unit to the policy.",
    )
    refused = list(
        units.filter(status=ProtectionUnitStatus.FAILED)
        .values("error_code")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    total = units.count()
    failed_total = sum(r["n"] for r in refused)
    counts = run.checkpoint.get("counts", {})
    job.summary = {
        "requested": total,
        "protected": units.filter(status=ProtectionUnitStatus.PROTECTED).count(),
        "removed": sum(c.get("removed", 0) for c in counts.values()),
        "failed": failed_total,
        "pending": pending,
        "failed_workloads": run.checkpoint.get("failed_workloads", {}),
    }
    notes = []
    if refused:
        notes.append(
            f"{failed_total} units could not be protected ("
            + ", ".join(f"{r['error_code'] or 'unknown'}: {r['n']}" for r in refused[:5])
            + ")"
        )
    if pending:
        notes.append(
            f"{pending} units still pending at Microsoft after "
            f"{setting('BACKUP_FOLLOW_TIMEOUT_HOURS')} h; the next application follows them"
        )
    for workload, reason in run.checkpoint.get("failed_workloads", {}).items():
        notes.append(f"{Workload(workload).label} refused: {reason}")
    message = "; ".join(notes)
    if run.checkpoint.get("failed_workloads") and len(run.checkpoint["failed_workloads"]) == len(
        run.checkpoint["workloads"]
    ):
        return Done(JobState.FAILED, message)
    if total and failed_total == total:
        return Done(JobState.FAILED, message)
    if notes:
        return Done(JobState.PARTIALLY_SUCCEEDED, message)
    return Done(
        JobState.SUCCEEDED, f"{total} unit changes done; {job.summary['protected']} protected."
    )


def scope_application_start_if_needed(
    *, tenant: Tenant, reason: str, now: datetime | None = None
) -> None:
    """Start an application after a scan when a scope takes new resources in by itself."""
    from django.utils import timezone

    if (
        not ProtectionScope.objects.filter(tenant=tenant, auto_add_new=True)
        .exclude(mode=ScopeMode.NONE)
        .exists()
    ):
        return
    try:
        backup_job_start(
            by=Principal.system(),
            tenant=tenant,
            kind=JobKind.APPLY_SCOPE,
            now=now or timezone.now(),
            params={"reason": reason},
        )
    except (JobAlreadyActive, AppProfileNotActive, BackupServiceNotReady) as exc:
        logger.info("scope application for %s not started: %s", tenant, exc.message)
