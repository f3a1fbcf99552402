"""GraphClient behaviour on scripted answers (httpx.MockTransport). Every behaviour here is
also exercised against the emulator in the contract tests; these pin the edge cases."""

import json

import httpx
import pytest

from m365.batching import BatchRequest
from m365.config import GraphSettings
from m365.errors import GraphError, GraphNotFound, GraphThrottled, GraphTransientError
from m365.graph import GraphClient

BASE = "https://graph.test"


class Tokens:
    def __init__(self):
        self.issued = 0
        self.invalidated = []

    def access_token(self):
        return f"token-{self.issued}"

    def invalidate(self, token):
        self.invalidated.append(token)
        self.issued += 1


def make_client(handler, **overrides):
    settings = GraphSettings(
        client_id="app",
        client_secret="s",
        msp_tenant_id="msp",
        graph_base_url=BASE,
        login_base_url=BASE,
        **{"max_attempts": 4, **overrides},
    )
    sleeps = []
    client = GraphClient(
        settings,
        "tenant",
        Tokens(),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        sleep=sleeps.append,
    )
    return client, sleeps


def scripted(*answers):
    """A handler answering in turn, recording requests."""
    seen = []
    queue = list(answers)

    def handler(request):
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request) if callable(answer) else answer

    return handler, seen


def throttled(retry_after="1.5"):
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(
        429, headers=headers, json={"error": {"code": "TooManyRequests", "message": "Please retry"}}
    )


def test_retry_after_is_honoured_then_success():
    handler, seen = scripted(
        throttled("1.5"), throttled("0.25"), httpx.Response(200, json={"a": 1})
    )
    client, sleeps = make_client(handler)
    assert client.get("/me").body == {"a": 1}
    assert len(seen) == 3
    assert sleeps[0] >= 1.5 and sleeps[1] >= 0.25
    stats = client.stats.snapshot()
    assert (stats.requests, stats.throttled, stats.errors, stats.retries) == (3, 2, 0, 2)
    assert stats.retry_after_seconds == pytest.approx(1.75)
    assert stats.waited_seconds == pytest.approx(sum(sleeps))
    assert seen[0].headers["Authorization"] == "Bearer token-0"
    assert seen[0].headers["client-request-id"] != seen[1].headers["client-request-id"]


def test_backoff_when_no_retry_after_and_typed_error_when_attempts_run_out():
    handler, seen = scripted(throttled(None))
    client, sleeps = make_client(handler, backoff_base_seconds=1, backoff_cap_seconds=3)
    with pytest.raises(GraphThrottled) as caught:
        client.get("/users")
    assert len(seen) == 4 and len(sleeps) == 3
    assert 0.5 <= sleeps[0] <= 1 and 1 <= sleeps[1] <= 2 and 1.5 <= sleeps[2] <= 3
    assert caught.value.transient


def test_too_long_retry_after_is_left_to_the_caller():
    handler, seen = scripted(throttled("900"))
    client, sleeps = make_client(handler, max_retry_after_seconds=60)
    with pytest.raises(GraphThrottled) as caught:
        client.get("/users")
    assert sleeps == [] and len(seen) == 1
    assert caught.value.retry_after == 900


def test_504_is_retried_for_get_but_not_for_post():
    gateway = httpx.Response(504, json={"error": {"code": "GatewayTimeout", "message": "t"}})
    handler, seen = scripted(gateway, httpx.Response(200, json={}))
    client, _ = make_client(handler)
    client.get("/x")
    assert len(seen) == 2
    handler, seen = scripted(gateway, httpx.Response(201, json={}))
    client, _ = make_client(handler)
    with pytest.raises(GraphTransientError):
        client.post("/x", json={})
    assert len(seen) == 1


def test_refused_connection_is_retried_even_for_post_but_a_read_timeout_is_not():
    calls = []

    def refuse_once(request):
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, json={"id": "1"})

    client, _ = make_client(refuse_once)
    assert client.post("/x", json={}).body == {"id": "1"}

    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = make_client(timeout)
    with pytest.raises(GraphTransientError) as caught:
        client.post("/x", json={})
    assert caught.value.status is None and caught.value.transient
    assert client.stats.errors == 1


