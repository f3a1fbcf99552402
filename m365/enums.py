"""Base for Graph enumerations: exact values, case-insensitive reading, and a fallback to
`unknownFutureValue` for members Microsoft adds later (Graph's evolvable enums)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self


class GraphEnum(StrEnum):
    """A Graph enum. `Member("ACTIVE")` finds `active`; an unknown value gives
    `unknownFutureValue` instead of raising, so a new Microsoft state never breaks a sync.
    Every subclass must define `UNKNOWN_FUTURE_VALUE = "unknownFutureValue"`."""

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if isinstance(value, str):
            folded = value.strip().casefold()
            for member in cls:
                if member.value.casefold() == folded:
                    return member
        return cls("unknownFutureValue")

    @classmethod
    def parse(cls, value: Any) -> Self | None:
        """None for null or empty, otherwise a member (possibly `unknownFutureValue`)."""
        if value is None or value == "":
            return None
        return cls(str(value))

    @classmethod
    def parse_flags(cls, value: Any) -> frozenset[Self]:
        """A flags enum sent as `"manual,dynamicRule"` (or a list)."""
        if not value:
            return frozenset()
        items = value if isinstance(value, list) else str(value).split(",")
        return frozenset(cls(str(item).strip()) for item in items if str(item).strip())
