"""Protection units (reference section 2.3): by id, per policy, and tenant-wide."""

from __future__ import annotations

from collections.abc import Iterator

from m365.backup.models import ProtectionUnit
from m365.backup.workloads import PREFER_ALL_ENUMS, Workload, backup_path, names
from m365.graph import GraphClient


def get_protection_unit(graph: GraphClient, unit_id: str) -> ProtectionUnit:
    """Any workload's unit (polymorphic); its `error` holds unit-level failures such as
    QuotaExceeded or ProtectionUnitNotFound."""
    body = graph.get(
        backup_path("protectionUnits", unit_id), headers=PREFER_ALL_ENUMS
    ).json_object()
    return ProtectionUnit.from_graph(body)


def iter_protection_units(
    graph: GraphClient,
    *,
    workload: Workload,
    policy_id: str | None = None,
    filter: str | None = None,  # OData $filter
) -> Iterator[ProtectionUnit]:
    """A policy's units, or every unit of the workload in the tenant, streamed."""
    table = names(workload)
    path = (
        backup_path(table.policies, policy_id, table.units)
        if policy_id
        else backup_path(table.units)
    )
    params = {"$filter": filter} if filter else None
    for item in graph.iter_items(path, params, headers=PREFER_ALL_ENUMS):
        yield ProtectionUnit.from_graph(item, workload)
