"""Tokens: app-only per customer tenant (msal, client credentials) and delegated from a stored
refresh token (for the few delegated-only calls, e.g. serviceApp activate).

Nothing here logs or prints a token or a secret: token fields are `repr=False` and error
messages carry only the OAuth `error`, AADSTS codes and Microsoft's description.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import msal
import msal.exceptions
import requests

from m365.config import GraphSettings
from m365.errors import (
    AppNotConsented,
    AuthError,
    InvalidGrant,
    TokenEndpointError,
    UnknownTenant,
)
from m365.tls import http_client, requests_session

logger = logging.getLogger(__name__)

# AADSTS codes (Microsoft Entra error code reference):
# 7000229 app has no service principal in the tenant; 700016 app not found in the directory;
# 65001 no consent; 650052 the app needs access to a service the tenant has not consented to.
NOT_CONSENTED_CODES = frozenset({7000229, 700016, 65001, 650051, 650052})
# 90002 tenant not found; 900023 not a valid tenant identifier; 90072 user not in tenant.
UNKNOWN_TENANT_CODES = frozenset({90002, 900023})
# Errors of a delegated refresh that only a new sign-in and consent can cure.
REAUTHORIZE_ERRORS = frozenset({"invalid_grant", "interaction_required", "consent_required"})
TRANSIENT_ERRORS = frozenset({"temporarily_unavailable", "server_error"})
# Renew a delegated access token this long before it expires.
EXPIRY_MARGIN_SECONDS = 300
MICROSOFT_LOGIN_HOSTS = frozenset({"login.microsoftonline.com", "login.windows.net"})


def auth_error(
    result: Mapping[str, Any], *, tenant: str, delegated: bool, status: int | None = None
) -> AuthError:
    """The typed error for an OAuth error answer (msal's result dict or the raw JSON)."""
    error = str(result.get("error") or "")
    description = str(result.get("error_description") or "")
    codes = tuple(int(code) for code in result.get("error_codes") or [] if str(code).isdigit())
    # The description's first line holds "AADSTSnnnn: text"; the rest are trace ids.
    summary = description.splitlines()[0] if description else error or "token request failed"
    kwargs: dict[str, Any] = {
        "error": error,
        "aadsts_codes": codes,
        "tenant": tenant,
        "status": status,
    }
    if set(codes) & UNKNOWN_TENANT_CODES or error == "invalid_tenant":
        return UnknownTenant(summary, **kwargs)
    if delegated and error in REAUTHORIZE_ERRORS:
        return InvalidGrant(summary, **kwargs)
    if set(codes) & NOT_CONSENTED_CODES or error == "consent_required":
        return AppNotConsented(summary, **kwargs)
    if error == "invalid_grant":
        return InvalidGrant(summary, **kwargs)
    transient = error in TRANSIENT_ERRORS or (status is not None and status >= 500)
    return TokenEndpointError(summary, transient=transient, **kwargs)


def token_claims(token: str) -> dict[str, Any]:
    """The claims of an access token we received straight from the token endpoint over TLS
    (e.g. `roles`, `scp`, `tid`), without verifying it: Graph verifies it, we only read it."""
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}  # Microsoft does not promise a JWT format to clients


# --- app-only ---------------------------------------------------------------------------------