def test_401_renews_the_token_once():
    unauthorized = httpx.Response(
        401, json={"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}
    )
    handler, seen = scripted(unauthorized, httpx.Response(200, json={}))
    client, _ = make_client(handler)
    client.get("/x")
    assert [r.headers["Authorization"] for r in seen] == ["Bearer token-0", "Bearer token-1"]
    assert client._tokens.invalidated == ["token-0"]


def test_error_answers_raise_typed_errors():
    handler, _ = scripted(
        httpx.Response(
            404,
            headers={"request-id": "r"},
            json={"error": {"code": "itemNotFound", "message": "no drive"}},
        )
    )
    client, _ = make_client(handler)
    with pytest.raises(GraphNotFound) as caught:
        client.get("/users/u/drive")
    assert caught.value.code == "itemNotFound" and caught.value.request_id == "r"
    assert caught.value.url == "/v1.0/users/u/drive"


def test_paging_follows_next_links_and_repeats_headers():
    pages = {
        "/v1.0/users": {
            "value": [{"id": "1"}],
            "@odata.count": 3,
            "@odata.nextLink": f"{BASE}/v1.0/users?$skiptoken=a",
        },
        "a": {"value": [], "@odata.nextLink": f"{BASE}/v1.0/users?$skiptoken=b"},
        "b": {"value": [{"id": "2"}, {"id": "3"}]},
    }
    seen = []

    def handler(request):
        seen.append(request)
        token = request.url.params.get("$skiptoken")
        return httpx.Response(200, json=pages[token or request.url.path])

    client, _ = make_client(handler)
    result = list(
        client.iter_pages("/users", {"$top": "1"}, headers={"ConsistencyLevel": "eventual"})
    )
    assert [len(page.items) for page in result] == [1, 0, 2]  # an empty page is legal
    assert result[0].count == 3 and result[1].count is None
    assert all(r.headers["ConsistencyLevel"] == "eventual" for r in seen)
    assert seen[0].url.params["$top"] == "1" and "$top" not in seen[1].url.params


def test_a_next_link_to_another_host_is_refused():
    handler, _ = scripted(
        httpx.Response(
            200, json={"value": [], "@odata.nextLink": "https://evil.test/v1.0/users?$skiptoken=x"}
        )
    )
    client, _ = make_client(handler)
    with pytest.raises(GraphError, match="refusing"):
        list(client.iter_items("/users"))


def test_redirected_download_never_carries_the_token():
    seen = []

    def handler(request):
        seen.append(request)
        if request.url.path.startswith("/v1.0/reports"):
            return httpx.Response(302, headers={"Location": "/_downloads/abc.csv"})
        return httpx.Response(200, content=b"\xef\xbb\xbfA,B\r\n1,2\r\n")

    client, _ = make_client(handler)
    text = "".join(client.iter_redirected_text("/reports/getMailboxUsageDetail(period='D7')"))
    assert text.lstrip("\ufeff") == "A,B\r\n1,2\r\n"
    assert "Authorization" in seen[0].headers
    assert "Authorization" not in seen[1].headers
    assert str(seen[1].url) == f"{BASE}/_downloads/abc.csv"


def batch_handler(script):
    """Answers $batch calls; `script(request_json_item, call_number)` gives (status, headers)."""
    calls = []

    def handler(request):
        payload = json.loads(request.content)
        calls.append(payload["requests"])
        responses = []
        failed = set()
        for item in payload["requests"]:
            if any(dep in failed for dep in item.get("dependsOn", [])):
                status, headers = 424, {}
            else:
                status, headers = script(item, len(calls))
            if status >= 400:
                failed.add(item["id"])
            responses.append(
                {
                    "id": item["id"],
                    "status": status,
                    "headers": headers,
                    "body": {"id": item["id"]}
                    if status < 400
                    else {"error": {"code": "x", "message": "y"}},
                }
            )
        return httpx.Response(200, json={"responses": list(reversed(responses))})

    return handler, calls


def test_batch_chunks_by_twenty_and_answers_in_request_order():
    handler, calls = batch_handler(lambda item, n: (200, {}))
    client, _ = make_client(handler)
    requests = [BatchRequest(str(i), "GET", f"/users/{i}") for i in range(45)]
    answers = client.batch(requests)
    assert [len(call) for call in calls] == [20, 20, 5]
    assert [a.id for a in answers] == [str(i) for i in range(45)]
    assert client.stats.snapshot().batched_requests == 45


def test_batch_retries_inner_429_with_its_424_dependents_after_retry_after():
    def script(item, call):
        if item["id"] == "1" and call == 1:
            return 429, {"Retry-After": "2"}
        return 200, {}

    handler, calls = batch_handler(script)
    client, sleeps = make_client(handler)
    requests = [
        BatchRequest("1", "GET", "/a"),
        BatchRequest("2", "GET", "/b", depends_on=("1",)),
        BatchRequest("3", "GET", "/c"),
    ]
    answers = client.batch(requests)
    assert [a.status for a in answers] == [200, 200, 200]
    assert [item["id"] for item in calls[1]] == ["1", "2"]
    assert calls[1][1]["dependsOn"] == ["1"]
    assert sleeps and sleeps[0] >= 2
    stats = client.stats.snapshot()
    assert (stats.throttled, stats.errors, stats.retry_after_seconds) == (1, 1, 2.0)


def test_batch_dependency_failing_in_an_earlier_call_gives_a_local_424():
    def script(item, call):
        return (404, {}) if item["id"] == "0" else (200, {})

    handler, calls = batch_handler(script)
    client, _ = make_client(handler)
    requests = [BatchRequest(str(i), "GET", f"/x/{i}") for i in range(20)]
    requests.append(BatchRequest("late", "GET", "/y", depends_on=("0",)))
    requests.append(BatchRequest("fine", "GET", "/z", depends_on=("1",)))
    answers = {a.id: a for a in client.batch(requests)}
    assert answers["0"].status == 404 and isinstance(answers["0"].error(), GraphNotFound)
    assert answers["late"].status == 424
    assert answers["fine"].status == 200
    assert [item["id"] for item in calls[1]] == ["fine"]
    assert "dependsOn" not in calls[1][0]  # its dependency ran in the first call


def test_stats_stay_exact_under_concurrent_requests():
    from concurrent.futures import ThreadPoolExecutor
    from itertools import count

    numbers = count()

    def handler(request):
        # every third answer is a throttle, whatever the thread
        if next(numbers) % 3 == 0:
            return throttled("0")
        return httpx.Response(200, json={})

    client, sleeps = make_client(handler, max_attempts=10)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.get("/x"), range(200)))
    stats = client.stats.snapshot()
    assert stats.requests - stats.throttled == 200
    assert stats.throttled == stats.retries == len(sleeps)
