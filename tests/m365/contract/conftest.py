"""Contract tests: the production client against the running emulator over real HTTPS.

Nothing here is mocked: the emulator subprocess comes from the emulator's pytest plugin
(`tests/fixtures/emulator.py`), tenants from its control API, consent from its sign-in and
consent pages (driven by m365.emulator.testing.browser_flow), tokens from msal."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from m365.auth import AppTokenProvider, DelegatedTokenSource
from m365.config import GraphSettings
from m365.emulator.testing import EmulatorControl, Pkce, browser_flow
from m365.graph import GraphClient
from m365.identity import admin_consent_url, authorize_url, legacy_admin_consent_url
from m365.stats import GraphStats
from tests.fixtures.emulator import EmulatedTenant

REDIRECT_URI = "https://portal.test.invalid/m365/callback"
GRAPH = "00000003-0000-0000-c000-000000000000"
ROLES = {
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
    "Sites.Read.All": "332a536c-c7ef-4017-ab91-336970924f0d",
    "Reports.Read.All": "230c1aed-a721-4c5d-9cb4-a90514e508ef",
    "BackupRestore-Control.ReadWrite.All": "fb240865-88f8-4a1d-923f-98dbc7920860",
    "BackupRestore-Configuration.ReadWrite.All": "18133149-5489-40ac-80f0-4b6fa85f6cdc",
    "BackupRestore-Restore.ReadWrite.All": "bebd0841-a3d8-4313-a51d-731112c8ee41",
    "BackupRestore-Search.Read.All": "f6135c51-c766-4be1-9638-ed90c2ed2443",
}
SCOPES = {
    "BackupRestore-Control.ReadWrite.All": "96d46335-d92d-41b8-bc9f-273a692381ea",
    "BackupRestore-Configuration.ReadWrite.All": "a0244d16-171c-4496-8ffb-7b9b6954d339",
}


@dataclass(frozen=True)
class MspApp:
    app_id: str
    secret: str
    owner_tenant_id: str


def login(tenant: EmulatedTenant, who: str) -> tuple[str, str]:
    """UPN and password of a directory user by local part ("admin", "user", ...)."""
    user = tenant.info.directory_user(who)
    return user.user_principal_name, user.password


class SleepRecorder:
    """The injected `sleep`: records every wait and does not sleep through long ones, so
    tests can check the client waited as long as Graph asked."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture(scope="session")
def control(emulator) -> EmulatorControl:
    return emulator.control


def register_app(
    control: EmulatorControl, *, roles: dict[str, str] = ROLES, scopes: dict[str, str] = SCOPES
) -> MspApp:
    """Register an MSP app of our own (the plugin's TEST_APP lacks the Control role)."""
    app = MspApp(str(uuid.uuid4()), f"secret-{uuid.uuid4()}", str(uuid.uuid4()))
    access = [{"id": i, "type": "Role"} for i in roles.values()]
    access += [{"id": i, "type": "Scope"} for i in scopes.values()]
    control.register_app(
        app.app_id,
        display_name="Cloud Backup Express (contract tests)",
        secret=app.secret,
        owner_tenant_id=app.owner_tenant_id,
        redirect_uris=[REDIRECT_URI],
        required_resource_access=[{"resourceAppId": GRAPH, "resourceAccess": access}],
    )
    return app


@pytest.fixture(scope="session")
def msp_app(control) -> MspApp:
    return register_app(control)


def make_settings(emulator, app: MspApp, **overrides: Any) -> GraphSettings:
    return GraphSettings(
        client_id=app.app_id,
        client_secret=app.secret,
        msp_tenant_id=app.owner_tenant_id,
        login_base_url=emulator.base_url,
        graph_base_url=emulator.base_url,
        ca_bundle=str(emulator.ca_path),
        **{
            "max_attempts": 12,
            "backoff_base_seconds": 0.01,
            "backoff_cap_seconds": 0.05,
            **overrides,
        },
    )


@pytest.fixture(scope="session")
def settings(emulator, msp_app) -> GraphSettings:
    return make_settings(emulator, msp_app)


