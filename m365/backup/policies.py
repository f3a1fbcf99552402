"""Protection policies per workload (reference section 2.2): create, read, add and remove
units in PATCH chunks of at most 50, activate, deactivate, delete."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from m365.backup.delta import entity_body, patch_delta
from m365.backup.models import ProtectionPolicy, UnitChange
from m365.backup.workloads import (
    MAX_UNITS_PER_REQUEST,
    PREFER_ALL_ENUMS,
    Workload,
    backup_path,
    names,
)
from m365.graph import GraphClient, GraphResponse


@dataclass(frozen=True)
class PolicyCreated:
    """A new policy and, when more than 50 units were asked for, the PATCH answers for the
    units added after the create call."""

    policy: ProtectionPolicy
    later_changes: tuple[UnitChange, ...]


def create_protection_policy(
    graph: GraphClient,
    *,
    workload: Workload,
    display_name: str,
    resource_ids: Sequence[str] = (),
) -> PolicyCreated:
    """Create an (inactive) policy protecting `resource_ids`: site ids for SharePoint, user
    object ids for Exchange and OneDrive. The first 50 go in the create call, the rest in
    PATCH calls of 50 (Graph answers 413 ProtectionUnitsLimitBreached above 50).

    Errors: 409 PolicyCreationNotAllowed (another active policy for the workload),
    409 ProtectionUnitAlreadyExists, 400 InvalidDisplayName / InvalidProtectionUnitId.
    If a later PATCH fails the policy exists with the first units: list its units to resume."""
    table = names(workload)
    first, rest = list(resource_ids[:MAX_UNITS_PER_REQUEST]), resource_ids[MAX_UNITS_PER_REQUEST:]
    body = {
        "displayName": display_name,
        table.units: [{table.unit_key: resource_id} for resource_id in first],
    }
    response = graph.post(backup_path(table.policies), json=body, headers=PREFER_ALL_ENUMS)
    policy = _policy_from(graph, response, workload)
    changes = (
        add_protection_units(graph, workload=workload, policy_id=policy.id, resource_ids=rest)
        if rest
        else ()
    )
    return PolicyCreated(policy, changes)


def get_protection_policy(graph: GraphClient, policy_id: str) -> ProtectionPolicy:
    """Any workload's policy (polymorphic). 404 PolicyNotFound, 400 InvalidPolicyId."""
    body = graph.get(
        backup_path("protectionPolicies", policy_id), headers=PREFER_ALL_ENUMS
    ).json_object()
    return ProtectionPolicy.from_graph(body)


def iter_protection_policies(
    graph: GraphClient, *, workload: Workload | None = None
) -> Iterator[ProtectionPolicy]:
    """Every policy of the tenant, or of one workload."""
    collection = names(workload).policies if workload else "protectionPolicies"
    for item in graph.iter_items(backup_path(collection), headers=PREFER_ALL_ENUMS):
        yield ProtectionPolicy.from_graph(item, workload)


def rename_protection_policy(
    graph: GraphClient, *, workload: Workload, policy_id: str, display_name: str
) -> None:
    graph.patch(
        backup_path(names(workload).policies, policy_id),
        json={"displayName": display_name},
        headers=PREFER_ALL_ENUMS,
    )


def add_protection_units(
    graph: GraphClient, *, workload: Workload, policy_id: str, resource_ids: Sequence[str]
) -> tuple[UnitChange, ...]:
    """Add units by resource id, 50 per PATCH. Per-item failures (ProtectionUnitAlreadyExists,
    ProtectionUnitNotFound) come back inside the 200 as `UnitChange.error_code`."""
    key = names(workload).unit_key
    return _patch_units(
        graph, workload, policy_id, [{key: resource_id} for resource_id in resource_ids]
    )


def remove_protection_units(
    graph: GraphClient, *, workload: Workload, policy_id: str, unit_ids: Sequence[str]
) -> tuple[UnitChange, ...]:
    """Remove units by protection unit id, 50 per PATCH (`removeRequested`, then gone).
    400 ProtectionUnitActionNotAllowed for a unit a dynamic rule protects."""
    return _patch_units(
        graph,
        workload,
        policy_id,
        [{"@removed": {"reason": "changed"}, "id": unit_id} for unit_id in unit_ids],
    )


def activate_protection_policy(graph: GraphClient, policy_id: str) -> ProtectionPolicy:
    """inactive → updating (202). 403 PolicyActionNotAllowed (or 400
    invalidStateForActivation) when not inactive."""
    response = graph.post(
        backup_path("protectionPolicies", policy_id, "activate"), headers=PREFER_ALL_ENUMS
    )
    return _policy_from(graph, response, None, policy_id)


def deactivate_protection_policy(graph: GraphClient, policy_id: str) -> ProtectionPolicy:
    """active → units unprotected (202). 403 PolicyActionNotAllowed when not active."""
    response = graph.post(
        backup_path("protectionPolicies", policy_id, "deactivate"), headers=PREFER_ALL_ENUMS
    )
    return _policy_from(graph, response, None, policy_id)


def delete_protection_policy(graph: GraphClient, policy_id: str) -> None:
    """Only an inactive policy can be deleted (else 403 PolicyActionNotAllowed)."""
    graph.delete(backup_path("protectionPolicies", policy_id))


def _patch_units(
    graph: GraphClient, workload: Workload, policy_id: str, entries: list[dict[str, Any]]
) -> tuple[UnitChange, ...]:
    table = names(workload)
    echoed = patch_delta(
        graph,
        backup_path(table.policies, policy_id),
        f"{table.units}@delta",
        entries,
        MAX_UNITS_PER_REQUEST,
    )
    return tuple(UnitChange.from_graph(item) for item in echoed)


def _policy_from(
    graph: GraphClient, response: GraphResponse, workload: Workload | None, policy_id: str = ""
) -> ProtectionPolicy:
    fallback = backup_path("protectionPolicies", policy_id) if policy_id else ""
    return ProtectionPolicy.from_graph(entity_body(graph, response, fallback), workload)
