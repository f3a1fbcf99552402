"""Bad input answers like Graph: a JSON error with a 4xx status, never a 500 or HTML.

Every registered Graph route is called with each of its methods, with placeholders that are
a well-formed unknown GUID or garbage, and (for writes) with malformed bodies; identity and
control endpoints get junk too. The token holds every permission the emulator knows, so
requests get past authorisation into the handlers.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from m365.emulator.catalog import GRAPH
from m365.emulator.graph.app import _load_handlers
from m365.emulator.graph.core import ROUTES

_load_handlers()
WRITE_BODIES = [
    None,
    b"{",
    b"[]",
    b'"text"',
    b"{}",
    b'{"displayName": 5, "siteProtectionUnits": "x", "mailboxRestoreArtifacts": [1],'
    b' "protectionUnitIds": "x", "mailboxProtectionUnits@delta": [{"id": 3}],'
    b' "effectiveDateTime": "soon", "appOwnerTenantId": 7}',
]
PLACEHOLDERS = ("00000000-0000-4000-8000-000000000000", "garbage,value")


def _requests():
    for graph_route in ROUTES:
        for value in PLACEHOLDERS:
            path = re.sub(r"<(?:\w+:)?\w+>", value, graph_route.path)
            for method in graph_route.methods:
                writes = method in ("POST", "PATCH", "PUT") and value == PLACEHOLDERS[0]
                bodies = WRITE_BODIES if writes else [None]
                for body in bodies:
                    yield graph_route.access.app, method, path, body


@pytest.fixture(scope="module")
def tokens(emulator):
    info = emulator.control.create_tenant(domain="robustness.example.com", seed=8, users=12)
    emulator.control.set_controller(info.id, app_id="0b9c3f52-6a1e-4d27-8f35-1c2d3e4f5a6b")
    roles = [p.value for p in GRAPH.permissions if p.type == "Role"]
    scopes = [p.value for p in GRAPH.permissions if p.type == "Scope"]
    app = emulator.control.mint_token(
        info.id, app_id="0b9c3f52-6a1e-4d27-8f35-1c2d3e4f5a6b", roles=roles
    )
    delegated = emulator.control.mint_token(
        info.id, app_id="0b9c3f52-6a1e-4d27-8f35-1c2d3e4f5a6b", user=info.admin.id, scopes=scopes
    )
    yield {True: app, False: delegated}
    emulator.control.delete_tenant(info.id)


def test_no_graph_route_answers_500_or_non_json(emulator, tokens):
    def call(item):
        app_allowed, method, path, body = item
        headers = {
            "Authorization": f"Bearer {tokens[app_allowed]}",
            "Content-Type": "application/json",
        }
        with emulator.http() as http:
            response = http.request(method, f"/v1.0{path}", content=body, headers=headers)
        return item, response

    requests = list(_requests())
    assert len(requests) > 500
    with ThreadPoolExecutor(max_workers=4) as pool:
        for (_, method, path, body), response in pool.map(call, requests):
            where = f"{method} {path} {body!r}: {response.status_code} {response.text[:200]}"
            assert response.status_code < 500, where
            if response.status_code >= 400:
                assert response.json()["error"]["code"], where


def test_identity_endpoints_reject_junk_without_500(emulator):
    with emulator.http() as http:
        for method, path, data in (
            ("POST", "/organizations/oauth2/v2.0/token", {"grant_type": "client_credentials"}),
            ("POST", "/common/oauth2/v2.0/token", {"client_id": "x", "grant_type": "magic"}),
            (
                "POST",
                "/common/oauth2/v2.0/token",
                {"client_id": "x", "grant_type": "refresh_token", "refresh_token": "junk"},
            ),
            ("POST", "/common/oauth2/v2.0/token", None),
            ("GET", "/common/oauth2/v2.0/authorize", None),
            ("POST", "/common/oauth2/v2.0/authorize", {"stage": "consent", "ticket": "x"}),
            ("GET", "/organizations/v2.0/adminconsent?client_id=nope", None),
            ("GET", "/nope.example/v2.0/adminconsent", None),
            ("GET", "/common/discovery/v2.0/keys", None),
            ("GET", "/bad-tenant/v2.0/.well-known/openid-configuration", None),
            ("GET", "/some/unknown/path", None),
        ):
            response = http.request(method, path, data=data)
            # Only the public JWKS answers 200; every junk request is a 4xx, never a token.
            expected_ok = path.endswith("/discovery/v2.0/keys")
            assert (
                (response.status_code == 200)
                if expected_ok
                else (400 <= response.status_code < 500)
            ), (
                method,
                path,
                response.status_code,
                response.text[:200],
            )


def test_batch_with_junk_inner_requests(emulator, tokens):
    with emulator.http(headers={"Authorization": f"Bearer {tokens[True]}"}) as http:
        response = http.post(
            "/v1.0/$batch",
            json={
                "requests": [
                    {"id": "1", "method": "GET", "url": "not a url at all"},
                    {
                        "id": "2",
                        "method": "PATCH",
                        "url": "/users",
                        "body": [1, 2],
                        "headers": {"Content-Type": "application/json"},
                    },
                    {"id": "3", "method": "GET", "url": "/$batch"},
                ]
            },
        )
    assert response.status_code == 200
    assert all(a["status"] < 500 for a in response.json()["responses"])
