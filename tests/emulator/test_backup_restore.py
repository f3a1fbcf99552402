"""Restore points (lazy series, retention, tags, filters, search) and restore sessions
with their artifacts (draft edits, activation, limits, failures, polymorphism)."""

from __future__ import annotations

from datetime import timedelta

import pytest

ROOT = "/solutions/backupRestore"
MINUTE, DAY = 60, 86400
STEP = 30  # artifact step (emulator default)
PREFER = {"Prefer": "include-unknown-enum-members"}


@pytest.fixture
def tenant(emulated_tenant):
    return emulated_tenant(users=200, backup=True)


@pytest.fixture
def graph(tenant):
    return tenant.graph()


def _protected_exchange(tenant, graph, count=3):
    """An active Exchange policy with `count` protected mailboxes and their first point."""
    users = graph.get("/users?$top=999&$select=id,mail").json()["value"]
    ids = [u["id"] for u in users if u["mail"]][:count]
    policy = graph.post(
        f"{ROOT}/exchangeProtectionPolicies",
        json={
            "displayName": "Mail",
            "mailboxProtectionUnits": [{"directoryObjectId": i} for i in ids[:50]],
        },
    ).json()
    if count > 50:
        graph.patch(
            f"{ROOT}/exchangeProtectionPolicies/{policy['id']}",
            json={"mailboxProtectionUnits@delta": [{"directoryObjectId": i} for i in ids[50:]]},
        )
    graph.post(f"{ROOT}/protectionPolicies/{policy['id']}/activate")
    tenant.control.advance_clock(MINUTE + 2 * MINUTE, tenant.id)  # protected, first point
    units = graph.get(f"{ROOT}/mailboxProtectionUnits?$top=100").json()["value"]
    return policy, units


def _points(graph, unit_id):
    url = f"{ROOT}/restorePoints?$expand=protectionUnit($filter=id eq '{unit_id}')"
    return graph.get(url).json()["value"]


def _artifacts(graph, unit_ids, destination="new"):
    items = []
    for unit_id in unit_ids:
        point = _points(graph, unit_id)[-1]
        items.append({"restorePoint": {"@odata.id": point["id"]}, "destinationType": destination})
    return items


# ---- restore points ------------------------------------------------------------------


def test_restore_points_appear_after_protection_every_ten_minutes(tenant, graph):
    _, units = _protected_exchange(tenant, graph, count=2)
    unit = units[0]
    points = _points(graph, unit["id"])
    assert len(points) == 1
    point = points[0]
    assert point["@odata.type"] == "#microsoft.graph.restorePoint"
    assert point["protectionUnit"]["id"] == unit["id"]
    assert point["tags"] == "none"  # Exchange has no fast restore points
    tenant.control.advance_clock(25 * MINUTE, tenant.id)
    assert len(_points(graph, unit["id"])) == 3
    everything = graph.get(f"{ROOT}/restorePoints").json()["value"]
    assert len(everything) == 6 and "protectionUnit" not in everything[0]
    third = _points(graph, unit["id"])[2]["protectionDateTime"]
    before = graph.get(
        f"{ROOT}/restorePoints",
        params={
            "$filter": f"protectionDateTime lt {third}",
            "$expand": f"protectionUnit($filter=id eq '{unit['id']}')",
        },
    ).json()["value"]
    assert len(before) == 2
    one = graph.get(f"{ROOT}/restorePoints/{point['id']}").json()
    assert one["id"] == point["id"] and one["protectionDateTime"] == point["protectionDateTime"]


