"""Throttling, paging and $batch against the emulator, with exact counts."""

from __future__ import annotations

import math

import pytest

from m365.batching import BatchRequest
from m365.directory import groups, sites, users
from m365.errors import GraphNotFound, GraphThrottled
from m365.graph import GraphClient
from m365.stats import GraphStats
from tests.fixtures.emulator import EmulatedTenant
from tests.m365.contract.conftest import admin_consent, make_settings


def scan(graph):
    return (
        sum(1 for _ in users.iter_users(graph, page_size=10)),
        sum(1 for _ in groups.iter_groups(graph, page_size=10)),
        sum(1 for _ in sites.iter_sites(graph, include_personal=True, page_size=10)),
    )


@pytest.fixture
def fixed_tenant(emulator, control, settings, app_tokens):
    """A consented tenant with a FIXED id and seed: the emulator draws its faults from
    (fault seed, tenant id, request number), so the throttled requests are the same on every
    run and the rate assertions below cannot flake."""
    info = control.create_tenant(
        domain="throttled.example.com",
        seed=424242,
        users=80,
        id="7e57ab1e-0000-4000-8000-000000000030",
    )
    tenant = EmulatedTenant(info, emulator)
    try:
        answer = admin_consent(emulator, settings, tenant)
        assert answer.get("admin_consent") == "True", answer
        yield tenant
    finally:
        app_tokens.forget(tenant.id)
        control.delete_tenant(tenant.id)


def test_scan_completes_with_30_percent_throttled(
    control, settings, fixed_tenant, app_tokens, sleeps
):
    tenant = fixed_tenant
    with GraphClient(settings, tenant.id, app_tokens.source(tenant.id), sleep=sleeps) as graph:
        quiet = scan(graph)
    pages = graph.stats.requests  # every request succeeded: one per page
    control.reset_stats(tenant.id)
    control.set_faults(tenant.id, seed=11, throttle_rate=0.3, retry_after_seconds=0.25)
    stats = GraphStats()
    with GraphClient(
        settings, tenant.id, app_tokens.source(tenant.id), stats=stats, sleep=sleeps
    ) as throttled:
        assert scan(throttled) == quiet
    mine = stats.snapshot()
    theirs = control.stats(tenant.id)
    assert mine.requests == theirs["requests"]
    assert mine.throttled == theirs["throttled"] > 0
    assert mine.requests - mine.throttled == pages
    assert 0.15 < mine.throttled / mine.requests < 0.45
    assert mine.retries == mine.throttled
    assert mine.retry_after_seconds == pytest.approx(0.25 * mine.throttled)
    assert len(sleeps.waits) == mine.throttled
    assert sum(sleeps.waits) >= mine.retry_after_seconds
    assert all(wait >= 0.25 for wait in sleeps.waits)


def test_scan_completes_with_service_unavailable_answers(
    control, settings, graph, tenant, app_tokens, sleeps
):
    quiet = scan(graph)
    pages = graph.stats.requests
    control.reset_stats(tenant.id)
    control.set_faults(
        tenant.id, seed=3, throttle_rate=0.1, service_unavailable_rate=0.2, retry_after_seconds=0.1
    )
    stats = GraphStats()
    with GraphClient(
        settings, tenant.id, app_tokens.source(tenant.id), stats=stats, sleep=sleeps
    ) as client:
        assert scan(client) == quiet
    mine, theirs = stats.snapshot(), control.stats(tenant.id)
    assert mine.requests == theirs["requests"]
    # The emulator counts a 503 as an error; the client counts 429 and 503 as throttling
    # (both say "come back after Retry-After") and neither as an error.
    assert mine.throttled == theirs["throttled"] + theirs["errors"]
    assert theirs["errors"] > 0 and mine.errors == 0
    assert mine.requests - mine.throttled == pages
    assert sum(sleeps.waits) >= mine.retry_after_seconds


