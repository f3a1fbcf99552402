"""Protection policies, units, inclusion rules and bulk jobs against the emulator."""

from __future__ import annotations

import uuid

import pytest

from m365.backup import bulk_jobs, policies, rules, units
from m365.backup.enums import (
    ProtectionPolicyStatus,
    ProtectionRuleStatus,
    ProtectionSource,
    ProtectionUnitsBulkJobStatus,
    ProtectionUnitStatus,
)
from m365.backup.workloads import Workload
from m365.directory import groups, sites, users
from m365.errors import (
    ErrorCode,
    GraphBadRequest,
    GraphConflict,
    GraphForbidden,
    GraphNotFound,
)
from tests.m365.contract.conftest import advance

pytestmark = pytest.mark.usefixtures("backup_enabled")


def mailbox_ids(graph, count):
    return [u.id for u in users.iter_users(graph) if u.mail][:count]


def test_create_more_than_fifty_units_in_chunks(control, graph, new_tenant, tenant):
    ids = mailbox_ids(graph, 60)
    if len(ids) < 51:
        pytest.skip("the tenant has fewer than 51 mailboxes")
    before = graph.stats.requests
    created = policies.create_protection_policy(
        graph, workload=Workload.EXCHANGE, display_name="Mailboxes", resource_ids=ids
    )
    assert graph.stats.requests - before == 2  # POST with 50, PATCH with the rest
    policy = created.policy
    assert policy.status is ProtectionPolicyStatus.INACTIVE
    assert policy.workload is Workload.EXCHANGE
    assert policy.retention_settings and policy.retention_settings[0].interval
    assert len(created.later_changes) == len(ids) - 50
    # Units of a policy not yet activated read unprotected (the policy is inactive: "all
    # units are unprotected"); Microsoft's PATCH example on a live policy shows protectRequested.
    assert all(
        c.ok
        and c.status in (ProtectionUnitStatus.UNPROTECTED, ProtectionUnitStatus.PROTECT_REQUESTED)
        for c in created.later_changes
    )
    listed = list(
        units.iter_protection_units(graph, workload=Workload.EXCHANGE, policy_id=policy.id)
    )
    assert sorted(u.resource_id for u in listed) == sorted(ids)
    assert all(ProtectionSource.MANUAL in u.protection_sources for u in listed)


def test_more_than_fifty_units_in_one_request_is_refused(graph):
    ids = [u.id for u in users.iter_users(graph)][:51]
    if len(ids) < 51:
        ids = (ids * 51)[:51]
    with pytest.raises(GraphBadRequest) as caught:
        graph.post(
            "/solutions/backupRestore/exchangeProtectionPolicies",
            json={
                "displayName": "too many",
                "mailboxProtectionUnits": [{"directoryObjectId": i} for i in ids],
            },
        )
    assert caught.value.status == 413
    assert caught.value.has_code(ErrorCode.PROTECTION_UNITS_LIMIT_BREACHED)


