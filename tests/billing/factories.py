from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from backups.choices import Workload
from billing.choices import Currency, InvoiceLineKind, InvoiceStatus, UsageAlertKind
from billing.models import (
    GIB,
    CreditNote,
    Invoice,
    InvoiceLine,
    Plan,
    PlanPrice,
    Subscription,
    UsageAlert,
    UsageRecord,
)
from billing.periods import Period
from tests.backups.factories import BackupServiceFactory
from tests.factories import for_tenant
from tests.tenants.factories import TenantFactory

WORKLOADS = (Workload.EXCHANGE, Workload.ONEDRIVE, Workload.SHAREPOINT)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class PlanFactory(factory.django.DjangoModelFactory):
    """A per-GB plan at USD 0.10 per GB-month unless `prices` says otherwise."""

    class Meta:
        model = Plan
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Plan {n}")

    @factory.post_generation
    def prices(obj, create, extracted, **kwargs):
        if not create:
            return
        steps = extracted or [{"unit_price": Decimal("0.10")}]
        PlanPrice.objects.bulk_create(
            PlanPrice(
                plan=obj,
                workload=step.get("workload", ""),
                up_to=step.get("up_to"),
                unit_price=step["unit_price"],
            )
            for step in steps
        )


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    tenant = factory.SubFactory(TenantFactory)
    plan = factory.SubFactory(PlanFactory)
    starts_on = date(2026, 1, 1)


class UsageRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UsageRecord

    tenant = factory.SubFactory(TenantFactory)
    workload = Workload.EXCHANGE
    day = date(2026, 3, 1)
    protected_bytes = 10 * GIB
    protected_units = 1
    protected_users = 1
    recorded_at = factory.LazyFunction(timezone.now)


class InvoiceFactory(factory.django.DjangoModelFactory):
    """A finalized invoice for March 2026 with one line."""

    class Meta:
        model = Invoice
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    period_start = date(2026, 3, 1)
    period_end = factory.LazyAttribute(lambda o: Period.month_of(o.period_start).end)
    status = InvoiceStatus.FINALIZED
    number = factory.Sequence(lambda n: f"TEST-2026-{n:06d}")
    currency = Currency.USD
    total_minor = 1234
    finalized_at = factory.LazyAttribute(lambda o: at(o.period_end, 9))
    due_on = factory.LazyAttribute(lambda o: o.period_end + timedelta(days=30))
    created_at = factory.LazyAttribute(lambda o: at(o.period_end, 2))
    updated_at = factory.SelfAttribute("created_at")

    @factory.post_generation
    def lines(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            InvoiceLine.objects.create(
                invoice=obj,
                position=1,
                kind=InvoiceLineKind.USAGE,
                description="Protected data",
                starts_on=obj.period_start,
                ends_on=obj.period_end,
                quantity=Decimal("12.34"),
                unit="gb_month",
                unit_price=Decimal("1.00"),
                amount_minor=obj.total_minor,
            )


class CreditNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditNote

    invoice = factory.SubFactory(InvoiceFactory)
    tenant = factory.SelfAttribute("invoice.tenant")
    number = factory.Sequence(lambda n: f"TESTCN-2026-{n:06d}")
    amount_minor = 100
    currency = Currency.USD
    reason = "Goodwill"
    created_at = factory.LazyFunction(timezone.now)


class UsageAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UsageAlert

    tenant = factory.SubFactory(TenantFactory)
    kind = UsageAlertKind.GB
    threshold_gb = Decimal("500")
    email = "alerts@customer.example"
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


# --- scenario helpers -------------------------------------------------------------------------


def enable_backup(tenant, on: date, billing_ends: date | None = None):
    """The tenant's backup service, billed from `on` (through `billing_ends`, inclusive)."""
    return BackupServiceFactory(
        tenant=tenant,
        enabled_at=at(on, 10),
        billing_ends_at=at(billing_ends, 10) if billing_ends else None,
    )


def record_usage(tenant, period: Period, gb=10, *, seats=0, skip=()):
    """Usage records for every day of `period`: `gb` GB on Exchange (a number or a function
    of the day), zeros on the other workloads; days in `skip` get none."""
    rows = []
    for day in period.iter_days():
        if day in skip:
            continue
        value = gb(day) if callable(gb) else gb
        for workload in WORKLOADS:
            exchange = workload == Workload.EXCHANGE
            rows.append(
                UsageRecord(
                    tenant=tenant,
                    workload=workload,
                    day=day,
                    protected_bytes=int(Decimal(value) * GIB) if exchange else 0,
                    protected_units=1 if exchange else 0,
                    protected_users=seats if exchange else 0,
                    recorded_at=at(day + timedelta(days=1), 0),
                )
            )
    UsageRecord.objects.bulk_create(rows)


# --- rows for the isolation suite ---------------------------------------------------------------


@for_tenant(Plan)
def _plan_row(tenant):
    return SubscriptionFactory(tenant=tenant).plan


@for_tenant(Subscription)
def _subscription_row(tenant):
    return SubscriptionFactory(tenant=tenant)


@for_tenant(UsageRecord)
def _usage_row(tenant):
    return UsageRecordFactory(tenant=tenant)


@for_tenant(Invoice)
def _invoice_row(tenant):
    return InvoiceFactory(tenant=tenant)


@for_tenant(CreditNote)
def _credit_note_row(tenant):
    return CreditNoteFactory(invoice=InvoiceFactory(tenant=tenant))


@for_tenant(UsageAlert)
def _alert_row(tenant):
    return UsageAlertFactory(tenant=tenant)