def test_restore_point_retention_and_fast_restore_tags(tenant, graph):
    site = graph.get("/sites?search=*").json()["value"][1]
    policy = graph.post(
        f"{ROOT}/sharePointProtectionPolicies",
        json={"displayName": "S", "siteProtectionUnits": [{"siteId": site["id"]}]},
    ).json()
    graph.post(f"{ROOT}/protectionPolicies/{policy['id']}/activate")
    tenant.control.advance_clock(3 * MINUTE, tenant.id)
    unit = graph.get(f"{ROOT}/siteProtectionUnits").json()["value"][0]
    assert [p["tags"] for p in _points(graph, unit["id"])] == ["fastRestore"]
    tenant.control.advance_clock(15 * DAY, tenant.id)
    all_points = []
    url = f"{ROOT}/restorePoints?$top=999"
    while url:
        body = graph.get(url).json()
        all_points += body["value"]
        url = body.get("@odata.nextLink")
    # 14 days of 10-minute points (2016) plus the first weekly point, older than 14 days.
    assert len(all_points) == 2017
    assert all_points[0]["tags"] == "none"
    expiry = all_points[0]["expirationDateTime"]
    assert expiry > (tenant.control.now(tenant.id) + timedelta(days=300)).strftime("%Y-%m-%d")
    assert all_points[-1]["tags"] == "fastRestore"


