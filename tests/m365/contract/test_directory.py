"""Directory reads against the emulator: organization, users (paged), drives, roles, groups,
members, sites, service principals and grants, and Authorization_RequestDenied."""

from __future__ import annotations

import math

import pytest

from m365.auth import AppTokenProvider
from m365.directory import applications, groups, sites, users
from m365.errors import ErrorCode, GraphForbidden, GraphNotFound
from m365.graph import GraphClient
from tests.m365.contract.conftest import (
    GRAPH,
    ROLES,
    admin_consent,
    login,
    make_settings,
    register_app,
)


def test_organization(graph, tenant):
    org = users.get_organization(graph)
    assert org.id == tenant.id
    assert tenant.domain in {d.name for d in org.verified_domains}
    assert org.initial_domain.endswith(".onmicrosoft.com")


def test_users_stream_page_by_page(control, graph, tenant):
    control.set_faults(tenant.id, page_size={"users": 7})
    before = graph.stats.requests
    pages = list(graph.iter_pages("/users", {"$select": "id"}))
    assert len(pages) == math.ceil(tenant.info.users / 7)
    assert all(len(page.items) <= 7 for page in pages)
    everyone = list(users.iter_users(graph, page_size=5))
    assert len(everyone) == tenant.info.users
    assert len({u.id for u in everyone}) == tenant.info.users
    assert graph.stats.requests - before == len(pages) + math.ceil(tenant.info.users / 5)
    admin = next(u for u in everyone if u.user_principal_name.startswith("admin@"))
    assert admin.account_enabled is True and admin.display_name


def test_disabled_users_filter_and_shared_mailboxes(graph, tenant):
    disabled = list(users.iter_users(graph, filter="accountEnabled eq false"))
    assert all(u.account_enabled is False for u in disabled)
    everyone = list(users.iter_users(graph))
    assert {u.id for u in disabled} == {u.id for u in everyone if u.account_enabled is False}


def test_user_by_id_and_upn_and_unknown(graph, tenant):
    upn, _ = login(tenant, "user")
    by_upn = users.get_user(graph, upn)
    assert users.get_user(graph, by_upn.id) == by_upn
    with pytest.raises(GraphNotFound) as caught:
        users.get_user(graph, "00000000-0000-0000-0000-000000000001")
    assert caught.value.request_id


def test_user_drive_present_or_absent(graph):
    seen_drive = seen_none = False
    for user in users.iter_users(graph):
        drive = users.get_user_drive(graph, user.id)
        if drive is None:
            seen_none = True
        else:
            seen_drive = True
            assert drive.quota_used is not None and drive.quota_used >= 0
        if seen_drive and seen_none:
            break
    assert seen_drive and seen_none, "a tenant of 40 users should have both kinds"


def test_directory_roles_of_admins(graph, tenant):
    admin_upn, _ = login(tenant, "admin")
    roles = {r.role_template_id for r in users.iter_user_directory_roles(graph, admin_upn)}
    assert users.GLOBAL_ADMINISTRATOR in roles
    backup_upn, _ = login(tenant, "backup.admin")
    roles = {r.role_template_id for r in users.iter_user_directory_roles(graph, backup_upn)}
    assert users.BACKUP_ADMINISTRATOR in roles
    plain_upn, _ = login(tenant, "user")
    assert list(users.iter_user_directory_roles(graph, plain_upn)) == []
    listed = {r.role_template_id: r for r in users.iter_directory_roles(graph)}
    members = users.iter_directory_role_members(graph, listed[users.GLOBAL_ADMINISTRATOR].id)
    assert admin_upn in {m.user_principal_name for m in members}


def test_groups_teams_and_members(graph):
    everything = list(groups.iter_groups(graph))
    unified = list(groups.iter_groups(graph, microsoft_365_only=True))
    assert unified and all(g.is_microsoft_365 for g in unified)
    assert {g.id for g in unified} == {g.id for g in everything if g.is_microsoft_365}
    assert any(g.is_team for g in unified)
    members = list(groups.iter_group_members(graph, unified[0].id, page_size=3))
    assert members and all(m.id for m in members)