def test_policy_lifecycle_and_state_errors(control, graph, tenant):
    site_ids = [s.id for s in sites.iter_sites(graph)][:3]
    created = policies.create_protection_policy(
        graph, workload=Workload.SHAREPOINT, display_name="Sites", resource_ids=site_ids[:2]
    )
    policy_id = created.policy.id
    assert policies.get_protection_policy(graph, policy_id).workload is Workload.SHAREPOINT
    assert policy_id in {p.id for p in policies.iter_protection_policies(graph)}
    assert policy_id in {
        p.id for p in policies.iter_protection_policies(graph, workload=Workload.SHAREPOINT)
    }
    assert policy_id not in {
        p.id for p in policies.iter_protection_policies(graph, workload=Workload.EXCHANGE)
    }

    with pytest.raises(GraphForbidden) as caught:  # only an active policy can be deactivated
        policies.deactivate_protection_policy(graph, policy_id)
    assert caught.value.has_code(ErrorCode.POLICY_ACTION_NOT_ALLOWED)

    activated = policies.activate_protection_policy(graph, policy_id)
    assert activated.status is ProtectionPolicyStatus.UPDATING
    with pytest.raises((GraphForbidden, GraphBadRequest)):  # not inactive any more
        policies.activate_protection_policy(graph, policy_id)
    with pytest.raises(GraphForbidden):  # delete only when inactive
        policies.delete_protection_policy(graph, policy_id)

    # one active policy per workload
    with pytest.raises(GraphConflict) as caught:
        policies.create_protection_policy(
            graph, workload=Workload.SHAREPOINT, display_name="Second", resource_ids=site_ids[2:]
        )
    assert caught.value.has_code(ErrorCode.POLICY_CREATION_NOT_ALLOWED)

    advance(control, tenant, 120)
    assert policies.get_protection_policy(graph, policy_id).status is ProtectionPolicyStatus.ACTIVE
    protected = list(
        units.iter_protection_units(graph, workload=Workload.SHAREPOINT, policy_id=policy_id)
    )
    assert {u.status for u in protected} == {ProtectionUnitStatus.PROTECTED}
    one = units.get_protection_unit(graph, protected[0].id)
    assert one.workload is Workload.SHAREPOINT and one.policy_id == policy_id
    tenant_wide = {u.id for u in units.iter_protection_units(graph, workload=Workload.SHAREPOINT)}
    assert {u.id for u in protected} <= tenant_wide

    # add one, remove one, and a removal of an unknown unit reported inside the 200
    added = policies.add_protection_units(
        graph, workload=Workload.SHAREPOINT, policy_id=policy_id, resource_ids=site_ids[2:3]
    )
    assert added[0].ok and added[0].status is ProtectionUnitStatus.PROTECT_REQUESTED
    removed = policies.remove_protection_units(
        graph,
        workload=Workload.SHAREPOINT,
        policy_id=policy_id,
        unit_ids=[protected[0].id, "no-such-unit"],
    )
    assert removed[0].ok and removed[0].status is ProtectionUnitStatus.REMOVE_REQUESTED
    assert not removed[1].ok
    assert removed[1].error_code == ErrorCode.PROTECTION_UNIT_NOT_FOUND
    policies.rename_protection_policy(
        graph, workload=Workload.SHAREPOINT, policy_id=policy_id, display_name="Renamed"
    )
    assert policies.get_protection_policy(graph, policy_id).display_name == "Renamed"

    advance(control, tenant, 120)
    policies.deactivate_protection_policy(graph, policy_id)
    advance(control, tenant, 120)
    assert (
        policies.get_protection_policy(graph, policy_id).status is ProtectionPolicyStatus.INACTIVE
    )
    policies.delete_protection_policy(graph, policy_id)
    with pytest.raises(GraphNotFound) as caught:
        policies.get_protection_policy(graph, policy_id)
    assert caught.value.has_code(ErrorCode.POLICY_NOT_FOUND)


def test_unit_already_protected_elsewhere(graph):
    ids = mailbox_ids(graph, 2)
    policies.create_protection_policy(
        graph, workload=Workload.ONEDRIVE, display_name="A", resource_ids=ids[:1]
    )
    with pytest.raises(GraphConflict) as caught:
        policies.create_protection_policy(
            graph, workload=Workload.ONEDRIVE, display_name="B", resource_ids=ids[:1]
        )
    assert caught.value.has_code(ErrorCode.PROTECTION_UNIT_ALREADY_EXISTS)


