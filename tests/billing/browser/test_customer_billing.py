"""A customer signs in, sees its usage chart drawn with data, and downloads an invoice PDF
that opens and shows the right total."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from billing import services
from billing.models import Invoice, InvoiceRun
from billing.periods import Period, utc_today
from tenants.principals import Principal
from tests.billing.factories import PlanFactory, SubscriptionFactory, enable_backup, record_usage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def billed_customer(customer_a, tenant_a):
    now = timezone.now()
    today = utc_today(now)
    last_month = Period.month_of(today).previous_month()
    enable_backup(tenant_a, today - timedelta(days=200))
    SubscriptionFactory(
        tenant=tenant_a, plan=PlanFactory(name="Standard"), starts_on=today - timedelta(days=200)
    )
    start = min(last_month.start, today - timedelta(days=90))
    # 123.45 GB on Exchange every day: last month is 123.45 GB-month x USD 0.10 = 12.345 -> 12.35
    record_usage(tenant_a, Period(start, today), gb="123.45")
    run = InvoiceRun.objects.create(period_start=last_month.start, created_at=now)
    services.invoice_run_execute(run=run, now=now)
    invoice = services.invoice_finalize(
        by=Principal.system(), invoice=Invoice.objects.get(), now=now
    )
    return customer_a, invoice


def test_customer_sees_the_usage_chart_and_downloads_the_invoice_pdf(
    live_server, page, billed_customer
):
    customer, invoice = billed_customer
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill(customer.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Usage and billing").click()
    expect(page.get_by_role("heading", name="Usage and billing")).to_be_visible()
    canvas = page.get_by_test_id("usage-chart")
    expect(canvas).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart('usage-chart')")
    drawn = page.evaluate(
        """() => {
            const chart = Chart.getChart('usage-chart');
            const exchange = chart.data.datasets[0];
            return {
                label: exchange.label,
                points: exchange.data.filter(v => v !== null).length,
                last: exchange.data[exchange.data.length - 1],
                width: chart.width,
                painted: chart.getDatasetMeta(0).data.length,
            };
        }"""
    )
    assert drawn["label"] == "Exchange (mailboxes)"
    assert drawn["points"] == 90 and drawn["last"] == "123.450"
    assert drawn["width"] > 200 and drawn["painted"] == 90
    expect(page.get_by_test_id("projected")).to_contain_text("USD")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Invoices").click()
    with page.expect_download() as download_info:
        page.get_by_test_id(f"pdf-{invoice.pk}").click()
    download = download_info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(download.path()).pages)
    assert f"Invoice {invoice.number}" in text
    assert "USD 12.35" in text
    assert invoice.total_minor == 1235
