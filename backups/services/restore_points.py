"""Restore points: the latest point of every protected unit, found through Graph's restore
point search in batches of unit ids, kept for display and to pick restores from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Q

from backups.choices import JobState, ProtectionUnitStatus
from backups.conf import setting
from backups.models import ProtectionUnit, RestorePoint
from backups.services.jobs import Done, JobRun
from m365.backup.enums import RestorePointPreference
from m365.backup.models import RestorePoint as GraphPoint
from m365.backup.restore_points import search_restore_points
from m365.errors import GraphBadRequest
from m365.graph import GraphClient
from tenants.graph import app_graph


def syncable_units(tenant_id: int):
    """Units Microsoft has protected (removed ones keep their points until they expire)."""
    return (
        ProtectionUnit.objects.filter(tenant_id=tenant_id, protected_at__isnull=False)
        .exclude(graph_id="")
        .exclude(status=ProtectionUnitStatus.FAILED)
    )


def run_restore_point_sync(run: JobRun) -> Done:
    """Runner of `sync_restore_points`: units in id order, `BACKUP_RESTORE_POINT_BATCH` per
    search; the checkpoint is the last unit id done, so a lost run resumes after it."""
    checkpoint = run.checkpoint
    units = syncable_units(run.job.tenant_id).order_by("pk")
    if "after" not in checkpoint:
        checkpoint.update(after=0, units=0, points=0, without=0, refused=0)
        with transaction.atomic():
            run.commit(
                checkpoint=checkpoint, done=0, total=units.count(), phase="Searching restore points"
            )
    size = setting("BACKUP_RESTORE_POINT_BATCH")
    with app_graph(run.job.tenant) as graph:
        while True:
            batch = list(
                units.filter(pk__gt=checkpoint["after"]).values_list(
                    "pk", "graph_id", "workload", "policy__retention_days"
                )[:size]
            )
            if not batch:
                break
            now = run.now()
            try:
                found, without = restore_points_search(graph, batch, end=now)
            except GraphBadRequest as exc:
                run.log(
                    f"Search refused for units {batch[0][0]}..{batch[-1][0]}: {exc.code}", "warning"
                )
                found, without = [], []
                checkpoint["refused"] += len(batch)
            with transaction.atomic():
                restore_points_store(run.job.tenant_id, batch, found, now)
                restore_points_prune([pk for pk, *_ in batch], now)
                checkpoint["after"] = batch[-1][0]
                checkpoint["units"] += len(batch)
                checkpoint["points"] += len(found)
                checkpoint["without"] += len(without)
                run.commit(
                    checkpoint=checkpoint,
                    done=checkpoint["units"],
                    phase=f"Searching restore points: {checkpoint['units']:,} units",
                )
    run.job.summary = {k: checkpoint[k] for k in ("units", "points", "without", "refused")}
    message = (
        f"{checkpoint['points']:,} restore points for {checkpoint['units']:,} units; "
        f"{checkpoint['without']:,} units have none yet."
    )
    if checkpoint["refused"]:
        return Done(
            JobState.PARTIALLY_SUCCEEDED, f"{message} {checkpoint['refused']} units refused."
        )
    return Done(message=message)


def restore_points_search(
    graph: GraphClient,
    units: list[tuple[int, str, str, int]],
    *,
    end: datetime,
    preference: RestorePointPreference = RestorePointPreference.LATEST,
) -> tuple[list[tuple[int, GraphPoint]], list[int]]:
    """The latest (or oldest) point of each unit within its policy's retention before
    `end`: ([(unit pk, point)], [unit pks without one]). `units` are (pk, graph id,
    workload, retention days) tuples."""
    if not units:
        return [], []
    retention = max(days for *_, days in units) or setting("BACKUP_RETENTION_DAYS")
    result = search_restore_points(
        graph,
        protection_unit_ids=[graph_id for _, graph_id, *_ in units],
        start=end - timedelta(days=retention),
        end=end,
        preference=preference,
        chunk_size=setting("BACKUP_RESTORE_POINT_BATCH"),
    )
    by_graph = {graph_id.lower(): pk for pk, graph_id, *_ in units}
    found = [
        (by_graph[p.protection_unit_id.lower()], p)
        for p in result.restore_points
        if p.protection_unit_id.lower() in by_graph and p.protection_at and p.expires_at
    ]
    seen = {pk for pk, _ in found}
    return found, [pk for pk, *_ in units if pk not in seen]


def restore_points_store(
    tenant_id: int, units: Iterable[tuple], found: list[tuple[int, GraphPoint]], now: datetime
) -> dict[int, RestorePoint]:
    """Insert or refresh points (one bulk upsert); returns them by unit pk."""
    workloads = {pk: workload for pk, _, workload, *_ in units}
    rows = [
        RestorePoint(
            tenant_id=tenant_id,
            unit_id=pk,
            workload=workloads[pk],
            graph_id=point.id,
            protected_at=point.protection_at,
            expires_at=max(point.expires_at, point.protection_at),
            fast_restore=point.is_fast_restore,
            synced_at=now,
        )
        for pk, point in found
    ]
    if rows:
        RestorePoint.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["unit", "graph_id"],
            update_fields=["protected_at", "expires_at", "fast_restore", "synced_at"],
        )
    stored = RestorePoint.objects.filter(
        unit_id__in=[r.unit_id for r in rows], graph_id__in=[r.graph_id for r in rows]
    )
    return {point.unit_id: point for point in stored}


def restore_points_prune(unit_ids: list[int], now: datetime) -> int:
    """Drop expired points, and points older than the history window except each unit's
    latest (a removed unit keeps its last point until Microsoft lets it expire)."""
    history = now - timedelta(days=setting("BACKUP_RESTORE_POINT_HISTORY_DAYS"))
    latest = (
        RestorePoint.objects.filter(unit_id__in=unit_ids)
        .values("unit_id")
        .annotate(last=Max("protected_at"))
    )
    keep = Q()
    for row in latest:
        keep |= Q(unit_id=row["unit_id"], protected_at=row["last"])
    old = RestorePoint.objects.filter(unit_id__in=unit_ids).filter(
        Q(expires_at__lte=now)
        | (Q(protected_at__lt=history) & ~keep if latest else Q(protected_at__lt=history))
    )
    deleted, _ = old.delete()
    return deleted