def test_search_latest_oldest_and_no_result(tenant, graph):
    _, units = _protected_exchange(tenant, graph, count=2)
    tenant.control.advance_clock(30 * MINUTE, tenant.id)
    now = tenant.control.now(tenant.id)
    period = {
        "startDateTime": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endDateTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    unknown = "00000000-0000-4000-8000-000000000000"
    latest = graph.post(
        f"{ROOT}/restorePoints/search",
        json={
            "protectionUnitIds": [units[0]["id"], unknown],
            "protectionTimePeriod": period,
            "restorePointPreference": "latest",
        },
    ).json()
    assert latest["searchResponseId"]
    assert latest["noResultProtectionUnitIds"] == [unknown]
    [result] = latest["searchResults"]
    assert result["restorePoint"]["protectionUnit"]["id"] == units[0]["id"]
    assert (
        result["restorePoint"]["protectionUnit"]["@odata.type"]
        == "#microsoft.graph.mailboxProtectionUnit"
    )
    oldest = graph.post(
        f"{ROOT}/restorePoints/search",
        json={
            "protectionUnitIds": [units[0]["id"]],
            "protectionTimePeriod": period,
            "restorePointPreference": "oldest",
        },
    ).json()["searchResults"][0]["restorePoint"]
    assert oldest["protectionDateTime"] < result["restorePoint"]["protectionDateTime"]
    for body, code in (
        ({"protectionUnitIds": [units[0]["id"]]}, "InvalidSearchRequest"),
        ({"protectionUnitIds": ["bad"], "protectionTimePeriod": period}, "InvalidProtectionUnitId"),
        (
            {
                "protectionUnitIds": [units[0]["id"]],
                "protectionTimePeriod": {
                    "startDateTime": period["endDateTime"],
                    "endDateTime": period["startDateTime"],
                },
            },
            "InvalidSearchRequest",
        ),
    ):
        response = graph.post(f"{ROOT}/restorePoints/search", json=body)
        assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_search_needs_the_search_permission(tenant):
    token = tenant.control.mint_token(
        tenant.id, app_id=tenant.app.app_id, roles=["BackupRestore-Restore.ReadWrite.All"]
    )
    response = tenant.graph(token).post(f"{ROOT}/restorePoints/search", json={})
    assert response.status_code == 403


# ---- restore sessions ----------------------------------------------------------------


def test_session_lifecycle_with_draft_edits(tenant, graph):
    _, units = _protected_exchange(tenant, graph, count=3)
    created = graph.post(
        f"{ROOT}/exchangeRestoreSessions",
        json={"mailboxRestoreArtifacts": _artifacts(graph, [units[0]["id"], units[1]["id"]])},
    )
    assert created.status_code == 201
    session = created.json()
    assert session["@odata.type"] == "#microsoft.graph.exchangeRestoreSession"
    assert session["status"] == "draft"
    assert created.headers["Content-Location"].endswith(f"{ROOT}/restoreSessions/{session['id']}")
    base = f"{ROOT}/exchangeRestoreSessions/{session['id']}"
    artifacts = graph.get(f"{base}/mailboxRestoreArtifacts").json()["value"]
    assert {a["status"] for a in artifacts} == {"added"}
    patched = graph.patch(
        base,
        json={
            "mailboxRestoreArtifacts@delta": [
                *_artifacts(graph, [units[2]["id"]]),
                {"@removed": {"reason": "changed"}, "id": artifacts[0]["id"]},
            ]
        },
    )
    assert patched.status_code == 200
    assert len(graph.get(f"{base}/mailboxRestoreArtifacts").json()["value"]) == 2

    activated = graph.post(f"{ROOT}/restoreSessions/{session['id']}/activate")
    assert activated.status_code == 200 and activated.json()["status"] == "activating"
    statuses = [{a["status"] for a in graph.get(f"{base}/mailboxRestoreArtifacts").json()["value"]}]
    for _ in range(3):
        tenant.control.advance_clock(STEP, tenant.id)
        statuses.append(
            {a["status"] for a in graph.get(f"{base}/mailboxRestoreArtifacts").json()["value"]}
        )
    assert statuses == [{"scheduling"}, {"scheduled"}, {"inProgress"}, {"succeeded"}]
    done = graph.get(base).json()
    assert done["status"] == "completed" and done["completedDateTime"]
    artifact = graph.get(f"{base}/mailboxRestoreArtifacts").json()["value"][0]
    assert artifact["restoredFolderName"] and artifact["completionDateTime"]

    refused = graph.patch(base, json={"mailboxRestoreArtifacts@delta": []})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "RestoreSessionActionNotAllowed"
    assert graph.delete(base).status_code == 403
    assert graph.post(f"{base}/activate").status_code == 403


def test_failed_artifacts_and_session_outcomes(tenant, graph):
    _, units = _protected_exchange(tenant, graph, count=2)
    tenant.control.set_faults(tenant.id, restore_failure_unit_ids=[units[0]["id"]])
    mixed = graph.post(
        f"{ROOT}/exchangeRestoreSessions",
        json={"mailboxRestoreArtifacts": _artifacts(graph, [u["id"] for u in units])},
    ).json()
    all_failed = graph.post(
        f"{ROOT}/exchangeRestoreSessions",
        json={"mailboxRestoreArtifacts": _artifacts(graph, [units[0]["id"]])},
    ).json()
    graph.post(f"{ROOT}/restoreSessions/{mixed['id']}/activate")
    tenant.control.advance_clock(3 * STEP, tenant.id)
    graph.post(f"{ROOT}/restoreSessions/{all_failed['id']}/activate")
    tenant.control.advance_clock(3 * STEP, tenant.id)
    assert (
        graph.get(f"{ROOT}/restoreSessions/{mixed['id']}").json()["status"] == "completedWithError"
    )
    artifacts = graph.get(
        f"{ROOT}/exchangeRestoreSessions/{mixed['id']}/mailboxRestoreArtifacts"
    ).json()["value"]
    failed = [a for a in artifacts if a["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"]["code"] == "ArtifactCannotBeRestored"
    url = f"{ROOT}/restoreSessions/{all_failed['id']}"
    assert graph.get(url).json()["status"] == "unknownFutureValue"
    assert graph.get(url, headers=PREFER).json()["status"] == "failed"


def test_create_validation(tenant, graph):
    _, units = _protected_exchange(tenant, graph, count=2)
    url = f"{ROOT}/exchangeRestoreSessions"
    one = _artifacts(graph, [units[0]["id"]])[0]
    two = _artifacts(graph, [units[1]["id"]])[0]
    cases = [
        ({}, 400, "InvalidArtifactRequest"),
        ({"mailboxRestoreArtifacts": []}, 400, "InvalidArtifactRequest"),
        (
            {"mailboxRestoreArtifacts": [{**one, "destinationType": "elsewhere"}]},
            400,
            "InvalidPathType",
        ),
        (
            {
                "mailboxRestoreArtifacts": [
                    {**one, "restorePoint": {"@odata.id": "00000000-0000-4000-8000-000000000000"}}
                ]
            },
            400,
            "InvalidRestorePoint",
        ),
        (
            {"mailboxRestoreArtifacts": [one, {**two, "destinationType": "inPlace"}]},
            400,
            "DifferentRestoreDestinationType",
        ),
        ({"mailboxRestoreArtifacts": [one, one]}, 400, "DuplicateArtifactInList"),
    ]
    for body, status, code in cases:
        response = graph.post(url, json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    wrong_workload = graph.post(
        f"{ROOT}/sharePointRestoreSessions", json={"siteRestoreArtifacts": [one]}
    )
    assert wrong_workload.json()["error"]["code"] == "InvalidRestorePoint"
    assert (
        graph.get(f"{ROOT}/restoreSessions/zzz").json()["error"]["code"]
        == "InvalidRestoreSessionId"
    )
    assert (
        graph.get(f"{ROOT}/restoreSessions/00000000-0000-4000-8000-000000000000").json()["error"][
            "code"
        ]
        == "RestoreSessionNotFound"
    )


def test_fifty_artifact_limits(tenant, graph):
    _, units = _protected_exchange(tenant, graph, count=51)
    assert len(units) == 51
    items = _artifacts(graph, [u["id"] for u in units])
    too_many = graph.post(
        f"{ROOT}/exchangeRestoreSessions", json={"mailboxRestoreArtifacts": items}
    )
    assert too_many.status_code == 413
    assert too_many.json()["error"]["code"] == "RestoreArtifactsLimitBreached"
    session = graph.post(
        f"{ROOT}/exchangeRestoreSessions", json={"mailboxRestoreArtifacts": items[:1]}
    ).json()
    patch = graph.patch(
        f"{ROOT}/exchangeRestoreSessions/{session['id']}",
        json={"mailboxRestoreArtifacts@delta": items[1:]} | {},
    )
    assert patch.status_code == 200  # 50 in one request is allowed
    session2 = graph.post(
        f"{ROOT}/exchangeRestoreSessions", json={"mailboxRestoreArtifacts": items[:1]}
    ).json()
    over = graph.patch(
        f"{ROOT}/exchangeRestoreSessions/{session2['id']}",
        json={"mailboxRestoreArtifacts@delta": items},
    )
    assert over.status_code == 400
    assert over.json()["error"]["code"] == "RestoreArtifactsLimitBreached"


def test_twenty_sixth_active_session_is_refused(tenant, graph):
    _, units = _protected_exchange(tenant, graph, count=26)
    sessions = []
    for unit in units:
        sessions.append(
            graph.post(
                f"{ROOT}/exchangeRestoreSessions",
                json={"mailboxRestoreArtifacts": _artifacts(graph, [unit["id"]])},
            ).json()
        )
    for session in sessions[:25]:
        assert graph.post(f"{ROOT}/restoreSessions/{session['id']}/activate").status_code == 200
    refused = graph.post(f"{ROOT}/restoreSessions/{sessions[25]['id']}/activate")
    assert refused.status_code == 500
    assert refused.json()["error"]["code"] == "TooManyActiveRestoreSessions"
    tenant.control.advance_clock(3 * STEP, tenant.id)
    assert graph.post(f"{ROOT}/restoreSessions/{sessions[25]['id']}/activate").status_code == 200


def test_delete_in_draft_and_polymorphic_list(tenant, graph):
    _, units = _protected_exchange(tenant, graph, count=1)
    session = graph.post(
        f"{ROOT}/exchangeRestoreSessions",
        json={"mailboxRestoreArtifacts": _artifacts(graph, [units[0]["id"]])},
    ).json()
    listed = graph.get(f"{ROOT}/restoreSessions").json()["value"]
    assert [s["@odata.type"] for s in listed] == ["#microsoft.graph.exchangeRestoreSession"]
    assert graph.delete(f"{ROOT}/restoreSessions/{session['id']}").status_code == 204
    assert graph.get(f"{ROOT}/restoreSessions").json()["value"] == []


def test_restore_needs_a_service_that_allows_it(emulated_tenant):
    tenant = emulated_tenant(consent=True)
    response = tenant.graph().post(
        f"{ROOT}/exchangeRestoreSessions", json={"mailboxRestoreArtifacts": []}
    )
    assert response.status_code == 403
