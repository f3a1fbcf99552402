"""Customer usage alerts: validation, one e-mail per alert and month, re-arming."""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from billing import services
from billing.exceptions import InvalidAlert
from billing.models import UsageAlertNotice
from billing.periods import Period
from tenants.principals import Principal
from tests.billing.factories import (
    InvoiceFactory,
    PlanFactory,
    SubscriptionFactory,
    UsageAlertFactory,
    at,
    enable_backup,
    record_usage,
)

pytestmark = pytest.mark.django_db

SYSTEM = Principal.system()
MARCH = Period.month_of(date(2026, 3, 1))
# 16 March: 15 days of 310 GB accrued at USD 0.10 -> 310 x 15/31 = 150 GB-month = 15.00
NOW = at(date(2026, 3, 16), 1)


@pytest.fixture
def metered(tenant_a, tenant_b):
    plan = PlanFactory()
    for tenant in (tenant_a, tenant_b):
        enable_backup(tenant, date(2026, 1, 1))
        SubscriptionFactory(tenant=tenant, plan=plan)
        record_usage(tenant, Period(date(2026, 3, 1), date(2026, 3, 16)), gb=310)
    return plan


def create(tenant, kind, threshold, currency=None, email="it@alpha.example"):
    return services.usage_alert_create(
        by=SYSTEM,
        tenant=tenant,
        kind=kind,
        threshold=threshold,
        currency=currency,
        email=email,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("kind", "threshold", "currency", "field"),
    [
        ("gb", "-5", None, "threshold"),
        ("gb", "0", None, "threshold"),
        ("gb", "lots", None, "threshold"),
        ("gb", "NaN", None, "threshold"),
        ("gb", "1e12", None, "threshold"),
        ("percent_of_previous", "5000", None, "threshold"),
        ("amount", "10.005", "USD", "threshold"),
        ("amount", "100", "XYZ", "currency"),
        ("amount", "100", "EUR", "currency"),  # the plan bills in USD
        ("weather", "10", None, "kind"),
    ],
)
def test_nonsense_thresholds_are_refused_with_the_field_named(
    metered, tenant_a, kind, threshold, currency, field
):
    with pytest.raises(InvalidAlert) as error:
        create(tenant_a, kind, threshold, currency)
    assert error.value.field == field


def test_an_amount_alert_takes_the_plan_currency(metered, tenant_a):
    alert = create(tenant_a, "amount", "12.5")
    assert (alert.threshold_minor, alert.currency) == (1250, "USD")
    assert services.threshold_label(alert) == "USD 12.50"


def test_an_alert_mails_once_a_month(metered, tenant_a, tenant_b):
    amount = create(tenant_a, "amount", "15")  # accrued 15.00: reached
    create(tenant_a, "amount", "15.01")  # not reached
    gb = create(tenant_a, "gb", "300")  # 310 GB on the latest day: reached
    create(tenant_b, "gb", "311", email="it@bravo.example")  # not reached

    sent = services.usage_alerts_check(now=NOW)

    assert {n.alert_id for n in sent} == {amount.pk, gb.pk}
    assert len(mail.outbox) == 2
    subjects = {m.subject for m in mail.outbox}
    assert subjects == {"Alpha Corp: usage alert for March 2026"}
    body = next(m.body for m in mail.outbox if "USD" in m.body)
    assert "USD 15.00 so far this month" in body and "/t/alpha/billing/" in body

    assert services.usage_alerts_check(now=NOW) == []  # same month: nothing more
    assert len(mail.outbox) == 2
    record_usage(tenant_a, Period(date(2026, 4, 1), date(2026, 4, 2)), gb=400)
    services.usage_alerts_check(now=at(date(2026, 4, 2)))  # a new month: the GB alert again
    assert len(mail.outbox) == 3


def test_percent_of_last_month(metered, tenant_a):
    InvoiceFactory(tenant=tenant_a, period_start=date(2026, 2, 1), total_minor=2000)
    create(tenant_a, "percent_of_previous", "80")  # 15.00 of 20.00 is 75 %: not yet
    assert services.usage_alerts_check(now=NOW) == []
    alert = create(tenant_a, "percent_of_previous", "75")
    assert [n.alert_id for n in services.usage_alerts_check(now=NOW)] == [alert.pk]
    assert "75.0 % of last month's USD 20.00" in mail.outbox[0].body


def test_a_failed_send_is_retried_and_a_new_threshold_rearms(metered, tenant_a, monkeypatch):
    alert = create(tenant_a, "gb", "100")
    monkeypatch.setattr(
        "billing.services.alerts.send_mail",
        lambda **kw: (_ for _ in ()).throw(OSError("smtp down")),
    )
    assert services.usage_alerts_check(now=NOW) == []
    notice = UsageAlertNotice.objects.get()
    assert notice.sent_at is None
    monkeypatch.undo()
    assert len(services.usage_alerts_check(now=NOW)) == 1 and len(mail.outbox) == 1

    services.usage_alert_update(by=SYSTEM, alert=alert, threshold=Decimal("200"), now=NOW)
    assert not UsageAlertNotice.objects.exists()
    services.usage_alerts_check(now=NOW)
    assert len(mail.outbox) == 2


def test_alerts_without_a_plan_or_usage_stay_quiet(tenant_a):
    UsageAlertFactory(tenant=tenant_a, kind="gb", threshold_gb=Decimal(1))
    UsageAlertFactory(
        tenant=tenant_a, kind="amount", threshold_gb=None, threshold_minor=1, currency="USD"
    )
    assert services.usage_alerts_check(now=NOW) == []
