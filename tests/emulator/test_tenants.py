"""Control API for tenants and clocks, determinism of generated data, persistence across a
restart, and loading tenants from a file."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from m365.emulator.testing import (
    EmulatorControlError,
    Pkce,
    authorize,
    redeem_code,
    refresh,
    run_emulator,
)
from tests.fixtures.emulator import TEST_APP, register_app

ROOT = "/solutions/backupRestore"


def _domain() -> str:
    return f"d{uuid.uuid4().hex[:12]}.example.com"


def test_tenant_creation_validation(emulator):
    control = emulator.control
    for body in ({"users": 9}, {"users": 100_001}, {"users": "ten"}):
        with pytest.raises(EmulatorControlError) as caught:
            control.create_tenant(domain=_domain(), seed=1, **body)
        assert caught.value.status == 400
    with pytest.raises(EmulatorControlError):
        control.create_tenant(domain="not a domain", seed=1, users=10)
    domain = _domain()
    created = control.create_tenant(domain=domain, seed=5, users=10)
    try:
        with pytest.raises(EmulatorControlError) as caught:
            control.create_tenant(domain=domain, seed=6, users=10)
        assert caught.value.status == 409
        assert created.id in {t.id for t in control.list_tenants()}
        assert control.get_tenant(domain).id == created.id
    finally:
        control.delete_tenant(created.id)
    with pytest.raises(EmulatorControlError) as caught:
        control.get_tenant(created.id)
    assert caught.value.status == 404
    again = control.create_tenant(domain=domain, seed=5, users=10)
    assert again.id == created.id  # the default id derives from (seed, domain)
    control.delete_tenant(again.id)


def test_directory_users_roles_and_passwords(emulated_tenant):
    tenant = emulated_tenant()
    roles = {u.user_principal_name.split("@")[0]: u.roles for u in tenant.info.directory_users}
    assert roles == {
        "admin": ("Global Administrator",),
        "backup.admin": ("Microsoft 365 Backup Administrator",),
        "privileged.admin": ("Privileged Role Administrator",),
        "user": (),
    }
    assert len({u.password for u in tenant.info.directory_users}) == 4
    with pytest.raises(EmulatorControlError) as caught:
        tenant.control.set_roles(tenant.id, tenant.user.id, ["Supreme Leader"])
    assert caught.value.status == 400
    assert tenant.control.disable_user(tenant.id, tenant.user.id).account_enabled is False
    assert tenant.control.enable_user(tenant.id, tenant.user.id).account_enabled is True


def test_same_seed_same_data_different_ids(emulated_tenant):
    first = emulated_tenant(users=60, seed=99, consent=True)
    second = emulated_tenant(users=60, seed=99, consent=True)
    other_seed = emulated_tenant(users=60, seed=100, consent=True)

    def users(tenant):
        return (
            tenant.graph()
            .get("/users?$top=999&$select=id,displayName,assignedLicenses,accountEnabled")
            .json()["value"]
        )

    def sizes(tenant):
        rows = (
            tenant.graph()
            .get("/reports/getMailboxUsageDetail(period='D7')?$format=application/json&$top=999")
            .json()["value"]
        )
        return [r["storageUsedInBytes"] for r in rows]

    a, b, c = users(first), users(second), users(other_seed)
    strip = [{k: v for k, v in u.items() if k != "id"} for u in a]
    assert strip == [{k: v for k, v in u.items() if k != "id"} for u in b]
    assert {u["id"] for u in a}.isdisjoint({u["id"] for u in b})
    assert [u["displayName"] for u in a] != [u["displayName"] for u in c]
    assert sizes(first) == sizes(second) != sizes(other_seed)


def test_sizes_grow_with_the_tenant_clock(emulated_tenant):
    tenant = emulated_tenant(users=20, consent=True)
    graph = tenant.graph()
    used_before = graph.get(f"/users/{tenant.admin.id}/drive").json()["quota"]["used"]
    before = tenant.control.now(tenant.id)
    after = tenant.control.advance_clock(30 * 86400, tenant.id)
    assert (after - before).days >= 30
    used_after = graph.get(f"/users/{tenant.admin.id}/drive").json()["quota"]["used"]
    assert used_after > used_before


def test_clocks_never_go_back(emulator, emulated_tenant):
    tenant = emulated_tenant()
    with pytest.raises(EmulatorControlError) as caught:
        tenant.control.advance_clock(-1, tenant.id)
    assert caught.value.status == 400
    tenant_before = tenant.control.now(tenant.id)
    global_before = emulator.control.now()
    emulator.control.advance_clock(0)
    assert emulator.control.now() >= global_before
    assert tenant.control.now(tenant.id) >= tenant_before


def test_control_api_errors_are_json(emulator):
    with emulator.http() as http:
        for method, path, body in (
            ("GET", "/_emulator/tenants/00000000-0000-4000-8000-000000000000", None),
            ("POST", "/_emulator/tenants", b"{broken"),
            ("PUT", "/_emulator/apps/not-a-guid", b"{}"),
            ("DELETE", "/_emulator/health", None),
            ("GET", "/_emulator/nothing", None),
        ):
            response = http.request(method, path, content=body)
            assert 400 <= response.status_code < 500
            assert set(response.json()["error"]) == {"code", "message"}


def test_state_survives_a_restart(tmp_path):
    with run_emulator(state_dir=tmp_path / "state") as emu:
        register_app(emu.control)
        info = emu.control.create_tenant(domain=_domain(), seed=11, users=30)
        from m365.emulator.testing import admin_consent

        assert (
            admin_consent(emu, info.id, TEST_APP.app_id, TEST_APP.redirect_uri, info.admin).params[
                "admin_consent"
            ]
            == "True"
        )
        emu.control.set_controller(info.id, app_id=TEST_APP.app_id)
        pkce = Pkce.new()
        flow = authorize(
            emu, info.id, TEST_APP.app_id, TEST_APP.redirect_uri, info.admin, pkce=pkce
        )
        tokens = redeem_code(
            emu,
            info.id,
            TEST_APP.app_id,
            TEST_APP.secret,
            TEST_APP.redirect_uri,
            flow.params["code"],
            pkce,
        ).json()
        app_token = emu.control.mint_token(
            info.id,
            app_id=TEST_APP.app_id,
            roles=["BackupRestore-Configuration.ReadWrite.All", "User.Read.All"],
        )
        headers = {"Authorization": f"Bearer {app_token}"}
        with emu.http(headers=headers) as graph:
            policy = graph.post(
                f"/v1.0{ROOT}/exchangeProtectionPolicies", json={"displayName": "Persisted"}
            ).json()
            graph.post(f"/v1.0{ROOT}/protectionPolicies/{policy['id']}/activate")
        emu.control.advance_clock(3600, info.id)
        emu.control.set_faults(info.id, page_size={"users": 3})
        emu.control.disable_user(info.id, info.user.user_principal_name)
        clock_before = emu.control.now(info.id)
        ca_before = Path(emu.ca_path).read_text()
        port = emu.port

        emu.restart()

        assert emu.port == port and Path(emu.ca_path).read_text() == ca_before
        assert emu.control.get_tenant(info.id).domain == info.domain
        assert emu.control.now(info.id) >= clock_before
        assert emu.control.get_user(info.id, info.user.id).account_enabled is False
        with emu.http(headers=headers) as graph:  # the signing key survived too
            shown = graph.get(f"/v1.0{ROOT}/protectionPolicies/{policy['id']}").json()
            assert shown["displayName"] == "Persisted" and shown["status"] == "active"
            assert len(graph.get("/v1.0/users").json()["value"]) == 3  # faults kept
        renewed = refresh(emu, info.id, TEST_APP.app_id, TEST_APP.secret, tokens["refresh_token"])
        assert renewed.status_code == 200, renewed.text
        from m365.emulator.testing import client_credentials_token

        consented = client_credentials_token(emu, info.id, TEST_APP.app_id, TEST_APP.secret)
        assert consented.status_code == 200  # the service principal and grants survived
        assert emu.control.get_app(TEST_APP.app_id)["displayName"] == TEST_APP.display_name


def test_tenants_file_is_loaded_at_start(tmp_path):
    path = tmp_path / "tenants.json"
    domain = _domain()
    path.write_text(
        json.dumps(
            {
                "apps": [
                    {
                        "appId": TEST_APP.app_id,
                        "displayName": "From file",
                        "secret": "s",
                        "ownerTenantId": "5e1c0d2a-7b3f-4c6e-9a1d-2f8b4c6d8e0a",
                    }
                ],
                "tenants": [{"domain": domain, "seed": 3, "users": 25}],
            }
        )
    )
    with run_emulator(state_dir=tmp_path / "state", tenants_file=path) as emu:
        assert [t.domain for t in emu.control.list_tenants()] == [domain]
        assert emu.control.get_app(TEST_APP.app_id)["displayName"] == "From file"
        emu.restart()  # loading twice keeps the existing tenant
        assert len(emu.control.list_tenants()) == 1
        with httpx.Client(verify=False) as insecure:
            with pytest.raises(httpx.HTTPError):
                httpx.get(f"{emu.base_url}/_emulator/health", timeout=5)
            assert insecure.get(f"{emu.base_url}/_emulator/health").status_code == 200


def test_durations_can_be_configured(tmp_path):
    with run_emulator(state_dir=tmp_path / "fast", durations={"unit_protect": 5}) as emu:
        register_app(emu.control)
        info = emu.control.create_tenant(domain=_domain(), seed=4, users=12)
        emu.control.set_controller(info.id, app_id=TEST_APP.app_id)
        token = emu.control.mint_token(
            info.id, app_id=TEST_APP.app_id, roles=["BackupRestore-Configuration.ReadWrite.All"]
        )
        with emu.http(headers={"Authorization": f"Bearer {token}"}) as graph:
            policy = graph.post(
                f"/v1.0{ROOT}/exchangeProtectionPolicies",
                json={
                    "displayName": "p",
                    "mailboxProtectionUnits": [{"directoryObjectId": info.admin.id}],
                },
            ).json()
            graph.post(f"/v1.0{ROOT}/protectionPolicies/{policy['id']}/activate")
            emu.control.advance_clock(5, info.id)
            shown = graph.get(f"/v1.0{ROOT}/protectionPolicies/{policy['id']}").json()
            assert shown["status"] == "active"


def test_site_can_be_deleted_by_url(emulated_tenant):
    tenant = emulated_tenant(consent=True)
    graph = tenant.graph()
    site = graph.get("/sites?search=*").json()["value"][1]
    tenant.control.delete_site(tenant.id, site["webUrl"])
    assert graph.get(f"/sites/{site['id']}").status_code == 404
