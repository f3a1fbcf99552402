"""Identity platform against the emulator: discovery, tenant resolution, admin consent,
app-only tokens with msal (cached), delegated refresh with rotation, invalid_grant."""

from __future__ import annotations

import pytest
import requests

from m365.auth import AppTokenProvider, DelegatedTokenSource, redeem_refresh_token, token_claims
from m365.errors import AppNotConsented, InvalidGrant, TokenEndpointError, UnknownTenant
from m365.identity import (
    ConsentDenied,
    openid_configuration,
    parse_admin_consent_redirect,
    resolve_tenant_id,
)
from m365.tls import requests_session
from tests.m365.contract.conftest import admin_consent, login, sign_in_delegated


def test_discovery_and_tenant_resolution(emulator, settings, new_tenant):
    tenant = new_tenant()
    config = openid_configuration(settings, tenant.domain)
    assert config.issuer == f"{emulator.base_url}/{tenant.id}/v2.0"
    assert config.token_endpoint.startswith("https://")
    assert resolve_tenant_id(settings, tenant.domain) == tenant.id.lower()
    assert resolve_tenant_id(settings, tenant.domain.upper()) == tenant.id.lower()


def test_unknown_domain_is_a_clear_error(settings):
    with pytest.raises(UnknownTenant) as caught:
        resolve_tenant_id(settings, "no-such-tenant-anywhere.test")
    assert caught.value.status == 400
    with pytest.raises(UnknownTenant):
        resolve_tenant_id(settings, "organizations")


def test_admin_consent_accept_then_app_only_token_from_cache(emulator, settings, new_tenant):
    tenant = new_tenant()
    answer = admin_consent(emulator, settings, tenant)
    result = parse_admin_consent_redirect(answer, expected_state="st")
    assert result.tenant_id == tenant.id.lower()

    class CountingSession(requests.Session):
        posts = 0

        def post(self, *args, **kwargs):
            CountingSession.posts += 1
            return super().post(*args, **kwargs)

    session = requests_session(settings)
    counting = CountingSession()
    counting.verify, counting.trust_env = session.verify, session.trust_env
    provider = AppTokenProvider(settings, http_session=counting)
    first = provider.access_token(tenant.id)
    second = provider.access_token(tenant.id)
    assert first == second
    assert CountingSession.posts == 1  # the second call was served from msal's cache
    roles = provider.granted_roles(tenant.id)
    assert {
        "Directory.Read.All",
        "Reports.Read.All",
        "BackupRestore-Control.ReadWrite.All",
    } <= roles
    assert token_claims(first).get("tid") == tenant.id


def test_admin_consent_cancel_and_non_admin(emulator, settings, new_tenant):
    tenant = new_tenant()
    cancelled = admin_consent(emulator, settings, tenant, accept=False)
    with pytest.raises(ConsentDenied) as caught:
        parse_admin_consent_redirect(cancelled, expected_state="st")
    assert caught.value.error == "access_denied"
    # A user with no admin role cannot grant consent: "needs admin approval", cancel only.
    refused = admin_consent(emulator, settings, tenant, who="user", accept=False)
    assert refused.get("error")
    with pytest.raises(AppNotConsented):
        AppTokenProvider(settings).access_token(tenant.id)


def test_token_for_a_tenant_without_consent(settings, new_tenant):
    tenant = new_tenant()
    with pytest.raises(AppNotConsented) as caught:
        AppTokenProvider(settings).access_token(tenant.id)
    assert caught.value.aadsts_codes and not caught.value.transient


def test_token_for_an_unknown_tenant(settings):
    with pytest.raises(UnknownTenant):
        AppTokenProvider(settings).access_token("00000000-0000-0000-0000-00000000dead")


def test_wrong_secret_is_not_consent(emulator, settings, tenant):
    from dataclasses import replace

    with pytest.raises(TokenEndpointError) as caught:
        AppTokenProvider(replace(settings, client_secret="wrong")).access_token(tenant.id)
    assert not isinstance(caught.value, AppNotConsented)
    assert caught.value.error == "invalid_client"


def test_token_endpoint_failure_is_transient(control, settings, tenant):
    control.set_faults(tenant.id, token_endpoint_failure=True)
    try:
        with pytest.raises(TokenEndpointError) as caught:
            AppTokenProvider(settings).access_token(tenant.id)
        assert caught.value.transient
    finally:
        control.clear_faults(tenant.id)


def test_delegated_refresh_rotates_and_hands_back_the_new_token(delegated):
    source, rotated, original = delegated
    token = source.access_token()
    assert "BackupRestore-Control.ReadWrite.All" in token_claims(token).get("scp", "")
    assert len(rotated) == 1 and rotated[0] != original
    assert source.access_token() == token  # still valid: no second refresh
    assert len(rotated) == 1


@pytest.mark.parametrize("event", ["password-reset", "disable"])
def test_refresh_after_password_reset_or_disable_is_invalid_grant(
    emulator, control, settings, tenant, event
):
    answer = sign_in_delegated(emulator, settings, tenant, who="admin")
    upn, _ = login(tenant, "admin")
    if event == "password-reset":
        control.reset_password(tenant.id, upn)
    else:
        control.disable_user(tenant.id, upn)
    with pytest.raises(InvalidGrant) as caught:
        redeem_refresh_token(settings, tenant.id, answer["refresh_token"])
    assert caught.value.error == "invalid_grant" and not caught.value.transient
    source = DelegatedTokenSource(settings, tenant.id, answer["refresh_token"], lambda _: None)
    with pytest.raises(InvalidGrant):
        source.access_token()


def test_concurrent_first_calls_ask_the_token_endpoint_once(settings, tenant):
    from concurrent.futures import ThreadPoolExecutor

    class CountingSession(requests.Session):
        posts = 0

        def post(self, *args, **kwargs):
            CountingSession.posts += 1
            return super().post(*args, **kwargs)

    counting = CountingSession()
    counting.verify, counting.trust_env = settings.ca_bundle, False
    provider = AppTokenProvider(settings, http_session=counting)
    with ThreadPoolExecutor(8) as pool:
        tokens = set(pool.map(lambda _: provider.access_token(tenant.id), range(16)))
    assert len(tokens) == 1 and CountingSession.posts == 1


def test_legacy_admin_consent(emulator, settings, new_tenant):
    tenant = new_tenant()
    cancelled = admin_consent(emulator, settings, tenant, accept=False, legacy=True)
    with pytest.raises(ConsentDenied) as caught:
        parse_admin_consent_redirect(cancelled, expected_state="st")
    assert caught.value.error == "permission_denied"
    accepted = admin_consent(emulator, settings, tenant, legacy=True)
    assert parse_admin_consent_redirect(accepted, expected_state="st").tenant_id == tenant.id
    assert AppTokenProvider(settings).access_token(tenant.id)


def test_privileged_role_administrator_may_consent(emulator, settings, new_tenant):
    tenant = new_tenant()
    answer = admin_consent(emulator, settings, tenant, who="privileged.admin")
    assert parse_admin_consent_redirect(answer, expected_state="st").tenant_id == tenant.id
