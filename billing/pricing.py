"""The pricing engine: a month of daily usage and the plans that covered it, in; invoice
lines, out. Pure functions over plain data, no database, so every rule has golden tests.

Rules (README, "Billing"):

- A *segment* is the days of the month one plan bills: the subscription's days inside the
  month and inside the tenant's billing window (enablement through the offboarding tail).
  Days outside every segment count zero.
- Each day has a value per workload: bytes (per-GB plans) or seats (per-user plans). A day
  without a usage record carries the last known value (source "c"); never known is zero.
- The quantity of a segment, in GB-month (bytes / 2^30) or seat-month, by the plan's rule:
  daily average = sum of the segment's daily values / days in the month;
  peak = highest daily value x segment days / days in the month;
  month-end = the segment's last daily value x segment days / days in the month.
  It is rounded half-up to six decimals: the printed figure is the one multiplied.
- Monthly amounts (included quantity, tier bounds, minimum fee) are prorated by the same
  fraction, segment days / days in the month.
- The included quantity is deducted first (per-workload ladders use it up in the order
  Exchange, OneDrive, SharePoint); the rest is priced graduated along the ladder's steps.
- Each line's amount is quantity x unit price rounded half-up once to minor units. Then,
  per segment, a minimum-fee top-up line when the usage lines fall short, and a discount
  line (negative) on usage plus top-up. The invoice total is the sum of its lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from backups.choices import Workload
from billing.choices import InvoiceLineKind, PlanKind, QuantityRule, QuantityUnit
from billing.models.usage import GIB
from billing.money import format_money, quantity_ratio, quantize_quantity, to_major, to_minor
from billing.periods import Period

WORKLOAD_ORDER: tuple[str, ...] = (Workload.EXCHANGE, Workload.ONEDRIVE, Workload.SHAREPOINT)
ALL_WORKLOADS = ""
RECORDED, CARRIED = "r", "c"


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceStep:
    up_to: Decimal | None  # None: open-ended (the last step of a ladder)
    unit_price: Decimal


@dataclass(frozen=True)
class PlanTerms:
    """A plan as the engine needs it (a snapshot, so lines keep the prices they used)."""

    plan_id: int | None
    name: str
    kind: str
    quantity_rule: str
    currency: str
    # Ladder per workload key: "" (every workload together) or a workload; steps ascending.
    ladders: Mapping[str, tuple[PriceStep, ...]]
    included_quantity: Decimal = Decimal(0)
    minimum_fee_minor: int = 0
    discount_percent: Decimal = Decimal(0)

    @property
    def unit(self) -> str:
        return QuantityUnit.SEAT_MONTH if self.kind == PlanKind.PER_USER else QuantityUnit.GB_MONTH

    @classmethod
    def from_plan(cls, plan, prices: Iterable) -> PlanTerms:
        ladders: dict[str, list[PriceStep]] = {}
        for price in prices:
            ladders.setdefault(price.workload, []).append(PriceStep(price.up_to, price.unit_price))
        ordered = {
            key: tuple(sorted(steps, key=lambda s: (s.up_to is None, s.up_to or 0)))
            for key, steps in ladders.items()
        }
        return cls(
            plan_id=plan.pk,
            name=plan.name,
            kind=plan.kind,
            quantity_rule=plan.quantity_rule,
            currency=plan.currency,
            ladders=ordered,
            included_quantity=plan.included_quantity,
            minimum_fee_minor=plan.minimum_fee_minor,
            discount_percent=plan.discount_percent,
        )


@dataclass(frozen=True)
class Segment:
    """Days `[days.start, days.end)` of the month billed under `terms`."""

    days: Period
    terms: PlanTerms


@dataclass
class UsageHistory:
    """Daily values per workload: `recorded[(workload, day)] = (bytes, seats)`, and the last
    value known before the month per workload (for a month that starts with missing days)."""

    recorded: dict[tuple[str, date], tuple[int, int]] = field(default_factory=dict)
    carry_in: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(self, workload: str, day: date, protected_bytes: int, seats: int) -> None:
        self.recorded[(workload, day)] = (protected_bytes, seats)


class DailyValue(NamedTuple):
    day: date
    value: int  # bytes or seats
    source: str  # RECORDED or CARRIED


# --- outputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineDraft:
    kind: str
    description: str
    workload: str
    plan_id: int | None
    plan_name: str
    starts_on: date
    ends_on: date
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount_minor: int
    series: tuple[DailyValue, ...] = ()
    basis: str = ""

    def series_json(self) -> dict:
        """The compact stored form (see `InvoiceLine.series`)."""
        if not self.series:
            return {}
        return {
            "start": self.series[0].day.isoformat(),
            "values": [v.value for v in self.series],
            "carried": [i for i, v in enumerate(self.series) if v.source == CARRIED],
        }


@dataclass(frozen=True)
class MonthQuantity:
    """The quantity of one ladder in one segment, before allowance and prices."""

    quantity: Decimal
    series: tuple[DailyValue, ...]
    basis: str


# --- daily series ---------------------------------------------------------------------------


def daily_series(history: UsageHistory, workload: str, month: Period, seats: bool):
    """Each day of `month` for one workload, a missing day carrying the last known value."""
    index = 1 if seats else 0
    last = history.carry_in.get(workload, (0, 0))[index]
    values: dict[date, DailyValue] = {}
    for day in month.iter_days():
        recorded = history.recorded.get((workload, day))
        if recorded is not None:
            last = recorded[index]
            values[day] = DailyValue(day, last, RECORDED)
        else:
            values[day] = DailyValue(day, last, CARRIED)
    return values


def _ladder_series(
    by_workload: Mapping[str, Mapping[date, DailyValue]], key: str, days: Period
) -> tuple[DailyValue, ...]:
    if key != ALL_WORKLOADS:
        values = by_workload[key]
        return tuple(values[day] for day in days.iter_days())
    out = []
    for day in days.iter_days():
        parts = [by_workload[w][day] for w in WORKLOAD_ORDER]
        source = RECORDED
        if parts[0].source == CARRIED or parts[1].source == CARRIED or parts[2].source == CARRIED:
            source = CARRIED
        out.append(DailyValue(day, parts[0].value + parts[1].value + parts[2].value, source))
    return tuple(out)


# --- quantities -----------------------------------------------------------------------------


def month_quantity(
    series: Sequence[DailyValue], *, rule: str, month: Period, per_gb: bool
) -> MonthQuantity:
    """GB-month or seat-month of one segment's series under `rule` (see module docstring)."""
    unit_size = GIB if per_gb else 1
    month_days = month.days
    segment_days = len(series)
    if not series:
        return MonthQuantity(Decimal(0), (), "no billable day")
    fraction = "" if segment_days == month_days else f" x {segment_days}/{month_days} days"
    if rule == QuantityRule.DAILY_AVERAGE:
        total = sum(v.value for v in series)
        quantity = quantity_ratio(total, unit_size * month_days)
        basis = f"sum of {segment_days} daily values / {month_days} days in {month.label}"
    elif rule == QuantityRule.PEAK:
        peak = max(series, key=lambda v: (v.value, -v.day.toordinal()))
        quantity = quantity_ratio(peak.value * segment_days, unit_size * month_days)
        basis = f"highest daily value ({_value_label(peak.value, per_gb)} on {peak.day:%d %b}){fraction}"
    elif rule == QuantityRule.MONTH_END:
        last = series[-1]
        quantity = quantity_ratio(last.value * segment_days, unit_size * month_days)
        basis = f"value on {last.day:%d %b} ({_value_label(last.value, per_gb)}){fraction}"
    else:
        raise ValueError(f"Unknown quantity rule {rule!r}")
    return MonthQuantity(quantity, tuple(series), basis)


