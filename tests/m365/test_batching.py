"""$batch planning (pure)."""

import pytest

from m365.batching import BatchRequest, BatchResponse, plan_chunks, retry_closure, wire_request


def req(i, *deps, method="GET", body=None):
    return BatchRequest(str(i), method, f"/users/{i}", body=body, depends_on=tuple(map(str, deps)))


def test_chunks_of_twenty():
    chunks = list(plan_chunks([req(i) for i in range(45)], 20))
    assert [len(chunk) for chunk in chunks] == [20, 20, 5]


@pytest.mark.parametrize(
    "requests",
    [[req(1), req(1)], [req(1, 2), req(2)], [req(1, 1)], [BatchRequest("", "GET", "/x")]],
)
def test_invalid_plans_are_refused(requests):
    with pytest.raises(ValueError):
        list(plan_chunks(requests, 20))


def test_wire_keeps_only_dependencies_in_the_same_call_and_adds_content_type():
    item = wire_request(req(3, 1, 2, method="post", body={"a": 1}), {"2", "3"})
    assert item == {
        "id": "3",
        "method": "POST",
        "url": "/users/3",
        "body": {"a": 1},
        "headers": {"Content-Type": "application/json"},
        "dependsOn": ["2"],
    }


def test_retry_closure_follows_424_chains():
    sent = [req(1), req(2, 1), req(3, 2), req(4)]
    answers = {
        "1": BatchResponse("1", 429, {}, None),
        "2": BatchResponse("2", 424, {}, None),
        "3": BatchResponse("3", 424, {}, None),
        "4": BatchResponse("4", 200, {}, {}),
    }
    assert retry_closure(sent, answers, {"1"}) == {"1", "2", "3"}


def test_parse_all_turns_a_missing_answer_into_a_transient_item():
    answers = BatchResponse.parse_all(
        {"responses": [{"id": "1", "status": 200, "body": {"x": 1}}]}, {"1", "2"}
    )
    assert answers["1"].ok and answers["1"].body == {"x": 1}
    assert answers["2"].status == 502
    assert answers["2"].error().transient
