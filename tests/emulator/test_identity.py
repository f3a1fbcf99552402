"""Identity platform: discovery, keys, tokens, sign-in, consent, refresh, msal and PyJWT."""

from __future__ import annotations

import jwt
import msal
import pytest
import requests

from m365.emulator.testing import (
    Pkce,
    admin_consent,
    authorize,
    browser_flow,
    client_credentials_token,
    redeem_code,
    refresh,
)
from tests.fixtures.emulator import TEST_APP

SEED_GRAPH_ROLES = {
    "BackupRestore-Configuration.ReadWrite.All",
    "BackupRestore-Restore.ReadWrite.All",
    "BackupRestore-Search.Read.All",
    "Directory.Read.All",
    "User.Read.All",
    "Sites.Read.All",
    "Group.Read.All",
    "Reports.Read.All",
}


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# ---- discovery and keys --------------------------------------------------------------


def test_discovery_by_guid_and_by_domain_names_the_tenant_guid(emulator, emulated_tenant):
    tenant = emulated_tenant()
    with emulator.http() as http:
        by_guid = http.get(f"/{tenant.id}/v2.0/.well-known/openid-configuration").json()
        by_domain = http.get(f"/{tenant.domain}/v2.0/.well-known/openid-configuration").json()
        by_initial = http.get(
            f"/{tenant.info.initial_domain}/v2.0/.well-known/openid-configuration"
        ).json()
    assert by_guid == by_domain == by_initial
    base = emulator.base_url
    assert by_guid["issuer"] == f"{base}/{tenant.id}/v2.0"
    assert by_guid["token_endpoint"] == f"{base}/{tenant.id}/oauth2/v2.0/token"
    assert by_guid["authorization_endpoint"] == f"{base}/{tenant.id}/oauth2/v2.0/authorize"
    assert by_guid["jwks_uri"] == f"{base}/{tenant.id}/discovery/v2.0/keys"
    assert by_guid["tenant_region_scope"]


