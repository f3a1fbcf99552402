"""Inclusion rules (static run, dynamic apply, patch, delete) and bulk addition jobs."""

from __future__ import annotations

import pytest

ROOT = "/solutions/backupRestore"
STEP = 60  # rule run and bulk job base duration (emulator defaults)
PREFER = {"Prefer": "include-unknown-enum-members"}


@pytest.fixture
def tenant(emulated_tenant):
    return emulated_tenant(users=200, backup=True)


@pytest.fixture
def graph(tenant):
    return tenant.graph()


def _policy(graph, workload="exchange"):
    return graph.post(
        f"{ROOT}/{workload}ProtectionPolicies", json={"displayName": f"{workload} policy"}
    ).json()


def _group_members(graph, group_id):
    members = graph.get(f"/groups/{group_id}/members?$select=id,mail,assignedLicenses")
    return members.json()["value"]


def _group_rule(group_ids):
    quoted = ", ".join(f"'{g}'" for g in group_ids)
    return f"(memberOf -any (group.id -in [{quoted}]))"


def test_static_rule_runs_once_and_completes(tenant, graph):
    group = graph.get("/groups?$top=1").json()["value"][0]
    members = _group_members(graph, group["id"])
    policy = _policy(graph)
    rules_url = f"{ROOT}/exchangeProtectionPolicies/{policy['id']}/mailboxInclusionRules"
    created = graph.post(
        rules_url,
        json={"mailboxExpression": _group_rule([group["id"]]), "isAutoApplyEnabled": False},
    )
    assert created.status_code == 201
    rule = created.json()
    assert rule["@odata.type"] == "#microsoft.graph.mailboxProtectionRule"
    assert rule["status"] == "draft" and rule["isAutoApplyEnabled"] is False
    ran = graph.post(f"{rules_url}/{rule['id']}/run")
    assert ran.status_code == 202 and ran.json()["status"] == "active"
    assert (
        graph.post(f"{rules_url}/{rule['id']}/run").json()["error"]["code"]
        == "ProtectionRuleActionNotAllowed"
    )
    deleting = graph.delete(f"{rules_url}/{rule['id']}")
    assert deleting.json()["error"]["code"] == "InvalidProtectionRuleStatusForDeletion"
    tenant.control.advance_clock(STEP, tenant.id)
    done = graph.get(f"{rules_url}/{rule['id']}").json()
    with_mailbox = {m["id"] for m in members if m["mail"]}
    expected = "completedWithErrors" if len(with_mailbox) < len(members) else "completed"
    assert done["status"] == expected
    if expected == "completedWithErrors":
        assert len(done["error"]["details"]) == len(members) - len(with_mailbox)
    units = graph.get(
        f"{ROOT}/exchangeProtectionPolicies/{policy['id']}/mailboxProtectionUnits"
    ).json()["value"]
    assert {u["directoryObjectId"] for u in units} == with_mailbox
    assert {u["protectionSources"] for u in units} == {"dynamicRule"}
    listed = graph.get(f"{ROOT}/mailboxInclusionRules").json()["value"]
    assert [r["id"] for r in listed] == [rule["id"]]
    assert graph.delete(f"{rules_url}/{rule['id']}").status_code == 204