def _value_label(value: int, per_gb: bool) -> str:
    if per_gb:
        return f"{quantity_ratio(value, GIB).normalize():f} GB"
    return f"{value} seats"


def prorate(amount: Decimal, days: Period, month: Period) -> Decimal:
    """A monthly quantity for `days` of `month`, six decimals."""
    if days.days == month.days:
        return amount
    return quantize_quantity(amount * days.days / Decimal(month.days))


# --- lines ----------------------------------------------------------------------------------


def price_month(
    *, month: Period, segments: Sequence[Segment], history: UsageHistory
) -> list[LineDraft]:
    """Every line of one tenant's invoice for `month` (empty when no segment has a day)."""
    segments = [s for s in segments if not s.days.is_empty]
    if not segments:
        return []
    per_workload = {
        seats: {w: daily_series(history, w, month, seats) for w in WORKLOAD_ORDER}
        for seats in {s.terms.kind == PlanKind.PER_USER for s in segments}
    }
    lines: list[LineDraft] = []
    for segment in segments:
        seats = segment.terms.kind == PlanKind.PER_USER
        lines.extend(_segment_lines(segment, month, per_workload[seats]))
    return lines


def _segment_lines(segment: Segment, month: Period, by_workload) -> list[LineDraft]:
    terms, days = segment.terms, segment.days
    per_gb = terms.kind == PlanKind.PER_GB
    keys = [ALL_WORKLOADS] if ALL_WORKLOADS in terms.ladders else list(WORKLOAD_ORDER)
    allowance = prorate(terms.included_quantity, days, month)
    when = "" if days.days == month.days else f", {_days_label(days)}"
    lines: list[LineDraft] = []
    for key in keys:
        measured = month_quantity(
            _ladder_series(by_workload, key, days),
            rule=terms.quantity_rule,
            month=month,
            per_gb=per_gb,
        )
        used_allowance = min(allowance, measured.quantity)
        allowance -= used_allowance
        label = _ladder_label(key, per_gb)
        unit_label = QuantityUnit(terms.unit).label
        common = dict(
            workload=key,
            plan_id=terms.plan_id,
            plan_name=terms.name,
            starts_on=days.start,
            ends_on=days.end,
            unit=terms.unit,
            series=measured.series,
            basis=f"{measured.quantity.normalize():f} {unit_label} measured: {measured.basis}",
        )
        ladder_lines = []
        if used_allowance > 0:
            ladder_lines.append(
                LineDraft(
                    kind=InvoiceLineKind.INCLUDED,
                    description=f"{label}{when}: included in the plan",
                    quantity=used_allowance,
                    unit_price=Decimal(0),
                    amount_minor=0,
                    **common,
                )
            )
        ladder_lines.extend(
            _graduated(
                terms.ladders[key],
                measured.quantity - used_allowance,
                label=f"{label}{when}",
                days=days,
                month=month,
                currency=terms.currency,
                unit=terms.unit,
                common=common,
            )
        )
        if not ladder_lines:  # nothing used: still one line, so the days are explained
            first = terms.ladders[key][0]
            ladder_lines.append(
                LineDraft(
                    kind=InvoiceLineKind.USAGE,
                    description=f"{label}{when}",
                    quantity=Decimal(0),
                    unit_price=first.unit_price,
                    amount_minor=0,
                    **common,
                )
            )
        lines.extend(ladder_lines)
    lines.extend(_minimum_and_discount(terms, days, month, lines, when))
    return lines