def test_sites_and_site_drive(graph):
    found = list(sites.iter_sites(graph))
    assert found and all(not s.is_personal_site for s in found)
    assert all(s.id.count(",") == 2 for s in found)
    with_personal = list(sites.iter_sites(graph, include_personal=True))
    assert len(with_personal) >= len(found)
    drive = sites.get_site_drive(graph, found[0].id)
    assert drive.quota_used is not None
    assert sites.get_site(graph, found[0].id).web_url == found[0].web_url
    searched = list(sites.search_sites(graph))
    assert {s.id for s in found} <= {s.id for s in searched}


def test_service_principal_roles_and_grants(graph, settings):
    mine = applications.find_service_principal(graph, settings.client_id)
    assert mine is not None and mine.app_id == settings.client_id
    stranger = "11111111-2222-3333-4444-555555555555"
    assert applications.find_service_principal(graph, stranger) is None
    assignments = list(applications.iter_app_role_assignments(graph, mine.id))
    assert {a.app_role_id for a in assignments} == set(ROLES.values())
    graph_sp = applications.find_service_principal(graph, GRAPH)
    assert graph_sp is not None and any(r.value == "Reports.Read.All" for r in graph_sp.app_roles)
    grants = list(applications.iter_permission_grants(graph, mine.id))
    assert any("BackupRestore-Control.ReadWrite.All" in g.scopes for g in grants)
    granted = applications.granted_permissions(graph, settings.client_id)
    assert granted.missing_application(GRAPH, set(ROLES)) == frozenset()
    assert granted.missing_delegated(GRAPH, {"BackupRestore-Control.ReadWrite.All"}) == frozenset()


def test_revoked_permission_gives_authorization_request_denied(
    control, settings, tenant, app_tokens, sleeps
):
    control.revoke_grant(tenant.id, app_id=settings.client_id, permission="User.Read.All")
    control.revoke_grant(tenant.id, app_id=settings.client_id, permission="Directory.Read.All")
    app_tokens.forget(tenant.id)  # the cached token still carries the old roles
    assert "User.Read.All" not in app_tokens.granted_roles(tenant.id)
    with GraphClient(settings, tenant.id, app_tokens.source(tenant.id), sleep=sleeps) as graph:
        with pytest.raises(GraphForbidden) as caught:
            list(users.iter_users(graph))
        assert caught.value.has_code(ErrorCode.AUTHORIZATION_REQUEST_DENIED)
        assert not caught.value.transient and caught.value.request_id
        # Groups and sites still work: only what was revoked is refused.
        assert list(groups.iter_groups(graph))


def test_app_role_assignment_delete_needs_its_own_permission(
    emulator, control, new_tenant, app_tokens, sleeps
):
    """Our app (least privilege) is refused; an app holding AppRoleAssignment.ReadWrite.All
    removes a grant, as an admin tool would."""
    admin_app = register_app(
        control,
        roles={**ROLES, "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f"},
    )
    admin_settings = make_settings(emulator, admin_app)
    created = new_tenant()
    answer = admin_consent(emulator, admin_settings, created)
    assert answer.get("admin_consent") == "True", answer
    tokens = AppTokenProvider(admin_settings)
    with GraphClient(admin_settings, created.id, tokens.source(created.id), sleep=sleeps) as graph:
        mine = applications.find_service_principal(graph, admin_settings.client_id)
        reports = next(
            a
            for a in applications.iter_app_role_assignments(graph, mine.id)
            if a.app_role_id == ROLES["Reports.Read.All"]
        )
        applications.delete_app_role_assignment(graph, mine.id, reports.id)
        remaining = {a.id for a in applications.iter_app_role_assignments(graph, mine.id)}
        assert reports.id not in remaining
        with pytest.raises(GraphNotFound):
            applications.delete_app_role_assignment(graph, mine.id, reports.id)


def test_least_privileged_app_cannot_delete_grants(settings, graph):
    mine = applications.find_service_principal(graph, settings.client_id)
    assignment = next(applications.iter_app_role_assignments(graph, mine.id))
    with pytest.raises(GraphForbidden) as caught:
        applications.delete_app_role_assignment(graph, mine.id, assignment.id)
    assert caught.value.has_code(ErrorCode.AUTHORIZATION_REQUEST_DENIED)