def test_dynamic_rule_applies_protects_and_is_deleted_over_time(tenant, graph):
    groups = graph.get("/groups?$filter=groupTypes/any(c:c eq 'Unified')").json()["value"]
    policy = _policy(graph, "oneDriveForBusiness")
    rules_url = f"{ROOT}/oneDriveForBusinessProtectionPolicies/{policy['id']}/driveInclusionRules"
    rule = graph.post(
        rules_url,
        json={"driveExpression": _group_rule([groups[0]["id"]]), "isAutoApplyEnabled": True},
    ).json()
    assert rule["status"] == "active"
    assert (
        graph.post(f"{rules_url}/{rule['id']}/run").json()["error"]["code"]
        == "RunNotAllowedForDynamicRule"
    )
    tenant.control.advance_clock(STEP, tenant.id)
    units_url = f"{ROOT}/oneDriveForBusinessProtectionPolicies/{policy['id']}/driveProtectionUnits"
    units = graph.get(units_url).json()["value"]
    assert units and {u["protectionSources"] for u in units} == {"dynamicRule"}
    removal = graph.patch(
        f"{ROOT}/oneDriveForBusinessProtectionPolicies/{policy['id']}",
        json={
            "driveProtectionUnits@delta": [
                {"@removed": {"reason": "changed"}, "id": units[0]["id"]}
            ]
        },
    )
    assert removal.status_code == 400
    assert removal.json()["error"]["code"] == "ProtectionUnitActionNotAllowed"
    patch = graph.patch(f"{rules_url}/{rule['id']}", json={"isAutoApplyEnabled": False})
    assert patch.json()["error"]["code"] == "InvalidProtectionRulePatchRequest"
    updated = graph.patch(
        f"{rules_url}/{rule['id']}",
        headers=PREFER,
        json={"driveExpression": _group_rule([groups[0]["id"], groups[1]["id"]])},
    )
    assert updated.status_code == 200 and updated.json()["status"] == "updateRequested"
    tenant.control.advance_clock(STEP, tenant.id)
    assert len(graph.get(units_url).json()["value"]) >= len(units)
    assert graph.delete(f"{rules_url}/{rule['id']}").status_code == 204
    shown = graph.get(f"{rules_url}/{rule['id']}").json()
    assert shown["status"] == "unknownFutureValue"  # deleteRequested needs the Prefer header
    assert (
        graph.get(f"{rules_url}/{rule['id']}", headers=PREFER).json()["status"] == "deleteRequested"
    )
    tenant.control.advance_clock(STEP, tenant.id)
    gone = graph.get(f"{rules_url}/{rule['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ProtectionRuleNotFound"
    # The units stay, now removable by hand.
    assert (
        graph.patch(
            f"{ROOT}/oneDriveForBusinessProtectionPolicies/{policy['id']}",
            json={
                "driveProtectionUnits@delta": [
                    {"@removed": {"reason": "changed"}, "id": units[0]["id"]}
                ]
            },
        ).status_code
        == 200
    )


def test_delete_and_unprotect_removes_the_rules_units(tenant, graph):
    group = graph.get("/groups?$top=1").json()["value"][0]
    policy = _policy(graph)
    rules_url = f"{ROOT}/exchangeProtectionPolicies/{policy['id']}/mailboxInclusionRules"
    rule = graph.post(
        rules_url,
        json={"mailboxExpression": _group_rule([group["id"]]), "isAutoApplyEnabled": True},
    ).json()
    tenant.control.advance_clock(STEP, tenant.id)
    units_url = f"{ROOT}/exchangeProtectionPolicies/{policy['id']}/mailboxProtectionUnits"
    assert graph.get(units_url).json()["value"]
    assert graph.post(f"{rules_url}/{rule['id']}/deleteAndUnprotect").status_code == 202
    assert {u["status"] for u in graph.get(units_url).json()["value"]} == {"removeRequested"}
    tenant.control.advance_clock(STEP, tenant.id)
    assert graph.get(units_url).json()["value"] == []


def test_site_rule_by_url(tenant, graph):
    site = graph.get("/sites?search=*").json()["value"][2]
    policy = _policy(graph, "sharePoint")
    rules_url = f"{ROOT}/sharePointProtectionPolicies/{policy['id']}/siteInclusionRules"
    rule = graph.post(
        rules_url,
        json={"siteExpression": f"(webUrl -eq '{site['webUrl']}')", "isAutoApplyEnabled": False},
    ).json()
    graph.post(f"{rules_url}/{rule['id']}/run")
    tenant.control.advance_clock(STEP, tenant.id)
    assert graph.get(f"{rules_url}/{rule['id']}").json()["status"] == "completed"
    units = graph.get(f"{ROOT}/siteProtectionUnits").json()["value"]
    assert [u["siteId"] for u in units] == [site["id"]]


def test_rule_validation(graph):
    policy = _policy(graph)
    url = f"{ROOT}/exchangeProtectionPolicies/{policy['id']}/mailboxInclusionRules"
    cases = [
        ({"isAutoApplyEnabled": False}, 400, "InvalidInclusionRuleCreateRequest"),
        (
            {"mailboxExpression": "x", "isAutoApplyEnabled": "yes"},
            400,
            "InvalidInclusionRuleCreateRequest",
        ),
        ({"mailboxExpression": "everyone please"}, 400, "InvalidRuleExpression"),
        (
            {
                "mailboxExpression": _group_rule(
                    [f"00000000-0000-4000-8000-{i:012d}" for i in range(101)]
                )
            },
            413,
            "InvalidRuleExpressionGroupLimitExceeded",
        ),
    ]
    for body, status, code in cases:
        response = graph.post(url, json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    static = graph.post(
        url, json={"mailboxExpression": _group_rule(["00000000-0000-4000-8000-000000000001"])}
    ).json()
    patched = graph.patch(f"{url}/{static['id']}", json={"mailboxExpression": "x"})
    assert patched.json()["error"]["code"] == "PatchNotAllowedForStaticRule"
    assert graph.get(f"{url}/nope").json()["error"]["code"] == "InvalidInclusionRuleId"
    unknown = graph.post(
        f"{ROOT}/exchangeProtectionPolicies/"
        "00000000-0000-4000-8000-000000000000/mailboxInclusionRules",
        json={"mailboxExpression": "x"},
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "PolicyNotFound"


def test_bulk_job_in_policy_create_resolves_emails_over_time(tenant, graph):
    users = graph.get("/users?$top=999&$select=id,mail").json()["value"]
    mails = [u["mail"] for u in users if u["mail"]][:30]
    response = graph.post(
        f"{ROOT}/exchangeProtectionPolicies",
        json={
            "displayName": "Bulk",
            "mailboxProtectionUnitsBulkAdditionJobs": [
                {"displayName": "Import", "mailboxes": [*mails, f"ghost@{tenant.domain}"]}
            ],
        },
    )
    assert response.status_code == 201
    policy = response.json()
    jobs_url = (
        f"{ROOT}/exchangeProtectionPolicies/{policy['id']}/mailboxProtectionUnitsBulkAdditionJobs"
    )
    jobs = graph.get(jobs_url).json()["value"]
    assert len(jobs) == 1 and jobs[0]["status"] == "active"
    assert jobs[0]["@odata.type"] == "#microsoft.graph.mailboxProtectionUnitsBulkAdditionJob"
    units_url = f"{ROOT}/exchangeProtectionPolicies/{policy['id']}/mailboxProtectionUnits"
    assert graph.get(units_url).json()["value"] == []
    tenant.control.advance_clock(STEP + 30, tenant.id)
    job = graph.get(f"{jobs_url}/{jobs[0]['id']}").json()
    assert job["status"] == "completedWithErrors"
    assert [d["target"] for d in job["error"]["details"]] == [f"ghost@{tenant.domain}"]
    units = graph.get(units_url + "?$top=100").json()["value"]
    assert sorted(u["email"] for u in units) == sorted(mails)
    assert {u["protectionSources"] for u in units} == {"manual"}


def test_bulk_job_by_site_url_and_tenant_wide_reads(tenant, graph):
    sites = graph.get("/sites?search=*").json()["value"][1:6]
    policy = _policy(graph, "sharePoint")
    url = f"{ROOT}/sharePointProtectionPolicies/{policy['id']}/siteProtectionUnitsBulkAdditionJobs"
    created = graph.post(
        url, json={"displayName": "By URL", "siteWebUrls": [s["webUrl"] for s in sites]}
    )
    assert created.status_code == 201 and created.json()["status"] == "active"
    tenant.control.advance_clock(STEP + 30, tenant.id)
    tenant_wide = graph.get(f"{ROOT}/siteProtectionUnitsBulkAdditionJobs").json()["value"]
    assert [j["status"] for j in tenant_wide] == ["completed"]
    units = graph.get(f"{ROOT}/siteProtectionUnits").json()["value"]
    assert sorted(u["siteId"] for u in units) == sorted(s["id"] for s in sites)
    refused = graph.post(f"{ROOT}/siteProtectionUnitsBulkAdditionJobs", json={"siteWebUrls": ["x"]})
    assert refused.status_code == 400
    empty = graph.post(url, json={"displayName": "nothing"})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "InvalidCreateRequest"
