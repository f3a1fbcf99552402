"""Service status, enable and the serviceApp state machine (reference 2.1 and section 3),
row by row, with delegated tokens as Microsoft requires for activate / deactivate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.emulator import MSP_TENANT_ID, TEST_APP, RegisteredApp, register_app

ROOT = "/solutions/backupRestore"
DAY = 86400
OTHER_APP = RegisteredApp(
    app_id="7d2f1e0c-3b4a-4c5d-8e9f-0a1b2c3d4e5f",
    secret="other-secret",
    display_name="Another Backup Vendor",
    owner_tenant_id="1a2b3c4d-0000-4000-8000-000000000001",
    redirect_uris=("https://localhost/other",),
)
ADMIN_CENTER_APP_ID = "0a4d2e9b-1111-4e6f-9c2d-6f8e0b1a2c3d"  # an unregistered, first-party app


@pytest.fixture(scope="module", autouse=True)
def _other_app(emulator):
    register_app(emulator.control, OTHER_APP)


@pytest.fixture
def tenant(emulated_tenant):
    return emulated_tenant(consent=True)


@pytest.fixture
def control_graph(tenant):
    """Graph with the admin's delegated token (BackupRestore-Control.ReadWrite.All)."""
    return tenant.graph(tenant.delegated_token())


