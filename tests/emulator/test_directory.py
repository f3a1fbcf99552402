"""Directory reads over Graph: users, groups, roles, sites, drives, principals, auth errors."""

from __future__ import annotations

import pytest

from tests.fixtures.emulator import TEST_APP

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


@pytest.fixture
def tenant(emulated_tenant):
    return emulated_tenant(users=120, consent=True)


def _all_pages(graph, url, **kwargs):
    items, pages = [], 0
    while url:
        response = graph.get(url, **kwargs)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["value"]
        pages += 1
        url = body.get("@odata.nextLink")
        kwargs = {"headers": kwargs.get("headers")} if kwargs.get("headers") else {}
    return items, pages


# ---- authentication and permissions --------------------------------------------------


def test_missing_bad_and_expired_tokens_answer_401(emulator, tenant):
    with emulator.http() as http:
        missing = http.get("/v1.0/users")
        bad = http.get("/v1.0/users", headers={"Authorization": "Bearer not-a-jwt"})
        expired = http.get(
            "/v1.0/users",
            headers={
                "Authorization": "Bearer "
                + (
                    tenant.control.mint_token(
                        tenant.id,
                        app_id=TEST_APP.app_id,
                        roles=["User.Read.All"],
                        lifetime_seconds=-3600,
                    )
                )
            },
        )
    for response in (missing, bad, expired):
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["code"] == "InvalidAuthenticationToken"
        assert {"date", "request-id", "client-request-id"} <= set(error["innerError"])
    assert "expired" in expired.json()["error"]["message"]


def test_missing_permission_answers_403_authorization_request_denied(tenant):
    for permission in ("User.Read.All", "Directory.Read.All"):
        tenant.control.revoke_grant(tenant.id, app_id=TEST_APP.app_id, permission=permission)
    graph = tenant.graph()
    response = graph.get("/users")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"
    assert graph.get("/groups").status_code == 200  # Group.Read.All is still granted


def test_higher_privileges_are_accepted(tenant):
    token = tenant.control.mint_token(
        tenant.id, app_id=TEST_APP.app_id, roles=["Directory.ReadWrite.All"]
    )
    assert tenant.graph(token).get("/users").status_code == 200


# ---- users ---------------------------------------------------------------------------


def test_users_page_with_next_links_and_exact_totals(tenant):
    graph = tenant.graph()
    first = graph.get("/users").json()
    assert first["@odata.context"].endswith("/v1.0/$metadata#users")
    assert len(first["value"]) == 100
    assert first["@odata.nextLink"].startswith(f"{tenant.emulator.base_url}/v1.0/users?")
    assert "$skiptoken=" in first["@odata.nextLink"]
    users, pages = _all_pages(graph, "/users?$top=7")
    assert len(users) == 120 and pages == 18
    assert len({u["id"] for u in users}) == 120


def test_users_top_is_capped_at_999(tenant):
    graph = tenant.graph()
    assert graph.get("/users?$top=999").status_code == 200
    response = graph.get("/users?$top=1000")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Request_BadRequest"


def test_users_select_and_default_properties(tenant):
    graph = tenant.graph()
    default = graph.get("/users?$top=1").json()["value"][0]
    assert "accountEnabled" not in default and "userPrincipalName" in default
    chosen = graph.get("/users?$top=3&$select=id,mail,accountEnabled,assignedLicenses")
    assert set(chosen.json()["value"][0]) == {"id", "mail", "accountEnabled", "assignedLicenses"}
    beta = tenant.graph(version="beta").get("/users?$top=1").json()["value"][0]
    assert "accountEnabled" in beta
    unknown = graph.get("/users?$select=nonsense")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "BadRequest"


