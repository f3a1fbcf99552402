"""Graph's front door: authentication, faults, routing, permissions, stats, rendering.

`GraphApp.handle` serves `/v1.0/...` and `/beta/...` (same handlers); `GraphApp.execute` runs
one Graph operation and is shared by direct calls and by the inner requests of a `$batch`,
so each inner request is throttled, counted and authorised on its own.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import Headers, MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..errors import ControlError
from ..faults import decide, format_retry_after
from ..ids import new_guid
from ..world import Tenant, World
from . import batch
from .auth import authenticate, authorize
from .core import ROUTES, Ctx, Result, error_body

JSON_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)


@dataclass
class Call:
    """One Graph request, direct or from a batch."""

    method: str
    path: str  # after /v1.0 or /beta
    args: MultiDict
    headers: Headers
    body: bytes


@dataclass
class Outcome:
    status: int
    headers: dict[str, str]
    body: Any  # JSON-able, str, bytes or None


def _load_handlers() -> None:
    # Importing a handler module registers its routes.
    from . import (  # noqa: F401
        backup_policies,
        backup_restore,
        backup_rules_jobs,
        backup_service,
        directory,
        principals,
        reports,
        sites,
    )


class GraphApp:
    def __init__(self, world: World) -> None:
        _load_handlers()
        self.world = world
        self.map = Map(
            [Rule(r.path, endpoint=r, methods=list(r.methods)) for r in ROUTES],
            strict_slashes=False,
            merge_slashes=False,
        )

    def handle(self, request: Request, version: str, path: str) -> Response:
        request_id = new_guid()
        client_request_id = request.headers.get("client-request-id") or request_id
        try:
            tenant, claims = authenticate(self.world, request.headers.get("Authorization"))
        except ControlError as err:
            outcome = Outcome(
                err.status, err.headers, error_body(err, request_id, client_request_id)
            )
            return render(outcome, request_id, client_request_id)
        call = Call(
            request.method,
            path or "/",
            request.args,
            request.headers,
            request.get_data(cache=False),
        )
        base_url = request.host_url.rstrip("/")
        if call.path.rstrip("/") == "/$batch":
            outcome = batch.run(self, tenant, claims, version, call, base_url, request_id)
            tenant.stats.record(f"{call.method} /$batch", outcome.status)
        else:
            outcome = self.execute(
                tenant, claims, version, call, base_url, request_id, client_request_id
            )
        return render(outcome, request_id, client_request_id)

    def execute(
        self,
        tenant: Tenant,
        claims: dict[str, Any],
        version: str,
        call: Call,
        base_url: str,
        request_id: str,
        client_request_id: str,
    ) -> Outcome:
        template = f"{call.method} (unmatched)"
        try:
            adapter = self.map.bind("graph.microsoft.com")
            routing_error: ControlError | None = None
            try:
                graph_route, url_args = adapter.match(call.path, method=call.method)
                template = f"{call.method} {graph_route.template}"
            except NotFound:
                segment = call.path.rstrip("/").rsplit("/", 1)[-1]
                routing_error = ControlError(
                    400, "BadRequest", f"Resource not found for the segment '{segment}'."
                )
            except MethodNotAllowed:
                routing_error = ControlError(
                    405,
                    "Request_BadRequest",
                    "Specified HTTP method is not allowed for the request target.",
                )
            self._inject_faults(tenant)
            if routing_error is not None:
                raise routing_error
            authorize(claims, graph_route.access)
            ctx = Ctx(
                world=self.world,
                tenant=tenant,
                claims=claims,
                version=version,
                method=call.method,
                path=call.path,
                args=call.args,
                headers=call.headers,
                body=call.body,
                base_url=base_url,
                now=tenant.now(),
                request_id=request_id,
            )
            result = graph_route.handler(ctx, **url_args)
            if not isinstance(result, Result):
                result = Result(result)
            outcome = Outcome(result.status, dict(result.headers), result.body)
            if ctx.include_unknown_enums:
                outcome.headers.setdefault("Preference-Applied", "include-unknown-enum-members")
        except ControlError as err:
            outcome = Outcome(
                err.status, dict(err.headers), error_body(err, request_id, client_request_id)
            )
        except Exception:  # a bug in the emulator: still answer like Graph, never with HTML
            traceback.print_exc(file=sys.stderr)
            err = ControlError(500, "generalException", "An unexpected error occurred.")
            outcome = Outcome(500, {}, error_body(err, request_id, client_request_id))
        tenant.stats.record(template, outcome.status)
        return outcome

    def _inject_faults(self, tenant: Tenant) -> None:
        verdict = decide(tenant.faults(), tenant.id, tenant.fault_counter.next())
        if verdict.latency_ms:
            time.sleep(verdict.latency_ms / 1000.0)
        retry = {"Retry-After": format_retry_after(verdict.retry_after)}
        if verdict.status == 429:
            raise ControlError(429, "TooManyRequests", "Please retry again later.", headers=retry)
        if verdict.status == 503:
            raise ControlError(
                503,
                "serviceNotAvailable",
                "The service is temporarily unavailable. Retry after the delay in Retry-After.",
                headers=retry,
            )


def render(outcome: Outcome, request_id: str, client_request_id: str) -> Response:
    headers = {
        "request-id": request_id,
        "client-request-id": client_request_id,
        "x-ms-ags-diagnostic": json.dumps(
            {
                "ServerInfo": {
                    "DataCenter": "Emulator",
                    "Slice": "E",
                    "Ring": "1",
                    "ScaleUnit": "000",
                    "RoleInstance": "EMU000001",
                }
            }
        ),
        **outcome.headers,
    }
    body = outcome.body
    if body is None:
        return Response(b"", status=outcome.status, headers=headers)
    if isinstance(body, bytes):
        return Response(body, status=outcome.status, headers=headers)
    if isinstance(body, str):
        headers.setdefault("Content-Type", "text/plain")
        return Response(body, status=outcome.status, headers=headers)
    headers["Content-Type"] = JSON_TYPE
    return Response(json.dumps(body, separators=(",", ":")), status=outcome.status, headers=headers)