def _in_days(tenant, days):
    now = tenant.control.now(tenant.id)
    return (now + timedelta(days=days)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _app_status(graph, app_id):
    response = graph.get(f"{ROOT}/serviceApps/{app_id}")
    return response.json()["status"] if response.status_code == 200 else response.status_code


def test_root_reports_a_disabled_service_by_default(control_graph):
    body = control_graph.get(ROOT).json()
    assert body["serviceStatus"]["status"] == "disabled"
    assert body["serviceStatus"]["disableReason"] == "none"
    assert body["@odata.context"].endswith("$metadata#solutions/backupRestore/$entity")


def test_root_needs_a_control_permission(tenant):
    response = tenant.graph().get(ROOT)  # app token: Configuration/Restore/Search roles only
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_register_then_activate_without_controller_then_enable(tenant, control_graph):
    created = control_graph.post(f"{ROOT}/serviceApps", json={})
    assert created.status_code == 202
    assert created.headers["Content-Location"].endswith(f"/serviceApps/{TEST_APP.app_id}")
    app = created.json()
    assert app["status"] == "inactive" and app["registrationDateTime"]
    assert app["application"] == {"id": TEST_APP.app_id, "displayName": TEST_APP.display_name}

    activated = control_graph.post(f"{ROOT}/serviceApps/{TEST_APP.app_id}/activate", json={})
    assert activated.status_code == 202 and activated.json()["status"] == "active"
    assert "Content-Location" in activated.headers

    wrong_owner = control_graph.post(f"{ROOT}/enable", json={"appOwnerTenantId": tenant.id})
    assert wrong_owner.status_code == 400
    assert wrong_owner.json()["error"]["code"] == "InvalidAppOwnerTenantId"
    enabled = control_graph.post(f"{ROOT}/enable", json={"appOwnerTenantId": MSP_TENANT_ID})
    assert enabled.status_code == 200
    status = enabled.json()
    assert status["@odata.type"] == "#microsoft.graph.serviceStatus"
    assert status["status"] == "enabled" and status["backupServiceConsumer"] == "thirdparty"
    beta = tenant.graph(tenant.delegated_token(), version="beta").post(
        f"{ROOT}/enable", json={"appOwnerTenantId": MSP_TENANT_ID}
    )
    assert beta.json()["value"]["status"] == "enabled"  # beta wraps it in "value"
    assert control_graph.get(ROOT).json()["serviceStatus"]["status"] == "enabled"


def test_register_needs_an_empty_object_body(control_graph):
    assert control_graph.post(f"{ROOT}/serviceApps").status_code == 400


def test_activate_and_deactivate_are_delegated_only(tenant, control_graph):
    control_graph.post(f"{ROOT}/serviceApps", json={})
    app_only = tenant.graph(
        tenant.control.mint_token(
            tenant.id, app_id=TEST_APP.app_id, roles=["BackupRestore-Control.ReadWrite.All"]
        )
    )
    assert app_only.post(f"{ROOT}/serviceApps", json={}).status_code == 202  # A,D
    for action in ("activate", "deactivate"):
        response = app_only.post(f"{ROOT}/serviceApps/{TEST_APP.app_id}/{action}", json={})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_enable_needs_an_active_controller_and_a_billing_policy(emulator, tenant, control_graph):
    refused = control_graph.post(f"{ROOT}/enable", json={"appOwnerTenantId": MSP_TENANT_ID})
    assert refused.status_code == 403
    register_app(emulator.control, has_billing_policy=False)
    try:
        control_graph.post(f"{ROOT}/serviceApps", json={})
        control_graph.post(f"{ROOT}/serviceApps/{TEST_APP.app_id}/activate", json={})
        no_billing = control_graph.post(f"{ROOT}/enable", json={"appOwnerTenantId": MSP_TENANT_ID})
        assert no_billing.status_code == 402
        assert no_billing.json()["error"]["code"] == "InvalidBillingProfile"
    finally:
        register_app(emulator.control)


def _handover_setup(tenant, control_graph):
    """OTHER_APP is the active controller; the test app is registered (inactive)."""
    tenant.control.set_controller(tenant.id, app_id=OTHER_APP.app_id)
    control_graph.post(f"{ROOT}/serviceApps", json={})


def test_activate_with_a_controller_needs_7_to_30_days(tenant, control_graph):
    _handover_setup(tenant, control_graph)
    url = f"{ROOT}/serviceApps/{TEST_APP.app_id}/activate"
    for body in (
        {},
        {"effectiveDateTime": _in_days(tenant, 3)},
        {"effectiveDateTime": _in_days(tenant, 45)},
    ):
        assert control_graph.post(url, json=body).status_code == 400
    pending = control_graph.post(url, json={"effectiveDateTime": _in_days(tenant, 10)})
    assert pending.status_code == 202
    assert pending.json()["status"] == "pendingActive" and pending.json()["effectiveDateTime"]
    assert _app_status(control_graph, OTHER_APP.app_id) == "pendingInactive"
    # Another change is already pending.
    assert (
        control_graph.post(url, json={"effectiveDateTime": _in_days(tenant, 10)}).status_code == 403
    )
    tenant.control.advance_clock(9 * DAY, tenant.id)
    assert _app_status(control_graph, TEST_APP.app_id) == "pendingActive"
    tenant.control.advance_clock(DAY + 60, tenant.id)
    assert _app_status(control_graph, TEST_APP.app_id) == "active"
    assert _app_status(control_graph, OTHER_APP.app_id) == "inactive"


def test_pending_active_app_is_read_only(tenant, control_graph):
    _handover_setup(tenant, control_graph)
    control_graph.post(
        f"{ROOT}/serviceApps/{TEST_APP.app_id}/activate",
        json={"effectiveDateTime": _in_days(tenant, 8)},
    )
    graph = tenant.graph()
    assert graph.get(f"{ROOT}/protectionPolicies").status_code == 200
    write = graph.post(f"{ROOT}/exchangeProtectionPolicies", json={"displayName": "p"})
    assert write.status_code == 403
    assert "read-only" in write.json()["error"]["message"]


def test_pending_active_deactivate_returns_to_inactive(tenant, control_graph):
    _handover_setup(tenant, control_graph)
    control_graph.post(
        f"{ROOT}/serviceApps/{TEST_APP.app_id}/activate",
        json={"effectiveDateTime": _in_days(tenant, 8)},
    )
    response = control_graph.post(f"{ROOT}/serviceApps/{TEST_APP.app_id}/deactivate")
    assert response.status_code == 202 and response.json()["status"] == "inactive"
    assert _app_status(control_graph, OTHER_APP.app_id) == "active"


def test_pending_active_delete_keeps_the_old_controller(tenant, control_graph):
    _handover_setup(tenant, control_graph)
    control_graph.post(
        f"{ROOT}/serviceApps/{TEST_APP.app_id}/activate",
        json={"effectiveDateTime": _in_days(tenant, 8)},
    )
    assert control_graph.delete(f"{ROOT}/serviceApps/{TEST_APP.app_id}").status_code == 204
    assert _app_status(control_graph, TEST_APP.app_id) == 404
    assert _app_status(control_graph, OTHER_APP.app_id) == "active"


def test_pending_inactive_deactivate_no_effect_and_delete_403(emulated_tenant):
    tenant = emulated_tenant(consent=True)
    admin_graph = tenant.graph(tenant.delegated_token())
    # The test app is the controller; OTHER_APP asks to take over in 7 days.
    tenant.enable_backup()
    other = tenant.control.mint_token(
        tenant.id,
        app_id=OTHER_APP.app_id,
        user=tenant.admin.id,
        scopes=["BackupRestore-Control.ReadWrite.All"],
    )
    other_graph = tenant.graph(other)
    other_graph.post(f"{ROOT}/serviceApps", json={})
    other_graph.post(
        f"{ROOT}/serviceApps/{OTHER_APP.app_id}/activate",
        json={"effectiveDateTime": _in_days(tenant, 7)},
    )
    assert _app_status(admin_graph, TEST_APP.app_id) == "pendingInactive"
    unchanged = admin_graph.post(f"{ROOT}/serviceApps/{TEST_APP.app_id}/deactivate")
    assert unchanged.status_code == 202 and unchanged.json()["status"] == "pendingInactive"
    assert admin_graph.delete(f"{ROOT}/serviceApps/{TEST_APP.app_id}").status_code == 403
    # While pendingInactive the app keeps full access.
    created = tenant.graph().post(
        f"{ROOT}/exchangeProtectionPolicies", json={"displayName": "still mine"}
    )
    assert created.status_code == 201


def test_active_deactivate_is_403(tenant, control_graph):
    tenant.enable_backup()
    response = control_graph.post(f"{ROOT}/serviceApps/{TEST_APP.app_id}/deactivate")
    assert response.status_code == 403


def test_inactive_deactivate_no_effect_and_delete_unregisters(control_graph):
    control_graph.post(f"{ROOT}/serviceApps", json={})
    response = control_graph.post(f"{ROOT}/serviceApps/{TEST_APP.app_id}/deactivate")
    assert response.status_code == 202 and response.json()["status"] == "inactive"
    assert control_graph.delete(f"{ROOT}/serviceApps/{TEST_APP.app_id}").status_code == 204
    assert control_graph.get(f"{ROOT}/serviceApps").json()["value"] == []


def test_deleting_the_active_controller_starts_the_grace_periods(tenant, control_graph):
    tenant.enable_backup()
    start = tenant.control.now(tenant.id)
    assert control_graph.delete(f"{ROOT}/serviceApps/{TEST_APP.app_id}").status_code == 204
    status = control_graph.get(ROOT).json()["serviceStatus"]
    grace = datetime.fromisoformat(status["gracePeriodDateTime"].replace("Z", "+00:00"))
    till = datetime.fromisoformat(status["restoreAllowedTillDateTime"].replace("Z", "+00:00"))
    assert abs((grace - start).total_seconds() - 7 * DAY) < 5
    assert abs((till - grace).total_seconds() - 30 * DAY) < 5
    assert status["status"] == "enabled"
    # The deleted app lost access at once.
    denied = tenant.graph().post(f"{ROOT}/exchangeProtectionPolicies", json={"displayName": "x"})
    assert denied.status_code == 403
    tenant.control.advance_clock(7 * DAY + 60, tenant.id)
    locked = control_graph.get(ROOT).json()["serviceStatus"]
    assert locked["status"] == "protectionChangeLocked"
    assert locked["disableReason"] == "unknownFutureValue"  # evolvable member, no Prefer
    preferred = control_graph.get(ROOT, headers={"Prefer": "include-unknown-enum-members"}).json()[
        "serviceStatus"
    ]
    assert preferred["disableReason"] == "controllerServiceAppDeleted"
    tenant.control.advance_clock(30 * DAY, tenant.id)
    assert control_graph.get(ROOT).json()["serviceStatus"]["status"] == "disabled"


def test_first_party_controller_hand_over(tenant, control_graph):
    tenant.control.set_controller(tenant.id, app_id=ADMIN_CENTER_APP_ID)
    root = control_graph.get(ROOT).json()["serviceStatus"]
    assert root["status"] == "enabled" and root["backupServiceConsumer"] == "firstparty"
    assert control_graph.get(f"{ROOT}/serviceApps").json()["value"] == []
    control_graph.post(f"{ROOT}/serviceApps", json={})
    pending = control_graph.post(
        f"{ROOT}/serviceApps/{TEST_APP.app_id}/activate",
        json={"effectiveDateTime": _in_days(tenant, 14)},
    )
    assert pending.json()["status"] == "pendingActive"
    tenant.control.advance_clock(14 * DAY + 60, tenant.id)
    assert _app_status(control_graph, TEST_APP.app_id) == "active"
    assert (
        tenant.graph()
        .post(f"{ROOT}/exchangeProtectionPolicies", json={"displayName": "after hand-over"})
        .status_code
        == 201
    )
