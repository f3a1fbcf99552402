"""Running the emulator from tests and benches, and driving it.

```python
with run_emulator() as emu:          # a subprocess on a free port, in a temporary state dir
    emu.control.register_app(APP_ID, display_name=..., secret=..., owner_tenant_id=...)
    tenant = emu.control.create_tenant(domain="contoso.example", seed=1, users=50)
    admin_consent(emu, tenant.id, APP_ID, redirect_uri, tenant.admin)   # the real HTML flow
    emu.restart()                    # same port, same state dir
```

`EmulatorControl` is a thin typed client of the control API (`/_emulator/`). The flow
helpers (`admin_consent`, `authorize`, `client_credentials_token`) drive the identity
endpoints over HTTPS exactly as a browser or a client library would.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from .catalog import EXCHANGE, GRAPH, SHAREPOINT, ResourceApp

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The Cloud Backup Express manifest (shared/seed/cloud-backup-express-permissions.txt):
# 11 application permissions and 1 delegated one, by resource.
SEED_PERMISSIONS: tuple[tuple[ResourceApp, str, str], ...] = (
    (EXCHANGE, "Exchange.ManageAsApp", "Role"),
    (SHAREPOINT, "Sites.FullControl.All", "Role"),
    (SHAREPOINT, "User.Read.All", "Role"),
    (GRAPH, "BackupRestore-Configuration.ReadWrite.All", "Role"),
    (GRAPH, "BackupRestore-Restore.ReadWrite.All", "Role"),
    (GRAPH, "BackupRestore-Search.Read.All", "Role"),
    (GRAPH, "Directory.Read.All", "Role"),
    (GRAPH, "User.Read.All", "Role"),
    (GRAPH, "Sites.Read.All", "Role"),
    (GRAPH, "Group.Read.All", "Role"),
    (GRAPH, "Reports.Read.All", "Role"),
    (GRAPH, "BackupRestore-Control.ReadWrite.All", "Scope"),
)


def seed_required_resource_access() -> list[dict[str, Any]]:
    """requiredResourceAccess equal to the 12 permissions of the seed manifest."""
    blocks: dict[str, list[dict[str, str]]] = {}
    for resource, value, kind in SEED_PERMISSIONS:
        permission = resource.by_value(value, kind)
        assert permission is not None, f"{value} missing from the catalog"
        blocks.setdefault(resource.app_id, []).append({"id": permission.id, "type": kind})
    return [{"resourceAppId": k, "resourceAccess": v} for k, v in blocks.items()]


class EmulatorControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    user_principal_name: str
    display_name: str
    password: str
    roles: tuple[str, ...]
    account_enabled: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DirectoryUser:
        return cls(data["id"], data["userPrincipalName"], data["displayName"], data["password"],
                   tuple(data["roles"]), data["accountEnabled"])


@dataclass(frozen=True)
class TenantInfo:
    id: str
    domain: str
    initial_domain: str
    display_name: str
    seed: int
    users: int
    groups: int
    sites: int
    sharepoint_host: str
    directory_users: tuple[DirectoryUser, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TenantInfo:
        return cls(data["id"], data["domain"], data["initialDomain"], data["displayName"],
                   data["seed"], data["users"], data["groups"], data["sites"],
                   data["sharePointHost"],
                   tuple(DirectoryUser.from_json(u) for u in data["directoryUsers"]))

    def directory_user(self, local_part: str) -> DirectoryUser:
        upn = f"{local_part}@{self.domain}"
        for user in self.directory_users:
            if user.user_principal_name == upn:
                return user
        raise KeyError(upn)

    @property
    def admin(self) -> DirectoryUser:
        """Global Administrator."""
        return self.directory_user("admin")

    @property
    def backup_admin(self) -> DirectoryUser:
        """Microsoft 365 Backup Administrator."""
        return self.directory_user("backup.admin")

    @property
    def privileged_admin(self) -> DirectoryUser:
        """Privileged Role Administrator."""
        return self.directory_user("privileged.admin")

    @property
    def user(self) -> DirectoryUser:
        """A user with no role."""
        return self.directory_user("user")


def trust(ca_path: str | Path) -> ssl.SSLContext:
    """An SSL context trusting only the emulator's CA (httpx's `verify=`)."""
    return ssl.create_default_context(cafile=str(ca_path))


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class EmulatorControl:
    """Typed client of the control API; raises EmulatorControlError on 4xx answers."""

    def __init__(self, base_url: str, ca_path: str | Path, timeout: float = 30.0) -> None:
        self._http = httpx.Client(base_url=base_url, verify=trust(ca_path), timeout=timeout,
                                  trust_env=False)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, f"/_emulator{path}", json=body)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise EmulatorControlError(response.status_code, error["code"], error["message"])
            except (ValueError, KeyError):
                raise EmulatorControlError(response.status_code, "unknown",
                                           response.text) from None
        return response.json() if response.content else None

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    # apps ------------------------------------------------------------------------------

    def register_app(self, app_id: str, *, display_name: str, secret: str,
                     owner_tenant_id: str, redirect_uris: Sequence[str] = (),
                     required_resource_access: list[dict[str, Any]] | None = None,
                     has_billing_policy: bool = True) -> dict[str, Any]:
        """Register (or replace) a multi-tenant app; by default with the seed manifest."""
        return self._call("PUT", f"/apps/{app_id}", {
            "displayName": display_name, "secret": secret, "ownerTenantId": owner_tenant_id,
            "redirectUris": list(redirect_uris),
            "requiredResourceAccess": required_resource_access
            if required_resource_access is not None else seed_required_resource_access(),
            "hasBillingPolicy": has_billing_policy,
        })

    def get_app(self, app_id: str) -> dict[str, Any]:
        return self._call("GET", f"/apps/{app_id}")

    # tenants ---------------------------------------------------------------------------

    def create_tenant(self, *, domain: str, seed: int, users: int, id: str | None = None,
                      display_name: str | None = None, groups: int | None = None,
                      sites: int | None = None) -> TenantInfo:
        body: dict[str, Any] = {"domain": domain, "seed": seed, "users": users}
        for key, value in (("id", id), ("displayName", display_name), ("groups", groups),
                           ("sites", sites)):
            if value is not None:
                body[key] = value
        return TenantInfo.from_json(self._call("POST", "/tenants", body))

    def list_tenants(self) -> list[TenantInfo]:
        return [TenantInfo.from_json(t) for t in self._call("GET", "/tenants")["value"]]

    def get_tenant(self, tenant_id: str) -> TenantInfo:
        return TenantInfo.from_json(self._call("GET", f"/tenants/{tenant_id}"))

    def delete_tenant(self, tenant_id: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}")

    # clocks ----------------------------------------------------------------------------

    def advance_clock(self, seconds: float, tenant_id: str | None = None) -> datetime:
        path = f"/tenants/{tenant_id}/clock" if tenant_id else "/clock"
        return _parse_time(self._call("POST", path, {"advanceSeconds": seconds})["now"])

    def now(self, tenant_id: str | None = None) -> datetime:
        path = f"/tenants/{tenant_id}/clock" if tenant_id else "/clock"
        return _parse_time(self._call("GET", path)["now"])

    # faults ----------------------------------------------------------------------------

    def set_faults(self, tenant_id: str | None = None, *, seed: int = 0,
                   throttle_rate: float = 0.0, retry_after_seconds: float = 2.0,
                   service_unavailable_rate: float = 0.0, latency_ms: int = 0,
                   token_endpoint_failure: bool = False,
                   restore_failure_unit_ids: Sequence[str] = (),
                   page_size: dict[str, int] | None = None) -> dict[str, Any]:
        path = f"/tenants/{tenant_id}/faults" if tenant_id else "/faults"
        return self._call("PUT", path, {
            "seed": seed, "throttleRate": throttle_rate, "retryAfterSeconds": retry_after_seconds,
            "serviceUnavailableRate": service_unavailable_rate, "latencyMs": latency_ms,
            "tokenEndpointFailure": token_endpoint_failure,
            "restoreFailureUnitIds": list(restore_failure_unit_ids),
            "pageSize": page_size or {},
        })["faults"]

    def clear_faults(self, tenant_id: str | None = None) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/faults" if tenant_id else "/faults")

    # directory events ------------------------------------------------------------------

    def reset_password(self, tenant_id: str, user: str) -> DirectoryUser:
        """Reset a password: the user's refresh tokens then fail with invalid_grant."""
        return DirectoryUser.from_json(
            self._call("POST", f"/tenants/{tenant_id}/users/{user}/password-reset"))

    def disable_user(self, tenant_id: str, user: str) -> DirectoryUser:
        return DirectoryUser.from_json(
            self._call("POST", f"/tenants/{tenant_id}/users/{user}/disable"))

    def enable_user(self, tenant_id: str, user: str) -> DirectoryUser:
        return DirectoryUser.from_json(
            self._call("POST", f"/tenants/{tenant_id}/users/{user}/enable"))

    def get_user(self, tenant_id: str, user: str) -> DirectoryUser:
        return DirectoryUser.from_json(self._call("GET", f"/tenants/{tenant_id}/users/{user}"))

    def set_roles(self, tenant_id: str, user: str, roles: Sequence[str]) -> DirectoryUser:
        return DirectoryUser.from_json(
            self._call("PUT", f"/tenants/{tenant_id}/users/{user}/roles", {"roles": list(roles)}))

    def delete_user(self, tenant_id: str, user: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/users/{user}")

    def delete_site(self, tenant_id: str, site_id: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/sites/{site_id}")

    # consent, backup controller, stats, tokens -----------------------------------------

    def revoke_grant(self, tenant_id: str, *, app_id: str, permission: str,
                     resource_app_id: str | None = None) -> list[str]:
        body = {"appId": app_id, "permission": permission}
        if resource_app_id:
            body["resourceAppId"] = resource_app_id
        return self._call("POST", f"/tenants/{tenant_id}/grants/revoke", body)["removed"]

    def set_controller(self, tenant_id: str, *, app_id: str,
                       display_name: str | None = None) -> dict[str, Any]:
        """Make `app_id` the tenant's active controller with the backup service enabled."""
        body = {"appId": app_id}
        if display_name:
            body["displayName"] = display_name
        return self._call("POST", f"/tenants/{tenant_id}/controller", body)

    def stats(self, tenant_id: str) -> dict[str, Any]:
        return self._call("GET", f"/tenants/{tenant_id}/stats")

    def reset_stats(self, tenant_id: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/stats")

    def mint_token(self, tenant_id: str, *, app_id: str | None = None,
                   roles: Sequence[str] = (), user: str | None = None,
                   scopes: Sequence[str] = (), lifetime_seconds: int = 3599) -> str:
        """A Graph access token with chosen claims, without any flow (e.g. an expired one)."""
        body: dict[str, Any] = {"roles": list(roles), "scopes": list(scopes),
                                "lifetimeSeconds": lifetime_seconds}
        if app_id:
            body["appId"] = app_id
        if user:
            body["user"] = user
        return self._call("POST", f"/tenants/{tenant_id}/tokens", body)["access_token"]


class RunningEmulator:
    """An emulator subprocess on a fixed state directory (and, after start, a fixed port)."""

    def __init__(self, state_dir: Path, port: int = 0, tenants_file: Path | None = None,
                 startup_timeout: float = 30.0, durations: dict[str, float] | None = None
                 ) -> None:
        self.state_dir = state_dir
        self.durations = dict(durations or {})
        self.port = port
        self.tenants_file = tenants_file
        self.startup_timeout = startup_timeout
        self.base_url = ""
        self.ca_path = ""
        self.control: EmulatorControl | None = None
        self._process: subprocess.Popen | None = None
        self.log_path = state_dir / "emulator.log"

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "m365.emulator", "--port", str(self.port),
                   "--state-dir", str(self.state_dir)]
        if self.tenants_file:
            command += ["--tenants-file", str(self.tenants_file)]
        for name, seconds in self.durations.items():
            command += ["--duration", f"{name}={seconds}"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ), "PYTHONUNBUFFERED": "1"}
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log,  # noqa: S603
                                         stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()[offset:].decode(errors="replace")
            ca = re.search(r"^CA file: (.+)$", text, re.M)
            base = re.search(r"^Base URL: (\S+)$", text, re.M)
            if ca and base:
                self.ca_path, self.base_url = ca.group(1).strip(), base.group(1).strip()
                self.port = int(self.base_url.rsplit(":", 1)[1])
                self.control = EmulatorControl(self.base_url, self.ca_path)
                self._wait_healthy(deadline)
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the emulator did not start; log:\n{self.log_tail()}")

    def _wait_healthy(self, deadline: float) -> None:
        while True:
            try:
                self.control.health()
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def http(self, **kwargs: Any) -> httpx.Client:
        """An httpx client that trusts the emulator's CA (the caller closes it)."""
        return httpx.Client(base_url=self.base_url, verify=trust(self.ca_path), trust_env=False,
                            timeout=kwargs.pop("timeout", 30.0), **kwargs)


@contextmanager
def run_emulator(state_dir: str | Path | None = None, port: int = 0, *,
                 tenants_file: str | Path | None = None,
                 durations: dict[str, float] | None = None) -> Iterator[RunningEmulator]:
    """Start the emulator as a subprocess, wait until it answers, stop it on exit.

    `durations` overrides simulated durations (world.Durations field names, in seconds)."""
    temporary = tempfile.TemporaryDirectory(prefix="m365-emulator-") if state_dir is None \
        else None
    directory = Path(temporary.name if temporary else state_dir)
    emulator = RunningEmulator(directory, port, Path(tenants_file) if tenants_file else None,
                               durations=durations)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
        if temporary is not None:
            temporary.cleanup()


# ---- identity flows, driven like a browser ------------------------------------------


def _hidden_fields(html: str) -> dict[str, str]:
    import html as html_lib

    return {html_lib.unescape(name): html_lib.unescape(value) for name, value in re.findall(
        r'<input type="hidden" name="([^"]*)" value="([^"]*)">', html)}


def _form_action(html: str) -> str:
    import html as html_lib

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
    return FlowResult(response.status_code, location, params,
                      response.text if "html" in response.headers.get("content-type", "") else "")


def browser_flow(emulator: RunningEmulator, url: str, user: DirectoryUser | tuple[str, str],
                 decision: str = "accept") -> FlowResult:
    """Open `url` (an authorize or admin-consent URL, absolute or relative), sign in as
    `user`, answer the consent page with `decision` if one is shown; return where it led."""
    username, password = (user.user_principal_name, user.password) \
        if isinstance(user, DirectoryUser) else user
    with emulator.http(follow_redirects=False) as http:
        page = http.get(url)
        if page.status_code != 200:
            return _result(page)
        action = urljoin(emulator.base_url, _form_action(page.text))
        signed = http.post(action, data={**_hidden_fields(page.text), "username": username,
                                         "password": password})
        if signed.status_code != 200 or 'value="consent"' not in signed.text:
            return _result(signed)
        fields = _hidden_fields(signed.text)
        return _result(http.post(action, data={**fields, "decision": decision}))


def admin_consent(emulator: RunningEmulator, tenant: str, app_id: str, redirect_uri: str,
                  user: DirectoryUser | tuple[str, str], *, decision: str = "accept",
                  state: str = "state-1", legacy: bool = False) -> FlowResult:
    """Run the admin-consent pages (v2.0 or legacy) as `user` and return where they lead."""
    from urllib.parse import urlencode

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
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        return cls(verifier, challenge)


def authorize(emulator: RunningEmulator, tenant: str, app_id: str, redirect_uri: str,
              user: DirectoryUser | tuple[str, str], *,
              scope: str = "openid profile offline_access "
                           "https://graph.microsoft.com/BackupRestore-Control.ReadWrite.All",
              pkce: Pkce | None = None, decision: str = "accept", state: str = "state-1",
              nonce: str | None = "nonce-1", prompt: str | None = None) -> FlowResult:
    """Run `/oauth2/v2.0/authorize` (sign-in, consent when asked) and return the redirect."""
    from urllib.parse import urlencode

    query = {"client_id": app_id, "response_type": "code", "redirect_uri": redirect_uri,
             "scope": scope, "state": state}
    if nonce:
        query["nonce"] = nonce
    if prompt:
        query["prompt"] = prompt
    if pkce:
        query.update(code_challenge=pkce.challenge, code_challenge_method="S256")
    return browser_flow(emulator, f"/{tenant}/oauth2/v2.0/authorize?{urlencode(query)}", user,
                         decision)


def redeem_code(emulator: RunningEmulator, tenant: str, app_id: str, secret: str,
                redirect_uri: str, code: str, pkce: Pkce | None = None) -> httpx.Response:
    data = {"client_id": app_id, "client_secret": secret, "grant_type": "authorization_code",
            "code": code, "redirect_uri": redirect_uri}
    if pkce:
        data["code_verifier"] = pkce.verifier
    with emulator.http() as http:
        return http.post(f"/{tenant}/oauth2/v2.0/token", data=data)


def refresh(emulator: RunningEmulator, tenant: str, app_id: str, secret: str,
            refresh_token: str) -> httpx.Response:
    with emulator.http() as http:
        return http.post(f"/{tenant}/oauth2/v2.0/token", data={
            "client_id": app_id, "client_secret": secret, "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        })


def client_credentials_token(emulator: RunningEmulator, tenant: str, app_id: str,
                             secret: str, scope: str = "https://graph.microsoft.com/.default"
                             ) -> httpx.Response:
    with emulator.http() as http:
        return http.post(f"/{tenant}/oauth2/v2.0/token", data={
            "client_id": app_id, "client_secret": secret, "grant_type": "client_credentials",
            "scope": scope,
        })
