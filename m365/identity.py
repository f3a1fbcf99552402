"""The identity platform without tokens: OpenID discovery, tenant resolution from a domain,
admin-consent and authorize URLs, and checking what the consent redirect brought back."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from m365.auth import auth_error
from m365.config import GraphSettings
from m365.errors import AuthError, TokenEndpointError, UnknownTenant
from m365.tls import http_client

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# A DNS name: labels of letters, digits and hyphens. Keeps path tricks out of discovery URLs.
DOMAIN = re.compile(
    r"^(?=.{1,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z]{2,63}$"
)
# Tenants Microsoft accepts in authority URLs besides a GUID or a domain.
ALIASES = frozenset({"organizations", "common", "consumers"})


@dataclass(frozen=True)
class OpenIdConfiguration:
    """The parts of a tenant's OpenID configuration the portal uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    tenant_region_scope: str | None

    @property
    def tenant_id(self) -> str | None:
        """The tenant GUID in the issuer (`{base}/{guid}/v2.0`); None for `{tenantid}`."""
        for part in urlsplit(self.issuer).path.split("/"):
            if GUID.match(part):
                return part.lower()
        return None


@dataclass(frozen=True)
class AdminConsentResult:
    """A successful admin-consent redirect. `tenant_id` comes from the browser and can be
    forged (Microsoft's warning): confirm it by getting an app-only token for that tenant."""

    tenant_id: str
    scope: str


class ConsentDenied(AuthError):
    """The admin cancelled, is not allowed to consent, or the request was refused."""


class ConsentStateMismatch(AuthError):
    """The `state` that came back is not the one sent: a forged or replayed redirect."""


def check_tenant(tenant: str) -> str:
    """A tenant GUID, domain or alias safe to put in a URL path; raises `UnknownTenant`."""
    value = tenant.strip()
    if GUID.match(value) or value.lower() in ALIASES or DOMAIN.match(value):
        return value
    raise UnknownTenant(f"not a tenant id or domain: {tenant!r}", tenant=tenant)


def openid_configuration(
    settings: GraphSettings, tenant: str, *, http: httpx.Client | None = None
) -> OpenIdConfiguration:
    """GET `{login}/{tenant}/v2.0/.well-known/openid-configuration`.

    An unknown domain or tenant answers 400 (AADSTS90002): `UnknownTenant`."""
    tenant = check_tenant(tenant)
    url = f"{settings.login_base_url}/{tenant}/v2.0/.well-known/openid-configuration"
    client = http or http_client(settings)
    try:
        response = client.get(url, headers={"User-Agent": settings.user_agent})
    except httpx.TransportError as exc:
        raise TokenEndpointError(
            f"OpenID discovery unreachable: {type(exc).__name__}", tenant=tenant, transient=True
        ) from exc
    finally:
        if http is None:
            client.close()
    body = _json(response)
    if response.status_code != 200:
        if 400 <= response.status_code < 500:
            error = auth_error(body, tenant=tenant, delegated=False, status=response.status_code)
            if not isinstance(error, UnknownTenant):
                error = UnknownTenant(
                    str(error) or f"unknown tenant {tenant}",
                    error=error.error,
                    aadsts_codes=error.aadsts_codes,
                    tenant=tenant,
                    status=response.status_code,
                )
            raise error
        raise TokenEndpointError(
            f"OpenID discovery failed: HTTP {response.status_code}",
            tenant=tenant,
            status=response.status_code,
            transient=True,
        )
    return OpenIdConfiguration(
        issuer=str(body.get("issuer") or ""),
        authorization_endpoint=str(body.get("authorization_endpoint") or ""),
        token_endpoint=str(body.get("token_endpoint") or ""),
        jwks_uri=str(body.get("jwks_uri") or ""),
        tenant_region_scope=body.get("tenant_region_scope"),
    )


