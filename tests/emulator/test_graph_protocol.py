"""Graph protocol behaviour: $batch, injected faults (429 / 503 / latency / page size),
their determinism, and per-tenant request stats."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.emulator import TEST_APP


@pytest.fixture
def tenant(emulated_tenant):
    return emulated_tenant(users=30, consent=True)


@pytest.fixture
def graph(tenant):
    return tenant.graph()


def _batch(graph, requests):
    return graph.post("/$batch", json={"requests": requests})


# ---- $batch --------------------------------------------------------------------------


def test_batch_runs_requests_and_answers_by_id(tenant, graph):
    requests = [{"id": str(i), "method": "GET", "url": f"/users?$top={i}"} for i in range(1, 21)]
    response = _batch(graph, requests)
    assert response.status_code == 200
    answers = response.json()["responses"]
    assert sorted(int(a["id"]) for a in answers) == list(range(1, 21))
    for answer in answers:
        assert answer["status"] == 200
        assert len(answer["body"]["value"]) == int(answer["id"])
    assert [a["id"] for a in answers] != [r["id"] for r in requests]  # order is not promised


def test_batch_limits_and_validation(graph):
    too_many = _batch(graph, [{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)])
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "BadRequest"
    duplicate = _batch(
        graph,
        [
            {"id": "1", "method": "GET", "url": "/users"},
            {"id": "1", "method": "GET", "url": "/groups"},
        ],
    )
    assert duplicate.status_code == 400
    unknown_dependency = _batch(
        graph, [{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["9"]}]
    )
    assert unknown_dependency.status_code == 400
    assert graph.post("/$batch", content=b"nope").status_code == 400


def test_batch_depends_on_and_failed_dependency(graph):
    response = _batch(
        graph,
        [
            {"id": "a", "method": "GET", "url": "/users/00000000-0000-4000-8000-000000000000"},
            {"id": "b", "method": "GET", "url": "/users?$top=1", "dependsOn": ["a"]},
            {"id": "c", "method": "GET", "url": "/groups?$top=1"},
            {"id": "d", "method": "GET", "url": "/organization", "dependsOn": ["c"]},
            {
                "id": "e",
                "method": "POST",
                "url": "/solutions/backupRestore/serviceApps",
                "body": {},
            },
        ],
    )
    answers = {a["id"]: a for a in response.json()["responses"]}
    assert answers["a"]["status"] == 404
    assert answers["b"]["status"] == 424
    assert answers["b"]["body"]["error"]["code"] == "FailedDependency"
    assert answers["c"]["status"] == 200 and answers["d"]["status"] == 200
    assert answers["e"]["status"] == 400  # a body needs a Content-Type header


def test_batch_inner_requests_are_throttled_on_their_own(tenant, graph):
    tenant.control.set_faults(tenant.id, seed=3, throttle_rate=0.5, retry_after_seconds=1.5)
    response = _batch(
        graph, [{"id": str(i), "method": "GET", "url": "/organization"} for i in range(20)]
    )
    assert response.status_code == 200
    statuses = [a["status"] for a in response.json()["responses"]]
    assert 429 in statuses and 200 in statuses
    throttled = next(a for a in response.json()["responses"] if a["status"] == 429)
    assert throttled["headers"]["Retry-After"] == "1.5"
    stats = tenant.control.stats(tenant.id)
    assert stats["throttled"] == statuses.count(429)


# ---- faults --------------------------------------------------------------------------


def _statuses(graph, count):
    return [graph.get("/organization").status_code for _ in range(count)]


def test_throttling_share_is_close_to_the_rate_and_deterministic(emulated_tenant):
    # A pinned tenant id: which requests are throttled is drawn from (seed, tenant, n).
    tenant = emulated_tenant(consent=True, id="3f2e1d0c-5b4a-4968-8776-655443322110")
    graph = tenant.graph()
    tenant.control.set_faults(tenant.id, seed=42, throttle_rate=0.3, retry_after_seconds=2)
    first = _statuses(graph, 150)
    share = first.count(429) / len(first)
    assert 0.2 <= share <= 0.4, (share, first)
    response = None
    while response is None or response.status_code != 429:
        response = graph.get("/organization")
    assert response.headers["Retry-After"] == "2"
    error = response.json()["error"]
    assert error["code"] == "TooManyRequests"
    assert error["message"] == "Please retry again later."
    assert error["innerError"]["status"] == "429" and error["innerError"]["request-id"]
    tenant.control.set_faults(tenant.id, seed=42, throttle_rate=0.3, retry_after_seconds=2)
    assert _statuses(graph, 150) == first  # same seed, same sequence
    tenant.control.set_faults(tenant.id, seed=43, throttle_rate=0.3, retry_after_seconds=2)
    assert _statuses(graph, 150) != first


def test_service_unavailable_and_latency(tenant, graph):
    tenant.control.set_faults(tenant.id, service_unavailable_rate=1.0, retry_after_seconds=4)
    response = graph.get("/organization")
    assert response.status_code == 503 and response.headers["Retry-After"] == "4"
    assert response.json()["error"]["code"] == "serviceNotAvailable"
    tenant.control.set_faults(tenant.id, latency_ms=300)
    started = time.monotonic()
    assert graph.get("/organization").status_code == 200
    assert time.monotonic() - started >= 0.3
    tenant.control.clear_faults(tenant.id)
    assert graph.get("/organization").status_code == 200


def test_global_faults_apply_to_every_tenant_but_not_to_control(emulated_tenant):
    first = emulated_tenant(consent=True)
    second = emulated_tenant(consent=True)
    control = first.control
    control.set_faults(throttle_rate=1.0)
    try:
        assert first.graph().get("/organization").status_code == 429
        assert second.graph().get("/organization").status_code == 429
        assert control.health()["status"] == "ok"
        control.set_faults(second.id, throttle_rate=0.0)  # a tenant's own faults win
        assert second.graph().get("/organization").status_code == 200
    finally:
        control.clear_faults()
    assert first.graph().get("/organization").status_code == 200


def test_page_size_fault_forces_small_pages(tenant, graph):
    tenant.control.set_faults(tenant.id, page_size={"users": 4})
    body = graph.get("/users?$top=999").json()
    assert len(body["value"]) == 4 and "@odata.nextLink" in body


def test_fault_validation(tenant):
    from m365.emulator.testing import EmulatorControlError

    with pytest.raises(EmulatorControlError) as caught:
        tenant.control.set_faults(tenant.id, throttle_rate=1.5)
    assert caught.value.status == 400


# ---- stats ---------------------------------------------------------------------------


def test_stats_count_requests_errors_and_throttles_by_route(tenant, graph):
    tenant.control.reset_stats(tenant.id)
    graph.get("/users")
    graph.get(f"/users/{tenant.admin.id}")
    graph.get("/users/00000000-0000-4000-8000-000000000000")
    tenant.control.set_faults(tenant.id, throttle_rate=1.0)
    graph.get("/users")
    stats = tenant.control.stats(tenant.id)
    assert (stats["requests"], stats["errors"], stats["throttled"]) == (4, 1, 1)
    assert stats["byPath"]["GET /users"] == {"requests": 2, "throttled": 1, "errors": 0}
    assert stats["byPath"]["GET /users/{user_ref}"]["errors"] == 1
    tenant.control.reset_stats(tenant.id)
    assert tenant.control.stats(tenant.id)["requests"] == 0


def test_token_claims_name_the_app(tenant):
    import jwt

    claims = jwt.decode(tenant.app_token(), options={"verify_signature": False})
    assert claims["app_displayname"] == TEST_APP.display_name
