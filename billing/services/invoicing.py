"""Invoices: the monthly run, the draft → finalized → paid / void lifecycle, gapless
numbers and credit notes.

A finalized invoice never changes again except for being paid or voided; each service that
touches an invoice locks its row first, so a finalization and a re-run, or two credit
notes, never interleave.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least

from billing.choices import InvoiceRunStatus, InvoiceStatus
from billing.exceptions import (
    Conflict,
    CreditTooLarge,
    DomainError,
    InvalidTransition,
    InvoiceFrozen,
)
from billing.models import (
    CreditNote,
    DocumentSequence,
    Invoice,
    InvoiceLine,
    InvoiceRun,
    Subscription,
)
from billing.money import format_money
from billing.periods import Period, utc_today
from billing.pricing import LineDraft, PlanTerms
from billing.selectors import Bill, bills_for, plan_terms_by_id
from tenants.principals import Principal
from tenants.services import audit_record

logger = logging.getLogger(__name__)

LINE_BATCH = 2000

# --- numbering ------------------------------------------------------------------------------


def next_document_number(*, prefix: str, now: datetime) -> str:
    """The next number of the series `<prefix>-<year>`, e.g. "INV-2026-000123".

    Call it inside the transaction that issues the document: the counter row stays locked
    (SELECT ... FOR UPDATE) until that transaction ends, so concurrent issuers queue up and
    get consecutive numbers, and a rollback returns the number: no gap, no double.
    """
    series = f"{prefix}-{now.year}"
    DocumentSequence.objects.bulk_create([DocumentSequence(series=series)], ignore_conflicts=True)
    sequence = DocumentSequence.objects.select_for_update().get(series=series)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return f"{series}-{sequence.last_value:06d}"


# --- the run --------------------------------------------------------------------------------


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


# --- lifecycle ------------------------------------------------------------------------------


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("tenant").get(pk=invoice.pk)


@transaction.atomic
def invoice_finalize(*, by: Principal, invoice: Invoice, now: datetime) -> Invoice:
    """Freeze a draft and give it the next gapless number of the year (same transaction as
    the counter's row lock). From here on only payment, void and credit notes apply."""
    invoice = _locked(invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvalidTransition(
            f"Only a draft can be finalized; {invoice} is {invoice.get_status_display().lower()}."
        )
    if utc_today(now) < invoice.period_end:
        raise InvalidTransition(
            f"{Period(invoice.period_start, invoice.period_end).label} is not over yet."
        )
    invoice.number = next_document_number(prefix=settings.BILLING_INVOICE_NUMBER_PREFIX, now=now)
    invoice.status = InvoiceStatus.FINALIZED
    invoice.finalized_at = now
    invoice.due_on = utc_today(now) + timedelta(days=settings.BILLING_PAYMENT_TERMS_DAYS)
    invoice.updated_at = now
    invoice.save(update_fields=["number", "status", "finalized_at", "due_on", "updated_at"])
    audit_record(
        by=by,
        action="invoice.finalized",
        tenant=invoice.tenant,
        target=invoice,
        details={
            "number": invoice.number,
            "total": format_money(invoice.total_minor, invoice.currency),
        },
        now=now,
    )
    return invoice


def invoices_finalize_due(*, by: Principal, now: datetime) -> list[Invoice]:
    """Finalize every draft whose month ended more than the grace period ago, each in its
    own transaction (one failure does not hold back the others). Safe to repeat."""
    cutoff = utc_today(now) - timedelta(days=settings.BILLING_INVOICE_GRACE_DAYS)
    due = Invoice.objects.filter(status=InvoiceStatus.DRAFT, period_end__lte=cutoff).order_by(
        "period_start", "tenant_id"
    )
    finalized = []
    for invoice in due.iterator():
        try:
            finalized.append(invoice_finalize(by=by, invoice=invoice, now=now))
        except InvalidTransition:  # finalized or voided meanwhile
            continue
    return finalized


@transaction.atomic
def invoice_void(*, by: Principal, invoice: Invoice, reason: str, now: datetime) -> Invoice:
    """Cancel a draft or an unpaid finalized invoice (its number stays used, never reused).
    An invoice with credit notes or a paid one is corrected with credit notes instead."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the invoice is voided.", field="reason")
    invoice = _locked(invoice)
    if invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.FINALIZED):
        raise InvalidTransition(
            f"{invoice} is {invoice.get_status_display().lower()} and cannot be voided; "
            "issue a credit note instead."
        )
    if invoice.credited_minor:
        raise InvalidTransition(
            f"{invoice} has credit notes; credit the rest instead of voiding it."
        )
    previous = invoice.status
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = now
    invoice.void_reason = reason[:500]
    invoice.updated_at = now
    invoice.save(update_fields=["status", "voided_at", "void_reason", "updated_at"])
    audit_record(
        by=by,
        action="invoice.voided",
        tenant=invoice.tenant,
        target=invoice,
        details={"from": previous, "reason": invoice.void_reason},
        now=now,
    )
    return invoice


@transaction.atomic
def invoice_mark_paid(
    *, by: Principal, invoice: Invoice, now: datetime, paid_at: datetime | None = None
) -> Invoice:
    """Record payment of a finalized invoice (idempotent for one already paid)."""
    invoice = _locked(invoice)
    if invoice.status == InvoiceStatus.PAID:
        return invoice
    if invoice.status != InvoiceStatus.FINALIZED:
        raise InvalidTransition(
            f"Only a finalized invoice can be paid; {invoice} is "
            f"{invoice.get_status_display().lower()}."
        )
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = paid_at or now
    invoice.updated_at = now
    invoice.save(update_fields=["status", "paid_at", "updated_at"])
    audit_record(
        by=by,
        action="invoice.paid",
        tenant=invoice.tenant,
        target=invoice,
        details={"paid_at": invoice.paid_at.isoformat()},
        now=now,
    )
    return invoice


@transaction.atomic
def invoice_update(*, by: Principal, invoice: Invoice, notes: str, now: datetime) -> Invoice:
    """Change a draft's notes. Anything issued is frozen."""
    invoice = _locked(invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceFrozen(
            f"{invoice} is {invoice.get_status_display().lower()}: a finalized invoice never "
            "changes; issue a credit note to correct it."
        )
    if invoice.notes == notes:
        return invoice
    previous, invoice.notes, invoice.updated_at = invoice.notes, notes, now
    invoice.save(update_fields=["notes", "updated_at"])
    audit_record(
        by=by,
        action="invoice.updated",
        tenant=invoice.tenant,
        target=invoice,
        details={"notes": {"from": previous, "to": notes}},
        now=now,
    )
    return invoice


# --- credit notes ---------------------------------------------------------------------------


def credit_note_check(*, invoice: Invoice, amount_minor) -> None:
    """Raise a DomainError naming the field if `amount_minor` cannot be credited on
    `invoice` as it stands (forms call this first; the service calls it under the lock)."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise DomainError(
            "A credit note must be for a whole number of minor units above zero.",
            field="amount_minor",
        )
    if invoice.status not in (InvoiceStatus.FINALIZED, InvoiceStatus.PAID):
        raise InvalidTransition(
            f"Only a finalized or paid invoice can be credited; {invoice} is "
            f"{invoice.get_status_display().lower()}.",
            field="invoice",
        )
    remaining = invoice.creditable_minor
    if amount_minor > remaining:
        raise CreditTooLarge(
            f"At most {format_money(remaining, invoice.currency)} of {invoice} can still be "
            f"credited (total {format_money(invoice.total_minor, invoice.currency)}, credited "
            f"{format_money(invoice.credited_minor, invoice.currency)}).",
            field="amount_minor",
        )


@transaction.atomic
def credit_note_create(
    *, by: Principal, invoice: Invoice, amount_minor: int, reason: str, now: datetime
) -> CreditNote:
    """Credit part or all of a finalized or paid invoice, never more than remains
    creditable (checked under the invoice's row lock; the database checks it too)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the credit is given.", field="reason")
    invoice = _locked(invoice)
    credit_note_check(invoice=invoice, amount_minor=amount_minor)
    note = CreditNote.objects.create(
        tenant=invoice.tenant,
        invoice=invoice,
        number=next_document_number(prefix=settings.BILLING_CREDIT_NOTE_NUMBER_PREFIX, now=now),
        amount_minor=amount_minor,
        currency=invoice.currency,
        reason=reason[:500],
        created_at=now,
        created_by_label=by.label[:200],
    )
    invoice.credited_minor += amount_minor
    invoice.updated_at = now
    invoice.save(update_fields=["credited_minor", "updated_at"])
    audit_record(
        by=by,
        action="credit_note.created",
        tenant=invoice.tenant,
        target=note,
        details={
            "invoice": invoice.number,
            "amount": format_money(amount_minor, invoice.currency),
            "reason": note.reason,
        },
        now=now,
    )
    return note


__all__ = [
    "credit_note_check",
    "credit_note_create",
    "invoice_finalize",
    "invoice_mark_paid",
    "invoice_redraft",
    "invoice_run_create",
    "invoice_run_execute",
    "invoice_run_start",
    "invoice_runs_for_usage_change",
    "invoice_update",
    "invoice_void",
    "invoices_finalize_due",
    "next_document_number",
]