def resolve_tenant_id(
    settings: GraphSettings, domain: str, *, http: httpx.Client | None = None
) -> str:
    """The tenant GUID behind a verified domain (e.g. `contoso.onmicrosoft.com`), found by
    OpenID discovery. Raises `UnknownTenant` for a domain no tenant has verified."""
    value = check_tenant(domain)
    if value.lower() in ALIASES:
        raise UnknownTenant(f"{value!r} names no single tenant", tenant=value)
    configuration = openid_configuration(settings, value, http=http)
    tenant_id = configuration.tenant_id or _guid_in_path(configuration.token_endpoint)
    if tenant_id is None:
        raise UnknownTenant(f"discovery for {value} named no tenant id", tenant=value)
    return tenant_id


def admin_consent_url(
    settings: GraphSettings,
    *,
    redirect_uri: str,
    state: str,
    tenant: str = "organizations",
    scope: str | None = None,
) -> str:
    """The v2.0 admin-consent URL: every application permission of the app registration
    (`https://graph.microsoft.com/.default`). `tenant` may be a GUID, a domain or
    `organizations`, not `common`."""
    tenant = check_tenant(tenant)
    if tenant.lower() == "common":
        raise ValueError("the v2.0 admin-consent endpoint does not accept 'common'")
    query = {
        "client_id": settings.client_id,
        "scope": scope or settings.graph_scope,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{settings.login_base_url}/{tenant}/v2.0/adminconsent?{urlencode(query)}"


def legacy_admin_consent_url(
    settings: GraphSettings, *, redirect_uri: str, state: str, tenant: str = "common"
) -> str:
    """The legacy (v1) admin-consent URL, still documented; `common` is allowed here."""
    tenant = check_tenant(tenant)
    query = {"client_id": settings.client_id, "redirect_uri": redirect_uri, "state": state}
    return f"{settings.login_base_url}/{tenant}/adminconsent?{urlencode(query)}"


def authorize_url(
    settings: GraphSettings,
    *,
    redirect_uri: str,
    state: str,
    scopes: Sequence[str],
    tenant: str = "organizations",
    code_challenge: str | None = None,
    nonce: str | None = None,
    prompt: str | None = None,
    login_hint: str | None = None,
) -> str:
    """An authorization-code request URL (S256 PKCE when `code_challenge` is given)."""
    tenant = check_tenant(tenant)
    query: dict[str, str] = {
        "client_id": settings.client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "response_mode": "query",
        "scope": " ".join(scopes),
        "state": state,
    }
    if code_challenge:
        query.update(code_challenge=code_challenge, code_challenge_method="S256")
    for key, value in (("nonce", nonce), ("prompt", prompt), ("login_hint", login_hint)):
        if value:
            query[key] = value
    return f"{settings.login_base_url}/{tenant}/oauth2/v2.0/authorize?{urlencode(query)}"


def parse_admin_consent_redirect(
    query: Mapping[str, str], *, expected_state: str
) -> AdminConsentResult:
    """Check the query string Microsoft redirected the admin back with.

    `error` is looked at first: Microsoft sets `admin_consent=True` on errors too. The state
    must equal the one sent (constant-time compare); a missing state fails too."""
    state = query.get("state") or ""
    error = query.get("error")
    if error:
        description = query.get("error_description") or error
        if state and not hmac.compare_digest(state, expected_state):
            raise ConsentStateMismatch("the consent redirect carried another state")
        raise ConsentDenied(description.splitlines()[0], error=error)
    if not hmac.compare_digest(state, expected_state):
        raise ConsentStateMismatch("the consent redirect carried another state")
    tenant_id = (query.get("tenant") or "").strip()
    if str(query.get("admin_consent", "")).lower() != "true" or not GUID.match(tenant_id):
        raise ConsentDenied(
            "the consent redirect did not confirm an admin consent", error="invalid_response"
        )
    return AdminConsentResult(tenant_id=tenant_id.lower(), scope=query.get("scope") or "")


def _guid_in_path(url: str) -> str | None:
    for part in urlsplit(url).path.split("/"):
        if GUID.match(part):
            return part.lower()
    return None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