def test_throttling_beyond_the_attempts_raises_a_transient_error(
    control, emulator, msp_app, tenant, app_tokens, sleeps
):
    control.set_faults(tenant.id, seed=1, throttle_rate=1.0, retry_after_seconds=1.5)
    settings = make_settings(emulator, msp_app, max_attempts=3)
    with (
        GraphClient(settings, tenant.id, app_tokens.source(tenant.id), sleep=sleeps) as graph,
        pytest.raises(GraphThrottled) as caught,
    ):
        users.get_organization(graph)
    assert caught.value.retry_after == 1.5 and caught.value.transient
    assert caught.value.code == "TooManyRequests" and caught.value.request_id
    assert sleeps.waits and all(wait >= 1.5 for wait in sleeps.waits) and len(sleeps.waits) == 2


def test_batch_of_45_with_dependencies_and_424(graph, tenant):
    everyone = [u.id for u in users.iter_users(graph)][:40]
    requests = [
        BatchRequest(f"u{i}", "GET", f"/users/{user_id}?$select=id,displayName")
        for i, user_id in enumerate(everyone)
    ]
    requests.append(BatchRequest("missing", "GET", "/users/00000000-0000-0000-0000-0000000000aa"))
    requests.append(BatchRequest("after-missing", "GET", "/organization", depends_on=("missing",)))
    requests.append(BatchRequest("after-first", "GET", "/organization", depends_on=("u0",)))
    requests.append(BatchRequest("chain", "GET", "/organization", depends_on=("after-missing",)))
    requests.append(BatchRequest("drive", "GET", f"/users/{everyone[1]}/drive", depends_on=("u1",)))
    before = graph.stats.requests
    answers = {a.id: a for a in graph.batch(requests)}
    assert graph.stats.requests - before == math.ceil(len(requests) / 20) == 3
    assert [answers[f"u{i}"].json_object()["id"] for i in range(40)] == everyone
    assert answers["missing"].status == 404
    assert isinstance(answers["missing"].error(), GraphNotFound)
    assert answers["after-missing"].status == 424
    assert answers["chain"].status == 424
    assert answers["after-first"].status == 200
    assert answers["drive"].status == 200  # user 1 is licensed: it has a OneDrive


def test_batch_inner_throttling_is_retried(control, graph, tenant, sleeps):
    control.set_faults(tenant.id, seed=5, throttle_rate=0.4, retry_after_seconds=0.5)
    everyone = [u.id for u in users.iter_users(graph)][:30]
    sleeps.waits.clear()
    before = graph.stats.snapshot()
    requests = [
        BatchRequest(str(i), "GET", f"/users/{user_id}") for i, user_id in enumerate(everyone)
    ]
    answers = graph.batch(requests)
    after = graph.stats.snapshot()
    assert [a.status for a in answers] == [200] * len(everyone)
    assert [a.json_object()["id"] for a in answers] == everyone
    assert after.throttled > before.throttled
    # One wait per extra $batch call (a retry round, or a throttled outer call), each as long
    # as the longest Retry-After among the items it resends.
    calls = after.requests - before.requests
    assert len(sleeps.waits) == calls - 2  # 30 requests need 2 calls without throttling
    assert all(wait >= 0.5 for wait in sleeps.waits)


def test_duplicate_batch_ids_never_reach_graph(graph):
    with pytest.raises(ValueError):
        graph.batch(
            [BatchRequest("1", "GET", "/organization"), BatchRequest("1", "GET", "/organization")]
        )


def test_an_expired_token_is_renewed_once_on_401(control, settings, tenant, app_tokens, sleeps):
    expired = control.mint_token(
        tenant.id, app_id=settings.client_id, roles=["Directory.Read.All"], lifetime_seconds=-3600
    )

    class ExpiredFirst:
        """Hands out an expired token until Graph refuses it, then msal's tokens."""

        def __init__(self):
            self.invalidated = []

        def access_token(self):
            return app_tokens.access_token(tenant.id) if self.invalidated else expired

        def invalidate(self, token):
            self.invalidated.append(token)

    source = ExpiredFirst()
    with GraphClient(settings, tenant.id, source, sleep=sleeps) as graph:
        assert users.get_organization(graph).id == tenant.id
    assert source.invalidated == [expired]
    assert graph.stats.snapshot().errors == 1 and sleeps.waits == []
