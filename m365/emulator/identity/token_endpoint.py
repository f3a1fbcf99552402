"""`POST /{tenant}/oauth2/v2.0/token`: client credentials, authorization code, refresh token.

Errors follow Microsoft's OAuth JSON (oauth_errors.py) with the AADSTS codes Entra uses for
the same situations.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from ..catalog import GRAPH, OIDC_SCOPES, resource_for_audience
from ..clock import real_now
from ..faults import format_retry_after
from ..generator import User
from ..world import Tenant, World
from . import consent, tokens
from .oauth_errors import OAuthError


def handle(world: World, request: Request, ref: str) -> Response:
    from .app import resolve_tenant

    form = request.form
    path_tenant = resolve_tenant(world, ref)
    client_id, secret = _client_credentials(request)
    if not client_id:
        raise OAuthError(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        )
    app = world.app(client_id)
    grant_type = form.get("grant_type", "")
    if grant_type not in ("client_credentials", "authorization_code", "refresh_token"):
        raise OAuthError(
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
        )
    if path_tenant is not None:
        _maybe_fail(path_tenant)
    if app is None:
        directory = path_tenant.display_name if path_tenant else ref
        raise OAuthError(
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory "
            f"'{directory}'. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant. You may "
            "have sent your authentication request to the wrong tenant.",
        )
    if grant_type == "client_credentials":
        return _client_credentials_grant(world, form, app, path_tenant, secret)
    _check_secret(app, secret)
    if grant_type == "authorization_code":
        return _authorization_code_grant(world, request, form, app, path_tenant)
    return _refresh_token_grant(world, request, form, app, path_tenant)


def _maybe_fail(tenant: Tenant) -> None:
    faults = tenant.faults() or {}
    if faults.get("tokenEndpointFailure"):
        raise OAuthError(
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
            status=503,
            headers={"Retry-After": format_retry_after(faults.get("retryAfterSeconds", 2))},
        )


def _client_credentials(request: Request) -> tuple[str, str | None]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
            user, _, password = decoded.partition(":")
            return unquote(user).lower(), unquote(password)
        except (ValueError, UnicodeDecodeError):
            pass
    if request.form.get("client_assertion"):
        raise OAuthError(
            "invalid_client",
            700027,
            "Client assertions are not supported by the emulator; use a secret.",
        )
    return request.form.get("client_id", "").lower(), request.form.get("client_secret")


def _check_secret(app: dict[str, Any], secret: str | None) -> None:
    if not app.get("secret"):
        return  # a public client: PKCE alone protects its codes
    if secret is None:
        raise OAuthError(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: "
            "'client_assertion' or 'client_secret'.",
        )
    if secret != app["secret"]:
        raise OAuthError(
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is "
            f"the client secret value, not the client secret ID, for a secret added to app "
            f"'{app['appId']}'.",
        )


def _client_credentials_grant(
    world: World, form, app: dict[str, Any], tenant: Tenant | None, secret: str | None
) -> Response:
    if tenant is None:
        raise OAuthError(
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or "
            "implied by any provided credentials.",
        )
    if secret is None:
        raise OAuthError(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: "
            "'client_assertion' or 'client_secret'.",
        )
    _check_secret(app, secret)
    scopes = form.get("scope", "").split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise OAuthError(
            "invalid_scope",
            1002012,
            f"The provided value for scope {form.get('scope', '')} is not valid. Client "
            "credential flows must have a scope value with /.default suffixed to the resource "
            "identifier (application ID URI).",
        )
    audience = scopes[0].removesuffix("/.default")
    resource = resource_for_audience(audience)
    if resource is None:
        raise OAuthError(
            "invalid_resource",
            500011,
            f"The resource principal named {audience} was not found in the tenant "
            f"named {tenant.display_name}.",
        )
    sp = consent.client_sp(tenant, app["appId"])
    if sp is None:
        raise OAuthError(
            "unauthorized_client",
            700016,
            f"Application with identifier '{app['appId']}' was not found in the directory "
            f"'{tenant.display_name}'. This can happen if the application has not been "
            "installed by the administrator of the tenant or consented to by any user in the "
            "tenant. You may have sent your authentication request to the wrong tenant.",
        )
    roles = consent.assigned_roles(tenant, app["appId"], resource)
    return _json(tokens.app_access_token(world, tenant, app, resource, roles, sp["id"]))


def _authorization_code_grant(
    world: World, request: Request, form, app: dict[str, Any], path_tenant: Tenant | None
) -> Response:
    payload = tokens.redeem_code(world, form.get("code", ""))
    if payload is None:
        raise OAuthError(
            "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
        )
    if payload.get("redeemed"):
        raise OAuthError(
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a "
            "new valid code or use an existing refresh token.",
        )
    if payload.get("expired"):
        raise OAuthError(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to "
            "inactivity. Send a new interactive authorization request for this "
            "user and resource.",
        )
    if payload["cid"] != app["appId"]:
        raise OAuthError(
            "invalid_grant",
            70000,
            "The provided authorization code was issued to a different client.",
        )
    tenant = _grant_tenant(world, payload, path_tenant)
    if form.get("redirect_uri") != payload["ruri"]:
        raise OAuthError(
            "invalid_grant",
            50148,
            "The redirect_uri specified in the token request does not match the "
            "redirect_uri used when acquiring the authorization code.",
        )
    if payload.get("cc"):
        verifier = form.get("code_verifier", "")
        if payload.get("ccm") == "S256":
            computed = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .decode()
                .rstrip("=")
            )
        else:
            computed = verifier
        if not verifier or computed != payload["cc"]:
            raise OAuthError(
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the code_challenge supplied in "
                "the authorization request for PKCE.",
            )
    user = _usable_user(tenant, payload)
    return _delegated_response(
        world,
        request,
        tenant,
        app,
        user,
        payload["scp"],
        payload["oidc"],
        nonce=payload.get("nonce"),
    )


def _refresh_token_grant(
    world: World, request: Request, form, app: dict[str, Any], path_tenant: Tenant | None
) -> Response:
    payload = tokens.read_refresh_token(world, form.get("refresh_token", ""))
    if payload is None:
        raise OAuthError(
            "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
        )
    if payload["exp"] < real_now():
        raise OAuthError(
            "invalid_grant", 700082, "The refresh token has expired due to inactivity."
        )
    if payload["cid"] != app["appId"]:
        raise OAuthError(
            "invalid_grant", 70000, "The refresh token was issued to a different client."
        )
    tenant = _grant_tenant(world, payload, path_tenant)
    user = _usable_user(tenant, payload)
    requested = form.get("scope")
    if requested:
        scopes, oidc = split_scopes(requested.split(), app)
        oidc = [s for s in oidc if s in payload["oidc"] or s != "offline_access"]
    else:
        scopes, oidc = payload["scp"], payload["oidc"]
    consented = consent.consented_scopes(tenant, app["appId"], GRAPH)
    kept = [s for s in scopes if s in consented]
    if scopes and not kept:
        raise OAuthError(
            "invalid_grant",
            65001,
            f"The user or administrator has not consented to use the application with ID "
            f"'{app['appId']}' named '{app['displayName']}'. Send an interactive authorization "
            "request for this user and resource.",
        )
    return _delegated_response(world, request, tenant, app, user, kept, oidc, nonce=None)


def _grant_tenant(world: World, payload: dict[str, Any], path_tenant: Tenant | None) -> Tenant:
    tenant = world.tenants.get(payload["tid"])
    if tenant is None or (path_tenant is not None and path_tenant.id != tenant.id):
        raise OAuthError("invalid_grant", 50000, "The grant was issued for a different tenant.")
    _maybe_fail(tenant)
    return tenant


def _usable_user(tenant: Tenant, payload: dict[str, Any]) -> User:
    user = tenant.user(payload["uid"])
    if user is None:
        raise OAuthError(
            "invalid_grant",
            50034,
            f"The user account {payload['uid']} does not exist in the "
            f"{tenant.id} directory. To sign into this application, the account "
            "must be added to the directory.",
        )
    if not tenant.account_enabled(user):
        raise OAuthError("invalid_grant", 50057, "The user account is disabled.")
    if tenant.password_version(user) != payload["pwv"]:
        raise OAuthError(
            "invalid_grant",
            50173,
            "The provided grant has expired due to it being revoked, a fresh auth token is "
            "needed. The user might have changed or reset their password.",
        )
    return user


def split_scopes(requested: list[str], app: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(Graph delegated scope values, OIDC scopes) of a `scope` parameter.

    `https://graph.microsoft.com/X` and a bare `X` both name Graph's `X`; `.default` stands for
    every Graph scope the app registration requires. Other resources' scopes are ignored.
    """
    graph: list[str] = []
    oidc: list[str] = []
    for raw in requested:
        if raw.lower() in OIDC_SCOPES:
            oidc.append(raw.lower())
            continue
        resource, _, value = raw.rpartition("/")
        if resource and resource_for_audience(resource) is not GRAPH:
            continue
        if value == ".default":
            graph += [
                r.value
                for r in consent.required_permissions(app)
                if r.type == "Scope" and r.resource is GRAPH
            ]
        elif value:
            known = GRAPH.by_value(value, "Scope")
            graph.append(known.value if known else value)
    return list(dict.fromkeys(graph)), list(dict.fromkeys(oidc))


def _delegated_response(
    world: World,
    request: Request,
    tenant: Tenant,
    app: dict[str, Any],
    user: User,
    scopes: list[str],
    oidc: list[str],
    *,
    nonce: str | None,
) -> Response:
    granted = scopes or ["User.Read"]
    access_token, lifetime = tokens.delegated_access_token(world, tenant, app, user, granted)
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": " ".join([f"https://graph.microsoft.com/{s}" for s in granted] + oidc),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    }
    if "offline_access" in oidc:
        body["refresh_token"] = tokens.issue_refresh_token(
            world, tenant=tenant, app_id=app["appId"], user=user, scopes=scopes, oidc=oidc
        )
    if "openid" in oidc:
        base = request.host_url.rstrip("/")
        body["id_token"] = tokens.id_token(
            world, tenant, app, user, issuer_base=base, nonce=nonce, with_email="email" in oidc
        )
    return _json(body)


def _json(body: dict[str, Any]) -> Response:
    return Response(
        json.dumps(body),
        content_type="application/json; charset=utf-8",
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
