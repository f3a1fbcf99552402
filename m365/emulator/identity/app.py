"""The identity platform's URL space: `/{tenant}/...` (discovery, keys, token, sign-in).

`{tenant}` is a tenant GUID, a verified or initial domain, `organizations` or `common`.
Discovery documents name endpoints on the host the client used, so the same server works
as `https://127.0.0.1:PORT` and `https://localhost:PORT`.
"""

from __future__ import annotations

import json

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..world import Tenant, World
from . import interactive, token_endpoint
from .oauth_errors import OAuthError, tenant_not_found

MULTI_TENANT = ("organizations", "common")


def json_response(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")


def resolve_tenant(world: World, ref: str) -> Tenant | None:
    """The tenant a path segment names; None for organizations/common. Raises OAuthError."""
    if ref.lower() in MULTI_TENANT:
        return None
    tenant = world.tenant(ref)
    if tenant is None:
        raise tenant_not_found(ref)
    return tenant


def discovery_document(base: str, ref: str, tenant: Tenant | None) -> dict[str, object]:
    segment = tenant.id if tenant is not None else ref.lower()
    issuer_tenant = tenant.id if tenant is not None else "{tenantid}"
    return {
        "token_endpoint": f"{base}/{segment}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "jwks_uri": f"{base}/{segment}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{issuer_tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{base}/{segment}/oauth2/v2.0/authorize",
        "end_session_endpoint": f"{base}/{segment}/oauth2/v2.0/logout",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "c_hash",
            "email",
            "oid",
        ],
        "code_challenge_methods_supported": ["plain", "S256"],
        "tenant_region_scope": "EU" if tenant is not None else None,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


class IdentityApp:
    def __init__(self, world: World) -> None:
        self.world = world
        self.map = Map(
            [
                Rule("/common/discovery/instance", endpoint="instance"),
                Rule("/<tenant>/v2.0/.well-known/openid-configuration", endpoint="discovery"),
                Rule("/<tenant>/discovery/v2.0/keys", endpoint="keys"),
                Rule("/<tenant>/discovery/keys", endpoint="keys"),
                Rule("/<tenant>/oauth2/v2.0/token", endpoint="token", methods=["POST"]),
                Rule(
                    "/<tenant>/oauth2/v2.0/authorize", endpoint="authorize", methods=["GET", "POST"]
                ),
                Rule(
                    "/<tenant>/v2.0/adminconsent", endpoint="adminconsent", methods=["GET", "POST"]
                ),
                Rule(
                    "/<tenant>/adminconsent",
                    endpoint="legacy_adminconsent",
                    methods=["GET", "POST"],
                ),
            ],
            strict_slashes=False,
        )

    def handle(self, request: Request) -> Response:
        try:
            endpoint, args = self.map.bind_to_environ(request.environ).match()
        except NotFound:
            return json_response(
                {
                    "error": "not_found",
                    "error_description": f"No identity endpoint at {request.path}.",
                },
                404,
            )
        except MethodNotAllowed as exc:
            return exc.get_response()
        except HTTPException as exc:
            return exc.get_response()
        base = request.host_url.rstrip("/")
        ref = args.get("tenant", "common")
        try:
            if endpoint == "instance":
                authority = request.args.get("authorization_endpoint", "")
                tenant_seg = (
                    authority.rstrip("/").split("/")[3] if authority.count("/") > 3 else "common"
                )
                return json_response(
                    {
                        "tenant_discovery_endpoint": f"{base}/{tenant_seg}/v2.0/.well-known/openid-configuration",
                        "api-version": "1.1",
                        "metadata": [],
                    }
                )
            if endpoint == "discovery":
                tenant = resolve_tenant(self.world, ref)
                return json_response(discovery_document(base, ref, tenant))
            if endpoint == "keys":
                tenant = resolve_tenant(self.world, ref)
                issuer = f"{base}/{tenant.id if tenant else '{tenantid}'}/v2.0"
                return json_response({"keys": [{**self.world.keys.public_jwk, "issuer": issuer}]})
            if endpoint == "token":
                return token_endpoint.handle(self.world, request, ref)
            if endpoint == "authorize":
                return interactive.authorize(self.world, request, ref)
            return interactive.admin_consent(
                self.world, request, ref, legacy=endpoint == "legacy_adminconsent"
            )
        except OAuthError as err:
            return err.response()
