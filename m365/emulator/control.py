"""The emulator's own control API under `/_emulator/` (JSON, no authentication).

Tests, `make run` and benches use it to register apps, create tenants, move clocks, inject
faults, change the directory and read request stats. It never meets injected faults.
Errors are `{"error": {"code", "message"}}` with 400, 404 or 409.
"""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import faults
from .backup import service as backup_service
from .catalog import GRAPH
from .clock import iso, real_now
from .errors import ControlError
from .identity import consent, tokens
from .world import Tenant, World, role_name

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _rules() -> list[Rule]:
    return [
        Rule("/_emulator/health", endpoint="health", methods=["GET"]),
        Rule("/_emulator/apps", endpoint="apps", methods=["GET"]),
        Rule("/_emulator/apps/<app_id>", endpoint="app", methods=["GET", "PUT"]),
        Rule("/_emulator/tenants", endpoint="tenants", methods=["GET", "POST"]),
        Rule("/_emulator/tenants/<tid>", endpoint="tenant", methods=["GET", "DELETE"]),
        Rule("/_emulator/clock", endpoint="global_clock", methods=["GET", "POST"]),
        Rule("/_emulator/tenants/<tid>/clock", endpoint="tenant_clock", methods=["GET", "POST"]),
        Rule("/_emulator/faults", endpoint="global_faults", methods=["GET", "PUT", "DELETE"]),
        Rule(
            "/_emulator/tenants/<tid>/faults",
            endpoint="tenant_faults",
            methods=["GET", "PUT", "DELETE"],
        ),
        Rule("/_emulator/tenants/<tid>/users/<user>", endpoint="user", methods=["GET", "DELETE"]),
        Rule(
            "/_emulator/tenants/<tid>/users/<user>/<any('password-reset', 'disable', 'enable')"
            ":action>",
            endpoint="user_action",
            methods=["POST"],
        ),
        Rule("/_emulator/tenants/<tid>/users/<user>/roles", endpoint="user_roles", methods=["PUT"]),
        Rule("/_emulator/tenants/<tid>/sites/<path:site_id>", endpoint="site", methods=["DELETE"]),
        Rule("/_emulator/tenants/<tid>/grants/revoke", endpoint="revoke", methods=["POST"]),
        Rule("/_emulator/tenants/<tid>/controller", endpoint="controller", methods=["POST"]),
        Rule("/_emulator/tenants/<tid>/stats", endpoint="stats", methods=["GET", "DELETE"]),
        Rule("/_emulator/tenants/<tid>/tokens", endpoint="mint_token", methods=["POST"]),
    ]


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlError(400, "invalidRequest", f"malformed JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ControlError(400, "invalidRequest", "the body must be a JSON object")
    return value


class ControlApp:
    def __init__(self, world: World) -> None:
        self.world = world
        self.map = Map(_rules(), strict_slashes=False)

    def handle(self, request: Request) -> Response:
        try:
            endpoint, args = self.map.bind_to_environ(request.environ).match()
            handler = getattr(self, f"_{endpoint}")
            result = handler(request, **args)
            if isinstance(result, Response):
                return result
            status, body = result if isinstance(result, tuple) else (200, result)
            return _json(body, status) if body is not None else Response(status=status)
        except NotFound:
            return _json(
                {
                    "error": {
                        "code": "notFound",
                        "message": f"no control endpoint at {request.path}",
                    }
                },
                404,
            )
        except MethodNotAllowed:
            return _json(
                {
                    "error": {
                        "code": "methodNotAllowed",
                        "message": f"{request.method} is not allowed here",
                    }
                },
                405,
            )
        except ControlError as err:
            return _json({"error": {"code": err.code, "message": err.message}}, err.status)

    # ---- endpoints --------------------------------------------------------------------

    def _health(self, request: Request):
        return {"status": "ok", "tenants": len(self.world.tenants)}

    def _apps(self, request: Request):
        return {"value": list(self.world.data["apps"].values())}

    def _app(self, request: Request, app_id: str):
        if request.method == "GET":
            app = self.world.app(app_id)
            if app is None:
                raise ControlError(404, "notFound", f"no app {app_id}")
            return app
        app = _validate_app(app_id, _body(request))
        with self.world.mutation() as data:
            data["apps"][app["appId"]] = app
        return app

    def _tenants(self, request: Request):
        if request.method == "GET":
            return {"value": [t.summary() for t in list(self.world.tenants.values())]}
        return 201, self.world.create_tenant(_body(request)).summary()

    def _tenant(self, request: Request, tid: str):
        tenant = self._tenant_of(tid)
        if request.method == "DELETE":
            self.world.delete_tenant(tenant.id)
            return 204, None
        return tenant.summary()

    def _tenant_of(self, tid: str) -> Tenant:
        tenant = self.world.tenant(tid)
        if tenant is None:
            raise ControlError(404, "notFound", f"no tenant {tid}")
        return tenant

    @staticmethod
    def _advance(request: Request) -> float:
        seconds = _body(request).get("advanceSeconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ControlError(
                400, "invalidRequest", "advanceSeconds must be a number >= 0 (clocks never go back)"
            )
        return float(seconds)

    def _global_clock(self, request: Request):
        if request.method == "POST":
            seconds = self._advance(request)
            with self.world.mutation() as data:
                data["clockOffset"] = data.get("clockOffset", 0.0) + seconds
        return {"now": iso(self.world.now()), "offsetSeconds": self.world.clock_offset()}

    def _tenant_clock(self, request: Request, tid: str):
        tenant = self._tenant_of(tid)
        if request.method == "POST":
            seconds = self._advance(request)
            with tenant.mutation() as data:
                data["clockOffset"] = data.get("clockOffset", 0.0) + seconds
        return {"now": iso(tenant.now()), "offsetSeconds": tenant.data.get("clockOffset", 0.0)}

    def _global_faults(self, request: Request):
        if request.method == "GET":
            return {"faults": self.world.data.get("faults")}
        config = None if request.method == "DELETE" else faults.validate(_body(request))
        with self.world.mutation() as data:
            data["faults"] = config
        for tenant in list(self.world.tenants.values()):
            tenant.fault_counter.restart()
        return {"faults": config}

    def _tenant_faults(self, request: Request, tid: str):
        tenant = self._tenant_of(tid)
        if request.method == "GET":
            return {"faults": tenant.data.get("faults"), "effective": tenant.faults()}
        config = None if request.method == "DELETE" else faults.validate(_body(request))
        with tenant.mutation() as data:
            data["faults"] = config
        tenant.fault_counter.restart()
        return {"faults": config}

    def _user(self, request: Request, tid: str, user: str):
        tenant = self._tenant_of(tid)
        found = self._user_of(tenant, user)
        if request.method == "DELETE":
            with tenant.mutation() as data:
                data["directory"]["deletedUsers"].setdefault(found.id, tenant.now())
            return 204, None
        return _user_summary(tenant, found)

    def _user_of(self, tenant: Tenant, ref: str):
        user = tenant.user(ref, include_deleted=True)
        if user is None:
            raise ControlError(404, "notFound", f"no user {ref} in tenant {tenant.id}")
        return user

    def _user_action(self, request: Request, tid: str, user: str, action: str):
        tenant = self._tenant_of(tid)
        found = self._user_of(tenant, user)
        with tenant.mutation() as data:
            directory = data["directory"]
            if action == "password-reset":
                directory["passwordVersions"][found.id] = tenant.password_version(found) + 1
            else:
                directory["accountEnabled"][found.id] = action == "enable"
        return _user_summary(tenant, found)

    def _user_roles(self, request: Request, tid: str, user: str):
        tenant = self._tenant_of(tid)
        found = self._user_of(tenant, user)
        roles = _body(request).get("roles")
        if not isinstance(roles, list):
            raise ControlError(400, "invalidRequest", "roles must be a list of role names")
        names = sorted({role_name(r) for r in roles})
        with tenant.mutation() as data:
            data["directory"]["roles"][found.id] = names
        return _user_summary(tenant, found)

    def _site(self, request: Request, tid: str, site_id: str):
        tenant = self._tenant_of(tid)
        site = tenant.gen.site_by_id(site_id) or tenant.gen.site_by_url(site_id)
        if site is None or site.kind == "root":
            raise ControlError(404, "notFound", f"no deletable site {site_id}")
        with tenant.mutation() as data:
            data["directory"]["deletedSites"].setdefault(site.id, tenant.now())
        return 204, None

    def _revoke(self, request: Request, tid: str):
        tenant = self._tenant_of(tid)
        body = _body(request)
        app_id, permission = body.get("appId"), body.get("permission")
        if not isinstance(app_id, str) or not isinstance(permission, str):
            raise ControlError(400, "invalidRequest", "appId and permission are required")
        removed = consent.revoke(tenant, app_id, permission, body.get("resourceAppId"))
        return {"removed": removed}

    def _controller(self, request: Request, tid: str):
        tenant = self._tenant_of(tid)
        body = _body(request)
        app_id = body.get("appId")
        if not isinstance(app_id, str) or not _GUID.match(app_id):
            raise ControlError(400, "invalidRequest", "appId must be a GUID")
        display_name = body.get("displayName") or "Microsoft 365 admin center"
        return backup_service.set_controller(
            tenant, app_id.lower(), str(display_name), tenant.now()
        )

    def _stats(self, request: Request, tid: str):
        tenant = self._tenant_of(tid)
        if request.method == "DELETE":
            tenant.stats.reset()
            return 204, None
        return tenant.stats.snapshot()

    def _mint_token(self, request: Request, tid: str):
        """Extension: a Graph access token with chosen claims (e.g. expired ones)."""
        tenant = self._tenant_of(tid)
        body = _body(request)
        app = self.world.app(str(body.get("appId", ""))) or {
            "appId": str(body.get("appId") or "00000000-0000-0000-0000-000000000001"),
            "displayName": "Emulator test client",
        }
        lifetime = body.get("lifetimeSeconds", 3599)
        if "user" in body:
            user = self._user_of(tenant, str(body["user"]))
            token, _ = tokens.delegated_access_token(
                self.world, tenant, app, user, list(body.get("scopes", []))
            )
        else:
            sp = consent.client_sp(tenant, app["appId"]) or {"id": app["appId"]}
            token = tokens.app_access_token(
                self.world, tenant, app, GRAPH, list(body.get("roles", [])), sp["id"]
            )["access_token"]
        if lifetime != 3599:
            claims = self.world.keys.verify(token)
            now = int(real_now())
            claims.update(
                iat=now + min(0, lifetime), nbf=now + min(0, lifetime), exp=now + int(lifetime)
            )
            token = self.world.keys.sign(claims)
        return {"access_token": token}


def _user_summary(tenant: Tenant, user) -> dict[str, Any]:
    return {
        "id": user.id,
        "userPrincipalName": user.user_principal_name,
        "displayName": user.display_name,
        "password": tenant.password_of(user),
        "roles": tenant.roles_of(user),
        "accountEnabled": tenant.account_enabled(user),
        "deleted": tenant.is_deleted(user),
    }


def _validate_app(app_id: str, body: dict[str, Any]) -> dict[str, Any]:
    if not _GUID.match(app_id):
        raise ControlError(400, "invalidRequest", "appId must be a GUID")
    display_name = body.get("displayName")
    if not isinstance(display_name, str) or not display_name.strip():
        raise ControlError(400, "invalidRequest", "displayName is required")
    owner = body.get("ownerTenantId")
    if not isinstance(owner, str) or not _GUID.match(owner):
        raise ControlError(400, "invalidRequest", "ownerTenantId must be a GUID")
    secret = body.get("secret", "")
    if not isinstance(secret, str):
        raise ControlError(400, "invalidRequest", "secret must be a string")
    uris = body.get("redirectUris", [])
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        raise ControlError(400, "invalidRequest", "redirectUris must be a list of URIs")
    required = body.get("requiredResourceAccess", [])
    if not isinstance(required, list):
        raise ControlError(400, "invalidRequest", "requiredResourceAccess must be a list")
    normalised = []
    for block in required:
        if not isinstance(block, dict) or not isinstance(block.get("resourceAppId"), str):
            raise ControlError(
                400, "invalidRequest", "each requiredResourceAccess entry needs a resourceAppId"
            )
        accesses = block.get("resourceAccess", [])
        if not isinstance(accesses, list) or not all(
            isinstance(a, dict)
            and isinstance(a.get("id"), str)
            and a.get("type") in ("Role", "Scope")
            for a in accesses
        ):
            raise ControlError(
                400, "invalidRequest", "resourceAccess entries need an id and type Role or Scope"
            )
        normalised.append(
            {
                "resourceAppId": block["resourceAppId"].lower(),
                "resourceAccess": [{"id": a["id"].lower(), "type": a["type"]} for a in accesses],
            }
        )
    return {
        "appId": app_id.lower(),
        "displayName": display_name.strip(),
        "secret": secret,
        "ownerTenantId": owner.lower(),
        "redirectUris": list(uris),
        "requiredResourceAccess": normalised,
        "publisherDomain": body.get("publisherDomain") or "unverified",
        # Whether Microsoft created a Billing Policy for the app (POST /enable needs one).
        "hasBillingPolicy": bool(body.get("hasBillingPolicy", True)),
    }
