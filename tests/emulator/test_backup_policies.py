"""Protection policies and units: create, PATCH @delta, activate, deactivate, delete,
limits, error codes, polymorphism and the unit / policy status machines."""

from __future__ import annotations

import pytest

from tests.fixtures.emulator import TEST_APP

ROOT = "/solutions/backupRestore"
PROTECT = 60  # seconds a unit spends in protectRequested (emulator default)


@pytest.fixture
def tenant(emulated_tenant):
    return emulated_tenant(users=200, backup=True)


@pytest.fixture
def graph(tenant):
    return tenant.graph()


def _mailbox_users(graph, count, *, with_mailbox=True):
    users = graph.get("/users?$top=999&$select=id,mail,assignedLicenses,accountEnabled").json()
    chosen = [u for u in users["value"] if bool(u["mail"]) == with_mailbox]
    return [u["id"] for u in chosen[:count]]


def _sites(graph, count):
    sites = graph.get("/sites?search=*&$top=200").json()["value"]
    return [s["id"] for s in sites[1 : count + 1]]


def _create_exchange(graph, ids, name="Mailboxes"):
    return graph.post(
        f"{ROOT}/exchangeProtectionPolicies",
        json={
            "displayName": name,
            "mailboxProtectionUnits": [{"directoryObjectId": i} for i in ids],
        },
    )


def test_create_sharepoint_policy_is_inactive_with_content_location(graph):
    sites = _sites(graph, 3)
    response = graph.post(
        f"{ROOT}/sharePointProtectionPolicies",
        json={"displayName": "Sites", "siteProtectionUnits": [{"siteId": s} for s in sites]},
    )
    assert response.status_code == 201
    policy = response.json()
    assert policy["@odata.type"] == "#microsoft.graph.sharePointProtectionPolicy"
    assert policy["status"] == "inactive"
    assert policy["retentionSettings"] == [
        {"interval": "R/PT10M", "period": "P2W"},
        {"interval": "R/P1W", "period": "P1Y"},
    ]
    assert policy["createdBy"]["application"]["id"] == TEST_APP.app_id
    assert response.headers["Content-Location"].endswith(
        f"{ROOT}/protectionPolicies/{policy['id']}"
    )
    units = graph.get(f"{ROOT}/sharePointProtectionPolicies/{policy['id']}/siteProtectionUnits")
    body = units.json()
    assert body["@odata.context"].endswith("siteProtectionUnits")
    assert [u["siteId"] for u in body["value"]] == [s.lower() for s in sites]
    assert {u["status"] for u in body["value"]} == {"unprotected"}
    assert {u["protectionSources"] for u in body["value"]} == {"manual"}


