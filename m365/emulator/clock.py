"""Simulated time: every tenant runs on real UTC now plus its own offset plus a global one.

Timestamps inside the emulator are POSIX seconds (floats); they become ISO-8601 strings
only at the edge. The offsets only ever grow (the control API refuses negative advances),
so a state computed from timestamps never runs backwards.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from functools import lru_cache

DAY = 86400.0


def real_now() -> float:
    return time.time()


@lru_cache(maxsize=8192)
def _date_of_day(day: int) -> str:
    return datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%d")


def iso(ts: float | None) -> str | None:
    """ISO-8601 UTC with a `Z`, to the second (what Graph's examples show).

    Hot on large listings, so the date part is cached per day and the time is arithmetic.
    """
    if ts is None:
        return None
    day, second = divmod(int(ts // 1), 86400)
    return f"{_date_of_day(day)}T{second // 3600:02d}:{second % 3600 // 60:02d}:{second % 60:02d}Z"


def iso_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


_FRACTION = re.compile(r"\.(\d+)")


def parse_iso(value: str) -> float:
    """Parse an ISO-8601 date or date-time; naive values are UTC. Raises ValueError."""
    if not isinstance(value, str) or not value:
        raise ValueError("not a date-time")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.11 accepts at most 6 fractional digits; Graph writes 7.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def day_start(ts: float) -> float:
    return ts - (ts % DAY)
