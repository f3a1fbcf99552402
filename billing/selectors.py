"""Reads of the billing app that need care: batching, aggregation, the billing window.

Backup data is read only through `backups.selectors`; everything else here reads billing's
own tables in a small, constant number of queries per call (or per batch of tenants).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Subquery, Sum

from backups.selectors import BillingWindow, billing_windows
from billing.choices import InvoiceStatus
from billing.models import GIB, Invoice, Plan, Subscription, UsageRecord
from billing.money import quantize_quantity, ratio, to_minor
from billing.periods import Period, months_between
from billing.pricing import (
    WORKLOAD_ORDER,
    LineDraft,
    PlanTerms,
    Segment,
    UsageHistory,
    price_month,
)

# --- plans and segments ---------------------------------------------------------------------


def plan_terms_by_id(plan_ids: Iterable[int] | None = None) -> dict[int, PlanTerms]:
    """Every plan (or those listed) as pricing terms, in two queries."""
    plans = Plan.objects.prefetch_related("prices")
    if plan_ids is not None:
        plans = plans.filter(pk__in=list(plan_ids))
    return {plan.pk: PlanTerms.from_plan(plan, plan.prices.all()) for plan in plans}


def subscription_is_invoiced(subscription: Subscription) -> bool:
    """Does a finalized or paid invoice cover any day of this subscription?"""
    issued = Invoice.objects.filter(
        tenant_id=subscription.tenant_id,
        status__in=[InvoiceStatus.FINALIZED, InvoiceStatus.PAID],
        period_end__gt=subscription.starts_on,
    )
    if subscription.ends_on is not None:
        issued = issued.filter(period_start__lt=subscription.ends_on)
    return issued.exists()


def subscriptions_by_tenant(
    *, tenant_ids: Iterable[int], period: Period
) -> dict[int, list[Subscription]]:
    rows = (
        Subscription.objects.filter(tenant_id__in=list(tenant_ids))
        .overlapping(period.start, period.end)
        .order_by("tenant_id", "starts_on")
    )
    out: dict[int, list[Subscription]] = defaultdict(list)
    for subscription in rows:
        out[subscription.tenant_id].append(subscription)
    return out


def segments_for(
    *,
    month: Period,
    subscriptions: Sequence[Subscription],
    window: BillingWindow | None,
    terms: dict[int, PlanTerms],
) -> list[Segment]:
    """The days of `month` each subscription bills: inside the subscription and inside the
    tenant's billing window (enablement through the offboarding tail)."""
    if window is None:
        return []
    segments = []
    for subscription in subscriptions:
        days = month.intersect(subscription.starts_on, subscription.ends_on)
        days = days.intersect(window.starts_on, window.ends_on)
        if not days.is_empty:
            segments.append(Segment(days, terms[subscription.plan_id]))
    return segments


@dataclass(frozen=True)
class Bill:
    """What one tenant owes for a month (or its part up to `until`), not yet stored."""

    tenant_id: int
    currency: str
    lines: list[LineDraft]

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)


def billing_inputs(
    *,
    month: Period,
    tenant_ids: Sequence[int],
    terms: dict[int, PlanTerms] | None = None,
) -> dict[int, tuple[list[Segment], UsageHistory]]:
    """Segments and daily usage of each tenant with at least one billable day under a
    subscription in `month`: four or five queries per call (plans too unless `terms` is
    given), never one per tenant or per day."""
    subscriptions = subscriptions_by_tenant(tenant_ids=tenant_ids, period=month)
    if not subscriptions:
        return {}
    if terms is None:
        terms = plan_terms_by_id({s.plan_id for subs in subscriptions.values() for s in subs})
    windows = billing_windows(tenant_ids=list(subscriptions))
    segments = {
        tenant_id: segments_for(
            month=month, subscriptions=subs, window=windows.get(tenant_id), terms=terms
        )
        for tenant_id, subs in subscriptions.items()
    }
    billable = [tenant_id for tenant_id, segs in segments.items() if segs]
    histories = usage_histories(tenant_ids=billable, month=month) if billable else {}
    return {tenant_id: (segments[tenant_id], histories[tenant_id]) for tenant_id in billable}


def bill_of(
    tenant_id: int,
    month: Period,
    segments: Sequence[Segment],
    history: UsageHistory,
    until: date | None = None,
) -> Bill | None:
    if until is not None:
        segments = [Segment(s.days.intersect(None, until), s.terms) for s in segments]
        segments = [s for s in segments if not s.days.is_empty]
    if not segments:
        return None
    lines = price_month(month=month, segments=segments, history=history)
    return Bill(tenant_id=tenant_id, currency=segments[0].terms.currency, lines=lines)


def bills_for(
    *, month: Period, tenant_ids: Sequence[int], terms: dict[int, PlanTerms] | None = None
) -> dict[int, Bill]:
    """The bill of each tenant that has a billable day under a subscription in `month`."""
    inputs = billing_inputs(month=month, tenant_ids=tenant_ids, terms=terms)
    return {
        tenant_id: bill_of(tenant_id, month, segments, history)
        for tenant_id, (segments, history) in inputs.items()
    }