def test_unit_and_policy_state_machine(tenant, graph):
    policy = _create_exchange(graph, _mailbox_users(graph, 3)).json()
    activated = graph.post(f"{ROOT}/protectionPolicies/{policy['id']}/activate")
    assert activated.status_code == 202
    assert activated.json()["status"] == "updating"
    assert activated.headers["Content-Location"].endswith(f"/protectionPolicies/{policy['id']}")
    units_url = f"{ROOT}/exchangeProtectionPolicies/{policy['id']}/mailboxProtectionUnits"
    assert {u["status"] for u in graph.get(units_url).json()["value"]} == {"protectRequested"}
    tenant.control.advance_clock(PROTECT, tenant.id)
    assert {u["status"] for u in graph.get(units_url).json()["value"]} == {"protected"}
    assert graph.get(f"{ROOT}/protectionPolicies/{policy['id']}").json()["status"] == "active"

    assert graph.post(f"{ROOT}/protectionPolicies/{policy['id']}/activate").status_code == 403
    assert graph.delete(f"{ROOT}/protectionPolicies/{policy['id']}").status_code == 403
    deactivated = graph.post(f"{ROOT}/protectionPolicies/{policy['id']}/deactivate")
    assert deactivated.status_code == 202 and deactivated.json()["status"] == "updating"
    assert {u["status"] for u in graph.get(units_url).json()["value"]} == {"unprotectRequested"}
    again = graph.post(f"{ROOT}/protectionPolicies/{policy['id']}/deactivate")
    assert again.status_code == 403
    assert again.json()["error"]["code"] == "PolicyActionNotAllowed"
    tenant.control.advance_clock(PROTECT, tenant.id)
    assert {u["status"] for u in graph.get(units_url).json()["value"]} == {"unprotected"}
    assert graph.get(f"{ROOT}/protectionPolicies/{policy['id']}").json()["status"] == "inactive"
    assert graph.delete(f"{ROOT}/protectionPolicies/{policy['id']}").status_code == 204
    missing = graph.get(f"{ROOT}/protectionPolicies/{policy['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "PolicyNotFound"


def test_units_without_a_mailbox_end_active_with_errors(tenant, graph):
    good = _mailbox_users(graph, 2)
    without = _mailbox_users(graph, 1, with_mailbox=False)
    policy = _create_exchange(graph, good + without).json()
    graph.post(f"{ROOT}/protectionPolicies/{policy['id']}/activate")
    tenant.control.advance_clock(PROTECT, tenant.id)
    assert (
        graph.get(f"{ROOT}/protectionPolicies/{policy['id']}").json()["status"]
        == "activeWithErrors"
    )
    units = graph.get(f"{ROOT}/mailboxProtectionUnits").json()["value"]
    failed = [u for u in units if u["directoryObjectId"] == without[0]]
    assert failed[0]["status"] == "unprotected"
    assert failed[0]["error"]["code"] == "ProtectionUnitNotFound"
    # activeWithErrors may be activated again (retry) and deactivated.
    assert graph.post(f"{ROOT}/protectionPolicies/{policy['id']}/deactivate").status_code == 202


def test_one_active_policy_per_workload(tenant, graph):
    first = _create_exchange(graph, _mailbox_users(graph, 1)).json()
    second = _create_exchange(graph, [], name="Second").json()
    graph.post(f"{ROOT}/protectionPolicies/{first['id']}/activate")
    third = _create_exchange(graph, [], name="Third")
    assert third.status_code == 409
    assert third.json()["error"]["code"] == "PolicyCreationNotAllowed"
    conflict = graph.post(f"{ROOT}/protectionPolicies/{second['id']}/activate")
    assert conflict.status_code == 409
    other_workload = graph.post(
        f"{ROOT}/oneDriveForBusinessProtectionPolicies", json={"displayName": "Drives"}
    )
    assert other_workload.status_code == 201


def test_create_limits_and_errors(graph):
    url = f"{ROOT}/exchangeProtectionPolicies"
    ids = _mailbox_users(graph, 51)
    too_many = graph.post(
        url,
        json={
            "displayName": "Big",
            "mailboxProtectionUnits": [{"directoryObjectId": i} for i in ids],
        },
    )
    assert too_many.status_code == 413
    assert too_many.json()["error"]["code"] == "ProtectionUnitsLimitBreached"
    assert _create_exchange(graph, ids[:50], name="Fifty").status_code == 201
    cases = [
        ({"mailboxProtectionUnits": []}, 400, "InvalidDisplayName"),
        ({"displayName": "x" * 1025}, 400, "InvalidDisplayName"),
        (
            {"displayName": "ok", "mailboxProtectionUnits": [{"directoryObjectId": "nope"}]},
            400,
            "InvalidProtectionUnitId",
        ),
        (
            {"displayName": "ok", "mailboxProtectionUnits": [{"wrong": 1}]},
            400,
            "InvalidCreateRequest",
        ),
        ({"displayName": "ok", "mailboxProtectionUnits": "x"}, 400, "InvalidCreateRequest"),
        (
            {"displayName": "dup", "mailboxProtectionUnits": [{"directoryObjectId": ids[0]}]},
            409,
            "ProtectionUnitAlreadyExists",
        ),
    ]
    for body, status, code in cases:
        response = graph.post(url, json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    malformed = graph.post(url, content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "BadRequest"


def test_patch_delta_adds_and_removes(tenant, graph):
    ids = _mailbox_users(graph, 5)
    policy = _create_exchange(graph, ids[:2]).json()
    graph.post(f"{ROOT}/protectionPolicies/{policy['id']}/activate")
    tenant.control.advance_clock(PROTECT, tenant.id)
    units_url = f"{ROOT}/exchangeProtectionPolicies/{policy['id']}/mailboxProtectionUnits"
    existing = graph.get(units_url).json()["value"]
    response = graph.patch(
        f"{ROOT}/exchangeProtectionPolicies/{policy['id']}",
        json={
            "displayName": "Renamed",
            "mailboxProtectionUnits@delta": [
                {"directoryObjectId": ids[2]},
                {"directoryObjectId": ids[0]},  # already protected here
                {"@removed": {"reason": "changed"}, "id": existing[1]["id"]},
                {"@removed": {"reason": "changed"}, "id": "00000000-0000-4000-8000-000000000000"},
            ],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["displayName"] == "Renamed"
    delta = body["mailboxProtectionUnits@delta"]
    assert len(delta) == 4
    assert delta[0]["status"] == "protectRequested"
    assert (
        delta[1]["@Core.DataModificationException"]["info"]["code"] == "ProtectionUnitAlreadyExists"
    )
    assert delta[2]["status"] == "removeRequested" and "@removed" in delta[2]
    failed_remove = delta[3]["@Core.DataModificationException"]
    assert failed_remove["info"]["code"] == "ProtectionUnitNotFound"
    assert failed_remove["failedOperation"] == "remove"
    assert graph.get(f"{ROOT}/protectionPolicies/{policy['id']}").json()["status"] == "updating"
    tenant.control.advance_clock(PROTECT, tenant.id)
    after = graph.get(units_url).json()["value"]
    assert sorted(u["directoryObjectId"] for u in after) == sorted([ids[0], ids[2]])
    assert {u["status"] for u in after} == {"protected"}


def test_patch_limits(graph):
    ids = _mailbox_users(graph, 51)
    policy = _create_exchange(graph, []).json()
    url = f"{ROOT}/exchangeProtectionPolicies/{policy['id']}"
    too_many = graph.patch(
        url, json={"mailboxProtectionUnits@delta": [{"directoryObjectId": i} for i in ids]}
    )
    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == "ProtectionUnitsLimitBreached"
    duplicate = graph.patch(
        url,
        json={
            "mailboxProtectionUnits@delta": [
                {"directoryObjectId": ids[0]},
                {"directoryObjectId": ids[0]},
            ]
        },
    )
    assert duplicate.json()["error"]["code"] == "DuplicateProtectionUnitInList"
    assert (
        graph.patch(url, json={"displayName": ""}).json()["error"]["code"] == "InvalidDisplayName"
    )


def test_polymorphic_collections_and_unit_lookups(graph):
    exchange = _create_exchange(graph, _mailbox_users(graph, 2)).json()
    sites = _sites(graph, 1)
    graph.post(
        f"{ROOT}/sharePointProtectionPolicies",
        json={"displayName": "S", "siteProtectionUnits": [{"siteId": sites[0]}]},
    )
    policies = graph.get(f"{ROOT}/protectionPolicies").json()["value"]
    assert {p["@odata.type"] for p in policies} == {
        "#microsoft.graph.exchangeProtectionPolicy",
        "#microsoft.graph.sharePointProtectionPolicy",
    }
    only = graph.get(f"{ROOT}/sharePointProtectionPolicies").json()["value"]
    assert [p["@odata.type"] for p in only] == ["#microsoft.graph.sharePointProtectionPolicy"]
    units = graph.get(f"{ROOT}/protectionUnits").json()["value"]
    assert {u["@odata.type"] for u in units} == {
        "#microsoft.graph.mailboxProtectionUnit",
        "#microsoft.graph.siteProtectionUnit",
    }
    mailbox_unit = next(u for u in units if "directoryObjectId" in u)
    assert mailbox_unit["policyId"] == exchange["id"]
    assert mailbox_unit["email"] and mailbox_unit["displayName"]
    assert mailbox_unit["mailboxType"] in ("user", "shared")
    one = graph.get(f"{ROOT}/protectionUnits/{mailbox_unit['id']}").json()
    assert one["id"] == mailbox_unit["id"]
    cast = graph.get(f"{ROOT}/protectionUnits/microsoft.graph.siteProtectionUnit").json()
    assert [u["@odata.type"] for u in cast["value"]] == ["#microsoft.graph.siteProtectionUnit"]
    counted = graph.get(
        f"{ROOT}/protectionUnits/microsoft.graph.siteProtectionUnit/$count",
        params={"$filter": "offboardRequestedDateTime gt 0001-01-01"},
    )
    assert counted.text == "0"
    bad = graph.get(f"{ROOT}/protectionUnits/not-a-guid")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidProtectionUnitId"
    assert graph.get(f"{ROOT}/protectionPolicies/xyz").json()["error"]["code"] == "InvalidPolicyId"
    long_filter = " or ".join(["status eq 'protected'"] * 11)
    too_long = graph.get(f"{ROOT}/protectionUnits", params={"$filter": long_filter})
    assert too_long.json()["error"]["code"] == "FilterLengthExceeded"


def test_writes_need_the_configuration_permission(tenant):
    token = tenant.control.mint_token(
        tenant.id, app_id=TEST_APP.app_id, roles=["BackupRestore-Configuration.Read.All"]
    )
    graph = tenant.graph(token)
    assert graph.get(f"{ROOT}/protectionPolicies").status_code == 200
    denied = graph.post(f"{ROOT}/exchangeProtectionPolicies", json={"displayName": "x"})
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "Authorization_RequestDenied"


def test_writes_need_an_enabled_service(emulated_tenant):
    tenant = emulated_tenant(consent=True)  # consented, backup service still disabled
    response = tenant.graph().post(f"{ROOT}/exchangeProtectionPolicies", json={"displayName": "x"})
    assert response.status_code == 403
    assert "disabled" in response.json()["error"]["message"]


def test_enums_and_beta_extras(graph):
    policy = _create_exchange(graph, []).json()
    beta = graph.get(f"/../beta{ROOT}/protectionPolicies/{policy['id']}")
    assert beta.status_code == 200 and beta.json()["isEnabled"] is False
