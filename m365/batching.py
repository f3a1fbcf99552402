"""JSON batching (`$batch`): request and answer shapes and the pure planning logic.

The sending itself lives in `GraphClient.batch`; what is here has no I/O and is unit-tested.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from m365.errors import GraphError, graph_error
from m365.retry import parse_retry_after


@dataclass(frozen=True)
class BatchRequest:
    """One request inside a `$batch` call. `url` is relative to the version root
    (`/users/{id}`); `depends_on` names earlier requests of the same `batch()` call."""

    id: str
    method: str
    url: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchResponse:
    """Graph's answer to one batched request."""

    id: str
    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers)

    def json_object(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}

    def error(self) -> GraphError | None:
        """The typed error this answer stands for, or None when it succeeded."""
        if self.ok:
            return None
        return graph_error(self.status, self.headers, self.body, method="BATCH", url=self.id)

    @classmethod
    def failed_dependency(cls, request_id: str, dependency: str) -> BatchResponse:
        """What Graph answers for a request whose dependency failed; the client builds it
        itself when the dependency ran in an earlier `$batch` call."""
        body = {"error": {"code": "failedDependency", "message": f"Dependency {dependency} failed"}}
        return cls(request_id, 424, {}, body)

    @classmethod
    def parse_all(cls, body: Any, expected_ids: set[str]) -> dict[str, BatchResponse]:
        """Answers by id. Graph may answer in any order; an answer it left out becomes a 502
        item (transient), so the caller sends that request again instead of losing it."""
        answers: dict[str, BatchResponse] = {}
        items = body.get("responses") if isinstance(body, dict) else None
        for item in items or []:
            if not isinstance(item, dict) or str(item.get("id")) not in expected_ids:
                continue
            headers = item.get("headers") if isinstance(item.get("headers"), dict) else {}
            status = item.get("status")
            answers[str(item["id"])] = cls(
                id=str(item["id"]),
                status=status if isinstance(status, int) else 502,
                headers={str(k): str(v) for k, v in headers.items()},
                body=item.get("body"),
            )
        for missing in expected_ids - answers.keys():
            body = {
                "error": {
                    "code": "missingBatchResponse",
                    "message": "The $batch answer had no item for this request",
                }
            }
            answers[missing] = cls(missing, 502, {}, body)
        return answers


def validate(requests: Sequence[BatchRequest]) -> None:
    """Unique ids, and dependencies only on earlier requests (so there can be no cycle)."""
    seen: set[str] = set()
    for request in requests:
        if not request.id:
            raise ValueError("every batch request needs an id")
        if request.id in seen:
            raise ValueError(f"duplicate batch request id {request.id!r}")
        for dependency in request.depends_on:
            if dependency not in seen:
                raise ValueError(
                    f"batch request {request.id!r} depends on {dependency!r}, "
                    "which is not an earlier request"
                )
        seen.add(request.id)


def plan_chunks(requests: Sequence[BatchRequest], size: int) -> Iterator[list[BatchRequest]]:
    """Consecutive chunks of at most `size` requests, after validation. Dependencies that
    fall into an earlier chunk are resolved by the client (run before, 424 if failed)."""
    validate(requests)
    for start in range(0, len(requests), size):
        yield list(requests[start : start + size])


def wire_request(request: BatchRequest, ids_in_call: set[str]) -> dict[str, Any]:
    """The JSON of one request; only dependencies sent in the same call stay in dependsOn."""
    item: dict[str, Any] = {
        "id": request.id,
        "method": request.method.upper(),
        "url": "/" + request.url.lstrip("/"),
    }
    headers = dict(request.headers)
    if request.body is not None:
        item["body"] = request.body
        if not any(key.lower() == "content-type" for key in headers):
            headers["Content-Type"] = "application/json"  # Graph requires it with a body
    if headers:
        item["headers"] = headers
    depends_on = [dependency for dependency in request.depends_on if dependency in ids_in_call]
    if depends_on:
        item["dependsOn"] = depends_on
    return item


def retry_closure(
    sent: Sequence[BatchRequest], answers: Mapping[str, BatchResponse], retry_ids: set[str]
) -> set[str]:
    """Add to `retry_ids` every request that answered 424 only because something being
    retried failed first (transitively), so it is sent again too."""
    closure = set(retry_ids)
    for request in sent:  # in order: a dependency always comes before its dependents
        answer = answers[request.id]
        if answer.status == 424 and any(dep in closure for dep in request.depends_on):
            closure.add(request.id)
    return closure
