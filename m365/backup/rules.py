"""Inclusion rules (reference section 2.3): units chosen by an expression, once (static)
or continuously (dynamic, `auto_apply=True`)."""

from __future__ import annotations

from collections.abc import Iterator

from m365.backup.models import ProtectionRule
from m365.backup.workloads import PREFER_ALL_ENUMS, Workload, backup_path, names
from m365.graph import GraphClient


def create_inclusion_rule(
    graph: GraphClient, *, workload: Workload, policy_id: str, expression: str, auto_apply: bool
) -> ProtectionRule:
    """A rule in `draft`. 400 InvalidRuleExpression, 413 when it names more than 100 groups.
    `auto_apply` cannot change afterwards."""
    table = names(workload)
    body = {table.rule_expression: expression, "isAutoApplyEnabled": auto_apply}
    answer = graph.post(
        backup_path(table.policies, policy_id, table.rules), json=body, headers=PREFER_ALL_ENUMS
    ).json_object()
    return ProtectionRule.from_graph(answer, workload)


def iter_inclusion_rules(
    graph: GraphClient, *, workload: Workload, policy_id: str | None = None
) -> Iterator[ProtectionRule]:
    """A policy's rules, or the workload's rules tenant-wide."""
    table = names(workload)
    path = (
        backup_path(table.policies, policy_id, table.rules)
        if policy_id
        else backup_path(table.rules)
    )
    for item in graph.iter_items(path, headers=PREFER_ALL_ENUMS):
        yield ProtectionRule.from_graph(item, workload)


def get_inclusion_rule(
    graph: GraphClient, *, workload: Workload, rule_id: str, policy_id: str | None = None
) -> ProtectionRule:
    table = names(workload)
    path = (
        backup_path(table.policies, policy_id, table.rules, rule_id)
        if policy_id
        else backup_path(table.rules, rule_id)
    )
    return ProtectionRule.from_graph(
        graph.get(path, headers=PREFER_ALL_ENUMS).json_object(), workload
    )


def run_inclusion_rule(
    graph: GraphClient, *, workload: Workload, policy_id: str, rule_id: str
) -> ProtectionRule:
    """Apply a static rule once (400 RunNotAllowedForDynamicRule for a dynamic one)."""
    response = graph.post(_rule_path(workload, policy_id, rule_id, "run"), headers=PREFER_ALL_ENUMS)
    body = response.json_object()
    if not body.get("id"):
        return get_inclusion_rule(graph, workload=workload, rule_id=rule_id, policy_id=policy_id)
    return ProtectionRule.from_graph(body, workload)


def delete_inclusion_rule(
    graph: GraphClient, *, workload: Workload, policy_id: str, rule_id: str
) -> None:
    """Delete a completed rule; the units it added stay protected."""
    graph.delete(_rule_path(workload, policy_id, rule_id))


def delete_and_unprotect_inclusion_rule(
    graph: GraphClient, *, workload: Workload, policy_id: str, rule_id: str
) -> ProtectionRule:
    """Delete a dynamic mailbox or drive rule and unprotect the units it added
    (`deleteRequested`, asynchronous; 202)."""
    if Workload(workload) is Workload.SHAREPOINT:
        raise ValueError("deleteAndUnprotect exists for mailbox and drive rules only")
    response = graph.post(
        _rule_path(workload, policy_id, rule_id, "deleteAndUnprotect"), headers=PREFER_ALL_ENUMS
    )
    body = response.json_object()
    if not body.get("id"):
        return get_inclusion_rule(graph, workload=workload, rule_id=rule_id, policy_id=policy_id)
    return ProtectionRule.from_graph(body, workload)


def _rule_path(workload: Workload, policy_id: str, rule_id: str, *action: str) -> str:
    """Rule actions live under the policy (Graph docs: protectionRuleBase run/delete)."""
    table = names(workload)
    return backup_path(table.policies, policy_id, table.rules, rule_id, *action)
