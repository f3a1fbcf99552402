"""Billing periods: the one month arithmetic helper of the billing app.

Every period is a half-open range of UTC days `[start, end)`. A month is
`[first day, first day of the next month)`; a day `d` is inside when
`start <= d < end`. Nothing else in billing adds months or counts days by hand.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    """Days `[start, end)`; `end` is the first day after the period."""

    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError(f"A period cannot end ({self.end}) before it starts ({self.start}).")

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def month_of(cls, day: date) -> Period:
        """The calendar month that contains `day`."""
        start = day.replace(day=1)
        return cls(start, add_months(start, 1))

    @classmethod
    def parse_month(cls, text: str) -> Period:
        """`"2026-03"` → March 2026. Raises ValueError on anything else."""
        match = _MONTH.match(text.strip())
        if not match:
            raise ValueError(f"Expected a month as YYYY-MM, got {text!r}.")
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12 or year < 2000:
            raise ValueError(f"Not a month: {text!r}.")
        return cls.month_of(date(year, month, 1))

    # --- reading --------------------------------------------------------------------------

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def is_empty(self) -> bool:
        return self.end <= self.start

    @property
    def is_month(self) -> bool:
        return self.start.day == 1 and self.end == add_months(self.start, 1)

    @property
    def last_day(self) -> date:
        """The last day inside the period (the day before `end`)."""
        if self.is_empty:
            raise ValueError("An empty period has no last day.")
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        """`"2026-03"` for a month, `"2026-03-05 to 2026-03-19"` (inclusive days) otherwise."""
        if self.is_month:
            return f"{self.start:%Y-%m}"
        if self.is_empty:
            return f"{self.start:%Y-%m-%d} (empty)"
        return f"{self.start:%Y-%m-%d} to {self.last_day:%Y-%m-%d}"

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end

    def iter_days(self) -> Iterator[date]:
        day = self.start
        while day < self.end:
            yield day
            day += timedelta(days=1)

    def intersect(self, start: date | None = None, end: date | None = None) -> Period:
        """The part of this period inside `[start, end)`; None means unbounded. May be empty."""
        lo = self.start if start is None else max(self.start, start)
        hi = self.end if end is None else min(self.end, end)
        return Period(lo, max(lo, hi))

    def previous_month(self) -> Period:
        return Period.month_of(add_months(self.start.replace(day=1), -1))

    def next_month(self) -> Period:
        return Period.month_of(add_months(self.start.replace(day=1), 1))


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months, clamped to the target month's last day
    (31 January + 1 month = 28 or 29 February)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def utc_today(now: datetime) -> date:
    """The UTC calendar day of an aware datetime."""
    if now.tzinfo is None:
        raise ValueError("Billing needs an aware datetime (USE_TZ).")
    return now.astimezone(UTC).date()


def months_between(first: date, last: date) -> list[Period]:
    """Every month from the one containing `first` to the one containing `last`, inclusive."""
    months = []
    period = Period.month_of(first)
    while period.start <= last:
        months.append(period)
        period = period.next_month()
    return months
