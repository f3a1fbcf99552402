"""The monthly invoice run: drafts created or recomputed for every tenant with a
subscription in a month, in batches, idempotently; and one-tenant redrafts."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least

from billing.choices import InvoiceRunStatus, InvoiceStatus
from billing.exceptions import Conflict, DomainError, InvoiceFrozen
from billing.models import Invoice, InvoiceLine, InvoiceRun, Subscription
from billing.money import format_money
from billing.periods import Period, utc_today
from billing.pricing import LineDraft, PlanTerms
from billing.selectors import Bill, bills_for, plan_terms_by_id
from tenants.principals import Principal
from tenants.services import audit_record

logger = logging.getLogger(__name__)

LINE_BATCH = 2000


@transaction.atomic
def invoice_run_create(
    *, by: Principal, period_start: date, now: datetime
) -> tuple[InvoiceRun, bool]:
    """The queued or running run for the month of `period_start`, or a new queued one
    (returned with True). Refuses months that are not over."""
    month = Period.month_of(period_start)
    if month.end > utc_today(now):
        raise DomainError(
            f"{month.label} is not over yet; invoices are drafted after the month ends.",
            field="period_start",
        )
    active = InvoiceRun.objects.filter(
        period_start=month.start,
        status__in=[InvoiceRunStatus.QUEUED, InvoiceRunStatus.RUNNING],
    )
    if (run := active.first()) is not None:
        return run, False
    try:
        with transaction.atomic():
            run = InvoiceRun.objects.create(
                period_start=month.start, created_at=now, started_by_label=by.label[:200]
            )
    except IntegrityError:  # started at the same moment elsewhere
        return active.get(), False
    audit_record(
        by=by, action="invoice_run.started", target=run, details={"period": month.label}, now=now
    )
    return run, True


@transaction.atomic
def invoice_run_start(*, by: Principal, period_start: date, now: datetime) -> InvoiceRun:
    """Queue the invoice run for the month of `period_start` and enqueue its task on commit.
    Starting a month whose run is queued or running returns that run (no second task)."""
    run, created = invoice_run_create(by=by, period_start=period_start, now=now)
    if created:

        def enqueue():
            from billing.tasks import invoice_run_execute

            invoice_run_execute.delay(run.pk)

        transaction.on_commit(enqueue)
    return run


def invoice_run_execute(
    *, run: InvoiceRun, now: datetime, batch_size: int | None = None
) -> InvoiceRun:
    """Draft or recompute the invoices of the run's month, batch by batch.

    For every tenant with a subscription in the month: no invoice yet → a draft is created;
    a draft → its lines are recomputed (an empty one is deleted: the tenant had no billable
    day after all); finalized, paid or void → left alone. Each batch is one transaction
    that also advances the run's progress, so a crash keeps finished batches and a re-run
    (or the task delivered twice) never creates a second invoice. A finished run is not
    repeated: start a new one.
    """
    with transaction.atomic():
        run = InvoiceRun.objects.select_for_update().get(pk=run.pk)
        if run.status in (InvoiceRunStatus.SUCCEEDED, InvoiceRunStatus.FAILED):
            return run
        month = Period.month_of(run.period_start)
        # Tenants with a subscription in the month, and those with a draft for it (their
        # subscription may have moved away since: the draft must go).
        subscribed = Subscription.objects.overlapping(month.start, month.end)
        drafted = Invoice.objects.filter(status=InvoiceStatus.DRAFT, period_start=month.start)
        tenant_ids = sorted(
            set(subscribed.values_list("tenant_id", flat=True))
            | set(drafted.values_list("tenant_id", flat=True))
        )
        if run.status == InvoiceRunStatus.QUEUED:
            run.status = InvoiceRunStatus.RUNNING
            run.started_at = now
            run.total = len(tenant_ids)
            run.save(update_fields=["status", "started_at", "total"])
        # Else RUNNING: the task was delivered again (its worker died, or is still at work).
        # Carry on from the start: batches are idempotent and progress never goes back.

    size = batch_size or settings.BILLING_RUN_BATCH_SIZE
    try:
        terms = plan_terms_by_id()
        for start in range(0, len(tenant_ids), size):
            _bill_batch(
                run=run,
                month=month,
                tenant_ids=tenant_ids[start : start + size],
                reached=start + len(tenant_ids[start : start + size]),
                terms=terms,
                now=now,
            )
    except Exception as exc:
        logger.exception("invoice run %s failed", run.pk)
        InvoiceRun.objects.filter(pk=run.pk).update(
            status=InvoiceRunStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=now,
        )
        raise
    with transaction.atomic():
        run = InvoiceRun.objects.select_for_update().get(pk=run.pk)
        run.status = InvoiceRunStatus.SUCCEEDED
        run.finished_at = now
        run.save(update_fields=["status", "finished_at"])
        audit_record(
            by=Principal.system(),
            action="invoice_run.finished",
            target=run,
            details={
                "period": month.label,
                "tenants": run.total,
                "created": run.created_count,
                "refreshed": run.refreshed_count,
                "skipped": run.skipped_count,
            },
            now=now,
        )
    return run


@dataclass
class _BatchCounts:
    created: int = 0
    refreshed: int = 0
    skipped: int = 0


@transaction.atomic
def _bill_batch(
    *,
    run: InvoiceRun,
    month: Period,
    tenant_ids: Sequence[int],
    reached: int,
    terms: dict[int, PlanTerms],
    now: datetime,
) -> _BatchCounts:
    # The run row serialises batches of one run (a redelivered task waits here, then sees
    # this batch's invoices and recomputes them instead of adding them again).
    InvoiceRun.objects.select_for_update().filter(pk=run.pk).values_list("pk").get()
    existing: dict[int, Invoice] = {}
    closed: set[int] = set()
    for invoice in Invoice.objects.select_for_update().filter(
        tenant_id__in=list(tenant_ids), period_start=month.start
    ):
        if invoice.status == InvoiceStatus.DRAFT:
            existing[invoice.tenant_id] = invoice
        else:  # finalized, paid, or void (a voided month is re-billed only on request)
            closed.add(invoice.tenant_id)
    # A void invoice beside a draft: the draft is its requested replacement, billed as usual.
    closed -= existing.keys()
    to_bill = [t for t in tenant_ids if t not in closed]
    bills = bills_for(month=month, tenant_ids=to_bill, terms=terms) if to_bill else {}
    counts = _store_bills(bills=bills, drafts=existing, month=month, run=run, now=now)
    counts.skipped = len(closed)
    InvoiceRun.objects.filter(pk=run.pk).update(
        # Monotonic and within the total even when two deliveries of the task overlap.
        done=Least(F("total"), Greatest(F("done"), Value(reached))),
        created_count=F("created_count") + counts.created,
        refreshed_count=F("refreshed_count") + counts.refreshed,
        skipped_count=F("skipped_count") + counts.skipped,
    )
    return counts


def _store_bills(
    *,
    bills: dict[int, Bill],
    drafts: dict[int, Invoice],
    month: Period,
    run: InvoiceRun | None,
    now: datetime,
) -> _BatchCounts:
    """Write bills as drafts: create, recompute in place, or delete drafts left empty."""
    counts = _BatchCounts()
    new = [
        Invoice(
            tenant_id=tenant_id,
            period_start=month.start,
            period_end=month.end,
            currency=bill.currency,
            total_minor=bill.total_minor,
            run=run,
            created_at=now,
            updated_at=now,
        )
        for tenant_id, bill in bills.items()
        if tenant_id not in drafts
    ]
    Invoice.objects.bulk_create(new)
    counts.created = len(new)

    stale = [invoice.pk for tenant_id, invoice in drafts.items() if tenant_id not in bills]
    if stale:
        Invoice.objects.filter(pk__in=stale).delete()
    refreshed = [invoice for tenant_id, invoice in drafts.items() if tenant_id in bills]
    if refreshed:
        InvoiceLine.objects.filter(invoice__in=refreshed).delete()
    counts.refreshed = len(refreshed)

    lines = [
        _line(invoice, position, draft)
        for invoice in (*new, *refreshed)
        for position, draft in enumerate(bills[invoice.tenant_id].lines, start=1)
    ]
    InvoiceLine.objects.bulk_create(lines, batch_size=LINE_BATCH)
    if refreshed:
        # One UPDATE for all recomputed drafts: the total is the sum of the lines, in SQL.
        line_sums = (
            InvoiceLine.objects.filter(invoice=OuterRef("pk"))
            .order_by()
            .values("invoice")
            .annotate(total=Sum("amount_minor"))
            .values("total")
        )
        Invoice.objects.filter(pk__in=[i.pk for i in refreshed]).update(
            total_minor=Coalesce(Subquery(line_sums), 0), run=run, updated_at=now
        )
        changed = defaultdict(list)  # a currency changes only with the plan: rare
        for invoice in refreshed:
            if invoice.currency != bills[invoice.tenant_id].currency:
                changed[bills[invoice.tenant_id].currency].append(invoice.pk)
        for currency, ids in changed.items():
            Invoice.objects.filter(pk__in=ids).update(currency=currency)
    return counts


def _line(invoice: Invoice, position: int, draft: LineDraft) -> InvoiceLine:
    return InvoiceLine(
        invoice=invoice,
        position=position,
        kind=draft.kind,
        description=draft.description[:500],
        workload=draft.workload,
        plan_id=draft.plan_id,
        plan_name=draft.plan_name[:200],
        starts_on=draft.starts_on,
        ends_on=draft.ends_on,
        quantity=draft.quantity,
        unit=draft.unit,
        unit_price=draft.unit_price,
        amount_minor=draft.amount_minor,
        series=draft.series_json(),
        basis=draft.basis[:500],
    )


@transaction.atomic
def invoice_redraft(*, by: Principal, tenant_id: int, period_start: date, now: datetime) -> Invoice:
    """Draft one tenant's invoice for a month now (a replacement for a voided one, or a
    refresh of its draft). Refuses when a finalized or paid invoice exists for that month."""
    month = Period.month_of(period_start)
    current = (
        Invoice.objects.select_for_update()
        .filter(tenant_id=tenant_id, period_start=month.start)
        .exclude(status=InvoiceStatus.VOID)
        .first()
    )
    if current is not None and current.status != InvoiceStatus.DRAFT:
        raise InvoiceFrozen(f"{current} is already issued for {month.label}; credit it instead.")
    bills = bills_for(month=month, tenant_ids=[tenant_id])
    if tenant_id not in bills:
        raise DomainError(
            f"Nothing to bill for {month.label}: no subscription covers a billable day.",
            field="period_start",
        )
    drafts = {tenant_id: current} if current is not None else {}
    try:
        with transaction.atomic():
            _store_bills(bills=bills, drafts=drafts, month=month, run=None, now=now)
    except IntegrityError as exc:
        raise Conflict("An invoice for this month was created at the same moment.") from exc
    invoice = Invoice.objects.live().get(tenant_id=tenant_id, period_start=month.start)
    audit_record(
        by=by,
        action="invoice.drafted",
        tenant=invoice.tenant,
        target=invoice,
        details={
            "period": month.label,
            "total": format_money(invoice.total_minor, invoice.currency),
        },
        now=now,
    )
    return invoice


def invoice_runs_for_usage_change(
    *, by: Principal, days: Iterable[date], now: datetime
) -> list[InvoiceRun]:
    """After usage of past days was (re)written: start a run for each of their months that
    still has drafts, so drafts never lag behind a backfill."""
    months = sorted({Period.month_of(day).start for day in days})
    with_drafts = set(
        Invoice.objects.filter(status=InvoiceStatus.DRAFT, period_start__in=months).values_list(
            "period_start", flat=True
        )
    )
    return [
        invoice_run_start(by=by, period_start=month, now=now)
        for month in months
        if month in with_drafts
    ]


__all__ = [
    "invoice_redraft",
    "invoice_run_create",
    "invoice_run_execute",
    "invoice_run_start",
    "invoice_runs_for_usage_change",
]
