"""What every Graph handler works with: routes, the request context, results, errors.

Handlers are plain functions registered with `@route(path, methods, access)`. They take a
`Ctx` (tenant, token claims, query, body, simulated now) plus the URL arguments, and return
a JSON-able body, a `Result`, or raise `ControlError`. The dispatcher (graph/app.py) turns
that into an HTTP answer for a direct call or an inner answer of a `$batch`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from werkzeug.datastructures import Headers, MultiDict

from ..clock import iso, real_now
from ..errors import ControlError
from ..generator import User
from ..world import Tenant, World


@dataclass(frozen=True)
class Access:
    """The token permissions that open a route: any one of `names` (higher privileges are
    listed too), as an app role (`roles`) and/or as a delegated scope (`scp`)."""

    names: tuple[str, ...]
    app: bool = True
    delegated: bool = True


def access(*names: str, app: bool = True, delegated: bool = True) -> Access:
    return Access(tuple(names), app, delegated)


@dataclass(frozen=True)
class GraphRoute:
    path: str  # Werkzeug rule, relative to /v1.0 or /beta
    methods: tuple[str, ...]
    handler: Callable[..., Any]
    access: Access

    @property
    def template(self) -> str:
        """The path with `{name}` placeholders: how stats name the route."""
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.path)


ROUTES: list[GraphRoute] = []


def route(path: str, methods: str | tuple[str, ...], access: Access) -> Callable:
    methods = (methods,) if isinstance(methods, str) else methods

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append(GraphRoute(path, tuple(methods), handler, access))
        return handler

    return register


@dataclass
class Result:
    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def no_content() -> Result:
    return Result(None, 204)


@dataclass
class Ctx:
    world: World
    tenant: Tenant
    claims: dict[str, Any]
    version: str  # "v1.0" | "beta"
    method: str
    path: str  # after the version segment, e.g. "/users"
    args: MultiDict
    headers: Headers
    body: bytes
    base_url: str  # scheme://host[:port] as the client addressed us
    now: float  # the tenant's simulated time, fixed for the whole request
    request_id: str

    @cached_property
    def json(self) -> dict[str, Any]:
        """The request body as a JSON object; 400 BadRequest when it is not one."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request("BadRequest", f"Unable to read JSON request payload: {exc}") from exc
        if not isinstance(value, dict):
            raise bad_request("BadRequest", "The request body must be a JSON object.")
        return value

    @property
    def is_delegated(self) -> bool:
        return "scp" in self.claims

    @property
    def app_id(self) -> str:
        return self.claims.get("appid") or self.claims.get("azp") or ""

    @property
    def app_display_name(self) -> str:
        return self.claims.get("app_displayname") or self.app_id

    @cached_property
    def user(self) -> User | None:
        """The signed-in user of a delegated token."""
        if not self.is_delegated:
            return None
        return self.tenant.user(self.claims.get("oid", ""))

    @property
    def include_unknown_enums(self) -> bool:
        prefer = ",".join(self.headers.getlist("Prefer")).lower()
        return "include-unknown-enum-members" in prefer

    def identity_set(self) -> dict[str, Any]:
        """Graph's identitySet for `createdBy` / `lastModifiedBy`."""
        identity: dict[str, Any] = {
            "application": {"id": self.app_id, "displayName": self.app_display_name},
            "user": None,
        }
        if self.user is not None:
            identity["user"] = {
                "id": self.user.id,
                "displayName": self.user.display_name,
                "email": self.user.mail or self.user.user_principal_name,
            }
        return identity

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}{path}"

    def context_url(self, fragment: str) -> str:
        return f"{self.base_url}/{self.version}/$metadata#{fragment}"


def bad_request(code: str, message: str) -> ControlError:
    return ControlError(400, code, message)


def not_found(code: str, message: str) -> ControlError:
    return ControlError(404, code, message)


def error_body(error: ControlError, request_id: str, client_request_id: str) -> dict[str, Any]:
    """Graph's error JSON (concepts/errors.md; the 429 shape of concepts/throttling.md)."""
    date = iso(real_now())
    inner: dict[str, Any] = {
        "date": date,
        "request-id": request_id,
        "client-request-id": client_request_id,
    }
    if error.status == 429:
        inner = {
            "code": "429",
            "date": date,
            "message": "Please retry after",
            "request-id": request_id,
            "status": "429",
        }
    return {
        "error": {"code": error.code, "message": error.message, **error.extra, "innerError": inner}
    }


def lookup_user(ctx: Ctx, id_or_upn: str) -> User:
    user = ctx.tenant.user(id_or_upn)
    if user is None:
        raise not_found(
            "Request_ResourceNotFound",
            f"Resource '{id_or_upn}' does not exist or one of its queried reference-property "
            "objects are not present.",
        )
    return user
