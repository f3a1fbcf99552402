"""Invoices: the draft → finalized → paid / void lifecycle, gapless numbers and credit
notes (the run that drafts them is in `invoice_run.py`).

A finalized invoice never changes again except for being paid or voided; each service that
touches an invoice locks its row first, so a finalization and a re-run, or two credit
notes, never interleave.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from billing.choices import InvoiceStatus
from billing.exceptions import (
    CreditTooLarge,
    DomainError,
    InvalidTransition,
    InvoiceFrozen,
)
from billing.models import (
    CreditNote,
    DocumentSequence,
    Invoice,
)
from billing.money import format_money
from billing.periods import Period, utc_today
from tenants.principals import Principal
from tenants.services import audit_record

logger = logging.getLogger(__name__)


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
    "invoice_update",
    "invoice_void",
    "invoices_finalize_due",
    "next_document_number",
]
