"""Identity flows driven like a browser: sign-in and consent pages, code redemption,
refresh and client credentials, over HTTPS against a running emulator."""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from .control import DirectoryUser
from .runner import EmulatorAt, RunningEmulator

Emulator = RunningEmulator | EmulatorAt


def _hidden_fields(html: str) -> dict[str, str]:
    return {
        html_lib.unescape(name): html_lib.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', html)
    }


def _form_action(html: str) -> str:
    match = re.search(r'<form method="post" action="([^"]*)"', html)
    if not match:
        raise AssertionError(f"no form on the page:\n{html[:2000]}")
    return html_lib.unescape(match.group(1))


@dataclass(frozen=True)
class FlowResult:
    """Where a browser flow ended: a redirect to the app (`params`) or a page (`html`)."""

    status: int
    location: str | None
    params: dict[str, str]
    html: str

    @property
    def error(self) -> str | None:
        return self.params.get("error")


def _result(response: httpx.Response) -> FlowResult:
    location = response.headers.get("location")
    params: dict[str, str] = {}
    if location:
        params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return FlowResult(
        response.status_code,
        location,
        params,
        response.text if "html" in response.headers.get("content-type", "") else "",
    )


def browser_flow(
    emulator: Emulator,
    url: str,
    user: DirectoryUser | tuple[str, str],
    decision: str = "accept",
) -> FlowResult:
    """Open `url` (an authorize or admin-consent URL, absolute or relative), sign in as
    `user`, answer the consent page with `decision` if one is shown; return where it led."""
    username, password = (
        (user.user_principal_name, user.password) if isinstance(user, DirectoryUser) else user
    )
    with emulator.http(follow_redirects=False) as http:
        page = http.get(url)
        if page.status_code != 200:
            return _result(page)
        action = urljoin(emulator.base_url, _form_action(page.text))
        signed = http.post(
            action, data={**_hidden_fields(page.text), "username": username, "password": password}
        )
        if signed.status_code != 200 or 'value="consent"' not in signed.text:
            return _result(signed)
        fields = _hidden_fields(signed.text)
        return _result(http.post(action, data={**fields, "decision": decision}))


def admin_consent(
    emulator: Emulator,
    tenant: str,
    app_id: str,
    redirect_uri: str,
    user: DirectoryUser | tuple[str, str],
    *,
    decision: str = "accept",
    state: str = "state-1",
    legacy: bool = False,
) -> FlowResult:
    """Run the admin-consent pages (v2.0 or legacy) as `user` and return where they lead."""

    query = {"client_id": app_id, "redirect_uri": redirect_uri, "state": state}
    if not legacy:
        query["scope"] = "https://graph.microsoft.com/.default"
    path = f"/{tenant}/adminconsent" if legacy else f"/{tenant}/v2.0/adminconsent"
    return browser_flow(emulator, f"{path}?{urlencode(query)}", user, decision)


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .decode()
            .rstrip("=")
        )
        return cls(verifier, challenge)


def authorize(
    emulator: Emulator,
    tenant: str,
    app_id: str,
    redirect_uri: str,
    user: DirectoryUser | tuple[str, str],
    *,
    scope: str = "openid profile offline_access "
    "https://graph.microsoft.com/BackupRestore-Control.ReadWrite.All",
    pkce: Pkce | None = None,
    decision: str = "accept",
    state: str = "state-1",
    nonce: str | None = "nonce-1",
    prompt: str | None = None,
) -> FlowResult:
    """Run `/oauth2/v2.0/authorize` (sign-in, consent when asked) and return the redirect."""

    query = {
        "client_id": app_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
    }
    if nonce:
        query["nonce"] = nonce
    if prompt:
        query["prompt"] = prompt
    if pkce:
        query.update(code_challenge=pkce.challenge, code_challenge_method="S256")
    return browser_flow(
        emulator, f"/{tenant}/oauth2/v2.0/authorize?{urlencode(query)}", user, decision
    )


def redeem_code(
    emulator: Emulator,
    tenant: str,
    app_id: str,
    secret: str,
    redirect_uri: str,
    code: str,
    pkce: Pkce | None = None,
) -> httpx.Response:
    data = {
        "client_id": app_id,
        "client_secret": secret,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
    }
    if pkce:
        data["code_verifier"] = pkce.verifier
    with emulator.http() as http:
        return http.post(f"/{tenant}/oauth2/v2.0/token", data=data)


def refresh(
    emulator: Emulator, tenant: str, app_id: str, secret: str, refresh_token: str
) -> httpx.Response:
    with emulator.http() as http:
        return http.post(
            f"/{tenant}/oauth2/v2.0/token",
            data={
                "client_id": app_id,
                "client_secret": secret,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
        )


def client_credentials_token(
    emulator: Emulator,
    tenant: str,
    app_id: str,
    secret: str,
    scope: str = "https://graph.microsoft.com/.default",
) -> httpx.Response:
    with emulator.http() as http:
        return http.post(
            f"/{tenant}/oauth2/v2.0/token",
            data={
                "client_id": app_id,
                "client_secret": secret,
                "grant_type": "client_credentials",
                "scope": scope,
            },
        )