@dataclass(frozen=True)
class Estimate:
    """A tenant's charges for the current month: accrued for the days before today, and
    projected to the month's end with the latest known usage carried forward (the rule for
    a missing day)."""

    month: Period
    as_of: date  # first day not counted in `accrued` (today, UTC)
    accrued: Bill | None
    projected: Bill | None


def month_estimate(*, tenant_id: int, today: date) -> Estimate:
    month = Period.month_of(today)
    inputs = billing_inputs(month=month, tenant_ids=[tenant_id]).get(tenant_id)
    if inputs is None:
        return Estimate(month, today, None, None)
    segments, history = inputs
    return Estimate(
        month,
        today,
        bill_of(tenant_id, month, segments, history, until=today),
        bill_of(tenant_id, month, segments, history),
    )


# --- usage ----------------------------------------------------------------------------------


def usage_histories(*, tenant_ids: Sequence[int], month: Period) -> dict[int, UsageHistory]:
    """Daily usage of `month` for each tenant, with the last value known before the month
    where the month's first day has no record: one query, plus one when carrying in."""
    histories: dict[int, UsageHistory] = {tenant_id: UsageHistory() for tenant_id in tenant_ids}
    rows = UsageRecord.objects.filter(
        tenant_id__in=list(tenant_ids), day__gte=month.start, day__lt=month.end
    ).values_list("tenant_id", "workload", "day", "protected_bytes", "protected_users")
    for tenant_id, workload, day, protected_bytes, users in rows.iterator(chunk_size=5000):
        histories[tenant_id].add(workload, day, protected_bytes, users)

    needs_carry = [
        tenant_id
        for tenant_id, history in histories.items()
        if any((w, month.start) not in history.recorded for w in WORKLOAD_ORDER)
    ]
    if needs_carry:
        latest = (
            UsageRecord.objects.filter(
                tenant_id=OuterRef("tenant_id"), workload=OuterRef("workload"), day__lt=month.start
            )
            .order_by("-day")
            .values("day")[:1]
        )
        carried = UsageRecord.objects.filter(
            tenant_id__in=needs_carry, day__lt=month.start, day=Subquery(latest)
        ).values_list("tenant_id", "workload", "protected_bytes", "protected_users")
        for tenant_id, workload, protected_bytes, users in carried:
            histories[tenant_id].carry_in[workload] = (protected_bytes, users)
    return histories


@dataclass(frozen=True)
class UsageGap:
    """A billable day of a tenant with fewer usage records than workloads."""

    tenant_id: int
    day: date
    missing: tuple[str, ...]


def usage_gaps(*, period: Period, tenant_ids: Iterable[int] | None = None) -> list[UsageGap]:
    """Billable days (inside the tenant's billing window) of `period` that lack a record
    for some workload: two queries whatever the number of tenants and days."""
    windows = billing_windows(tenant_ids=tenant_ids)
    recorded: dict[tuple[int, date], set[str]] = defaultdict(set)
    rows = UsageRecord.objects.filter(
        day__gte=period.start, day__lt=period.end, tenant_id__in=list(windows)
    ).values_list("tenant_id", "day", "workload")
    for tenant_id, day, workload in rows.iterator(chunk_size=10000):
        recorded[(tenant_id, day)].add(workload)
    gaps = []
    for tenant_id in sorted(windows):
        window = windows[tenant_id]
        for day in period.intersect(window.starts_on, window.ends_on).iter_days():
            missing = tuple(
                w for w in WORKLOAD_ORDER if w not in recorded.get((tenant_id, day), ())
            )
            if missing:
                gaps.append(UsageGap(tenant_id, day, missing))
    return gaps


@dataclass(frozen=True)
class UsageChart:
    days: list[date]
    # GB per workload per day, as strings with three decimals; None where nothing recorded.
    series: dict[str, list[str | None]]


def usage_chart(*, tenant_id: int, end: date, days: int = 90) -> UsageChart:
    """Protected GB per workload for the `days` days before `end`: one query."""
    period = Period(end - timedelta(days=days), end)
    values: dict[tuple[str, date], int] = {
        (workload, day): protected_bytes
        for workload, day, protected_bytes in UsageRecord.objects.filter(
            tenant_id=tenant_id, day__gte=period.start, day__lt=period.end
        ).values_list("workload", "day", "protected_bytes")
    }
    day_list = list(period.iter_days())
    series = {
        workload: [
            None if (workload, day) not in values else gb_text(values[(workload, day)], places=3)
            for day in day_list
        ]
        for workload in WORKLOAD_ORDER
    }
    return UsageChart(day_list, series)


def gb_text(protected_bytes: int, places: int = 3) -> str:
    exponent = Decimal(1).scaleb(-places)
    return str(quantize_quantity(ratio(protected_bytes, GIB)).quantize(exponent))


