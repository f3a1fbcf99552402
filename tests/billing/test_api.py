"""The billing API: who may do what, bad input answered 400 with the field named, downloads,
and query counts that stay flat as data grows."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from billing.models import CreditNote, Invoice, Plan, Subscription, UsageAlert
from billing.periods import Period
from tests.billing.factories import (
    CreditNoteFactory,
    InvoiceFactory,
    PlanFactory,
    SubscriptionFactory,
    UsageAlertFactory,
    UsageRecordFactory,
    at,
    enable_backup,
    record_usage,
)
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db

MARCH = Period.month_of(date(2026, 3, 1))


def rows(answer):
    assert answer.status_code == 200, answer.content
    return answer.json()["results"]


# --- plans ----------------------------------------------------------------------------------

TIERED = {
    "name": "Tiered GB",
    "kind": "per_gb",
    "quantity_rule": "peak",
    "currency": "EUR",
    "included_quantity": "50",
    "minimum_fee_minor": 2500,
    "discount_percent": "5",
    "prices": [
        {"up_to": "100", "unit_price": "0.12"},
        {"up_to": None, "unit_price": "0.09"},
    ],
}


def test_billing_staff_create_a_tiered_plan(api, msp_billing):
    answer = api.as_user(msp_billing).post("/api/v1/plans/", TIERED, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["prices"] == [
        {"workload": "", "up_to": "100.000000", "unit_price": "0.120000"},
        {"workload": "", "up_to": None, "unit_price": "0.090000"},
    ]
    assert body["quantity_rule"] == "peak" and body["minimum_fee_minor"] == 2500


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"prices": [{"unit_price": "-0.01"}]}, "prices", "A unit price cannot be negative."),
        ({"prices": []}, "prices", "A plan needs at least one price."),
        ({"prices": [{"up_to": "10", "unit_price": "1"}]}, "prices", "exactly one step"),
        ({"discount_percent": "120"}, "discount_percent", "100"),
        ({"minimum_fee_minor": -1}, "minimum_fee_minor", "greater than or equal to 0"),
        ({"currency": "XYZ"}, "currency", "not a valid choice"),
        (
            {"kind": "per_user", "prices": [{"workload": "exchange", "unit_price": "1"}]},
            "prices",
            "per-user",
        ),
        ({"prices": [{"workload": "exchange", "unit_price": "1"}]}, "prices", "missing"),
        ({"colour": "blue"}, "colour", "Unknown field."),
    ],
)
def test_bad_plans_are_refused_with_the_field_named(api, msp_billing, change, field, message):
    answer = api.as_user(msp_billing).post("/api/v1/plans/", {**TIERED, **change}, format="json")
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert field in body["errors"] and message in body["message"]
    assert not Plan.objects.exists()


def test_a_duplicate_plan_name_is_a_400_on_name(api, msp_billing):
    PlanFactory(name="Tiered GB")
    answer = api.as_user(msp_billing).post("/api/v1/plans/", TIERED, format="json")
    assert answer.status_code == 400 and "name" in answer.json()["errors"]


def test_plan_prices_change_but_not_the_currency_of_a_plan_in_use(api, msp_billing, tenant_a):
    plan = SubscriptionFactory(tenant=tenant_a).plan
    client = api.as_user(msp_billing)
    answer = client.patch(
        f"/api/v1/plans/{plan.pk}/", {"prices": [{"unit_price": "0.2"}]}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["prices"][0]["unit_price"] == "0.200000"
    refused = client.patch(f"/api/v1/plans/{plan.pk}/", {"currency": "EUR"}, format="json")
    assert refused.status_code == 400 and "currency" in refused.json()["errors"]


@pytest.mark.parametrize("who", ["msp_operator", "customer_a"])
def test_only_billing_staff_write_plans(api, request, who):
    answer = api.as_user(request.getfixturevalue(who)).post("/api/v1/plans/", TIERED, format="json")
    assert answer.status_code == 403


def test_customers_read_the_plans_they_are_on(api, customer_a, tenant_a):
    mine = SubscriptionFactory(tenant=tenant_a).plan
    PlanFactory(name="Someone else's")
    assert [p["id"] for p in rows(api.as_user(customer_a).get("/api/v1/plans/"))] == [mine.pk]


# --- subscriptions --------------------------------------------------------------------------


def test_subscriptions_refuse_overlaps_with_a_clear_message(api, msp_billing, tenant_a):
    plan = PlanFactory(name="Standard")
    client = api.as_user(msp_billing)
    first = client.post(
        "/api/v1/subscriptions/",
        {"tenant": tenant_a.pk, "plan": plan.pk, "starts_on": "2026-01-01"},
        format="json",
    )
    assert first.status_code == 201, first.content
    clash = client.post(
        "/api/v1/subscriptions/",
        {
            "tenant": tenant_a.pk,
            "plan": plan.pk,
            "starts_on": "2026-03-01",
            "ends_on": "2026-04-01",
        },
        format="json",
    )
    assert clash.status_code == 400
    body = clash.json()
    assert body["code"] == "subscription_overlap"
    assert body["errors"]["starts_on"] == [
        "Alpha Corp already has a subscription on some of these days: Standard from 2026-01-01. "
        "End it first, or start this one later."
    ]
    # A plan change: end the first, start the next on the same day.
    ended = client.patch(
        f"/api/v1/subscriptions/{first.json()['id']}/", {"ends_on": "2026-03-01"}, format="json"
    )
    assert ended.status_code == 200 and ended.json()["ends_on"] == "2026-03-01"
    assert client.post(
        "/api/v1/subscriptions/",
        {"tenant": tenant_a.pk, "plan": plan.pk, "starts_on": "2026-03-01"},
        format="json",
    ).status_code == 201  # fmt: skip
    backwards = client.patch(
        f"/api/v1/subscriptions/{first.json()['id']}/", {"ends_on": "2025-12-01"}, format="json"
    )
    assert backwards.status_code == 400 and "ends_on" in backwards.json()["errors"]


def test_a_currency_change_must_start_on_the_first_of_a_month(api, msp_billing, tenant_a):
    SubscriptionFactory(tenant=tenant_a, starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 15))
    euro = PlanFactory(currency="EUR")
    answer = api.as_user(msp_billing).post(
        "/api/v1/subscriptions/",
        {"tenant": tenant_a.pk, "plan": euro.pk, "starts_on": "2026-03-15"},
        format="json",
    )
    assert answer.status_code == 400 and "currency" in answer.json()["message"]


def test_a_subscription_an_issued_invoice_relies_on_cannot_be_deleted(api, msp_billing, tenant_a):
    subscription = SubscriptionFactory(tenant=tenant_a)
    InvoiceFactory(tenant=tenant_a)
    answer = api.as_user(msp_billing).delete(f"/api/v1/subscriptions/{subscription.pk}/")
    assert answer.status_code == 409
    future = SubscriptionFactory(tenant=TenantFactory(), starts_on=date(2027, 1, 1))
    assert api.delete(f"/api/v1/subscriptions/{future.pk}/").status_code == 204
    assert Subscription.objects.count() == 1


# --- usage ----------------------------------------------------------------------------------


def test_usage_lists_daily_records_and_aggregates_a_month(api, customer_a, tenant_a, tenant_b):
    record_usage(tenant_a, MARCH, gb=lambda d: 10 if d.day < 31 else 41)
    record_usage(tenant_b, MARCH, gb=99)
    client = api.as_user(customer_a)
    listed = rows(client.get("/api/v1/usage/", {"workload": "exchange", "day_from": "2026-03-30"}))
    assert [(r["day"], r["protected_gb"]) for r in listed] == [
        ("2026-03-31", "41.000000"),
        ("2026-03-30", "10.000000"),
    ]
    aggregates = client.get(
        "/api/v1/usage/aggregates/", {"month": "2026-03", "workload": "exchange"}
    )
    assert aggregates.status_code == 200
    assert aggregates.json() == [
        {
            "tenant": tenant_a.pk,
            "workload": "exchange",
            "days_recorded": 31,
            "gb_month": "11.000000",  # (30 x 10 + 41) / 31
            "peak_gb": "41.000000",
            "last_day": "2026-03-31",
            "last_gb": "41.000000",
        }
    ]
    bad = client.get("/api/v1/usage/aggregates/", {"month": "2026-13"})
    assert bad.status_code == 400 and "month" in bad.json()["errors"]


def test_usage_list_queries_stay_flat(api, msp_key):
    tenant = TenantFactory()
    client = api.as_key(msp_key)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/usage/", {"page_size": 500}).status_code == 200
        return len(queries)

    count()  # the key's first use of the minute records it (one write)
    record_usage(tenant, Period(date(2026, 3, 1), date(2026, 3, 3)))
    small = count()
    record_usage(tenant, Period(date(2026, 3, 3), date(2026, 4, 1)))
    assert count() == small <= 6


# --- invoices -------------------------------------------------------------------------------


@pytest.fixture
def march_draft(tenant_a):
    enable_backup(tenant_a, date(2026, 1, 1))
    SubscriptionFactory(tenant=tenant_a, plan=PlanFactory(name="Standard"))
    record_usage(tenant_a, MARCH, gb="123.45")
    from billing import services
    from billing.models import InvoiceRun
    from tenants.principals import Principal

    run = InvoiceRun.objects.create(period_start=MARCH.start, created_at=at(date(2026, 4, 1)))
    services.invoice_run_execute(run=run, now=at(date(2026, 4, 1)))
    return Invoice.objects.get(tenant=tenant_a), Principal


def test_the_invoice_lifecycle_through_the_api(api, msp_billing, customer_a, march_draft):
    draft, _ = march_draft
    url = f"/api/v1/invoices/{draft.pk}/"

    assert api.as_user(customer_a).get(url).status_code == 404  # drafts are the MSP's
    staff = api.as_user(msp_billing)
    notes = staff.patch(url, {"notes": "Thank you"}, format="json")
    assert notes.status_code == 200 and notes.json()["notes"] == "Thank you"
    finalized = staff.post(f"{url}finalize/")
    assert finalized.status_code == 200, finalized.content
    assert (
        finalized.json()["number"].startswith("INV-") and finalized.json()["status"] == "finalized"
    )

    frozen = staff.patch(url, {"notes": "changed"}, format="json")
    assert frozen.status_code == 409 and frozen.json()["code"] == "invoice_frozen"
    again = staff.post(f"{url}finalize/")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"

    customer = api.as_user(customer_a)
    detail = customer.get(url).json()
    assert detail["total_minor"] == 1235  # 123.45 GB-month x 0.10 = 12.345 -> 12.35
    assert detail["lines"][0]["series"][0] == ["2026-03-01", 132553428172, "r"]
    assert customer.post(f"{url}mark-paid/").status_code == 403

    staff = api.as_user(msp_billing)
    paid = staff.post(f"{url}mark-paid/", {"paid_at": "2026-04-20T10:00:00Z"}, format="json")
    assert paid.json()["status"] == "paid" and paid.json()["paid_at"] == "2026-04-20T10:00:00Z"
    void = staff.post(f"{url}void/", {"reason": "x"}, format="json")
    assert void.status_code == 409


def test_void_needs_a_reason(api, msp_billing, tenant_a):
    invoice = InvoiceFactory(tenant=tenant_a)
    answer = api.as_user(msp_billing).post(
        f"/api/v1/invoices/{invoice.pk}/void/", {}, format="json"
    )
    assert answer.status_code == 400 and "reason" in answer.json()["errors"]


def test_operators_read_invoices_but_cannot_finalize(api, msp_operator, tenant_a):
    invoice = InvoiceFactory(tenant=tenant_a, status="draft", number=None, finalized_at=None)
    client = api.as_user(msp_operator)
    assert client.get(f"/api/v1/invoices/{invoice.pk}/").status_code == 200
    assert client.post(f"/api/v1/invoices/{invoice.pk}/finalize/").status_code == 403


def test_pdf_and_csv_downloads(api, customer_a, msp_billing, march_draft):
    draft, _ = march_draft
    api.as_user(msp_billing).post(f"/api/v1/invoices/{draft.pk}/finalize/")
    client = api.as_user(customer_a)

    pdf = client.get(f"/api/v1/invoices/{draft.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert 'filename="INV-2026-000001.pdf"' in pdf["Content-Disposition"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Invoice INV-2026-000001" in text and "Alpha Corp" in text
    assert "USD 12.35" in text and "Daily figures behind line 1" in text
    assert "123.45 GB-month measured: sum of 31 daily values / 31 days in 2026-03" in text

    csv = client.get(f"/api/v1/invoices/{draft.pk}/csv/")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("invoice_number,status,tenant_slug")
    assert lines[1].startswith("INV-2026-000001,finalized,alpha,Alpha Corp,2026-03-01")
    assert ",123.450000,gb_month,0.100000,12.35,12.35,0.00,12.35" in lines[1]
    days = client.get(f"/api/v1/invoices/{draft.pk}/csv/", {"days": "true"}).content.decode()
    assert (
        days.splitlines()[1] == "INV-2026-000001,1,Protected data,2026-03-01,123.450000,GB,recorded"
    )
    assert len(days.splitlines()) == 32


def test_the_period_export_is_one_row_per_line(api, msp_billing, tenant_a, tenant_b):
    InvoiceFactory(tenant=tenant_a, number="INV-2026-000002")
    InvoiceFactory(tenant=tenant_b, number="INV-2026-000001")
    InvoiceFactory(tenant=TenantFactory(), status="draft", number=None, finalized_at=None)
    InvoiceFactory(tenant=tenant_a, number="INV-2026-000003", period_start=date(2026, 4, 1))
    answer = api.as_user(msp_billing).get("/api/v1/invoices/export/", {"period": "2026-03"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    body = answer.content.decode().splitlines()
    assert [line.split(",")[0] for line in body[1:]] == ["INV-2026-000001", "INV-2026-000002"]
    missing = api.get("/api/v1/invoices/export/")
    assert missing.status_code == 400 and "period" in missing.json()["errors"]


def test_csv_cells_cannot_become_formulas(api, msp_billing):
    tenant = TenantFactory(name='=HYPERLINK("http://evil")')
    invoice = InvoiceFactory(tenant=tenant)
    body = api.as_user(msp_billing).get(f"/api/v1/invoices/{invoice.pk}/csv/").content.decode()
    assert ",'=HYPERLINK(" in body.replace('"', "")


@pytest.mark.parametrize("path", ["/api/v1/invoices/", "/api/v1/credit-notes/"])
def test_invoice_and_credit_note_lists_stay_flat(api, msp_key, path):
    client = api.as_key(msp_key)

    def count():
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(path, {"page_size": 500})
            assert answer.status_code == 200
        return len(queries), len(answer.json()["results"])

    count()  # the key's first use of the minute records it (one write)
    tenants = [TenantFactory() for _ in range(5)]
    for tenant in tenants:
        CreditNoteFactory(invoice=InvoiceFactory(tenant=tenant))
    small, seen = count()
    assert seen == 5
    for month in range(1, 41):
        for tenant in tenants:
            start = date(2020 + month // 12, month % 12 + 1, 1)  # months before March 2026
            invoice = InvoiceFactory(tenant=tenant, period_start=start)
            CreditNoteFactory(invoice=invoice)
    large, seen = count()
    assert seen == 205 and large == small <= 6


# --- credit notes ---------------------------------------------------------------------------


def test_a_credit_note_above_what_remains_is_a_400_on_amount(api, msp_billing, tenant_a):
    invoice = InvoiceFactory(tenant=tenant_a, total_minor=1000)
    client = api.as_user(msp_billing)
    ok = client.post(
        "/api/v1/credit-notes/",
        {"invoice": invoice.pk, "amount_minor": 700, "reason": "Outage"},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["number"] == "CN-2026-000001" and ok.json()["currency"] == "USD"
    too_much = client.post(
        "/api/v1/credit-notes/",
        {"invoice": invoice.pk, "amount_minor": 301, "reason": "More"},
        format="json",
    )
    assert too_much.status_code == 400
    body = too_much.json()
    assert body["code"] == "credit_too_large"
    assert body["errors"]["amount_minor"] == [
        f"At most USD 3.00 of {invoice.number} can still be credited (total USD 10.00, "
        "credited USD 7.00)."
    ]
    zero = client.post(
        "/api/v1/credit-notes/",
        {"invoice": invoice.pk, "amount_minor": 0, "reason": "x"},
        format="json",
    )
    assert zero.status_code == 400 and "amount_minor" in zero.json()["errors"]
    assert CreditNote.objects.count() == 1


def test_customers_read_their_credit_notes_but_cannot_issue(api, customer_a, tenant_a):
    note = CreditNoteFactory(invoice=InvoiceFactory(tenant=tenant_a))
    client = api.as_user(customer_a)
    assert [n["id"] for n in rows(client.get("/api/v1/credit-notes/"))] == [note.pk]
    answer = client.post(
        "/api/v1/credit-notes/",
        {"invoice": note.invoice_id, "amount_minor": 1, "reason": "x"},
        format="json",
    )
    assert answer.status_code == 403


# --- alerts ---------------------------------------------------------------------------------


def test_customer_admins_manage_their_alerts(api, customer_a, tenant_a, tenant_b):
    client = api.as_user(customer_a)
    created = client.post(
        "/api/v1/usage-alerts/",
        {"tenant": tenant_a.pk, "kind": "gb", "threshold": "750", "email": "ops@alpha.example"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["threshold"], body["last_sent_month"]) == ("750.000", None)
    alert_url = f"/api/v1/usage-alerts/{body['id']}/"
    assert (
        client.patch(alert_url, {"threshold": "800"}, format="json").json()["threshold"]
        == "800.000"
    )
    other = client.post(
        "/api/v1/usage-alerts/",
        {"tenant": tenant_b.pk, "kind": "gb", "threshold": "1", "email": "x@alpha.example"},
        format="json",
    )
    assert other.status_code == 400 and "tenant" in other.json()["errors"]
    assert client.delete(alert_url).status_code == 204
    assert not UsageAlert.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "gb", "threshold": "-3"}, "threshold"),
        ({"kind": "gb", "threshold": "abc"}, "threshold"),
        ({"kind": "percent_of_previous", "threshold": "0"}, "threshold"),
        ({"kind": "amount", "threshold": "10.999"}, "threshold"),
        ({"kind": "sometimes", "threshold": "10"}, "kind"),
        ({"kind": "gb", "threshold": "10", "email": "not-an-address"}, "email"),
    ],
)
def test_nonsense_alerts_are_a_400_on_the_field(api, customer_a, tenant_a, body, field):
    SubscriptionFactory(tenant=tenant_a)
    answer = api.as_user(customer_a).post(
        "/api/v1/usage-alerts/",
        {"tenant": tenant_a.pk, "email": "ops@alpha.example", **body},
        format="json",
    )
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["errors"]


def test_viewers_read_alerts_but_cannot_set_them(api, viewer_a, tenant_a):
    alert = UsageAlertFactory(tenant=tenant_a, threshold_gb=Decimal("12.5"))
    client = api.as_user(viewer_a)
    assert rows(client.get("/api/v1/usage-alerts/"))[0]["threshold"] == "12.500"
    answer = client.post(
        "/api/v1/usage-alerts/",
        {"tenant": tenant_a.pk, "kind": "gb", "threshold": "1", "email": "v@alpha.example"},
        format="json",
    )
    assert answer.status_code == 403
    assert client.delete(f"/api/v1/usage-alerts/{alert.pk}/").status_code == 403


def test_usage_records_factory_is_scoped(api, customer_a, tenant_a, tenant_b):
    UsageRecordFactory(tenant=tenant_b)
    assert rows(api.as_user(customer_a).get("/api/v1/usage/")) == []