def test_users_filter_and_count(tenant):
    graph = tenant.graph()
    select = "$select=id,mail,accountEnabled,assignedLicenses,userPrincipalName"
    everyone, _ = _all_pages(graph, f"/users?$top=999&{select}")
    disabled, _ = _all_pages(graph, f"/users?$filter=accountEnabled eq false&{select}")
    assert disabled == [u for u in everyone if u["accountEnabled"] is False]
    assert disabled and all(u["mail"] for u in disabled)  # shared mailboxes
    unlicensed = [u for u in everyone if not u["assignedLicenses"]]
    assert any(u["mail"] is None for u in unlicensed)  # unlicensed users have no mailbox
    counted = graph.get(
        "/users?$count=true&$filter=accountEnabled eq false",
        headers={"ConsistencyLevel": "eventual"},
    ).json()
    assert counted["@odata.count"] == len(disabled)
    needs_header = graph.get("/users?$count=true")
    assert needs_header.status_code == 400
    plain = graph.get("/users/$count", headers={"ConsistencyLevel": "eventual"})
    assert plain.text == "120"
    by_upn = graph.get(f"/users?$filter=userPrincipalName eq '{tenant.admin.user_principal_name}'")
    assert [u["id"] for u in by_upn.json()["value"]] == [tenant.admin.id]
    bad = graph.get("/users?$filter=accountEnabled eq")
    assert bad.status_code == 400