@dataclass(frozen=True)
class UsageAggregate:
    tenant_id: int
    workload: str
    days_recorded: int
    gb_month: Decimal  # mean over the period's days of each day's GB (missing days count 0)
    peak_gb: Decimal
    last_day: date | None
    last_gb: Decimal


def usage_aggregates(*, records, period: Period) -> list[UsageAggregate]:
    """Per tenant and workload over `period`, from an already scoped `records` queryset:
    two aggregate queries whatever the number of rows."""
    rows = (
        records.filter(day__gte=period.start, day__lt=period.end)
        .values("tenant_id", "workload")
        .annotate(
            days=Count("id"),
            total=Sum("protected_bytes"),
            peak=Max("protected_bytes"),
            last_day=Max("day"),
        )
        .order_by("tenant_id", "workload")
    )
    rows = list(rows)
    last_values: dict[tuple[int, str], int] = {}
    if rows:
        latest = (
            records.filter(
                tenant_id=OuterRef("tenant_id"),
                workload=OuterRef("workload"),
                day__gte=period.start,
                day__lt=period.end,
            )
            .order_by("-day")
            .values("day")[:1]
        )
        last_values = {
            (t, w): b
            for t, w, b in records.filter(
                day__gte=period.start, day__lt=period.end, day=Subquery(latest)
            ).values_list("tenant_id", "workload", "protected_bytes")
        }
    return [
        UsageAggregate(
            tenant_id=row["tenant_id"],
            workload=row["workload"],
            days_recorded=row["days"],
            gb_month=quantize_quantity(ratio(row["total"] or 0, GIB * period.days)),
            peak_gb=quantize_quantity(ratio(row["peak"] or 0, GIB)),
            last_day=row["last_day"],
            last_gb=quantize_quantity(
                ratio(last_values.get((row["tenant_id"], row["workload"]), 0), GIB)
            ),
        )
        for row in rows
    ]


# --- revenue, cost and margin ---------------------------------------------------------------


@dataclass
class MarginRow:
    """One tenant and month: what the MSP invoiced and what Microsoft charges it."""

    tenant_id: int
    month: date
    gb_month: Decimal = Decimal(0)
    cost_minor: int = 0  # USD cents at MICROSOFT_BACKUP_RATE_PER_GB_MONTH
    revenue_minor: int = 0  # invoices net of credit notes, in `currency`
    currency: str = ""
    invoice_statuses: tuple[str, ...] = ()

    @property
    def margin_minor(self) -> int | None:
        """Revenue minus cost when both are USD; None otherwise (no conversion is faked)."""
        if self.currency in ("", "USD"):
            return self.revenue_minor - self.cost_minor
        return None


def margin_rows(
    *, first: date, last: date, tenant_ids: Iterable[int] | None = None
) -> list[MarginRow]:
    """Revenue, Microsoft cost and margin per tenant and month for the months from `first`
    to `last`: two aggregate queries.

    Cost is Microsoft's rule on the usage records: GB-month = sum of daily bytes / 2^30 /
    days in the month, times the rate, rounded half-up once per tenant and month. Revenue
    is every invoice that is not void (drafts included), net of credit notes.
    """
    months = months_between(first, last)
    span = Period(months[0].start, months[-1].end)
    rate = settings.MICROSOFT_BACKUP_RATE_PER_GB_MONTH
    usage = UsageRecord.objects.filter(day__gte=span.start, day__lt=span.end)
    invoices = Invoice.objects.live().filter(
        period_start__gte=span.start, period_start__lt=span.end
    )
    if tenant_ids is not None:
        ids = list(tenant_ids)
        usage = usage.filter(tenant_id__in=ids)
        invoices = invoices.filter(tenant_id__in=ids)

    rows: dict[tuple[int, date], MarginRow] = {}
    month_bytes: dict[tuple[int, date], int] = defaultdict(int)
    totals = (
        usage.values("tenant_id", "day__year", "day__month")
        .annotate(total=Sum("protected_bytes"))
        .order_by()
    )
    for row in totals:
        key = (row["tenant_id"], date(row["day__year"], row["day__month"], 1))
        month_bytes[key] += row["total"] or 0
    for (tenant_id, month_start), total in month_bytes.items():
        month = Period.month_of(month_start)
        gb_month = quantize_quantity(ratio(total, GIB * month.days))
        rows[(tenant_id, month_start)] = MarginRow(
            tenant_id=tenant_id,
            month=month_start,
            gb_month=gb_month,
            cost_minor=to_minor(gb_month * rate, "USD"),
        )
    revenue = invoices.values("tenant_id", "period_start", "currency", "status").annotate(
        net=Sum("total_minor") - Sum("credited_minor")
    )
    for row in revenue.order_by():
        key = (row["tenant_id"], row["period_start"])
        margin = rows.setdefault(key, MarginRow(tenant_id=key[0], month=key[1]))
        margin.revenue_minor += row["net"] or 0
        margin.currency = row["currency"]
        margin.invoice_statuses = (*margin.invoice_statuses, row["status"])
    return sorted(rows.values(), key=lambda r: (r.month, r.tenant_id))