def _graduated(steps, billable: Decimal, *, label, days, month, currency, unit, common):
    lines = []
    lower = Decimal(0)
    tiered = len(steps) > 1
    unit_label = QuantityUnit(unit).label
    for number, step in enumerate(steps, start=1):
        upper = None if step.up_to is None else prorate(step.up_to, days, month)
        top = billable if upper is None else min(billable, upper)
        in_step = quantize_quantity(top - lower)
        if in_step <= 0:
            break
        if tiered:
            span = f"above {lower.normalize():f}" if lower else "first"
            bound = f" up to {upper.normalize():f}" if upper is not None else ""
            description = f"{label}, tier {number} ({span}{bound} {unit_label})"
        else:
            description = label
        lines.append(
            LineDraft(
                kind=InvoiceLineKind.USAGE,
                description=description,
                quantity=in_step,
                unit_price=step.unit_price,
                amount_minor=to_minor(in_step * step.unit_price, currency),
                **common,
            )
        )
        if upper is None:
            break
        lower = upper
    return lines


def _minimum_and_discount(terms: PlanTerms, days: Period, month: Period, lines, when: str):
    extra: list[LineDraft] = []
    common = dict(
        workload="",
        plan_id=terms.plan_id,
        plan_name=terms.name,
        starts_on=days.start,
        ends_on=days.end,
        unit="",
        quantity=Decimal(0),
        unit_price=Decimal(0),
    )
    usage = sum(line.amount_minor for line in lines)
    currency = terms.currency
    if terms.minimum_fee_minor:
        share = f" x {days.days}/{month.days} days" if days.days != month.days else ""
        minimum = to_minor(
            to_major(terms.minimum_fee_minor, currency) * days.days / Decimal(month.days), currency
        )
        if minimum > usage:
            extra.append(
                LineDraft(
                    kind=InvoiceLineKind.MINIMUM,
                    description=(
                        f"Minimum monthly fee {format_money(terms.minimum_fee_minor, currency)}"
                        f"{share} = {format_money(minimum, currency)}; usage came to "
                        f"{format_money(usage, currency)}{when}"
                    ),
                    amount_minor=minimum - usage,
                    **common,
                )
            )
    base = usage + sum(line.amount_minor for line in extra)
    if terms.discount_percent and base:
        amount = to_minor(to_major(base, currency) * terms.discount_percent / 100, currency)
        if amount:
            extra.append(
                LineDraft(
                    kind=InvoiceLineKind.DISCOUNT,
                    description=(
                        f"Discount {terms.discount_percent.normalize():f} % of "
                        f"{format_money(base, currency)}{when}"
                    ),
                    amount_minor=-amount,
                    **common,
                )
            )
    return extra


def _ladder_label(key: str, per_gb: bool) -> str:
    if not per_gb:
        return "Protected users"
    if key == ALL_WORKLOADS:
        return "Protected data"
    return Workload(key).label


def _days_label(days: Period) -> str:
    last = days.last_day
    if days.start.month == last.month:
        return f"{days.start.day}-{last.day} {last:%b}"
    return f"{days.start:%d %b}-{last:%d %b}"
