"""Browser flows: `/oauth2/v2.0/authorize` and admin consent (`/v2.0/adminconsent`, legacy
`/adminconsent`).

Each flow is: validate the app and redirect URI (a mismatch shows an error page and never
redirects, as Entra does), sign in (username + password of a directory user), show the
consent page when needed, then redirect back with a code, a consent result or an error.
No cookie is kept: the signed-in user travels to the consent step in a sealed ticket, so
every authorize starts with the sign-in page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from ..catalog import CONSENT_ADMIN_ROLES, GRAPH
from ..clock import real_now
from ..generator import User
from ..world import Tenant, World
from . import consent, pages, tokens
from .oauth_errors import OAuthError
from .token_endpoint import split_scopes

_AUTHORIZE_PARAMS = (
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "login_hint",
    "response_mode",
    "domain_hint",
)
_ADMIN_CONSENT_PARAMS = ("client_id", "redirect_uri", "scope", "state")
_TICKET_LIFETIME = 900.0


def _params(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    source = request.form if request.method == "POST" else request.args
    return {name: source[name] for name in names if source.get(name) is not None}


def _with_query(uri: str, params: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def _resolve_path_tenant(world: World, ref: str) -> Tenant | Response | None:
    from .app import resolve_tenant

    try:
        return resolve_tenant(world, ref)
    except OAuthError as err:
        return pages.error(err.code, err.description)


def _check_app(
    world: World, params: dict[str, str], *, redirect_required: bool = True
) -> tuple[dict[str, Any], str] | Response:
    client_id = params.get("client_id", "")
    app = world.app(client_id) if client_id else None
    if app is None:
        return pages.error(
            700016, f"Application with identifier '{client_id}' was not found in the directory."
        )
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None and not redirect_required and app.get("redirectUris"):
        redirect_uri = app["redirectUris"][0]
    if redirect_uri not in app.get("redirectUris", []):
        return pages.error(
            50011,
            f"The redirect URI '{redirect_uri}' specified in the request does not match the "
            f"redirect URIs configured for the application '{app['appId']}'. Make sure the "
            "redirect URI sent in the request matches one added to your application in the "
            "Azure portal.",
        )
    return app, redirect_uri


def _sign_in(
    world: World, request: Request, path_tenant: Tenant | None
) -> tuple[Tenant, User] | str:
    """The signed-in (tenant, user), or the error text to show on the sign-in page."""
    username = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    domain = username.partition("@")[2]
    tenant = path_tenant or world.tenant(domain)
    user = tenant.user(username) if tenant is not None and "@" in username else None
    if user is None:
        if tenant is None or path_tenant is None:
            return (
                "We couldn't find an account with that username. Try another, or get a new "
                "Microsoft account."
            )
        return (
            f"AADSTS50034: The user account {username} does not exist in the "
            f"{tenant.domain} directory."
        )
    if password != tenant.password_of(user):
        return (
            "Your account or password is incorrect. If you don't remember your password, "
            "reset it now."
        )
    if not tenant.account_enabled(user):
        return (
            "AADSTS50057: The user account is disabled. Your account has been locked. "
            "Contact your support person to unlock it, then try again."
        )
    return tenant, user


def _ticket(world: World, tenant: Tenant, user: User) -> str:
    return world.keys.seal(
        {"k": "ticket", "tid": tenant.id, "uid": user.id, "exp": real_now() + _TICKET_LIFETIME}
    )


def _from_ticket(world: World, request: Request) -> tuple[Tenant, User] | None:
    payload = world.keys.unseal(request.form.get("ticket", ""))
    if not payload or payload.get("k") != "ticket" or payload["exp"] < real_now():
        return None
    tenant = world.tenants.get(payload["tid"])
    user = tenant.user(payload["uid"]) if tenant else None
    return (tenant, user) if user is not None else None


def _is_consent_admin(tenant: Tenant, user: User) -> bool:
    return bool(CONSENT_ADMIN_ROLES & set(tenant.roles_of(user)))


def _permission_rows(
    app: dict[str, Any], only_graph_scopes: list[str] | None = None
) -> list[tuple[str, str, str, str]]:
    rows = []
    if only_graph_scopes is not None:
        for value in only_graph_scopes:
            known = GRAPH.by_value(value, "Scope")
            rows.append(
                (value, "Delegated", GRAPH.display_name, known.description if known else value)
            )
        return rows
    for row in consent.required_permissions(app):
        description = row.permission.description if row.permission else ""
        kind = "Application" if row.type == "Role" else "Delegated"
        name = f"{row.value} ({row.permission.display_name})" if row.permission else row.value
        rows.append((name, kind, row.resource_name, description))
    return rows


# ---- /oauth2/v2.0/authorize ----------------------------------------------------------


def authorize(world: World, request: Request, ref: str) -> Response:
    params = _params(request, _AUTHORIZE_PARAMS)
    path_tenant = _resolve_path_tenant(world, ref)
    if isinstance(path_tenant, Response):
        return path_tenant
    checked = _check_app(world, params)
    if isinstance(checked, Response):
        return checked
    app, redirect_uri = checked
    state = params.get("state")

    def fail(error: str, description: str) -> Response:
        return _send(
            params, redirect_uri, {"error": error, "error_description": description, "state": state}
        )

    if params.get("response_type") != "code":
        return fail(
            "unsupported_response_type",
            "AADSTS700054: response_type must be 'code' for this application.",
        )
    if not params.get("scope"):
        return fail(
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'scope'.",
        )
    if params.get("code_challenge_method", "S256") not in ("S256", "plain"):
        return fail("invalid_request", "AADSTS501491: Invalid code_challenge_method.")
    requested = params["scope"].split()
    scopes, oidc = split_scopes(requested, app)
    whole_app = any(s.endswith(".default") for s in requested)
    stage = request.form.get("stage") if request.method == "POST" else None

    if stage is None:
        return pages.sign_in(
            action=request.path,
            hidden=params,
            heading=f"to continue to {app['displayName']}",
            username=params.get("login_hint", ""),
        )
    if stage == "signin":
        signed = _sign_in(world, request, path_tenant)
        if isinstance(signed, str):
            return pages.sign_in(
                action=request.path,
                hidden=params,
                error=signed,
                heading=f"to continue to {app['displayName']}",
                username=request.form.get("username", ""),
            )
        tenant, user = signed
        granted = consent.consented_scopes(tenant, app["appId"], GRAPH)
        missing = [s for s in scopes if s not in granted]
        forced = params.get("prompt") in ("consent", "admin_consent")
        if not missing and not forced and consent.client_sp(tenant, app["appId"]):
            return _issue_code(world, params, app, redirect_uri, tenant, user, scopes, oidc)
        return pages.consent(
            action=request.path,
            hidden={**params, "ticket": _ticket(world, tenant, user)},
            app_name=app["displayName"],
            publisher=app.get("publisherDomain", "unverified"),
            user_name=user.user_principal_name,
            rows=_permission_rows(app)
            if whole_app
            else _permission_rows(app, only_graph_scopes=(missing or scopes)),
            can_accept=_is_consent_admin(tenant, user),
            on_behalf_of_org=True,
        )
    signed_in = _from_ticket(world, request)
    if signed_in is None:
        return pages.error(50058, "The sign-in session expired or is invalid. Sign in again.")
    tenant, user = signed_in
    if request.form.get("decision") != "accept":
        return fail("access_denied", "AADSTS65004: User declined to consent to access the app.")
    if not _is_consent_admin(tenant, user):
        return pages.error(90094, "The grant requires admin permission.", status=403)
    now = tenant.now()
    if whole_app:
        consent.grant_admin_consent(tenant, app, now)
    else:
        consent.grant_scopes(tenant, app, GRAPH.app_id, set(scopes), now)
    return _issue_code(world, params, app, redirect_uri, tenant, user, scopes, oidc)


def _issue_code(
    world: World,
    params: dict[str, str],
    app: dict[str, Any],
    redirect_uri: str,
    tenant: Tenant,
    user: User,
    scopes: list[str],
    oidc: list[str],
) -> Response:
    code = tokens.issue_code(
        world,
        tenant=tenant,
        app=app,
        user=user,
        redirect_uri=redirect_uri,
        scopes=scopes,
        oidc=oidc,
        nonce=params.get("nonce"),
        code_challenge=params.get("code_challenge"),
        code_challenge_method=params.get("code_challenge_method", "plain")
        if params.get("code_challenge")
        else None,
    )
    return _send(
        params,
        redirect_uri,
        {"code": code, "state": params.get("state"), "session_state": tenant.id},
    )


def _send(params: dict[str, str], redirect_uri: str, values: dict[str, str | None]) -> Response:
    """Back to the client: a redirect (query) or an auto-submitting form (form_post)."""
    if params.get("response_mode") == "form_post":
        from html import escape

        fields = "".join(
            f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
            for k, v in values.items()
            if v is not None
        )
        html = (
            f'<html><body onload="document.forms[0].submit()"><form method="post" '
            f'action="{escape(redirect_uri)}">{fields}<noscript><button type="submit">'
            "Continue</button></noscript></form></body></html>"
        )
        return Response(html, content_type="text/html; charset=utf-8")
    return redirect(_with_query(redirect_uri, values), code=302)


# ---- admin consent -------------------------------------------------------------------


def admin_consent(world: World, request: Request, ref: str, *, legacy: bool) -> Response:
    params = _params(request, _ADMIN_CONSENT_PARAMS)
    if not legacy and ref.lower() == "common":
        return pages.error(
            90130,
            "The /common endpoint is not supported for admin consent; "
            "use a tenant id, a domain or /organizations.",
        )
    path_tenant = _resolve_path_tenant(world, ref)
    if isinstance(path_tenant, Response):
        return path_tenant
    checked = _check_app(world, params, redirect_required=not legacy)
    if isinstance(checked, Response):
        return checked
    app, redirect_uri = checked
    state = params.get("state")
    if not legacy and not params.get("scope"):
        return redirect(
            _with_query(
                redirect_uri,
                {
                    "error": "invalid_request",
                    "admin_consent": "True",
                    "state": state,
                    "error_description": "AADSTS900144: The request body must contain the following "
                    "parameter: 'scope'.",
                },
            )
        )
    stage = request.form.get("stage") if request.method == "POST" else None
    hidden = {**params, "redirect_uri": redirect_uri}
    if stage is None:
        return pages.sign_in(
            action=request.path,
            hidden=hidden,
            heading=f"to grant permissions to {app['displayName']}",
        )
    if stage == "signin":
        signed = _sign_in(world, request, path_tenant)
        if isinstance(signed, str):
            return pages.sign_in(
                action=request.path,
                hidden=hidden,
                error=signed,
                heading=f"to grant permissions to {app['displayName']}",
                username=request.form.get("username", ""),
            )
        tenant, user = signed
        return pages.consent(
            action=request.path,
            hidden={**hidden, "ticket": _ticket(world, tenant, user)},
            app_name=app["displayName"],
            publisher=app.get("publisherDomain", "unverified"),
            user_name=user.user_principal_name,
            rows=_permission_rows(app),
            can_accept=_is_consent_admin(tenant, user),
            on_behalf_of_org=True,
        )
    signed_in = _from_ticket(world, request)
    if signed_in is None:
        return pages.error(50058, "The sign-in session expired or is invalid. Sign in again.")
    tenant, user = signed_in
    admin = _is_consent_admin(tenant, user)
    accepted = request.form.get("decision") == "accept"
    if not admin:
        return redirect(
            _with_query(
                redirect_uri,
                {
                    "error": "consent_required",
                    "admin_consent": "True",
                    "state": state,
                    "error_description": "AADSTS90094: The grant requires admin permission.",
                },
            )
        )
    if not accepted:
        if legacy:
            return redirect(
                _with_query(
                    redirect_uri,
                    {
                        "error": "permission_denied",
                        "error_description": "The admin canceled the request",
                        "state": state,
                    },
                )
            )
        return redirect(
            _with_query(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_subcode": "cancel",
                    "admin_consent": "True",
                    "error_description": "AADSTS65004: User declined to consent to access the app.",
                    "state": state,
                },
            )
        )
    graph_values = consent.grant_admin_consent(tenant, app, tenant.now())
    if legacy:
        return redirect(
            _with_query(
                redirect_uri,
                {
                    "tenant": tenant.id,
                    "state": state,
                    "admin_consent": "True",
                },
            )
        )
    return redirect(
        _with_query(
            redirect_uri,
            {
                "admin_consent": "True",
                "tenant": tenant.id,
                "scope": " ".join(f"https://graph.microsoft.com/{v}" for v in graph_values),
                "state": state,
            },
        )
    )