class AppTokenProvider:
    """App-only tokens of the MSP app, one msal application (and cache) per customer tenant.

    msal serves repeated calls from its cache until the token nears expiry. Thread-safe: the
    first call for a tenant builds its msal app (one OpenID discovery) under a per-tenant lock.
    """

    def __init__(
        self, settings: GraphSettings, *, http_session: requests.Session | None = None
    ) -> None:
        self._settings = settings
        self._session = http_session or requests_session(settings)
        self._apps: dict[str, msal.ConfidentialClientApplication] = {}
        self._tenant_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def source(self, tenant_id: str) -> AppTokenSource:
        """A `TokenSource` for `GraphClient`, bound to one tenant."""
        return AppTokenSource(self, tenant_id)

    def access_token(self, tenant_id: str) -> str:
        """A valid app-only Graph token for the tenant (cached). Calls for one tenant are
        serialised so that threads finding the cache empty ask the token endpoint once."""
        app = self._app(tenant_id)
        try:
            with self._tenant_lock(tenant_id):
                result = app.acquire_token_for_client(scopes=[self._settings.graph_scope])
        except requests.RequestException as exc:
            raise TokenEndpointError(
                f"token endpoint unreachable: {type(exc).__name__}",
                tenant=tenant_id,
                transient=True,
            ) from exc
        except msal.exceptions.MsalServiceError as exc:  # msal raises on a 5xx answer
            self.forget(tenant_id)
            raise TokenEndpointError(
                f"token endpoint failed: {exc}", tenant=tenant_id, transient=True
            ) from exc
        except ValueError as exc:  # a 4xx answer that is not JSON
            self.forget(tenant_id)
            raise TokenEndpointError(
                f"unreadable token endpoint answer: {exc}", tenant=tenant_id
            ) from exc
        if not result or "access_token" not in result:
            # msal may keep serving a cached error answer for a while; after consent or a
            # fix the next call must really ask again, so drop this tenant's app.
            self.forget(tenant_id)
            raise auth_error(result or {}, tenant=tenant_id, delegated=False)
        return str(result["access_token"])

    def granted_roles(self, tenant_id: str) -> frozenset[str]:
        """The Graph application permissions the current token carries (`roles` claim)."""
        roles = token_claims(self.access_token(tenant_id)).get("roles") or []
        return frozenset(str(role) for role in roles)

    def invalidate(self, tenant_id: str, token: str) -> None:
        """Drop one cached token (Graph refused it), so the next call asks for a new one."""
        with self._lock:
            app = self._apps.get(tenant_id)
        if app is None:
            return
        cache = app.token_cache
        for entry in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
            if entry.get("secret") == token:
                cache.remove_at(entry)

    def forget(self, tenant_id: str) -> None:
        """Forget the tenant's app and cached tokens, e.g. after a new consent changed the
        granted roles (a cached token keeps the old ones for up to an hour)."""
        with self._lock:
            self._apps.pop(tenant_id, None)

    def _tenant_lock(self, tenant_id: str) -> threading.Lock:
        with self._lock:
            return self._tenant_locks.setdefault(tenant_id, threading.Lock())

    def _app(self, tenant_id: str) -> msal.ConfidentialClientApplication:
        if not tenant_id or "/" in tenant_id:
            raise UnknownTenant(f"not a tenant id: {tenant_id!r}", tenant=tenant_id)
        with self._lock:
            app = self._apps.get(tenant_id)
            if app is not None:
                return app
        with self._tenant_lock(tenant_id):
            with self._lock:
                app = self._apps.get(tenant_id)
            if app is None:
                app = self._build_app(tenant_id)
                with self._lock:
                    self._apps[tenant_id] = app
            return app

    def _build_app(self, tenant_id: str) -> msal.ConfidentialClientApplication:
        settings = self._settings
        host = urlsplit(settings.login_base_url).hostname or ""
        try:
            # The constructor fetches the tenant's OpenID configuration at once.
            return msal.ConfidentialClientApplication(
                settings.client_id,
                client_credential=settings.client_secret,
                authority=settings.authority(tenant_id),
                # Instance discovery asks login.microsoftonline.com about the host: needless
                # for Microsoft's own hosts and impossible for the emulator (no network).
                instance_discovery=host in MICROSOFT_LOGIN_HOSTS,
                http_client=self._session,
                token_cache=msal.TokenCache(),
            )
        except ValueError as exc:  # msal: discovery answered 4xx, i.e. no such tenant
            raise UnknownTenant(
                f"no OpenID configuration for tenant {tenant_id}", tenant=tenant_id
            ) from exc
        except (requests.RequestException, RuntimeError) as exc:
            raise TokenEndpointError(
                f"OpenID discovery failed: {type(exc).__name__}", tenant=tenant_id, transient=True
            ) from exc


