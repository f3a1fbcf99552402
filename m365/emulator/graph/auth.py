"""Bearer tokens on Graph calls: who is calling, for which tenant, with which permissions.

Graph reads the tenant from the token's `tid`; app-only tokens carry granted app roles in
`roles`, delegated tokens carry consented scopes in `scp`. Token lifetimes are checked
against real time (a client's token cache runs on the wall clock, not on a tenant's
simulated clock).
"""

from __future__ import annotations

from typing import Any

import jwt

from ..catalog import GRAPH
from ..clock import real_now
from ..errors import ControlError
from ..world import Tenant, World
from .core import Access

GRAPH_AUDIENCES = {"https://graph.microsoft.com", "https://graph.microsoft.com/", GRAPH.app_id}
_CLOCK_SKEW = 300.0


def _unauthorized(message: str) -> ControlError:
    return ControlError(
        401,
        "InvalidAuthenticationToken",
        message,
        headers={
            "WWW-Authenticate": 'Bearer realm="", authorization_uri='
            '"https://login.microsoftonline.com/common/oauth2/authorize", '
            f'client_id="{GRAPH.app_id}"'
        },
    )


def authenticate(world: World, authorization: str | None) -> tuple[Tenant, dict[str, Any]]:
    if not authorization:
        raise _unauthorized("Access token is empty.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Access token is empty.")
    try:
        claims = world.keys.verify(token.strip())
    except jwt.InvalidSignatureError as exc:
        raise _unauthorized("Access token validation failure. Invalid signature.") from exc
    except jwt.PyJWTError as exc:
        raise _unauthorized(
            "IDX14100: JWT is not well formed, there are no dots (.). The token needs to be in "
            "JWS or JWE Compact Serialization Format."
        ) from exc
    now = real_now()
    if claims.get("aud") not in GRAPH_AUDIENCES:
        raise _unauthorized("Access token validation failure. Invalid audience.")
    if float(claims.get("exp", 0)) + _CLOCK_SKEW < now:
        raise _unauthorized("Lifetime validation failed, the token is expired.")
    if float(claims.get("nbf", 0)) - _CLOCK_SKEW > now:
        raise _unauthorized("Lifetime validation failed, the token is not yet valid.")
    tenant = world.tenants.get(str(claims.get("tid", "")).lower())
    if tenant is None:
        raise _unauthorized("Access token validation failure. Invalid issuer.")
    return tenant, claims


def granted(claims: dict[str, Any]) -> tuple[set[str], bool]:
    """(permission values, delegated?) carried by a token."""
    if "scp" in claims:
        return {s.lower() for s in str(claims["scp"]).split()}, True
    return {r.lower() for r in claims.get("roles", [])}, False


def authorize(claims: dict[str, Any], needed: Access) -> None:
    """403 Authorization_RequestDenied unless the token holds one of the needed permissions."""
    values, delegated = granted(claims)
    if delegated and not needed.delegated:
        raise ControlError(
            403,
            "Authorization_RequestDenied",
            "This operation is not supported with delegated permissions; use an application token.",
        )
    if not delegated and not needed.app:
        raise ControlError(
            403,
            "Authorization_RequestDenied",
            "This operation supports only delegated permissions: call it with a token of a "
            "signed-in user (application permissions are not supported).",
        )
    if not needed.names:
        return
    if not values & {n.lower() for n in needed.names}:
        raise ControlError(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation. Requires one of: "
            + ", ".join(needed.names)
            + ".",
        )
