"""MSP staff pages: saves through the services, bad input as form errors, finalized
invoices read-only, the invoice run with progress, reconciliation, the dashboard."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import CreditNote, Invoice, InvoiceRun, Plan, Subscription, UsageRecord
from billing.periods import Period
from tenants.models import AuditEvent
from tests.backups.factories import ProtectionUnitFactory, ResourceFactory
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

MARCH = Period.month_of(date(2026, 3, 1))


def plan_form(name="Gold", prices=(("", "", "0.10"),), **fields):
    data = {
        "name": name,
        "description": "",
        "is_active": "on",
        "kind": "per_gb",
        "quantity_rule": "daily_average",
        "currency": "USD",
        "included_quantity": "0",
        "minimum_fee_minor": "0",
        "discount_percent": "0",
        "prices-TOTAL_FORMS": str(len(prices)),
        "prices-INITIAL_FORMS": "0",
        "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for i, (workload, up_to, unit_price) in enumerate(prices):
        data.update(
            {
                f"prices-{i}-workload": workload,
                f"prices-{i}-up_to": up_to,
                f"prices-{i}-unit_price": unit_price,
            }
        )
    return data


@pytest.fixture
def staff(client, msp_billing):
    client.force_login(msp_billing)
    return client


def test_a_plan_is_created_with_its_prices_through_the_service(staff):
    answer = staff.post(
        "/admin/billing/plan/add/",
        plan_form(prices=(("", "100", "0.12"), ("", "", "0.08")), included_quantity="25"),
    )
    assert answer.status_code == 302, answer.content.decode()[-3000:]
    plan = Plan.objects.get(name="Gold")
    assert [(p.up_to, p.unit_price) for p in plan.prices.all()] == [
        (Decimal("100"), Decimal("0.12")),
        (None, Decimal("0.08")),
    ]
    assert AuditEvent.objects.filter(action="plan.created").count() == 1


def test_a_negative_rate_is_a_form_error(staff):
    answer = staff.post("/admin/billing/plan/add/", plan_form(prices=(("", "", "-0.10"),)))
    assert answer.status_code == 200
    assert "Ensure this value is greater than or equal to 0" in answer.content.decode()
    assert not Plan.objects.exists()


def test_a_ladder_without_an_open_step_is_a_form_error(staff):
    answer = staff.post("/admin/billing/plan/add/", plan_form(prices=(("", "100", "0.10"),)))
    assert answer.status_code == 200
    assert "exactly one step without an upper bound" in answer.content.decode()
    assert not Plan.objects.exists()


def test_editing_a_plan_replaces_its_prices(staff):
    plan = PlanFactory(name="Gold")
    price = plan.prices.get()
    data = plan_form(prices=(("", "", "0.20"),))
    data.update(
        {"prices-INITIAL_FORMS": "1", "prices-0-id": str(price.pk), "prices-0-plan": str(plan.pk)}
    )
    answer = staff.post(f"/admin/billing/plan/{plan.pk}/change/", data)
    assert answer.status_code == 302, answer.content.decode()[-3000:]
    assert [p.unit_price for p in plan.prices.all()] == [Decimal("0.20")]
    assert AuditEvent.objects.get(action="plan.updated").details["prices"]["to"] == [
        {"workload": "", "up_to": None, "unit_price": "0.2"}
    ]


def test_an_overlapping_subscription_is_a_form_error(staff, tenant_a):
    plan = PlanFactory(name="Gold")
    SubscriptionFactory(tenant=tenant_a, plan=plan, starts_on=date(2026, 1, 1))
    answer = staff.post(
        "/admin/billing/subscription/add/",
        {"tenant": tenant_a.pk, "plan": plan.pk, "starts_on": "2026-02-01", "ends_on": ""},
    )
    assert answer.status_code == 200
    assert "Alpha Corp already has a subscription on some of these days" in answer.content.decode()
    assert Subscription.objects.count() == 1
    ok = staff.post(
        "/admin/billing/subscription/add/",
        {"tenant": TenantFactory().pk, "plan": plan.pk, "starts_on": "2026-02-01", "ends_on": ""},
    )
    assert ok.status_code == 302
    assert AuditEvent.objects.filter(action="subscription.created").count() == 1


def test_a_finalized_invoice_cannot_be_edited_in_the_admin(staff, tenant_a):
    invoice = InvoiceFactory(tenant=tenant_a, notes="Original")
    url = f"/admin/billing/invoice/{invoice.pk}/change/"
    page = staff.get(url)
    assert page.status_code == 200 and "Original" in page.content.decode()
    assert 'name="notes"' not in page.content.decode()  # view only
    answer = staff.post(url, {"notes": "Tampered"})
    assert answer.status_code == 403
    invoice.refresh_from_db()
    assert invoice.notes == "Original"


def test_a_drafts_notes_are_saved_through_the_service(staff, tenant_a):
    draft = InvoiceFactory(tenant=tenant_a, status="draft", number=None, finalized_at=None)
    answer = staff.post(
        f"/admin/billing/invoice/{draft.pk}/change/",
        {
            "notes": "Thanks",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "1",
            "credit_notes-TOTAL_FORMS": "0",
            "credit_notes-INITIAL_FORMS": "0",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    draft.refresh_from_db()
    assert draft.notes == "Thanks"
    assert AuditEvent.objects.filter(action="invoice.updated").count() == 1


def test_finalize_void_and_mark_paid_from_the_admin(staff, tenant_a, tenant_b):
    first = InvoiceFactory(tenant=tenant_a, status="draft", number=None, finalized_at=None)
    second = InvoiceFactory(tenant=tenant_b, status="draft", number=None, finalized_at=None)
    staff.post(
        "/admin/billing/invoice/",
        {"action": "finalize_selected", "_selected_action": [first.pk, second.pk]},
    )
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        "INV-2026-000001",
        "INV-2026-000002",
    ]
    staff.post(f"/admin/billing/invoice/{first.pk}/mark-paid/")
    first.refresh_from_db()
    assert first.status == "paid"

    page = staff.post(
        "/admin/billing/invoice/", {"action": "void_selected", "_selected_action": [second.pk]}
    )
    assert page.status_code == 200 and "Void invoices" in page.content.decode()
    staff.post(
        "/admin/billing/invoice/",
        {"action": "void_selected", "_selected_action": [second.pk], "reason": "Wrong tenant"},
    )
    second.refresh_from_db()
    assert (second.status, second.void_reason) == ("void", "Wrong tenant")
    refused = staff.post(f"/admin/billing/invoice/{first.pk}/void/", {"reason": "x"}, follow=True)
    assert "cannot be voided" in refused.content.decode()


def test_operators_see_invoices_but_cannot_finalize(client, msp_operator, tenant_a):
    draft = InvoiceFactory(tenant=tenant_a, status="draft", number=None, finalized_at=None)
    client.force_login(msp_operator)
    assert client.get(f"/admin/billing/invoice/{draft.pk}/change/").status_code == 200
    assert client.post(f"/admin/billing/invoice/{draft.pk}/finalize/").status_code == 403
    assert client.get("/admin/billing/invoice/dashboard/").status_code == 200


def test_a_credit_note_above_the_total_is_a_form_error(staff, tenant_a):
    invoice = InvoiceFactory(tenant=tenant_a, total_minor=1000)
    form = staff.get(f"/admin/billing/creditnote/add/?invoice={invoice.pk}")
    assert f'value="{invoice.pk}"' in form.content.decode()
    too_much = staff.post(
        "/admin/billing/creditnote/add/", {"invoice": invoice.pk, "amount": "10.01", "reason": "x"}
    )
    assert too_much.status_code == 200
    assert "At most USD 10.00" in too_much.content.decode()
    ok = staff.post(
        "/admin/billing/creditnote/add/",
        {"invoice": invoice.pk, "amount": "2.50", "reason": "Outage"},
    )
    assert ok.status_code == 302
    note = CreditNote.objects.get()
    assert (note.amount_minor, note.number) == (250, "CN-2026-000001")


def test_the_invoice_run_is_started_from_the_admin_and_shows_progress(
    staff, tenant_a, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(at(date(2026, 4, 2)))
    enable_backup(tenant_a, date(2026, 1, 1))
    SubscriptionFactory(tenant=tenant_a)
    record_usage(tenant_a, MARCH, gb=100)
    assert 'value="2026-03"' in staff.get("/admin/billing/invoicerun/add/").content.decode()
    refused = staff.post("/admin/billing/invoicerun/add/", {"period": "2026-04"})
    assert refused.status_code == 200 and "2026-04 is not over yet" in refused.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        answer = staff.post("/admin/billing/invoicerun/add/", {"period": "2026-03"})
    run = InvoiceRun.objects.get()
    assert answer.status_code == 302 and answer["Location"].endswith(
        f"/invoicerun/{run.pk}/change/"
    )
    assert run.status == "succeeded" and Invoice.objects.get().total_minor == 1000
    listing = staff.get("/admin/billing/invoicerun/").content.decode()
    assert '<progress value="1" max="1"' in listing


def test_a_running_runs_page_refreshes_itself(staff):
    run = InvoiceRun.objects.create(
        period_start=MARCH.start,
        status="running",
        total=10,
        done=4,
        created_at=at(date(2026, 4, 1)),
    )
    page = staff.get(f"/admin/billing/invoicerun/{run.pk}/change/").content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert '<progress value="4" max="10"' in page


def test_reconciliation_lists_gaps_and_backfills_them(
    staff, tenant_a, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(at(date(2026, 3, 11), 9))
    enable_backup(tenant_a, date(2026, 3, 8))
    ProtectionUnitFactory(
        resource=ResourceFactory(tenant=tenant_a), protected_at=at(date(2026, 3, 1))
    )
    record_usage(tenant_a, Period(date(2026, 3, 8), date(2026, 3, 9)))
    page = staff.get("/admin/billing/usagerecord/reconciliation/").content.decode()
    assert "<strong>2</strong> tenant-day(s)" in page and "2026-03-10" in page
    with django_capture_on_commit_callbacks(execute=True):
        staff.post("/admin/billing/usagerecord/reconciliation/")
    assert UsageRecord.objects.filter(tenant=tenant_a).count() == 9
    assert (
        'data-testid="reconciled"'
        in staff.get("/admin/billing/usagerecord/reconciliation/").content.decode()
    )


def test_the_dashboard_shows_revenue_cost_and_margin(staff, tenant_a, tenant_b, time_machine):
    time_machine.move_to(at(date(2026, 4, 10)))
    record_usage(tenant_a, MARCH, gb=1000)  # 1000 GB-month x 0.07 = USD 70.00
    record_usage(tenant_b, MARCH, gb=100)  # USD 7.00, not billed
    InvoiceFactory(tenant=tenant_a, total_minor=12000)
    InvoiceFactory(tenant=TenantFactory(name="Euro Ltd"), currency="EUR", total_minor=5000)
    page = staff.get("/admin/billing/invoice/dashboard/", {"month": "2026-03"})
    assert page.status_code == 200
    body = page.content.decode()
    month = json.loads(
        body.split('id="by-month-data" type="application/json">')[1].split("</script>")[0]
    )
    march = month["labels"].index("2026-03")
    assert (month["revenue"][march], month["cost"][march], month["margin"][march]) == (
        "120.00",
        "77.00",
        "43.00",
    )
    assert "EUR 50.00" in body  # listed apart, not converted
    assert "not billed" in body and "Bravo Corp" in body


def test_invoice_admin_list_queries_stay_flat(staff):
    tenants = [TenantFactory() for _ in range(5)]

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert staff.get("/admin/billing/invoice/").status_code == 200
        return len(queries)

    for tenant in tenants:
        InvoiceFactory(tenant=tenant)
    small = count()
    for month in range(1, 40):
        for tenant in tenants:
            InvoiceFactory(tenant=tenant, period_start=date(2020 + month // 12, month % 12 + 1, 1))
    assert Invoice.objects.count() == 200
    assert count() == small