@dataclass(frozen=True)
class AppTokenSource:
    """`AppTokenProvider` bound to one tenant: what a `GraphClient` takes."""

    provider: AppTokenProvider
    tenant_id: str

    def access_token(self) -> str:
        return self.provider.access_token(self.tenant_id)

    def invalidate(self, token: str) -> None:
        self.provider.invalidate(self.tenant_id, token)


# --- delegated ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DelegatedToken:
    """The answer of a refresh: a new access token and the (usually rotated) refresh token."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float  # epoch seconds
    scopes: frozenset[str]


def redeem_refresh_token(
    settings: GraphSettings,
    tenant_id: str,
    refresh_token: str,
    *,
    scopes: tuple[str, ...] | None = None,
    http: httpx.Client | None = None,
    now: float | None = None,
) -> DelegatedToken:
    """POST grant_type=refresh_token to the tenant's token endpoint.

    Raises `InvalidGrant` when the grant is dead (password reset, user disabled or deleted,
    consent revoked, MFA/conditional access now required): the portal must mark the profile
    for re-authorization. A refresh token Microsoft did not rotate is returned unchanged."""
    scopes = scopes or (settings.graph_scope, "offline_access")
    data = {
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "scope": " ".join(scopes),
    }
    url = f"{settings.authority(tenant_id)}/oauth2/v2.0/token"
    issued_at = time.time() if now is None else now
    client = http or http_client(settings)
    try:
        response = client.post(url, data=data, headers={"User-Agent": settings.user_agent})
    except httpx.TransportError as exc:
        raise TokenEndpointError(
            f"token endpoint unreachable: {type(exc).__name__}", tenant=tenant_id, transient=True
        ) from exc
    finally:
        if http is None:
            client.close()
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        if not isinstance(body, dict) or "error" not in body:
            body = {
                "error": "server_error" if response.status_code >= 500 else "invalid_response",
                "error_description": f"HTTP {response.status_code} from the token endpoint",
            }
        raise auth_error(body, tenant=tenant_id, delegated=True, status=response.status_code)
    expires_in = float(body.get("expires_in") or 3600)
    return DelegatedToken(
        access_token=str(body["access_token"]),
        refresh_token=str(body.get("refresh_token") or refresh_token),
        expires_at=issued_at + expires_in,
        scopes=frozenset(str(body.get("scope") or "").split()),
    )


class DelegatedTokenSource:
    """A `TokenSource` acting as a signed-in customer admin, from a stored refresh token.

    Every rotated refresh token is handed to `on_refresh_token` at once so the portal can
    re-encrypt and store it (the previous one will stop working one day). Thread-safe."""

    def __init__(
        self,
        settings: GraphSettings,
        tenant_id: str,
        refresh_token: str,
        on_refresh_token: Callable[[str], None],
        *,
        scopes: tuple[str, ...] | None = None,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._tenant_id = tenant_id
        self._refresh_token = refresh_token
        self._on_refresh_token = on_refresh_token
        self._scopes = scopes
        self._http = http
        self._clock = clock
        self._token: DelegatedToken | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DelegatedTokenSource(tenant_id={self._tenant_id!r})"

    def access_token(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or self._token.expires_at - EXPIRY_MARGIN_SECONDS <= now:
                token = redeem_refresh_token(
                    self._settings,
                    self._tenant_id,
                    self._refresh_token,
                    scopes=self._scopes,
                    http=self._http,
                    now=now,
                )
                if token.refresh_token != self._refresh_token:
                    # Persist first: if storing fails, the old (still valid) refresh token
                    # stays in use and nothing is lost.
                    self._on_refresh_token(token.refresh_token)
                    self._refresh_token = token.refresh_token
                self._token = token
            return self._token.access_token

    def invalidate(self, token: str) -> None:
        with self._lock:
            if self._token is not None and self._token.access_token == token:
                self._token = None
