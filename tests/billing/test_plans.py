"""Plans and subscriptions at the service level: bad input is a DomainError naming the
field, on every database."""

from datetime import date
from decimal import Decimal

import pytest

from billing import services
from billing.exceptions import DomainError, InvalidPlan, InvalidTransition, SubscriptionConflict
from billing.models import Plan, Subscription
from tenants.models import AuditEvent
from tenants.principals import Principal
from tests.billing.factories import InvoiceFactory, PlanFactory, SubscriptionFactory, at

pytestmark = pytest.mark.django_db

SYSTEM = Principal.system()
NOW = at(date(2026, 4, 2))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"prices": [{"unit_price": Decimal("-0.01")}]}, "prices"),
        ({"prices": [{"unit_price": Decimal(1), "up_to": Decimal(0)}]}, "prices"),
        ({"prices": [{"unit_price": Decimal(1)}, {"unit_price": Decimal(2)}]}, "prices"),
        ({"included_quantity": Decimal(-1)}, "included_quantity"),
        ({"minimum_fee_minor": -1}, "minimum_fee_minor"),
        ({"discount_percent": Decimal("100.01")}, "discount_percent"),
        ({"currency": "ABC"}, "currency"),
        ({"quantity_rule": "median"}, "quantity_rule"),
    ],
)
def test_bad_plans_are_refused_by_the_service(overrides, field):
    values = {"name": "Gold", "prices": [{"unit_price": Decimal("0.1")}], **overrides}
    with pytest.raises(InvalidPlan) as error:
        services.plan_create(by=SYSTEM, **values)
    assert error.value.field == field
    assert not Plan.objects.exists()


def test_a_plan_update_is_audited_with_its_changes():
    plan = PlanFactory(name="Gold")
    services.plan_update(by=SYSTEM, plan=plan, discount_percent=Decimal(5))
    services.plan_update(by=SYSTEM, plan=plan, discount_percent=Decimal(5))  # no change
    events = AuditEvent.objects.filter(action="plan.updated")
    assert [e.details for e in events] == [{"discount_percent": {"from": "0.00", "to": "5"}}]


def test_overlapping_subscriptions_are_refused_by_the_service(tenant_a):
    plan = PlanFactory()
    SubscriptionFactory(
        tenant=tenant_a, plan=plan, starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 1)
    )
    with pytest.raises(SubscriptionConflict) as error:
        services.subscription_create(
            by=SYSTEM, tenant=tenant_a, plan=plan, starts_on=date(2026, 2, 28), now=NOW
        )
    assert error.value.field == "starts_on" and error.value.status == 400
    assert "from 2026-01-01 until 2026-03-01" in error.value.message
    services.subscription_create(
        by=SYSTEM, tenant=tenant_a, plan=plan, starts_on=date(2026, 3, 1), now=NOW
    )
    with pytest.raises(DomainError) as error:
        services.subscription_create(
            by=SYSTEM,
            tenant=tenant_a,
            plan=plan,
            starts_on=date(2025, 5, 1),
            ends_on=date(2025, 5, 1),
            now=NOW,
        )
    assert error.value.field == "ends_on"


def test_inactive_plans_take_no_new_subscriptions(tenant_a):
    with pytest.raises(DomainError) as error:
        services.subscription_create(
            by=SYSTEM,
            tenant=tenant_a,
            plan=PlanFactory(is_active=False),
            starts_on=date(2026, 1, 1),
            now=NOW,
        )
    assert error.value.field == "plan"


def test_ending_a_subscription_cannot_make_it_overlap(tenant_a):
    first = SubscriptionFactory(
        tenant=tenant_a, starts_on=date(2026, 1, 1), ends_on=date(2026, 2, 1)
    )
    SubscriptionFactory(tenant=tenant_a, starts_on=date(2026, 2, 1))
    with pytest.raises(SubscriptionConflict):
        services.subscription_end(by=SYSTEM, subscription=first, ends_on=None, now=NOW)
    services.subscription_end(by=SYSTEM, subscription=first, ends_on=date(2026, 1, 20), now=NOW)
    first.refresh_from_db()
    assert first.ends_on == date(2026, 1, 20)


def test_an_invoiced_subscription_is_ended_not_deleted(tenant_a):
    subscription = SubscriptionFactory(tenant=tenant_a, starts_on=date(2026, 1, 1))
    InvoiceFactory(tenant=tenant_a)
    with pytest.raises(InvalidTransition):
        services.subscription_delete(by=SYSTEM, subscription=subscription, now=NOW)
    assert Subscription.objects.filter(pk=subscription.pk).exists()