def test_inclusion_rules(control, graph, tenant):
    created = policies.create_protection_policy(
        graph, workload=Workload.EXCHANGE, display_name="By rule"
    )
    group = next(groups.iter_groups(graph, microsoft_365_only=True))
    expression = f'(memberOf -any (group.id -in ["{group.id}"]))'
    static = rules.create_inclusion_rule(
        graph,
        workload=Workload.EXCHANGE,
        policy_id=created.policy.id,
        expression=expression,
        auto_apply=False,
    )
    # The reference says draft; Microsoft's create page says active: both are accepted.
    assert static.status in (ProtectionRuleStatus.DRAFT, ProtectionRuleStatus.ACTIVE)
    assert static.expression == expression
    policy_id = created.policy.id
    ran = rules.run_inclusion_rule(
        graph, workload=Workload.EXCHANGE, policy_id=policy_id, rule_id=static.id
    )
    assert ran.status in (ProtectionRuleStatus.ACTIVE, ProtectionRuleStatus.COMPLETED)
    advance(control, tenant, 600)
    done = rules.get_inclusion_rule(graph, workload=Workload.EXCHANGE, rule_id=static.id)
    assert done == rules.get_inclusion_rule(
        graph, workload=Workload.EXCHANGE, rule_id=static.id, policy_id=policy_id
    )
    assert done.status in (
        ProtectionRuleStatus.COMPLETED,
        ProtectionRuleStatus.COMPLETED_WITH_ERRORS,
    )
    dynamic = rules.create_inclusion_rule(
        graph,
        workload=Workload.EXCHANGE,
        policy_id=created.policy.id,
        expression=expression,
        auto_apply=True,
    )
    with pytest.raises(GraphBadRequest) as caught:
        rules.run_inclusion_rule(
            graph, workload=Workload.EXCHANGE, policy_id=policy_id, rule_id=dynamic.id
        )
    assert caught.value.has_code(ErrorCode.RUN_NOT_ALLOWED_FOR_DYNAMIC_RULE)
    listed = {
        r.id
        for r in rules.iter_inclusion_rules(
            graph, workload=Workload.EXCHANGE, policy_id=created.policy.id
        )
    }
    assert listed == {static.id, dynamic.id}
    assert listed <= {r.id for r in rules.iter_inclusion_rules(graph, workload=Workload.EXCHANGE)}
    with pytest.raises(GraphBadRequest) as caught:
        rules.create_inclusion_rule(
            graph,
            workload=Workload.EXCHANGE,
            policy_id=created.policy.id,
            expression="(((",
            auto_apply=False,
        )
    assert caught.value.has_code(ErrorCode.INVALID_RULE_EXPRESSION)
    deleting = rules.delete_and_unprotect_inclusion_rule(
        graph, workload=Workload.EXCHANGE, policy_id=policy_id, rule_id=dynamic.id
    )
    assert deleting.status is ProtectionRuleStatus.DELETE_REQUESTED
    rules.delete_inclusion_rule(
        graph, workload=Workload.EXCHANGE, policy_id=policy_id, rule_id=static.id
    )
    assert static.id not in {
        r.id
        for r in rules.iter_inclusion_rules(graph, workload=Workload.EXCHANGE, policy_id=policy_id)
    }
    with pytest.raises(GraphNotFound) as caught:
        rules.get_inclusion_rule(graph, workload=Workload.EXCHANGE, rule_id=str(uuid.uuid4()))
    assert caught.value.has_code(ErrorCode.PROTECTION_RULE_NOT_FOUND)


def test_bulk_addition_job_by_email(control, graph, tenant):
    people = [u for u in users.iter_users(graph) if u.mail][:5]
    created = policies.create_protection_policy(
        graph, workload=Workload.ONEDRIVE, display_name="Bulk"
    )
    job = bulk_jobs.create_bulk_addition_job(
        graph,
        workload=Workload.ONEDRIVE,
        policy_id=created.policy.id,
        display_name="five",
        names_or_urls=[u.mail for u in people],
    )
    assert job.status in (ProtectionUnitsBulkJobStatus.ACTIVE, ProtectionUnitsBulkJobStatus.UNKNOWN)
    assert set(job.names) == {u.mail for u in people}
    advance(control, tenant, 600)
    done = bulk_jobs.get_bulk_addition_job(graph, workload=Workload.ONEDRIVE, job_id=job.id)
    assert done == bulk_jobs.get_bulk_addition_job(
        graph, workload=Workload.ONEDRIVE, job_id=job.id, policy_id=created.policy.id
    )
    assert done.status in (
        ProtectionUnitsBulkJobStatus.COMPLETED,
        ProtectionUnitsBulkJobStatus.COMPLETED_WITH_ERRORS,
    )
    assert job.id in {
        j.id
        for j in bulk_jobs.iter_bulk_addition_jobs(
            graph, workload=Workload.ONEDRIVE, policy_id=created.policy.id
        )
    }
    assert job.id in {
        j.id for j in bulk_jobs.iter_bulk_addition_jobs(graph, workload=Workload.ONEDRIVE)
    }
    bulk_jobs.delete_bulk_addition_job(
        graph, workload=Workload.ONEDRIVE, job_id=job.id, policy_id=created.policy.id
    )
    with pytest.raises(GraphNotFound):
        bulk_jobs.get_bulk_addition_job(graph, workload=Workload.ONEDRIVE, job_id=job.id)
