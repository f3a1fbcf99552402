"""Idempotency and concurrency on PostgreSQL: threads with their own connections and
transactions, released together by a barrier."""

import threading
import traceback
from datetime import date

import pytest
from django.db import IntegrityError, connection, connections, transaction

from billing import services
from billing.exceptions import CreditTooLarge, SubscriptionConflict
from billing.models import CreditNote, DocumentSequence, Invoice, InvoiceRun, Subscription
from billing.periods import Period
from tenants.principals import Principal
from tests.billing.factories import (
    InvoiceFactory,
    PlanFactory,
    SubscriptionFactory,
    at,
    enable_backup,
    record_usage,
)
from tests.services import require
from tests.tenants.factories import TenantFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SYSTEM = Principal.system()
MARCH = Period.month_of(date(2026, 3, 1))
NOW = at(date(2026, 4, 2))


@pytest.fixture(autouse=True)
def _postgres():
    require(
        "PostgreSQL",
        connection.vendor == "postgresql",
        "set DATABASE_URL=postgres://... (make test finds a local server by itself)",
    )


def race(*calls):
    """Run each call in its own thread and connection, all released at once; returns what
    each returned or raised, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # the outcome is what the test asserts on
            exc.trace = traceback.format_exc()
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def draft(tenant):
    return InvoiceFactory(tenant=tenant, status="draft", number=None, finalized_at=None)


def test_simultaneous_finalizations_get_distinct_consecutive_numbers():
    drafts = [draft(TenantFactory()) for _ in range(6)]

    outcomes = race(
        *[lambda d=d: services.invoice_finalize(by=SYSTEM, invoice=d, now=NOW) for d in drafts]
    )

    assert all(isinstance(o, Invoice) for o in outcomes), outcomes
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 7)]
    assert DocumentSequence.objects.get(series="INV-2026").last_value == 6


def test_finalizing_one_invoice_twice_at_once_uses_one_number():
    invoice = draft(TenantFactory())

    outcomes = race(
        lambda: services.invoice_finalize(by=SYSTEM, invoice=invoice, now=NOW),
        lambda: services.invoice_finalize(by=SYSTEM, invoice=invoice, now=NOW),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["InvalidTransition", "Invoice"]
    assert DocumentSequence.objects.get(series="INV-2026").last_value == 1
    next_one = services.invoice_finalize(by=SYSTEM, invoice=draft(TenantFactory()), now=NOW)
    assert next_one.number == "INV-2026-000002"  # no gap


def test_the_invoice_run_twice_at_once_gives_one_invoice_per_tenant_and_month():
    plan = PlanFactory()
    tenants = [TenantFactory() for _ in range(5)]
    for tenant in tenants:
        enable_backup(tenant, date(2026, 1, 1))
        SubscriptionFactory(tenant=tenant, plan=plan)
        record_usage(tenant, MARCH, gb=50)

    # Two starts at once make one run row. (`invoice_run_create` is `invoice_run_start`
    # without the on-commit enqueue, whose once-only is tested in test_invoicing.py: an
    # eager Celery publish from a bare thread would test the test set-up, not billing.)
    starts = race(
        lambda: services.invoice_run_create(by=SYSTEM, period_start=MARCH.start, now=NOW),
        lambda: services.invoice_run_create(by=SYSTEM, period_start=MARCH.start, now=NOW),
    )
    assert all(isinstance(s, tuple) for s in starts), [getattr(s, "trace", s) for s in starts]
    assert starts[0][0].pk == starts[1][0].pk  # one run for the month
    assert sorted(created for _, created in starts) == [False, True]
    run = InvoiceRun.objects.get()

    # The same run executed twice at once (a task delivered twice), in batches of two.
    outcomes = race(
        lambda: services.invoice_run_execute(run=run, now=NOW, batch_size=2),
        lambda: services.invoice_run_execute(run=run, now=NOW, batch_size=2),
    )
    assert all(isinstance(o, InvoiceRun) for o in outcomes), outcomes
    assert Invoice.objects.count() == 5
    assert {i.total_minor for i in Invoice.objects.all()} == {500}

    # And again, sequentially, with a new run: still one per tenant.
    again = InvoiceRun.objects.create(period_start=MARCH.start, created_at=NOW)
    services.invoice_run_execute(run=again, now=NOW)
    assert Invoice.objects.count() == 5


def test_simultaneous_credit_notes_never_exceed_the_total():
    invoice = InvoiceFactory(tenant=TenantFactory(), total_minor=1000)

    outcomes = race(
        *[
            lambda: services.credit_note_create(
                by=SYSTEM, invoice=invoice, amount_minor=600, reason="Outage", now=NOW
            )
            for _ in range(2)
        ]
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["CreditNote", "CreditTooLarge"]
    assert isinstance(next(o for o in outcomes if not isinstance(o, CreditNote)), CreditTooLarge)
    invoice.refresh_from_db()
    assert invoice.credited_minor == 600 and CreditNote.objects.count() == 1


def test_overlapping_subscriptions_are_refused_even_at_the_same_moment():
    tenant, plan = TenantFactory(), PlanFactory()

    outcomes = race(
        *[
            lambda start=start: services.subscription_create(
                by=SYSTEM, tenant=tenant, plan=plan, starts_on=start, now=NOW
            )
            for start in (date(2026, 3, 1), date(2026, 3, 10))
        ]
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["Subscription", "SubscriptionConflict"]
    assert Subscription.objects.filter(tenant=tenant).count() == 1


def test_the_exclusion_constraint_itself_refuses_an_overlap():
    tenant = TenantFactory()
    SubscriptionFactory(tenant=tenant, starts_on=date(2026, 1, 1), ends_on=date(2026, 4, 1))
    with pytest.raises(IntegrityError, match="subscription_no_overlap"), transaction.atomic():
        SubscriptionFactory(tenant=tenant, starts_on=date(2026, 3, 31))
    # Touching ranges are fine: [Jan, Apr) and [Apr, ...) do not overlap.
    SubscriptionFactory(tenant=tenant, starts_on=date(2026, 4, 1))
    with pytest.raises(SubscriptionConflict):
        services.subscription_create(
            by=SYSTEM, tenant=tenant, plan=PlanFactory(), starts_on=date(2026, 2, 1), now=NOW
        )
