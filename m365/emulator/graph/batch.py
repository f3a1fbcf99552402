"""JSON batching (`POST /$batch`, reference 4.5).

At most 20 requests with unique ids; `dependsOn` orders execution and a request whose
dependency failed answers 424 without running. Every inner request goes through
`GraphApp.execute`, so it meets faults, permission checks and stats on its own. Responses
come back in an order of their own (as Microsoft warns), so clients must match them by id.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from werkzeug.datastructures import Headers, MultiDict

from ..errors import ControlError
from ..ids import digest
from .core import error_body

if TYPE_CHECKING:
    from .app import Call, GraphApp, Outcome

MAX_REQUESTS = 20
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _parse(call: Call) -> list[dict[str, Any]]:
    try:
        payload = json.loads(call.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlError(400, "BadRequest", f"Invalid batch payload: {exc}") from exc
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not requests:
        raise ControlError(400, "BadRequest", "Invalid batch payload: 'requests' is required.")
    if len(requests) > MAX_REQUESTS:
        raise ControlError(
            400,
            "BadRequest",
            f"Invalid batch payload format: the batch has {len(requests)} requests; the "
            f"limit is {MAX_REQUESTS}.",
        )
    seen: set[str] = set()
    for item in requests:
        if not isinstance(item, dict):
            raise ControlError(400, "BadRequest", "Each batch request must be an object.")
        rid = item.get("id")
        if not isinstance(rid, str) or not rid:
            raise ControlError(400, "BadRequest", "Each batch request needs a string 'id'.")
        if rid in seen:
            raise ControlError(400, "BadRequest", f"Batch request id '{rid}' is duplicated.")
        seen.add(rid)
        if str(item.get("method", "")).upper() not in _METHODS:
            raise ControlError(400, "BadRequest", f"Request '{rid}' has an invalid method.")
        if not isinstance(item.get("url"), str) or not item["url"]:
            raise ControlError(400, "BadRequest", f"Request '{rid}' has no url.")
        depends = item.get("dependsOn", [])
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise ControlError(400, "BadRequest", f"Request '{rid}': dependsOn must list ids.")
    for item in requests:
        for dep in item.get("dependsOn", []):
            if dep not in seen or dep == item["id"]:
                raise ControlError(
                    400, "BadRequest", f"Request '{item['id']}' depends on unknown id '{dep}'."
                )
    return requests


def _execution_order(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {r["id"]: r for r in requests}
    ordered: list[dict[str, Any]] = []
    state: dict[str, str] = {}

    def visit(rid: str) -> None:
        if state.get(rid) == "done":
            return
        if state.get(rid) == "visiting":
            raise ControlError(400, "BadRequest", "Batch dependsOn contains a cycle.")
        state[rid] = "visiting"
        for dep in by_id[rid].get("dependsOn", []):
            visit(dep)
        state[rid] = "done"
        ordered.append(by_id[rid])

    for r in requests:
        visit(r["id"])
    return ordered


def _inner_call(item: dict[str, Any], version: str) -> Call:
    from .app import Call

    parts = urlsplit(item["url"])
    path = "/" + unquote(parts.path).lstrip("/")
    for prefix in (f"/{version}/", "/v1.0/", "/beta/"):
        if path.startswith(prefix):
            path = path[len(prefix) - 1 :]
    headers = Headers()
    for key, value in (item.get("headers") or {}).items():
        headers.add(str(key), str(value))
    body = item.get("body")
    if body is None:
        raw = b""
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = json.dumps(body).encode()
    return Call(
        str(item["method"]).upper(),
        path,
        MultiDict(parse_qsl(parts.query, keep_blank_values=True)),
        headers,
        raw,
    )


def run(
    app: GraphApp,
    tenant,
    claims: dict[str, Any],
    version: str,
    call: Call,
    base_url: str,
    request_id: str,
) -> Outcome:
    from .app import Outcome

    if call.method != "POST":
        err = ControlError(
            405,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )
        return Outcome(405, {}, error_body(err, request_id, request_id))
    try:
        requests = _execution_order(_parse(call))
    except ControlError as err:
        return Outcome(err.status, {}, error_body(err, request_id, request_id))
    failed: set[str] = set()
    responses: list[dict[str, Any]] = []
    for item in requests:
        rid = item["id"]
        blocked = [d for d in item.get("dependsOn", []) if d in failed]
        if blocked:
            err = ControlError(
                424,
                "FailedDependency",
                f"Dependency failed: request(s) {', '.join(blocked)} did not succeed.",
            )
            outcome = Outcome(424, {}, error_body(err, request_id, request_id))
        elif item.get("body") is not None and not any(
            k.lower() == "content-type" for k in (item.get("headers") or {})
        ):
            err = ControlError(
                400,
                "BadRequest",
                f"Write request id : {rid} does not contain Content-Type header or body.",
            )
            outcome = Outcome(400, {}, error_body(err, request_id, request_id))
        else:
            outcome = app.execute(
                tenant,
                claims,
                version,
                _inner_call(item, version),
                base_url,
                request_id,
                request_id,
            )
        if outcome.status >= 400:
            failed.add(rid)
        headers = dict(outcome.headers)
        body = outcome.body
        if isinstance(body, dict | list):
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        entry: dict[str, Any] = {"id": rid, "status": outcome.status, "headers": headers}
        if body is not None:
            entry["body"] = body
        responses.append(entry)
    # Any order is allowed; a stable but scrambled one keeps clients honest.
    responses.sort(key=lambda r: digest("", r["id"]))
    return Outcome(200, {}, {"responses": responses})