def test_discovery_of_organizations_uses_the_issuer_template(emulator):
    with emulator.http() as http:
        doc = http.get("/organizations/v2.0/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"{emulator.base_url}/{{tenantid}}/v2.0"


def test_unknown_domain_answers_aadsts90002(emulator):
    with emulator.http() as http:
        response = http.get("/no-such-tenant.example.org/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_tenant"
    assert body["error_codes"] == [90002]
    assert body["error_description"].startswith("AADSTS90002")
    assert {"trace_id", "correlation_id", "timestamp"} <= set(body)


def test_jwks_publishes_an_rsa_key_with_kid(emulator, emulated_tenant):
    tenant = emulated_tenant()
    with emulator.http() as http:
        keys = http.get(f"/{tenant.id}/discovery/v2.0/keys").json()["keys"]
    assert keys and keys[0]["kty"] == "RSA" and keys[0]["kid"]
    assert keys[0]["issuer"] == f"{emulator.base_url}/{tenant.id}/v2.0"


# ---- client credentials and admin consent --------------------------------------------


def test_client_credentials_is_refused_before_consent(emulator, emulated_tenant):
    tenant = emulated_tenant()
    response = client_credentials_token(emulator, tenant.id, TEST_APP.app_id, TEST_APP.secret)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert response.json()["error_codes"] == [700016]


def test_admin_consent_then_token_carries_the_granted_roles(emulator, emulated_tenant):
    tenant = emulated_tenant()
    result = tenant.consent(state="xyz")
    assert result.status == 302
    assert result.location.startswith(TEST_APP.redirect_uri)
    assert result.params["admin_consent"] == "True"
    assert result.params["tenant"] == tenant.id
    assert result.params["state"] == "xyz"
    assert "error" not in result.params
    token = client_credentials_token(emulator, tenant.domain, TEST_APP.app_id, TEST_APP.secret)
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
    claims = _claims(body["access_token"])
    assert set(claims["roles"]) == SEED_GRAPH_ROLES
    assert claims["tid"] == tenant.id and claims["appid"] == TEST_APP.app_id
    assert claims["aud"] == "https://graph.microsoft.com"
    assert {"iat", "nbf", "exp", "oid", "sub", "iss"} <= set(claims)


def test_exchange_and_sharepoint_tokens_carry_their_own_roles(emulator, emulated_tenant):
    tenant = emulated_tenant(consent=True)
    exchange = client_credentials_token(
        emulator,
        tenant.id,
        TEST_APP.app_id,
        TEST_APP.secret,
        scope="https://outlook.office365.com/.default",
    )
    assert _claims(exchange.json()["access_token"])["roles"] == ["Exchange.ManageAsApp"]
    sharepoint = client_credentials_token(
        emulator,
        tenant.id,
        TEST_APP.app_id,
        TEST_APP.secret,
        scope=f"https://{tenant.info.sharepoint_host}/.default",
    )
    assert set(_claims(sharepoint.json()["access_token"])["roles"]) == {
        "Sites.FullControl.All",
        "User.Read.All",
    }


def test_client_credentials_errors(emulator, emulated_tenant):
    tenant = emulated_tenant(consent=True)
    bad_secret = client_credentials_token(emulator, tenant.id, TEST_APP.app_id, "wrong")
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    bad_scope = client_credentials_token(
        emulator,
        tenant.id,
        TEST_APP.app_id,
        TEST_APP.secret,
        scope="https://graph.microsoft.com/User.Read.All",
    )
    assert bad_scope.status_code == 400 and bad_scope.json()["error"] == "invalid_scope"
    unknown_app = client_credentials_token(
        emulator, tenant.id, "12345678-1234-1234-1234-123456789012", "x"
    )
    assert unknown_app.json()["error"] == "unauthorized_client"


def test_revoked_grant_disappears_from_new_tokens(emulator, emulated_tenant):
    tenant = emulated_tenant(consent=True)
    removed = tenant.control.revoke_grant(
        tenant.id, app_id=TEST_APP.app_id, permission="Reports.Read.All"
    )
    assert removed == ["Role:Microsoft Graph:Reports.Read.All"]
    claims = _claims(tenant.app_token())
    assert "Reports.Read.All" not in claims["roles"]
    assert "User.Read.All" in claims["roles"]


def test_admin_consent_cancel(emulator, emulated_tenant):
    tenant = emulated_tenant()
    result = tenant.consent(decision="cancel", state="s2")
    assert result.params["error"] == "access_denied"
    assert result.params["error_description"].startswith("AADSTS65004")
    assert result.params["admin_consent"] == "True" and result.params["state"] == "s2"
    refused = client_credentials_token(emulator, tenant.id, TEST_APP.app_id, TEST_APP.secret)
    assert refused.status_code == 400


def test_admin_consent_by_non_admin_fails_with_consent_required(emulator, emulated_tenant):
    tenant = emulated_tenant()
    for user in (tenant.user, tenant.backup_admin):
        result = tenant.consent(user=user)
        assert result.params["error"] == "consent_required"
        assert "AADSTS90094" in result.params["error_description"]


def test_privileged_role_administrator_may_consent(emulator, emulated_tenant):
    tenant = emulated_tenant()
    result = tenant.consent(user=tenant.privileged_admin)
    assert result.params.get("admin_consent") == "True" and "error" not in result.params


def test_consent_page_lists_every_permission_with_accept_and_cancel(emulator, emulated_tenant):
    tenant = emulated_tenant()
    with emulator.http() as http:
        page = http.get(
            f"/{tenant.id}/v2.0/adminconsent",
            params={
                "client_id": TEST_APP.app_id,
                "redirect_uri": TEST_APP.redirect_uri,
                "scope": "https://graph.microsoft.com/.default",
                "state": "s",
            },
        )
        assert page.status_code == 200
        assert '<label for="username">' in page.text and 'name="password"' in page.text
        assert ">Sign in</button>" in page.text
        fields = dict(
            __import__("re").findall(
                r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text
            )
        )
        consent_page = http.post(
            f"/{tenant.id}/v2.0/adminconsent",
            data={
                **{k: v.replace("&amp;", "&") for k, v in fields.items()},
                "username": tenant.admin.user_principal_name,
                "password": tenant.admin.password,
            },
        )
    text = consent_page.text
    assert ">Accept</button>" in text and ">Cancel</button>" in text
    for value in (
        "Exchange.ManageAsApp",
        "Sites.FullControl.All",
        "Reports.Read.All",
        "BackupRestore-Control.ReadWrite.All",
        "Office 365 SharePoint Online",
    ):
        assert value in text
    assert text.count("<tr><td>") == 12
    assert "Delegated" in text and "Application" in text


def test_admin_consent_with_unregistered_redirect_uri_shows_an_error_page(
    emulator, emulated_tenant
):
    tenant = emulated_tenant()
    result = admin_consent(
        emulator, tenant.id, TEST_APP.app_id, "https://evil.example/cb", tenant.admin
    )
    assert result.location is None and result.status == 400
    assert "AADSTS50011" in result.html


def test_wrong_password_stays_on_the_sign_in_page(emulator, emulated_tenant):
    tenant = emulated_tenant()
    result = admin_consent(
        emulator,
        tenant.id,
        TEST_APP.app_id,
        TEST_APP.redirect_uri,
        (tenant.admin.user_principal_name, "not-the-password"),
    )
    assert result.location is None
    assert "password is incorrect" in result.html


def test_legacy_admin_consent_endpoint(emulator, emulated_tenant):
    tenant = emulated_tenant()
    cancelled = admin_consent(
        emulator,
        tenant.id,
        TEST_APP.app_id,
        TEST_APP.redirect_uri,
        tenant.admin,
        legacy=True,
        decision="cancel",
    )
    assert cancelled.params["error"] == "permission_denied"
    assert cancelled.params["error_description"] == "The admin canceled the request"
    accepted = admin_consent(
        emulator,
        "common",
        TEST_APP.app_id,
        TEST_APP.redirect_uri,
        tenant.admin,
        legacy=True,
        state="legacy",
    )
    assert accepted.params == {"tenant": tenant.id, "state": "legacy", "admin_consent": "True"}


def test_v2_admin_consent_refuses_common(emulator, emulated_tenant):
    tenant = emulated_tenant()
    result = admin_consent(emulator, "common", TEST_APP.app_id, TEST_APP.redirect_uri, tenant.admin)
    assert result.location is None and "AADSTS90130" in result.html


# ---- authorization code, PKCE, refresh -----------------------------------------------


def test_authorization_code_with_pkce_and_a_verifiable_id_token(emulator, emulated_tenant):
    tenant = emulated_tenant()
    pkce = Pkce.new()
    flow = authorize(
        emulator,
        tenant.id,
        TEST_APP.app_id,
        TEST_APP.redirect_uri,
        tenant.admin,
        pkce=pkce,
        state="st",
        nonce="n-42",
    )
    assert flow.params["state"] == "st" and flow.params["code"]
    wrong = redeem_code(
        emulator,
        tenant.id,
        TEST_APP.app_id,
        TEST_APP.secret,
        TEST_APP.redirect_uri,
        flow.params["code"],
        Pkce.new(),
    )
    assert wrong.json()["error"] == "invalid_grant" and wrong.json()["error_codes"] == [501481]

    flow = authorize(
        emulator,
        tenant.id,
        TEST_APP.app_id,
        TEST_APP.redirect_uri,
        tenant.admin,
        pkce=pkce,
        nonce="n-42",
    )
    response = redeem_code(
        emulator,
        tenant.id,
        TEST_APP.app_id,
        TEST_APP.secret,
        TEST_APP.redirect_uri,
        flow.params["code"],
        pkce,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"access_token", "refresh_token", "id_token", "expires_in", "scope"} <= set(body)
    access = _claims(body["access_token"])
    assert access["scp"] == "BackupRestore-Control.ReadWrite.All"
    assert access["tid"] == tenant.id and access["oid"] == tenant.admin.id
    assert "62e90394-69f5-4237-9190-012177145e10" in access["wids"]
    assert "roles" not in access

    with emulator.http() as http:
        doc = http.get(f"/{tenant.domain}/v2.0/.well-known/openid-configuration").json()
        jwks = http.get(doc["jwks_uri"]).json()
    header = jwt.get_unverified_header(body["id_token"])
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    id_claims = jwt.decode(
        body["id_token"],
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=TEST_APP.app_id,
        issuer=doc["issuer"],
    )
    assert id_claims["tid"] == tenant.id and id_claims["oid"] == tenant.admin.id
    assert id_claims["nonce"] == "n-42"
    assert id_claims["preferred_username"] == tenant.admin.user_principal_name
    assert id_claims["name"] and id_claims["sub"]

    again = redeem_code(
        emulator,
        tenant.id,
        TEST_APP.app_id,
        TEST_APP.secret,
        TEST_APP.redirect_uri,
        flow.params["code"],
        pkce,
    )
    assert again.json()["error"] == "invalid_grant" and again.json()["error_codes"] == [54005]


def test_consent_page_on_authorize_only_until_an_admin_accepts(emulator, emulated_tenant):
    tenant = emulated_tenant()
    forged = authorize(emulator, tenant.id, TEST_APP.app_id, TEST_APP.redirect_uri, tenant.user)
    assert forged.status == 403 and "AADSTS90094" in forged.html
    declined = authorize(
        emulator, tenant.id, TEST_APP.app_id, TEST_APP.redirect_uri, tenant.user, decision="cancel"
    )
    assert declined.params["error"] == "access_denied"
    accepted = authorize(emulator, tenant.id, TEST_APP.app_id, TEST_APP.redirect_uri, tenant.admin)
    assert "code" in accepted.params
    # Consented tenant-wide: now a plain user and the backup admin go straight through.
    for user in (tenant.user, tenant.backup_admin):
        silent = authorize(
            emulator, tenant.id, TEST_APP.app_id, TEST_APP.redirect_uri, user, decision="cancel"
        )
        assert "code" in silent.params


def test_refresh_rotates_the_refresh_token(emulator, emulated_tenant):
    tenant = emulated_tenant()
    first = tenant.delegated_tokens()
    second = refresh(emulator, tenant.id, TEST_APP.app_id, TEST_APP.secret, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert _claims(rotated["access_token"])["scp"] == "BackupRestore-Control.ReadWrite.All"
    third = refresh(emulator, tenant.id, TEST_APP.app_id, TEST_APP.secret, rotated["refresh_token"])
    assert third.status_code == 200


@pytest.mark.parametrize("event", ["password-reset", "disable"])
def test_refresh_fails_with_invalid_grant_after_directory_event(emulator, emulated_tenant, event):
    tenant = emulated_tenant()
    tokens = tenant.delegated_tokens()
    if event == "password-reset":
        changed = tenant.control.reset_password(tenant.id, tenant.admin.user_principal_name)
        assert changed.password != tenant.admin.password
        code = 50173
    else:
        tenant.control.disable_user(tenant.id, tenant.admin.id)
        code = 50057
    response = refresh(
        emulator, tenant.id, TEST_APP.app_id, TEST_APP.secret, tokens["refresh_token"]
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["error_codes"] == [code]


def test_refresh_after_consent_revoked_is_invalid_grant(emulator, emulated_tenant):
    tenant = emulated_tenant()
    tokens = tenant.delegated_tokens()
    tenant.control.revoke_grant(
        tenant.id, app_id=TEST_APP.app_id, permission="BackupRestore-Control.ReadWrite.All"
    )
    response = refresh(
        emulator, tenant.id, TEST_APP.app_id, TEST_APP.secret, tokens["refresh_token"]
    )
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["error_codes"] == [65001]


def test_token_endpoint_failure_fault(emulator, emulated_tenant):
    tenant = emulated_tenant(consent=True)
    tenant.control.set_faults(tenant.id, token_endpoint_failure=True, retry_after_seconds=3)
    response = client_credentials_token(emulator, tenant.id, TEST_APP.app_id, TEST_APP.secret)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "3"
    assert response.json()["error"] == "temporarily_unavailable"
    tenant.control.clear_faults(tenant.id)
    assert (
        client_credentials_token(emulator, tenant.id, TEST_APP.app_id, TEST_APP.secret).status_code
        == 200
    )


# ---- msal ----------------------------------------------------------------------------


def _msal_app(emulator, tenant) -> msal.ConfidentialClientApplication:
    """msal as libraries.md section 9 requires here: a Session trusting the emulator's CA
    and ignoring REQUESTS_CA_BUNDLE, no instance discovery."""
    session = requests.Session()
    session.verify = emulator.ca_path
    session.trust_env = False
    return msal.ConfidentialClientApplication(
        TEST_APP.app_id,
        client_credential=TEST_APP.secret,
        authority=f"{emulator.base_url}/{tenant.id}",
        instance_discovery=False,
        http_client=session,
    )


def test_msal_gets_an_app_token(emulator, emulated_tenant):
    tenant = emulated_tenant(consent=True)
    app = _msal_app(emulator, tenant)
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    assert set(_claims(result["access_token"])["roles"]) == SEED_GRAPH_ROLES
    cached = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert cached["access_token"] == result["access_token"]


def test_msal_redeems_a_code_and_refreshes(emulator, emulated_tenant):
    tenant = emulated_tenant(consent=True)
    app = _msal_app(emulator, tenant)
    scopes = ["https://graph.microsoft.com/BackupRestore-Control.ReadWrite.All"]
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=TEST_APP.redirect_uri)
    assert "code_challenge=" in flow["auth_uri"]  # msal uses PKCE
    redirect = browser_flow(emulator, flow["auth_uri"], tenant.admin)
    result = app.acquire_token_by_auth_code_flow(flow, redirect.params)
    assert "access_token" in result, result
    assert result["id_token_claims"]["tid"] == tenant.id
    assert _claims(result["access_token"])["scp"] == "BackupRestore-Control.ReadWrite.All"
    [account] = app.get_accounts()
    refreshed = app.acquire_token_silent_with_error(scopes, account=account, force_refresh=True)
    assert "access_token" in refreshed, refreshed


def test_organizations_flow_validates_like_social_auth(emulator, emulated_tenant):
    """Sign in through /organizations and validate the id_token the way social-core 7 does:
    discovery and JWKS with ?appid=, the `{tenantid}` issuer template, the key's issuer."""
    tenant = emulated_tenant(consent=True)
    pkce = Pkce.new()
    flow = authorize(
        emulator,
        "organizations",
        TEST_APP.app_id,
        TEST_APP.redirect_uri,
        tenant.backup_admin,
        pkce=pkce,
        scope="openid profile offline_access "
        "https://graph.microsoft.com/BackupRestore-Control.ReadWrite.All",
    )
    tokens = redeem_code(
        emulator,
        "organizations",
        TEST_APP.app_id,
        TEST_APP.secret,
        TEST_APP.redirect_uri,
        flow.params["code"],
        pkce,
    ).json()
    appid = f"?appid={TEST_APP.app_id}"
    with emulator.http() as http:
        doc = http.get(f"/organizations/v2.0/.well-known/openid-configuration{appid}").json()
        keys = http.get(f"/organizations/discovery/v2.0/keys{appid}").json()["keys"]
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    issuer = doc["issuer"].replace("{tenantid}", claims["tid"])
    key = next(k for k in keys if k["kid"] == jwt.get_unverified_header(tokens["id_token"])["kid"])
    assert key["issuer"].replace("{tenantid}", claims["tid"]) == claims["iss"] == issuer
    verified = jwt.decode(
        tokens["id_token"],
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=TEST_APP.app_id,
        issuer=issuer,
    )
    assert verified["tid"] == tenant.id
    assert verified["preferred_username"] == tenant.backup_admin.user_principal_name