@pytest.fixture
def new_tenant(emulated_tenant) -> Callable[..., EmulatedTenant]:
    """Fresh tenants from the emulator plugin (unique id and domain, deleted afterwards)."""

    def create(users: int = 80, seed: int | None = None, **options: Any) -> EmulatedTenant:
        seed = seed if seed is not None else uuid.uuid4().int % 1_000_000
        return emulated_tenant(users=users, seed=seed, **options)

    return create


def admin_consent(
    emulator,
    settings: GraphSettings,
    tenant: EmulatedTenant,
    who: str = "admin",
    accept: bool = True,
    legacy: bool = False,
) -> dict[str, str]:
    """Consent through the emulator's pages, starting from the client's own URL builder."""
    username, password = login(tenant, who)
    if legacy:  # the legacy endpoint accepts `common`: the signed-in admin picks the tenant
        url = legacy_admin_consent_url(settings, redirect_uri=REDIRECT_URI, state="st")
    else:
        url = admin_consent_url(settings, redirect_uri=REDIRECT_URI, state="st", tenant=tenant.id)
    decision = "accept" if accept else "cancel"
    return browser_flow(emulator, url, (username, password), decision).params


@pytest.fixture
def tenant(emulator, settings, new_tenant) -> EmulatedTenant:
    """A fresh tenant whose Global Administrator consented to the MSP app."""
    created = new_tenant()
    answer = admin_consent(emulator, settings, created)
    assert answer.get("admin_consent", "").lower() == "true" and "error" not in answer, answer
    return created


@pytest.fixture(scope="session")
def app_tokens(settings) -> AppTokenProvider:
    return AppTokenProvider(settings)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def graph(settings, tenant, app_tokens, sleeps) -> Iterator[GraphClient]:
    with GraphClient(
        settings, tenant.id, app_tokens.source(tenant.id), stats=GraphStats(), sleep=sleeps
    ) as client:
        yield client


def sign_in_delegated(
    emulator,
    settings: GraphSettings,
    tenant: EmulatedTenant,
    who: str = "admin",
    scopes: tuple[str, ...] = ("openid", "offline_access", "https://graph.microsoft.com/.default"),
) -> dict[str, Any]:
    """Authorization code + PKCE as the portal's social-auth would: the token answer."""
    pkce = Pkce.new()
    username, password = login(tenant, who)
    url = authorize_url(
        settings,
        redirect_uri=REDIRECT_URI,
        state="st",
        scopes=scopes,
        tenant=tenant.id,
        code_challenge=pkce.challenge,
    )
    answer = browser_flow(emulator, url, (username, password), "accept").params
    assert "code" in answer, answer
    with emulator.http() as web:
        token = web.post(
            f"{settings.login_base_url}/{tenant.id}/oauth2/v2.0/token",
            data={
                "client_id": settings.client_id,
                "client_secret": settings.client_secret,
                "grant_type": "authorization_code",
                "code": answer["code"],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": pkce.verifier,
                "scope": " ".join(scopes),
            },
        )
    assert token.status_code == 200, token.text
    return token.json()


@pytest.fixture
def delegated(emulator, settings, tenant):
    """A DelegatedTokenSource for the tenant's Global Administrator, and the list of rotated
    refresh tokens handed back to the portal."""
    answer = sign_in_delegated(emulator, settings, tenant)
    rotated: list[str] = []
    source = DelegatedTokenSource(settings, tenant.id, answer["refresh_token"], rotated.append)
    return source, rotated, answer["refresh_token"]


@pytest.fixture
def delegated_graph(settings, tenant, delegated, sleeps) -> Iterator[GraphClient]:
    source, _, _ = delegated
    with GraphClient(settings, tenant.id, source, sleep=sleeps) as client:
        yield client


def advance(control: EmulatorControl, tenant: EmulatedTenant, seconds: float) -> None:
    """Move the tenant's simulated clock forward (units protect, restores progress)."""
    control.advance_clock(seconds, tenant.id)


@pytest.fixture
def backup_enabled(graph, delegated_graph, settings) -> GraphClient:
    """The MSP app is the tenant's active controller and Backup Storage is enabled."""
    from m365.backup import service

    app = service.create_service_app(graph)
    service.activate_service_app(delegated_graph, app.id)
    service.enable_backup_service(graph, app_owner_tenant_id=settings.msp_tenant_id)
    return graph
