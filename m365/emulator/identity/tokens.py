"""Tokens the identity platform issues: access tokens, id tokens, codes, refresh tokens.

Access and id tokens are RS256 JWTs with the claims real ones carry. Authorization codes
and refresh tokens are opaque sealed (Fernet) payloads: self-contained, so they survive a
restart, and checked against the directory when redeemed (a password reset or a disabled
account makes a refresh token fail with invalid_grant). Codes are single-use within a run.
All lifetimes run on real time, since clients cache tokens on the wall clock.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

from ..catalog import GRAPH, ROLES_BY_NAME, ResourceApp
from ..clock import real_now
from ..generator import User
from ..ids import digest, new_guid
from ..world import Tenant, World

_used_codes: set[str] = set()
_used_codes_lock = threading.Lock()


def _audience(tenant: Tenant, resource: ResourceApp) -> str:
    if resource.app_id == GRAPH.app_id:
        return "https://graph.microsoft.com"
    if resource.audiences and resource.audiences[0].startswith("https://"):
        return resource.audiences[0]
    return f"https://{tenant.gen.sharepoint_host}"


def _opaque(size: int = 16) -> str:
    return base64.urlsafe_b64encode(digest(new_guid(), size=size)).decode().rstrip("=")


def app_access_token(
    world: World,
    tenant: Tenant,
    app: dict[str, Any],
    resource: ResourceApp,
    roles: list[str],
    sp_id: str,
) -> dict[str, Any]:
    now = int(real_now())
    lifetime = int(world.durations.access_token_lifetime)
    claims = {
        "aud": _audience(tenant, resource),
        "iss": f"https://sts.windows.net/{tenant.id}/",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "aio": _opaque(),
        "app_displayname": app["displayName"],
        "appid": app["appId"],
        "azp": app["appId"],
        "appidacr": "1",
        "idp": f"https://sts.windows.net/{tenant.id}/",
        "idtyp": "app",
        "oid": sp_id,
        "sub": sp_id,
        "rh": _opaque(),
        "tid": tenant.id,
        "uti": _opaque(),
        "ver": "1.0",
    }
    if roles:
        claims["roles"] = roles
    return {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": world.keys.sign(claims),
    }


def delegated_access_token(
    world: World, tenant: Tenant, app: dict[str, Any], user: User, scopes: list[str]
) -> tuple[str, int]:
    now = int(real_now())
    lifetime = int(world.durations.access_token_lifetime)
    claims = {
        "aud": "https://graph.microsoft.com",
        "iss": f"https://sts.windows.net/{tenant.id}/",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "acct": 0,
        "acr": "1",
        "aio": _opaque(),
        "amr": ["pwd"],
        "app_displayname": app["displayName"],
        "appid": app["appId"],
        "azp": app["appId"],
        "appidacr": "1",
        "family_name": user.surname,
        "given_name": user.given_name,
        "idtyp": "user",
        "ipaddr": "127.0.0.1",
        "name": user.display_name,
        "oid": user.id,
        "preferred_username": user.user_principal_name,
        "rh": _opaque(),
        "scp": " ".join(scopes),
        "sub": pairwise_subject(user.id, GRAPH.app_id),
        "tid": tenant.id,
        "unique_name": user.user_principal_name,
        "upn": user.user_principal_name,
        "uti": _opaque(),
        "ver": "1.0",
        "wids": wids(tenant, user),
    }
    return world.keys.sign(claims), lifetime


def id_token(
    world: World,
    tenant: Tenant,
    app: dict[str, Any],
    user: User,
    *,
    issuer_base: str,
    nonce: str | None,
    with_email: bool,
) -> str:
    now = int(real_now())
    claims = {
        "aud": app["appId"],
        "iss": f"{issuer_base}/{tenant.id}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + int(world.durations.access_token_lifetime),
        "aio": _opaque(),
        "name": user.display_name,
        "oid": user.id,
        "preferred_username": user.user_principal_name,
        "rh": _opaque(),
        "sub": pairwise_subject(user.id, app["appId"]),
        "tid": tenant.id,
        "uti": _opaque(),
        "ver": "2.0",
        "wids": wids(tenant, user),
    }
    if nonce:
        claims["nonce"] = nonce
    if with_email and user.mail:
        claims["email"] = user.mail
    return world.keys.sign(claims)


def pairwise_subject(user_id: str, app_id: str) -> str:
    """`sub`: stable per (user, app), different for each app, like Entra's."""
    return base64.urlsafe_b64encode(digest(user_id, app_id, size=32)).decode().rstrip("=")


def wids(tenant: Tenant, user: User) -> list[str]:
    ids = [ROLES_BY_NAME[r.lower()].id for r in tenant.roles_of(user) if r.lower() in ROLES_BY_NAME]
    # Every member carries the "User" role template id as well, as Entra's tokens do.
    return [*ids, "b79fbf4d-3ef9-4689-8143-76b194e85509"]


# ---- sealed artefacts ----------------------------------------------------------------


def issue_code(
    world: World,
    *,
    tenant: Tenant,
    app: dict[str, Any],
    user: User,
    redirect_uri: str,
    scopes: list[str],
    oidc: list[str],
    nonce: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str:
    return world.keys.seal(
        {
            "k": "code",
            "jti": new_guid(),
            "tid": tenant.id,
            "cid": app["appId"],
            "uid": user.id,
            "ruri": redirect_uri,
            "scp": scopes,
            "oidc": oidc,
            "nonce": nonce,
            "cc": code_challenge,
            "ccm": code_challenge_method,
            "pwv": tenant.password_version(user),
            "exp": real_now() + world.durations.authorization_code_lifetime,
        }
    )


def redeem_code(world: World, code: str) -> dict[str, Any] | None:
    """The code's payload, once; None when unknown, expired or already redeemed."""
    payload = world.keys.unseal(code)
    if not payload or payload.get("k") != "code":
        return None
    with _used_codes_lock:
        if payload["jti"] in _used_codes:
            return {"redeemed": True}
        _used_codes.add(payload["jti"])
    if payload["exp"] < real_now():
        return {"expired": True}
    return payload


def issue_refresh_token(
    world: World, *, tenant: Tenant, app_id: str, user: User, scopes: list[str], oidc: list[str]
) -> str:
    now = real_now()
    return world.keys.seal(
        {
            "k": "rt",
            "jti": new_guid(),
            "tid": tenant.id,
            "cid": app_id,
            "uid": user.id,
            "scp": scopes,
            "oidc": oidc,
            "pwv": tenant.password_version(user),
            "iat": now,
            "exp": now + world.durations.refresh_token_lifetime,
        }
    )


def read_refresh_token(world: World, token: str) -> dict[str, Any] | None:
    payload = world.keys.unseal(token)
    if not payload or payload.get("k") != "rt":
        return None
    return payload
