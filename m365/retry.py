"""How long to wait before retrying a throttled or failed request (pure functions)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Answers worth retrying whatever the method: Graph did not process the request.
THROTTLE_STATUSES = frozenset({429, 503})
# Answers worth retrying only when repeating the request is harmless (a gateway may have
# timed out after the service acted: retrying a POST could create a second object).
IDEMPOTENT_RETRY_STATUSES = frozenset({502, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def should_retry_status(status: int, method: str) -> bool:
    if status in THROTTLE_STATUSES:
        return True
    return status in IDEMPOTENT_RETRY_STATUSES and method.upper() in IDEMPOTENT_METHODS


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: delta-seconds (Graph sends fractions such as
    `2.128`) or an HTTP date. None when absent or unreadable."""
    value = None
    for key, item in headers.items():
        if key.lower() == "retry-after":
            value = item.strip()
            break
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(seconds, 0.0)


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Delay after failed attempt number `attempt` (1-based) when no Retry-After was given.

    "Equal jitter": half of the capped exponential step is fixed and half random, so parallel
    workers spread out and no retry is ever immediate (Graph counts throttled calls too)."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    step = min(cap, base * (2 ** (attempt - 1)))
    return step / 2 + (rng or random).uniform(0, step / 2)


def retry_after_delay(retry_after: float, *, rng: random.Random | None = None) -> float:
    """Delay for a Retry-After: never less than asked, plus up to 10 % (at most 1 s) of jitter
    so that the workers a throttle stopped together do not come back together."""
    return retry_after + (rng or random).uniform(0, min(1.0, retry_after * 0.1))
