"""Faults injected on command: throttling, unavailability, latency, token endpoint failure.

A fault configuration applies to one tenant or, globally, to all of them (a tenant's own
configuration wins). Which request is throttled is decided from (seed, tenant, n), where n
counts that tenant's Graph requests since the configuration was set, so the same sequence
of requests meets the same faults on every run.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any

from .errors import ControlError
from .ids import digest

_FIELDS = {
    "seed",
    "throttleRate",
    "retryAfterSeconds",
    "serviceUnavailableRate",
    "latencyMs",
    "tokenEndpointFailure",
    "restoreFailureUnitIds",
    "pageSize",
}


def validate(body: Any) -> dict[str, Any]:
    """The normalised fault configuration of a control-API body, or ControlError."""
    if not isinstance(body, dict):
        raise ControlError(400, "invalidRequest", "the body must be a JSON object")
    unknown = set(body) - _FIELDS
    if unknown:
        raise ControlError(400, "invalidRequest", f"unknown fault fields: {sorted(unknown)}")

    def number(name: str, default: float, low: float, high: float) -> float:
        value = body.get(name, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (low <= value <= high)
        ):
            raise ControlError(400, "invalidRequest", f"{name} must be a number in {low}..{high}")
        return float(value)

    page_size = body.get("pageSize") or {}
    if not isinstance(page_size, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in page_size.values()
    ):
        raise ControlError(400, "invalidRequest", "pageSize maps collection names to sizes >= 1")
    unit_ids = body.get("restoreFailureUnitIds") or []
    if not isinstance(unit_ids, list) or not all(isinstance(u, str) for u in unit_ids):
        raise ControlError(400, "invalidRequest", "restoreFailureUnitIds must be a list of ids")
    seed = body.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ControlError(400, "invalidRequest", "seed must be an integer")
    throttle = number("throttleRate", 0, 0, 1)
    unavailable = number("serviceUnavailableRate", 0, 0, 1)
    if throttle + unavailable > 1:
        raise ControlError(400, "invalidRequest", "throttleRate + serviceUnavailableRate > 1")
    return {
        "seed": seed,
        "throttleRate": throttle,
        "retryAfterSeconds": number("retryAfterSeconds", 2, 0, 3600),
        "serviceUnavailableRate": unavailable,
        "latencyMs": int(number("latencyMs", 0, 0, 60_000)),
        "tokenEndpointFailure": bool(body.get("tokenEndpointFailure", False)),
        "restoreFailureUnitIds": [u.lower() for u in unit_ids],
        "pageSize": dict(page_size),
    }


@dataclass(frozen=True)
class Verdict:
    status: int | None  # 429, 503 or None (let the request through)
    retry_after: float
    latency_ms: int


class FaultCounter:
    """Numbers a tenant's Graph requests since its faults were last set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = itertools.count()

    def restart(self) -> None:
        with self._lock:
            self._counter = itertools.count()

    def next(self) -> int:
        with self._lock:
            return next(self._counter)


def decide(config: dict[str, Any] | None, tenant_id: str, n: int) -> Verdict:
    if not config:
        return Verdict(None, 0.0, 0)
    draw = int.from_bytes(digest(config["seed"], tenant_id, n, size=8), "big") / 2**64
    status = None
    if draw < config["throttleRate"]:
        status = 429
    elif draw < config["throttleRate"] + config["serviceUnavailableRate"]:
        status = 503
    return Verdict(status, config["retryAfterSeconds"], config["latencyMs"])


def format_retry_after(seconds: float) -> str:
    """`10` for whole seconds, `2.128` otherwise (both forms appear in Graph's docs)."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.3f}".rstrip("0")
