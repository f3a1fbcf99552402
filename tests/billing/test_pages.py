"""Customer billing pages: usage and estimate, invoices, alerts."""

import json
from datetime import date

import pytest
from django.core import mail

from billing.models import UsageAlert
from billing.periods import Period
from tests.billing.factories import (
    CreditNoteFactory,
    InvoiceFactory,
    PlanFactory,
    SubscriptionFactory,
    UsageAlertFactory,
    at,
    enable_backup,
    record_usage,
)

pytestmark = pytest.mark.django_db

TODAY = at(date(2026, 3, 16), 8)


@pytest.fixture
def usage(tenant_a, tenant_b, time_machine):
    time_machine.move_to(TODAY)
    plan = PlanFactory(name="Standard", minimum_fee_minor=1000)
    for tenant in (tenant_a, tenant_b):
        enable_backup(tenant, date(2026, 1, 1))
        SubscriptionFactory(tenant=tenant, plan=plan)
    record_usage(tenant_a, Period(date(2026, 1, 1), date(2026, 3, 16)), gb=lambda d: d.day * 10)
    record_usage(tenant_b, Period(date(2026, 3, 1), date(2026, 3, 16)), gb=777)


def test_the_usage_page_shows_the_chart_data_the_plan_and_the_estimate(client, customer_a, usage):
    client.force_login(customer_a)
    page = client.get("/t/alpha/billing/")
    assert page.status_code == 200
    body = page.content.decode()
    chart = json.loads(
        body.split('id="usage-data" type="application/json">')[1].split("</script>")[0]
    )
    assert len(chart["days"]) == 90 and chart["days"][-1] == "2026-03-15"
    exchange = chart["series"][0]
    assert exchange["workload"] == "exchange" and exchange["values"][-1] == "150.000"
    assert "777" not in body  # tenant B's usage
    # Accrued 1-15 March: sum 10..150 step 10 = 1200 GB-days / 31 = 38.709677 x 0.10 = 3.87
    # which is under the 10.00 minimum x 15/31 = 4.84: month to date USD 4.84.
    assert 'data-testid="month-to-date">USD 4.84<' in body
    # Projected: the 15th's 150 GB carried to the 31st: (1200 + 16 x 150)/31 = 116.129032 -> 11.61
    assert 'data-testid="projected">USD 11.61<' in body
    assert "Standard (Per GB, USD)" in body
    assert "vendor/chartjs/chart.umd.min.js" in body and "cdn" not in body.lower()


def test_the_sidebar_lists_the_billing_pages(client, customer_a):
    client.force_login(customer_a)
    body = client.get("/t/alpha/").content.decode()
    assert 'href="/t/alpha/billing/"' in body and 'href="/t/alpha/billing/invoices/"' in body


def test_invoices_list_their_downloads_and_hide_drafts(client, viewer_a, tenant_a, tenant_b):
    issued = InvoiceFactory(tenant=tenant_a, number="INV-2026-000007")
    CreditNoteFactory(invoice=issued, number="CN-2026-000001", reason="Outage credit")
    draft = InvoiceFactory(
        tenant=tenant_a,
        status="draft",
        number=None,
        finalized_at=None,
        period_start=date(2026, 4, 1),
    )
    InvoiceFactory(tenant=tenant_b, number="INV-2026-000008")
    client.force_login(viewer_a)
    body = client.get("/t/alpha/billing/invoices/").content.decode()
    assert "INV-2026-000007" in body and "INV-2026-000008" not in body
    assert f'href="/api/v1/invoices/{issued.pk}/pdf/"' in body
    assert "Outage credit" in body
    assert client.get(f"/t/alpha/billing/invoices/{draft.pk}/").status_code == 404
    detail = client.get(f"/t/alpha/billing/invoices/{issued.pk}/").content.decode()
    assert 'data-testid="invoice-total">USD 12.34<' in detail
    assert client.get(f"/api/v1/invoices/{issued.pk}/pdf/").status_code == 200  # session works


