"""Small OData helpers: literals, path segments, and defensive parsing of Graph values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

# The docs' examples write times as `2015-06-19T12-01-03.45Z` (a typo); accept it anyway.
_DASHED_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2})-(\d{2})-(\d{2}(?:\.\d+)?)(.*)$")
# Python 3.11 accepts at most 6 fractional digits; Graph sends 7.
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def literal(value: str) -> str:
    """An OData string literal: single-quoted, embedded quotes doubled (no $filter injection)."""
    return "'" + value.replace("'", "''") + "'"


def segment(value: str) -> str:
    """One URL path segment from an id or UPN (`#EXT#` guests, slashes) safely encoded."""
    if not value:
        raise ValueError("an empty id cannot name a Graph resource")
    return quote(value, safe="@,:'=")


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from Graph's ISO-8601 text; None for null, empty or year 1
    (`0001-01-01T00:00:00Z` is Graph's "never")."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    dashed = _DASHED_TIME.match(text)
    if dashed:
        text = f"{dashed.group(1)}:{dashed.group(2)}:{dashed.group(3)}{dashed.group(4)}"
    text = _LONG_FRACTION.sub(r"\1", text)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.year == 1:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    """A date from `YYYY-MM-DD` (reports) or a full timestamp; None when empty."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def format_datetime(value: datetime) -> str:
    """ISO-8601 UTC with a `Z`, as Graph expects in bodies and filters."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def text(data: Mapping[str, Any], key: str) -> str:
    """A string property, '' when missing or null."""
    value = data.get(key)
    return value if isinstance(value, str) else ("" if value is None else str(value))


def integer(value: Any) -> int | None:
    """An int from a JSON number or a CSV cell; None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value).strip()))
    except ValueError:
        return None


def boolean(value: Any) -> bool | None:
    """A bool from JSON or from report CSV's `True`/`False`; None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return None


def strings(value: Any) -> tuple[str, ...]:
    """A tuple of strings from a JSON array (None or a non-list gives an empty tuple)."""
    if not isinstance(value, list):
        return ()
    return tuple(str(item) for item in value if item is not None)
