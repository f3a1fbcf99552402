"""The invoice run, the invoice lifecycle, gapless numbers and credit notes (services)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings

from billing import services
from billing.choices import InvoiceRunStatus, InvoiceStatus
from billing.exceptions import CreditTooLarge, DomainError, InvalidTransition, InvoiceFrozen
from billing.models import GIB, CreditNote, Invoice, InvoiceLine, InvoiceRun
from billing.periods import Period
from tenants.models import AuditEvent
from tenants.principals import Principal
from tests.billing.factories import (
    InvoiceFactory,
    PlanFactory,
    SubscriptionFactory,
    at,
    enable_backup,
    record_usage,
)
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db

SYSTEM = Principal.system()
MARCH = Period.month_of(date(2026, 3, 1))
APRIL_2 = at(date(2026, 4, 2), 2)


def run_march(now=APRIL_2, batch_size=None):
    run = InvoiceRun.objects.create(period_start=MARCH.start, created_at=now)
    return services.invoice_run_execute(run=run, now=now, batch_size=batch_size)


def invoice_of(tenant, period=MARCH):
    return Invoice.objects.live().get(tenant=tenant, period_start=period.start)


@pytest.fixture
def billed(tenant_a, tenant_b):
    """A: all March at 100 GB on USD 0.10 (10.00). B: enabled 20 March at 31 GB (12 days:
    12.000000 GB-month -> 1.20). C: subscribed but never enabled. D: enabled, no plan."""
    plan = PlanFactory(name="Standard")
    for tenant, enabled, gb in (
        (tenant_a, date(2026, 2, 1), 100),
        (tenant_b, date(2026, 3, 20), 31),
    ):
        enable_backup(tenant, enabled)
        SubscriptionFactory(tenant=tenant, plan=plan, starts_on=date(2026, 1, 1))
        record_usage(tenant, MARCH.intersect(enabled, None), gb=gb)
    SubscriptionFactory(tenant=TenantFactory(slug="charlie"), plan=plan)
    unbilled = TenantFactory(slug="delta")
    enable_backup(unbilled, date(2026, 1, 1))
    record_usage(unbilled, MARCH, gb=5)
    return plan


def test_the_run_drafts_one_invoice_per_billable_tenant(billed, tenant_a, tenant_b):
    run = run_march()

    assert (run.status, run.total, run.done, run.created_count) == ("succeeded", 3, 3, 2)
    assert run.done == run.total
    a, b = invoice_of(tenant_a), invoice_of(tenant_b)
    assert (a.status, a.number, a.currency, a.total_minor) == ("draft", None, "USD", 1000)
    assert b.total_minor == 120
    assert Invoice.objects.count() == 2  # charlie: never enabled; delta: no subscription
    line = b.lines.get()
    assert (line.quantity, line.unit_price, line.amount_minor) == (Decimal(12), Decimal("0.1"), 120)
    assert (line.starts_on, line.ends_on) == (date(2026, 3, 20), MARCH.end)
    assert line.daily()[0] == ("2026-03-20", 31 * GIB, "r") and len(line.daily()) == 12
    assert line.series == {"start": "2026-03-20", "values": [31 * GIB] * 12, "carried": []}
    assert AuditEvent.objects.filter(action="invoice_run.finished").count() == 1


def test_running_twice_never_adds_an_invoice_and_refreshes_drafts(billed, tenant_a, tenant_b):
    run_march(batch_size=1)
    first_a = invoice_of(tenant_a)
    record_usage(tenant_a, Period(date(2026, 4, 1), date(2026, 4, 2)))  # other month: no effect
    from billing.models import UsageRecord

    UsageRecord.objects.filter(tenant=tenant_a, day=date(2026, 3, 31), workload="exchange").update(
        protected_bytes=131 * GIB
    )
    run = run_march(batch_size=1)

    assert (run.created_count, run.refreshed_count) == (0, 2)
    assert Invoice.objects.count() == 2
    again = invoice_of(tenant_a)
    assert again.pk == first_a.pk
    assert again.total_minor == 1010  # (30 x 100 + 131) / 31 = 101 GB-month -> 10.10
    assert InvoiceLine.objects.filter(invoice=again).count() == 1


def test_a_rerun_leaves_issued_invoices_alone_and_drops_emptied_drafts(billed, tenant_a, tenant_b):
    run_march()
    finalized = services.invoice_finalize(by=SYSTEM, invoice=invoice_of(tenant_a), now=APRIL_2)
    tenant_b.billing_subscriptions.update(starts_on=date(2026, 4, 1))  # B no longer billed
    from billing.models import UsageRecord

    UsageRecord.objects.filter(tenant=tenant_a).update(protected_bytes=0)
    run = run_march()

    assert run.skipped_count == 1
    finalized.refresh_from_db()
    assert (finalized.status, finalized.total_minor) == ("finalized", 1000)
    assert not Invoice.objects.filter(tenant=tenant_b).exists()


def test_sum_of_lines_is_the_total(billed, tenant_a):
    billed.minimum_fee_minor = 5000
    billed.discount_percent = Decimal("7.5")
    billed.save()
    from billing.models import UsageRecord

    run_march()
    for invoice in Invoice.objects.prefetch_related("lines"):
        assert invoice.total_minor == sum(line.amount_minor for line in invoice.lines.all())
    a = invoice_of(tenant_a)
    assert [line.kind for line in a.lines.order_by("position")] == ["usage", "minimum", "discount"]
    assert a.total_minor == 5000 - 375  # minimum 50.00 minus 7.5 %

    # Recomputed drafts refresh their total in SQL: still the sum of their lines.
    UsageRecord.objects.filter(tenant=tenant_a, protected_bytes__gt=0).update(
        protected_bytes=900 * GIB
    )
    run_march()
    for invoice in Invoice.objects.prefetch_related("lines"):
        assert invoice.total_minor == sum(line.amount_minor for line in invoice.lines.all())
    assert invoice_of(tenant_a).total_minor == 9000 - 675  # 90.00 minus 7.5 %


def test_a_mid_month_plan_change_bills_each_plan_for_its_days(tenant_a):
    enable_backup(tenant_a, date(2026, 1, 1))
    record_usage(tenant_a, MARCH, gb=100)
    cheap, dear = (
        PlanFactory(name="Cheap"),
        PlanFactory(name="Dear", prices=[{"unit_price": Decimal("0.20")}]),
    )
    first = services.subscription_create(
        by=SYSTEM, tenant=tenant_a, plan=cheap, starts_on=date(2026, 1, 1), now=APRIL_2
    )
    services.subscription_end(by=SYSTEM, subscription=first, ends_on=date(2026, 3, 16), now=APRIL_2)
    services.subscription_create(
        by=SYSTEM, tenant=tenant_a, plan=dear, starts_on=date(2026, 3, 16), now=APRIL_2
    )
    run_march()
    lines = list(invoice_of(tenant_a).lines.order_by("position"))
    # 100 x 15/31 = 48.387097 x 0.10 = 4.84; 100 x 16/31 = 51.612903 x 0.20 = 10.32
    assert [(line.plan_name, line.quantity, line.amount_minor) for line in lines] == [
        ("Cheap", Decimal("48.387097"), 484),
        ("Dear", Decimal("51.612903"), 1032),
    ]


def test_offboarding_mid_month_bills_through_the_tail(tenant_a):
    enable_backup(tenant_a, date(2026, 1, 1), billing_ends=date(2026, 3, 10))
    SubscriptionFactory(tenant=tenant_a)
    record_usage(tenant_a, MARCH.intersect(None, date(2026, 3, 11)), gb=100)
    run_march()
    line = invoice_of(tenant_a).lines.get()
    # billed through 10 March: 10 days x 100 / 31 = 32.258065 -> 3.23
    assert (line.ends_on, line.quantity, line.amount_minor) == (
        date(2026, 3, 11),
        Decimal("32.258065"),
        323,
    )


def test_a_missing_day_is_carried_and_shown_as_carried(tenant_a):
    enable_backup(tenant_a, date(2026, 1, 1))
    SubscriptionFactory(tenant=tenant_a)
    record_usage(tenant_a, Period(date(2026, 2, 27), date(2026, 2, 28)), gb=40)
    record_usage(tenant_a, MARCH, gb=10, skip={date(2026, 3, 1), date(2026, 3, 2)})
    run_march()
    line = invoice_of(tenant_a).lines.get()
    assert line.daily()[:3] == [
        ("2026-03-01", 40 * GIB, "c"),
        ("2026-03-02", 40 * GIB, "c"),
        ("2026-03-03", 10 * GIB, "r"),
    ]
    assert line.series["carried"] == [0, 1]
    assert line.quantity == Decimal("11.935484")  # (2 x 40 + 29 x 10) / 31


# --- lifecycle ------------------------------------------------------------------------------


def test_finalize_numbers_gaplessly_per_year_and_freezes(billed, tenant_a, tenant_b):
    run_march()
    a = services.invoice_finalize(by=SYSTEM, invoice=invoice_of(tenant_a), now=APRIL_2)
    b = services.invoice_finalize(by=SYSTEM, invoice=invoice_of(tenant_b), now=APRIL_2)
    assert (a.number, b.number) == ("INV-2026-000001", "INV-2026-000002")
    assert a.due_on == date(2026, 5, 2) and a.finalized_at == APRIL_2
    with pytest.raises(InvalidTransition):
        services.invoice_finalize(by=SYSTEM, invoice=a, now=APRIL_2)
    with pytest.raises(InvoiceFrozen):
        services.invoice_update(by=SYSTEM, invoice=a, notes="changed", now=APRIL_2)
    event = AuditEvent.objects.get(action="invoice.finalized", tenant=tenant_a)
    assert event.details == {"number": "INV-2026-000001", "total": "USD 10.00"}


def test_a_rolled_back_finalization_gives_its_number_back(billed, tenant_a, tenant_b):
    run_march()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.invoice_finalize(by=SYSTEM, invoice=invoice_of(tenant_a), now=APRIL_2)
        raise RuntimeError("the surrounding work failed")
    b = services.invoice_finalize(by=SYSTEM, invoice=invoice_of(tenant_b), now=APRIL_2)
    assert b.number == "INV-2026-000001"


@override_settings(BILLING_INVOICE_NUMBER_PREFIX="ACME")
def test_the_prefix_is_a_setting_and_the_year_restarts_the_count(tenant_a, tenant_b):
    old = InvoiceFactory(tenant=tenant_a, status="draft", number=None, finalized_at=None)
    new = InvoiceFactory(
        tenant=tenant_b,
        status="draft",
        number=None,
        finalized_at=None,
        period_start=date(2026, 12, 1),
    )
    assert (
        services.invoice_finalize(by=SYSTEM, invoice=old, now=APRIL_2).number == "ACME-2026-000001"
    )
    january = at(date(2027, 1, 3))
    assert (
        services.invoice_finalize(by=SYSTEM, invoice=new, now=january).number == "ACME-2027-000001"
    )


def test_a_month_that_is_not_over_cannot_be_finalized_or_run(tenant_a):
    draft = InvoiceFactory(tenant=tenant_a, status="draft", number=None, finalized_at=None)
    with pytest.raises(InvalidTransition, match="not over"):
        services.invoice_finalize(by=SYSTEM, invoice=draft, now=at(date(2026, 3, 31)))
    with pytest.raises(DomainError, match="not over"):
        services.invoice_run_start(by=SYSTEM, period_start=MARCH.start, now=at(date(2026, 3, 31)))


def test_void_needs_a_reason_and_keeps_the_number(tenant_a):
    invoice = InvoiceFactory(tenant=tenant_a)
    with pytest.raises(DomainError) as error:
        services.invoice_void(by=SYSTEM, invoice=invoice, reason=" ", now=APRIL_2)
    assert error.value.field == "reason"
    voided = services.invoice_void(by=SYSTEM, invoice=invoice, reason="Wrong plan", now=APRIL_2)
    assert (voided.status, voided.number, voided.void_reason) == (
        "void",
        invoice.number,
        "Wrong plan",
    )
    with pytest.raises(InvalidTransition):
        services.invoice_mark_paid(by=SYSTEM, invoice=voided, now=APRIL_2)


def test_paid_or_credited_invoices_cannot_be_voided(tenant_a, tenant_b):
    paid = services.invoice_mark_paid(
        by=SYSTEM, invoice=InvoiceFactory(tenant=tenant_a), now=APRIL_2
    )
    assert services.invoice_mark_paid(by=SYSTEM, invoice=paid, now=APRIL_2).status == "paid"
    with pytest.raises(InvalidTransition, match="credit note"):
        services.invoice_void(by=SYSTEM, invoice=paid, reason="x", now=APRIL_2)
    credited = InvoiceFactory(tenant=tenant_b)
    services.credit_note_create(
        by=SYSTEM, invoice=credited, amount_minor=1, reason="x", now=APRIL_2
    )
    with pytest.raises(InvalidTransition, match="credit notes"):
        services.invoice_void(by=SYSTEM, invoice=credited, reason="x", now=APRIL_2)


def test_a_voided_month_is_rebilled_only_on_request(billed, tenant_a):
    run_march()
    services.invoice_void(by=SYSTEM, invoice=invoice_of(tenant_a), reason="Redo", now=APRIL_2)
    assert run_march().skipped_count == 1
    assert not Invoice.objects.live().filter(tenant=tenant_a).exists()
    replacement = services.invoice_redraft(
        by=SYSTEM, tenant_id=tenant_a.pk, period_start=MARCH.start, now=APRIL_2
    )
    assert (replacement.status, replacement.total_minor) == ("draft", 1000)
    assert Invoice.objects.filter(tenant=tenant_a).count() == 2


def test_a_replacement_draft_is_recomputed_not_dropped_by_later_runs(billed, tenant_a):
    from billing.models import UsageRecord

    run_march()
    services.invoice_void(by=SYSTEM, invoice=invoice_of(tenant_a), reason="Redo", now=APRIL_2)
    replacement = services.invoice_redraft(
        by=SYSTEM, tenant_id=tenant_a.pk, period_start=MARCH.start, now=APRIL_2
    )
    UsageRecord.objects.filter(tenant=tenant_a, protected_bytes__gt=0).update(
        protected_bytes=50 * GIB
    )
    run_march()
    replacement.refresh_from_db()
    assert (replacement.status, replacement.total_minor) == ("draft", 500)


def test_the_database_refuses_a_second_live_invoice_for_a_month(tenant_a):
    InvoiceFactory(tenant=tenant_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceFactory(tenant=tenant_a, status="draft", number=None, finalized_at=None)


def test_drafts_are_finalized_after_the_grace_period(tenant_a, tenant_b):
    InvoiceFactory(tenant=tenant_a, status="draft", number=None, finalized_at=None)
    with override_settings(BILLING_INVOICE_GRACE_DAYS=3):
        assert services.invoices_finalize_due(by=SYSTEM, now=at(date(2026, 4, 3))) == []
        done = services.invoices_finalize_due(by=SYSTEM, now=at(date(2026, 4, 4)))
        assert [invoice.number for invoice in done] == ["INV-2026-000001"]
        assert services.invoices_finalize_due(by=SYSTEM, now=at(date(2026, 4, 5))) == []


def test_starting_a_run_twice_gives_the_same_run_and_enqueues_it_once(
    billed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = services.invoice_run_start(by=SYSTEM, period_start=date(2026, 3, 5), now=APRIL_2)
        second = services.invoice_run_start(by=SYSTEM, period_start=MARCH.start, now=APRIL_2)
    assert first.pk == second.pk and first.period_start == MARCH.start
    assert len(callbacks) == 1
    callbacks[0]()  # the eager task runs the run
    first.refresh_from_db()
    assert first.status == InvoiceRunStatus.SUCCEEDED and Invoice.objects.count() == 2


def test_the_database_refuses_two_active_runs_of_a_month(billed):
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceRun.objects.create(period_start=MARCH.start, created_at=APRIL_2)
        InvoiceRun.objects.create(period_start=MARCH.start, created_at=APRIL_2)


def test_a_backfill_in_the_grace_period_recomputes_that_months_drafts(
    billed, tenant_a, django_capture_on_commit_callbacks
):
    from billing.models import UsageRecord

    run_march()
    assert invoice_of(tenant_a).total_minor == 1000
    UsageRecord.objects.filter(tenant=tenant_a, protected_bytes__gt=0).update(
        protected_bytes=50 * GIB
    )
    with django_capture_on_commit_callbacks(execute=True):
        runs = services.invoice_runs_for_usage_change(
            by=SYSTEM, days=[date(2026, 3, 5), date(2026, 2, 3)], now=APRIL_2
        )
    assert [run.period_start for run in runs] == [MARCH.start]  # February has no drafts
    assert invoice_of(tenant_a).total_minor == 500


# --- credit notes ---------------------------------------------------------------------------


def test_credit_notes_never_exceed_the_total(tenant_a):
    invoice = InvoiceFactory(tenant=tenant_a, total_minor=1000)
    first = services.credit_note_create(
        by=SYSTEM, invoice=invoice, amount_minor=600, reason="Outage", now=APRIL_2
    )
    assert first.number == "CN-2026-000001" and first.currency == "USD"
    with pytest.raises(CreditTooLarge) as error:
        services.credit_note_create(
            by=SYSTEM, invoice=invoice, amount_minor=401, reason="More", now=APRIL_2
        )
    assert error.value.field == "amount_minor"
    assert "At most USD 4.00" in error.value.message
    services.credit_note_create(
        by=SYSTEM, invoice=invoice, amount_minor=400, reason="Rest", now=APRIL_2
    )
    invoice.refresh_from_db()
    assert (invoice.credited_minor, invoice.creditable_minor, invoice.amount_due_minor) == (
        1000,
        0,
        0,
    )
    assert CreditNote.objects.filter(invoice=invoice).count() == 2


@pytest.mark.parametrize("amount", [0, -5, "10", 1.5, True])
def test_a_credit_note_needs_a_positive_whole_amount(tenant_a, amount):
    with pytest.raises(DomainError) as error:
        services.credit_note_create(
            by=SYSTEM,
            invoice=InvoiceFactory(tenant=tenant_a),
            amount_minor=amount,
            reason="x",
            now=APRIL_2,
        )
    assert error.value.field == "amount_minor"


def test_drafts_and_void_invoices_cannot_be_credited(tenant_a, tenant_b):
    draft = InvoiceFactory(tenant=tenant_a, status="draft", number=None, finalized_at=None)
    with pytest.raises(InvalidTransition):
        services.credit_note_create(
            by=SYSTEM, invoice=draft, amount_minor=1, reason="x", now=APRIL_2
        )


def test_the_database_refuses_credits_above_the_total(tenant_a):
    invoice = InvoiceFactory(tenant=tenant_a, total_minor=100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(credited_minor=101)


def test_finalized_invoices_are_visible_to_customers_drafts_are_not(tenant_a):
    from tenants.principals import principal_for_user
    from tests.tenants.factories import MembershipFactory

    user = MembershipFactory(tenant=tenant_a).user
    InvoiceFactory(tenant=tenant_a)
    InvoiceFactory(
        tenant=tenant_a,
        status="draft",
        number=None,
        finalized_at=None,
        period_start=date(2026, 4, 1),
    )
    seen = Invoice.objects.visible_to(principal_for_user(user))
    assert [i.status for i in seen] == [InvoiceStatus.FINALIZED]
    assert Invoice.objects.visible_to(SYSTEM).count() == 2


def test_the_run_command_invoices_a_month_here_and_now(billed, time_machine):
    from io import StringIO

    from django.core.management import CommandError, call_command

    time_machine.move_to(APRIL_2)
    out = StringIO()
    call_command("billing_invoice_run", "--month", "2026-03", stdout=out)
    assert "3 tenant(s), 2 draft(s) created" in out.getvalue()
    call_command("billing_invoice_run", "--month", "2026-03", stdout=out)
    assert "0 draft(s) created, 2 recomputed" in out.getvalue()
    assert Invoice.objects.count() == 2
    with pytest.raises(CommandError, match="not over"):
        call_command("billing_invoice_run", "--month", "2026-04")


def test_a_redelivered_run_task_finishes_an_interrupted_run(billed, tenant_a):
    # The worker died after the first batch: the run is still "running", one draft exists.
    run = InvoiceRun.objects.create(
        period_start=MARCH.start, status="running", total=3, done=1, created_at=APRIL_2
    )
    services.invoice_redraft(
        by=SYSTEM, tenant_id=tenant_a.pk, period_start=MARCH.start, now=APRIL_2
    )
    run = services.invoice_run_execute(run=run, now=APRIL_2, batch_size=1)
    assert (run.status, run.done, run.total) == ("succeeded", 3, 3)
    assert Invoice.objects.count() == 2  # the first tenant's draft recomputed, not doubled
    assert services.invoice_run_execute(run=run, now=APRIL_2) == run  # finished: not repeated