def test_an_invoice_shows_the_days_behind_each_line(client, customer_a, usage, time_machine):
    from billing import services
    from billing.models import Invoice, InvoiceRun
    from tenants.principals import Principal

    now = at(date(2026, 4, 3))
    time_machine.move_to(now)
    record_usage(
        customer_a.memberships.get().tenant, Period(date(2026, 3, 16), date(2026, 3, 20)), gb=5
    )
    run = InvoiceRun.objects.create(period_start=date(2026, 3, 1), created_at=now)
    services.invoice_run_execute(run=run, now=now)
    invoice = Invoice.objects.get(tenant__slug="alpha")
    services.invoice_finalize(by=Principal.system(), invoice=invoice, now=now)
    client.force_login(customer_a)
    body = client.get(f"/t/alpha/billing/invoices/{invoice.pk}/").content.decode()
    assert "2026-03-01: 10.000000 GB" in body
    assert "2026-03-20: 5.000000 GB *" in body  # no record from the 20th: carried
    assert "sum of 31 daily values / 31 days in 2026-03" in body


def test_customer_admins_add_and_remove_alerts(client, customer_a, tenant_a, usage):
    client.force_login(customer_a)
    page = client.get("/t/alpha/billing/alerts/")
    assert page.status_code == 200 and "New alert" in page.content.decode()
    saved = client.post(
        "/t/alpha/billing/alerts/",
        {"kind": "amount", "threshold": "250", "currency": "", "email": "it@alpha.example"},
    )
    assert saved.status_code == 302
    alert = UsageAlert.objects.get(tenant=tenant_a)
    assert (alert.threshold_minor, alert.currency) == (25000, "USD")
    assert "USD 250.00" in client.get("/t/alpha/billing/alerts/").content.decode()
    removed = client.post("/t/alpha/billing/alerts/", {"delete": alert.pk})
    assert removed.status_code == 302 and not UsageAlert.objects.exists()


@pytest.mark.parametrize(
    ("threshold", "message"),
    [("-10", "above zero"), ("ten", "must be a number"), ("1e30", "exabyte")],
)
def test_a_nonsense_alert_is_a_form_error(client, customer_a, usage, threshold, message):
    client.force_login(customer_a)
    answer = client.post(
        "/t/alpha/billing/alerts/",
        {"kind": "gb", "threshold": threshold, "email": "it@alpha.example"},
    )
    assert answer.status_code == 400 and message in answer.content.decode()
    assert not UsageAlert.objects.exists()


def test_viewers_see_alerts_but_cannot_change_them(client, viewer_a, tenant_a, tenant_b):
    alert = UsageAlertFactory(tenant=tenant_a)
    other = UsageAlertFactory(tenant=tenant_b, email="ops@bravo.example")
    client.force_login(viewer_a)
    body = client.get("/t/alpha/billing/alerts/").content.decode()
    assert alert.email in body and other.email not in body and "New alert" not in body
    assert client.post("/t/alpha/billing/alerts/", {"delete": alert.pk}).status_code == 403
    assert UsageAlert.objects.count() == 2
    assert mail.outbox == []


def test_the_latest_day_table_shows_the_last_metered_day(
    client, customer_a, tenant_a, time_machine
):
    # 17 March just after midnight: 16 March is not metered yet, 15 March is the latest.
    time_machine.move_to(at(date(2026, 3, 17), 0))
    enable_backup(tenant_a, date(2026, 1, 1))
    SubscriptionFactory(tenant=tenant_a, plan=PlanFactory())
    record_usage(tenant_a, Period(date(2026, 3, 1), date(2026, 3, 16)), gb=150)
    client.force_login(customer_a)
    body = client.get("/t/alpha/billing/").content.decode()
    table = body.split('aria-label="Latest day"')[1].split("</table>")[0]
    assert "Latest day (15 Mar 2026)" in table
    assert "150.000" in table
