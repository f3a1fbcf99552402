"""Mapping Graph answers to typed errors (pure)."""

import pytest

from m365.errors import (
    ErrorCode,
    GraphBadRequest,
    GraphConflict,
    GraphError,
    GraphForbidden,
    GraphNotFound,
    GraphThrottled,
    GraphTransientError,
    GraphUnauthorized,
    graph_error,
)


def body(code, message="m", request_id="rid-1"):
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "request-id": request_id,
                "client-request-id": "cid",
                "date": "2024-01-01T00:00:00",
            },
        }
    }


@pytest.mark.parametrize(
    ("status", "cls", "transient"),
    [
        (400, GraphBadRequest, False),
        (413, GraphBadRequest, False),
        (401, GraphUnauthorized, False),
        (402, GraphError, False),
        (403, GraphForbidden, False),
        (404, GraphNotFound, False),
        (410, GraphNotFound, False),
        (409, GraphConflict, False),
        (429, GraphThrottled, True),
        (500, GraphTransientError, True),
        (503, GraphTransientError, True),
        (504, GraphTransientError, True),
        (501, GraphError, False),
    ],
)
def test_status_maps_to_class_and_transient_flag(status, cls, transient):
    error = graph_error(status, {}, body("x"))
    assert type(error) is cls
    assert error.transient is transient
    assert error.status == status


def test_error_fields_come_from_the_body():
    error = graph_error(
        409,
        {"request-id": "header-rid"},
        body(ErrorCode.POLICY_CREATION_NOT_ALLOWED, "another active policy"),
        method="POST",
        url="/v1.0/solutions/backupRestore/x",
    )
    assert error.code == "PolicyCreationNotAllowed"
    assert error.message == "another active policy"
    assert error.request_id == "rid-1"  # the body's innerError wins over the header
    assert error.client_request_id == "cid"
    assert error.has_code("policycreationnotallowed")
    assert "PolicyCreationNotAllowed" in str(error) and "rid-1" in str(error)


def test_throttled_error_keeps_retry_after_and_falls_back_on_header_request_id():
    error = graph_error(
        429,
        {"Retry-After": "2.5", "request-id": "hdr"},
        {"error": {"code": "TooManyRequests", "message": "Please retry"}},
    )
    assert isinstance(error, GraphThrottled) and isinstance(error, GraphTransientError)
    assert error.retry_after == 2.5
    assert error.request_id == "hdr"


def test_non_json_body_still_gives_a_typed_error():
    error = graph_error(502, {}, "<html>Bad gateway</html>")
    assert isinstance(error, GraphTransientError)
    assert error.code == "http502"