def test_get_user_by_id_and_upn_and_404(tenant):
    graph = tenant.graph()
    by_id = graph.get(f"/users/{tenant.admin.id}").json()
    by_upn = graph.get(f"/users/{tenant.admin.user_principal_name}").json()
    assert by_id == by_upn
    assert by_id["@odata.context"].endswith("#users/$entity")
    missing = graph.get("/users/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_user_drive_and_missing_onedrive(tenant):
    graph = tenant.graph()
    users, _ = _all_pages(graph, "/users?$top=999&$select=id,assignedLicenses,mail")
    licensed = next(u for u in users if u["assignedLicenses"])
    drive = graph.get(f"/users/{licensed['id']}/drive").json()
    assert drive["driveType"] == "business" and drive["quota"]["used"] > 0
    without = next(u for u in users if not u["assignedLicenses"])
    missing = graph.get(f"/users/{without['id']}/drive")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "itemNotFound"


def test_member_of_directory_roles(tenant):
    graph = tenant.graph()
    roles = graph.get(f"/users/{tenant.admin.id}/memberOf/microsoft.graph.directoryRole")
    assert [(r["displayName"], r["roleTemplateId"]) for r in roles.json()["value"]] == [
        ("Global Administrator", "62e90394-69f5-4237-9190-012177145e10")
    ]
    tenant.control.set_roles(
        tenant.id, tenant.user.user_principal_name, ["Microsoft 365 Backup Administrator"]
    )
    roles = graph.get(f"/users/{tenant.user.id}/memberOf/microsoft.graph.directoryRole").json()
    assert [r["roleTemplateId"] for r in roles["value"]] == ["1707125e-0aa2-4d4d-8655-a7c786c76a25"]
    listed = graph.get("/directoryRoles").json()["value"]
    backup_role = next(r for r in listed if r["displayName"].endswith("Backup Administrator"))
    members = graph.get(f"/directoryRoles/{backup_role['id']}/members").json()["value"]
    assert {m["userPrincipalName"] for m in members} == {
        tenant.backup_admin.user_principal_name,
        tenant.user.user_principal_name,
    }


def test_deleted_user_disappears(tenant):
    graph = tenant.graph()
    tenant.control.delete_user(tenant.id, tenant.user.user_principal_name)
    assert graph.get(f"/users/{tenant.user.id}").status_code == 404
    users, _ = _all_pages(graph, "/users?$top=999")
    assert len(users) == 119


# ---- groups and sites ----------------------------------------------------------------


def test_groups_unified_teams_and_members(tenant):
    graph = tenant.graph()
    groups, _ = _all_pages(graph, "/groups")
    assert len(groups) == tenant.info.groups
    unified, _ = _all_pages(graph, "/groups?$filter=groupTypes/any(c:c eq 'Unified')")
    assert unified == [g for g in groups if "Unified" in g["groupTypes"]]
    teams = [g for g in unified if "Team" in g["resourceProvisioningOptions"]]
    assert teams and any(g not in unified for g in groups)
    members = graph.get(f"/groups/{teams[0]['id']}/members").json()["value"]
    assert members and all(m["@odata.type"] == "#microsoft.graph.user" for m in members)
    drive = graph.get(f"/groups/{teams[0]['id']}/drive").json()
    assert drive["driveType"] == "documentLibrary"


def test_sites_listing_search_and_drive(tenant):
    graph = tenant.graph()
    all_sites, _ = _all_pages(graph, "/sites/getAllSites")
    searched, _ = _all_pages(graph, "/sites?search=*")
    assert searched == [s for s in all_sites if not s["isPersonalSite"]]
    personal = [s for s in all_sites if s["isPersonalSite"]]
    assert personal and all("-my.sharepoint.com/personal/" in s["webUrl"] for s in personal)
    site = searched[1]
    host, collection, web = site["id"].split(",")
    assert host == tenant.info.sharepoint_host and len(collection) == len(web) == 36
    assert graph.get(f"/sites/{site['id']}").json()["webUrl"] == site["webUrl"]
    assert graph.get(f"/sites/{site['id']}/drive").json()["quota"]["used"] > 0
    tenant.control.delete_site(tenant.id, site["id"])
    assert graph.get(f"/sites/{site['id']}").status_code == 404
    assert len(_all_pages(graph, "/sites?search=*")[0]) == len(searched) - 1


def test_organization(tenant):
    org = tenant.graph().get("/organization").json()["value"][0]
    assert org["id"] == tenant.id
    assert {d["name"] for d in org["verifiedDomains"]} == {
        tenant.domain,
        tenant.info.initial_domain,
    }


# ---- service principals and grants ---------------------------------------------------


def test_service_principal_grants_after_consent(tenant):
    token = tenant.control.mint_token(
        tenant.id,
        app_id=TEST_APP.app_id,
        roles=["Application.Read.All", "AppRoleAssignment.ReadWrite.All"],
    )
    graph = tenant.graph(token)
    sps = graph.get(f"/servicePrincipals?$filter=appId eq '{TEST_APP.app_id}'").json()["value"]
    assert len(sps) == 1
    sp = sps[0]
    assignments = graph.get(f"/servicePrincipals/{sp['id']}/appRoleAssignments").json()["value"]
    assert len(assignments) == 11
    graph_sp = graph.get(f"/servicePrincipals?$filter=appId eq '{GRAPH_APP_ID}'").json()["value"][0]
    role_values = {r["id"]: r["value"] for r in graph_sp["appRoles"]}
    graph_roles = {
        role_values[a["appRoleId"]] for a in assignments if a["resourceId"] == graph_sp["id"]
    }
    assert "Reports.Read.All" in graph_roles and len(graph_roles) == 8
    grants = graph.get(
        f"/oauth2PermissionGrants?$filter=clientId eq '{sp['id']}'",
        headers={
            "Authorization": "Bearer "
            + tenant.control.mint_token(
                tenant.id, app_id=TEST_APP.app_id, roles=["Directory.Read.All"]
            )
        },
    )
    assert [(g["consentType"], g["scope"]) for g in grants.json()["value"]] == [
        ("AllPrincipals", "BackupRestore-Control.ReadWrite.All")
    ]
    reports = next(a for a in assignments if role_values.get(a["appRoleId"]) == "Reports.Read.All")
    deleted = graph.delete(f"/servicePrincipals/{sp['id']}/appRoleAssignments/{reports['id']}")
    assert deleted.status_code == 204
    remaining = graph.get(f"/servicePrincipals/{sp['id']}/appRoleAssignments").json()["value"]
    assert len(remaining) == 10


# ---- bad input -----------------------------------------------------------------------


def test_unknown_segment_and_wrong_method(tenant):
    graph = tenant.graph()
    unknown = graph.get("/nonsense")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "BadRequest"
    wrong = graph.put("/users", json={})
    assert wrong.status_code == 405
    assert wrong.json()["error"]["message"]


def test_me_needs_a_delegated_token(tenant):
    token = tenant.control.mint_token(
        tenant.id, app_id=TEST_APP.app_id, user=tenant.backup_admin.id, scopes=["User.Read"]
    )
    me = tenant.graph(token).get("/me").json()
    assert me["userPrincipalName"] == tenant.backup_admin.user_principal_name
    app_only = tenant.graph().get("/me")
    assert app_only.status_code == 403
