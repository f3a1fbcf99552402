from datetime import date, timedelta

from django.db import models
from django.db.models import F, Q

from backups.choices import Workload
from billing.choices import (
    Currency,
    InvoiceLineKind,
    InvoiceRunStatus,
    InvoiceStatus,
    QuantityUnit,
)
from tenants.models import ScopedQuerySet


class InvoiceQuerySet(ScopedQuerySet):
    """Drafts are the MSP's working copies: customers and tenant keys see an invoice once it
    is finalized (then paid or void)."""

    scope_field = "tenant"

    def visible_to(self, principal):
        visible = super().visible_to(principal)
        if principal.tenant_ids is None:
            return visible
        return visible.exclude(status=InvoiceStatus.DRAFT)

    def live(self):
        return self.exclude(status=InvoiceStatus.VOID)


class Invoice(models.Model):
    """A tenant's bill for one calendar month `[period_start, period_end)`.

    Created as a draft by the invoice run and recomputed by each re-run while it is a draft.
    Finalization assigns the gapless `number` and freezes it: from then on nothing on it
    or its lines changes except its payment or void status; corrections are credit notes.
    At most one invoice per tenant and month is not void.
    """

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="billing_invoices"
    )
    period_start = models.DateField()
    # First day after the period (half-open).
    period_end = models.DateField()
    status = models.CharField(
        max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    # "INV-2026-000123": assigned at finalization from a locked counter, never reused.
    # NULL, not "", while a draft: the unique constraint must allow many drafts.
    number = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    currency = models.CharField(max_length=3, choices=Currency.choices)
    # Sum of the lines' amounts, in minor units; kept equal to it by the services.
    total_minor = models.BigIntegerField(default=0)
    # Sum of the credit notes against this invoice; never above `total_minor`.
    credited_minor = models.BigIntegerField(default=0)
    # Shown on the invoice; editable while a draft.
    notes = models.TextField(blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=500, blank=True)
    # The run that last computed this draft.
    run = models.ForeignKey(
        "billing.InvoiceRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "tenant_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=InvoiceStatus.values), name="invoice_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(currency__in=Currency.values), name="invoice_currency_valid"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="invoice_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(total_minor__gte=0), name="invoice_total_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(credited_minor__gte=0, credited_minor__lte=F("total_minor")),
                name="invoice_credited_within_total",
                violation_error_message="Credit notes cannot exceed the invoice total.",
            ),
            models.CheckConstraint(
                condition=Q(status=InvoiceStatus.DRAFT, number__isnull=True)
                | Q(
                    status__in=[InvoiceStatus.FINALIZED, InvoiceStatus.PAID],
                    number__isnull=False,
                    finalized_at__isnull=False,
                )
                | Q(status=InvoiceStatus.VOID, voided_at__isnull=False),
                name="invoice_number_iff_issued",
            ),
            models.UniqueConstraint(fields=["number"], name="invoice_unique_number"),
            models.UniqueConstraint(
                fields=["tenant", "period_start"],
                condition=~Q(status=InvoiceStatus.VOID),
                name="invoice_one_live_per_tenant_period",
                violation_error_message="This tenant already has an invoice for this month.",
            ),
        ]
        indexes = [
            models.Index(fields=["period_start", "status"], name="invoice_period_status_idx"),
            models.Index(fields=["tenant", "-period_start"], name="invoice_tenant_period_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.period_start:%Y-%m} for {self.tenant_id}"

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def creditable_minor(self) -> int:
        """What credit notes may still take off this invoice."""
        if self.status not in (InvoiceStatus.FINALIZED, InvoiceStatus.PAID):
            return 0
        return self.total_minor - self.credited_minor

    @property
    def amount_due_minor(self) -> int:
        if self.status != InvoiceStatus.FINALIZED:
            return 0
        return self.total_minor - self.credited_minor


class InvoiceLineQuerySet(ScopedQuerySet):
    scope_field = "invoice__tenant"


class InvoiceLine(models.Model):
    """One priced line of an invoice, with the daily series that explains its quantity.

    `amount_minor` is `quantity x unit_price` rounded half-up once (usage lines), or a
    single rounded figure (minimum top-up, discount). Lines are rewritten only while the
    invoice is a draft.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=InvoiceLineKind.choices)
    description = models.CharField(max_length=500)
    # Empty for lines about every workload together.
    workload = models.CharField(max_length=20, choices=Workload.choices, blank=True)
    # The plan this line was priced with (name and prices are copied into the line).
    plan = models.ForeignKey(
        "billing.Plan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    plan_name = models.CharField(max_length=200, blank=True)
    # Days `[starts_on, ends_on)` of the period this line covers (a mid-month plan change
    # gives each plan its own days).
    starts_on = models.DateField()
    ends_on = models.DateField()
    # GB-month or seat-month, six decimals; what is multiplied by `unit_price`.
    quantity = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    unit = models.CharField(max_length=20, choices=QuantityUnit.choices, blank=True)
    # Major units per unit, six decimals.
    unit_price = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    amount_minor = models.BigIntegerField()
    # The days behind the quantity, compact: {"start": "2026-03-01", "values": [v, ...],
    # "carried": [i, ...]}: one value per day from `start` (bytes for per-GB lines, seats for
    # per-user ones), and the indexes of days that had no record and carry the last known
    # value. `daily()` reads it back. Days outside [starts_on, ends_on) are not billed on
    # this line (before enablement, after the offboarding tail, under another plan).
    series = models.JSONField(default=dict, blank=True)
    # How the quantity was taken from the series, in words.
    basis = models.CharField(max_length=500, blank=True)

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "position"], name="invoice_line_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=InvoiceLineKind.values), name="invoice_line_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind=InvoiceLineKind.DISCOUNT, amount_minor__lte=0)
                | (~Q(kind=InvoiceLineKind.DISCOUNT) & Q(amount_minor__gte=0)),
                name="invoice_line_amount_sign",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0, unit_price__gte=0),
                name="invoice_line_quantity_price_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="invoice_line_days_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.description

    def daily(self) -> list[tuple[str, int, str]]:
        """(ISO day, value, "r" recorded / "c" carried) for each day behind the quantity."""
        if not self.series:
            return []
        start = date.fromisoformat(self.series["start"])
        carried = set(self.series.get("carried", ()))
        return [
            ((start + timedelta(days=i)).isoformat(), value, "c" if i in carried else "r")
            for i, value in enumerate(self.series["values"])
        ]


class CreditNoteQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class CreditNote(models.Model):
    """An amount taken off a finalized (or paid) invoice, with its own gapless number.

    The sum of an invoice's credit notes never exceeds the invoice total (checked by the
    service under a row lock and by `invoice_credited_within_total`). Never edited.
    """

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="billing_credit_notes"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    # "CN-2026-000007", from its own gapless counter.
    number = models.CharField(max_length=40)
    # Minor units of `currency` (always the invoice's), greater than zero.
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, choices=Currency.choices)
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(db_index=True)
    created_by_label = models.CharField(max_length=200, blank=True)

    objects = CreditNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="credit_note_unique_number"),
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0),
                name="credit_note_amount_positive",
                violation_error_message="A credit note must be for more than zero.",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class DocumentSequence(models.Model):
    """The last number given out in one numbering series ("INV-2026", "CN-2026").

    Read and incremented under SELECT ... FOR UPDATE in the transaction that issues the
    document, so a rolled-back issue gives its number back and none is skipped or doubled.
    """

    series = models.CharField(max_length=40)
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series"], name="document_sequence_unique_series")
        ]

    def __str__(self) -> str:
        return f"{self.series}: {self.last_value}"


class InvoiceRun(models.Model):
    """One run of the monthly invoicing for a period: drafts created or recomputed for every
    tenant with a subscription in it, with progress the admin shows as a bar.

    At most one run per period is queued or running. A run is safe to repeat: it never adds
    a second invoice for a tenant and month and leaves finalized invoices alone.
    """

    period_start = models.DateField()
    status = models.CharField(
        max_length=20, choices=InvoiceRunStatus.choices, default=InvoiceRunStatus.QUEUED
    )
    # Tenants to compute, and tenants computed so far.
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    # What the run's batches did (a task delivered twice adds its own work to these).
    created_count = models.PositiveIntegerField(default=0)
    refreshed_count = models.PositiveIntegerField(default=0)
    # Tenants whose invoice for the period is already finalized, paid or void.
    skipped_count = models.PositiveIntegerField(default=0)
    started_by_label = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=InvoiceRunStatus.values), name="invoice_run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(done__lte=F("total")), name="invoice_run_done_within_total"
            ),
            models.UniqueConstraint(
                fields=["period_start"],
                condition=Q(status__in=[InvoiceRunStatus.QUEUED, InvoiceRunStatus.RUNNING]),
                name="invoice_run_one_active_per_period",
                violation_error_message="An invoice run for this month is already in progress.",
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice run {self.period_start:%Y-%m} ({self.get_status_display().lower()})"
