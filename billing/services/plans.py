"""Plans and subscriptions: the MSP's price lists and which tenant is on which, when."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from backups.choices import Workload
from billing.choices import Currency, PlanKind, QuantityRule
from billing.exceptions import (
    DomainError,
    InvalidPlan,
    InvalidTransition,
    SubscriptionConflict,
)
from billing.models import Plan, PlanPrice, Subscription
from billing.periods import Period
from billing.selectors import subscription_is_invoiced
from tenants.models import Tenant
from tenants.principals import Principal
from tenants.services import audit_record

PLAN_FIELDS = (
    "name",
    "description",
    "kind",
    "quantity_rule",
    "currency",
    "included_quantity",
    "minimum_fee_minor",
    "discount_percent",
    "is_active",
)
# The terms plan_validate checks.
PLAN_TERMS = (
    "kind",
    "quantity_rule",
    "currency",
    "included_quantity",
    "minimum_fee_minor",
    "discount_percent",
)
# Fields that change what existing subscriptions mean; fixed once a plan has subscriptions.
PLAN_FIXED_WHEN_USED = ("kind", "currency")


# --- validation -----------------------------------------------------------------------------


def plan_validate(
    *,
    kind: str,
    quantity_rule: str,
    currency: str,
    prices: Iterable[Mapping[str, Any]],
    included_quantity: Decimal = Decimal(0),
    minimum_fee_minor: int = 0,
    discount_percent: Decimal = Decimal(0),
) -> list[dict[str, Any]]:
    """Check a plan's terms and price steps; returns the steps normalised. Raises
    `InvalidPlan` naming the field at fault."""
    if kind not in PlanKind.values:
        raise InvalidPlan(f"Unknown plan kind {kind!r}.", field="kind")
    if quantity_rule not in QuantityRule.values:
        raise InvalidPlan(f"Unknown quantity rule {quantity_rule!r}.", field="quantity_rule")
    if currency not in Currency.values:
        raise InvalidPlan(f"Unsupported currency {currency!r}.", field="currency")
    if Decimal(included_quantity) < 0:
        raise InvalidPlan("The included quantity cannot be negative.", field="included_quantity")
    if int(minimum_fee_minor) < 0:
        raise InvalidPlan("The minimum fee cannot be negative.", field="minimum_fee_minor")
    if not Decimal(0) <= Decimal(discount_percent) <= Decimal(100):
        raise InvalidPlan("The discount is a percentage from 0 to 100.", field="discount_percent")

    steps = [
        {
            "workload": step.get("workload") or "",
            "up_to": None if step.get("up_to") is None else Decimal(step["up_to"]),
            "unit_price": Decimal(step["unit_price"]),
        }
        for step in prices
    ]
    if not steps:
        raise InvalidPlan("A plan needs at least one price.", field="prices")
    for step in steps:
        if step["unit_price"] < 0:
            raise InvalidPlan("A unit price cannot be negative.", field="prices")
        if step["up_to"] is not None and step["up_to"] <= 0:
            raise InvalidPlan("A tier bound must be greater than zero.", field="prices")
        if step["workload"] not in ("", *Workload.values):
            raise InvalidPlan(f"Unknown workload {step['workload']!r}.", field="prices")
    keys = {step["workload"] for step in steps}
    if "" in keys and len(keys) > 1:
        raise InvalidPlan(
            "Give either prices for every workload together or prices per workload, not both.",
            field="prices",
        )
    if kind == PlanKind.PER_USER and keys != {""}:
        raise InvalidPlan(
            "A per-user plan prices seats, not workloads: leave the workload empty.",
            field="prices",
        )
    if "" not in keys and keys != set(Workload.values):
        missing = ", ".join(sorted(set(Workload.values) - keys))
        raise InvalidPlan(
            f"Per-workload prices need every workload; missing: {missing}.", field="prices"
        )
    for key in keys:
        ladder = [s for s in steps if s["workload"] == key]
        bounds = [s["up_to"] for s in ladder if s["up_to"] is not None]
        if len(ladder) - len(bounds) != 1:
            raise InvalidPlan(
                "Each price ladder needs exactly one step without an upper bound (the last).",
                field="prices",
            )
        if len(set(bounds)) != len(bounds):
            raise InvalidPlan("Two tiers of a ladder have the same upper bound.", field="prices")
    return _sorted(steps)


def _plan_values(plan: Plan) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in PLAN_FIELDS}


def _price_values(plan: Plan) -> list[dict[str, Any]]:
    return [
        {"workload": p.workload, "up_to": p.up_to, "unit_price": p.unit_price}
        for p in plan.prices.all()
    ]


def _jsonable(steps: list[dict[str, Any]]) -> list[dict[str, str | None]]:
    return [
        {
            "workload": s["workload"],
            "up_to": None if s["up_to"] is None else _plain(s["up_to"]),
            "unit_price": _plain(s["unit_price"]),
        }
        for s in steps
    ]


# --- plans ----------------------------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    by: Principal,
    name: str,
    prices: Iterable[Mapping[str, Any]],
    kind: str = PlanKind.PER_GB,
    quantity_rule: str = QuantityRule.DAILY_AVERAGE,
    currency: str = Currency.USD,
    included_quantity: Decimal = Decimal(0),
    minimum_fee_minor: int = 0,
    discount_percent: Decimal = Decimal(0),
    description: str = "",
    is_active: bool = True,
) -> Plan:
    """Create a plan with its price steps. Raises InvalidPlan or Conflict (duplicate name)."""
    terms = dict(
        kind=kind,
        quantity_rule=quantity_rule,
        currency=currency,
        included_quantity=Decimal(included_quantity),
        minimum_fee_minor=int(minimum_fee_minor),
        discount_percent=Decimal(discount_percent),
    )
    steps = plan_validate(prices=prices, **terms)
    if Plan.objects.filter(name=name).exists():
        raise DomainError("A plan with this name already exists.", field="name")
    plan = Plan.objects.create(name=name, description=description, is_active=is_active, **terms)
    PlanPrice.objects.bulk_create(PlanPrice(plan=plan, **step) for step in steps)
    audit_record(
        by=by,
        action="plan.created",
        target=plan,
        details={**{k: str(v) for k, v in terms.items()}, "prices": _jsonable(steps)},
    )
    return plan


@transaction.atomic
def plan_update(
    *, by: Principal, plan: Plan, prices: Iterable[Mapping[str, Any]] | None = None, **changes
) -> Plan:
    """Change a plan's terms and/or replace its price steps. Kind and currency are fixed
    once a tenant has subscribed. Finalized invoices keep the prices they were issued
    with; drafts follow on the next invoice run."""
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    before = _plan_values(plan)
    after = {**before, **changes}
    current_steps = _jsonable(_sorted(_price_values(plan)))
    steps = plan_validate(
        prices=_price_values(plan) if prices is None else prices,
        **{k: after[k] for k in PLAN_TERMS},
    )
    diff = {
        k: {"from": str(before[k]), "to": str(after[k])}
        for k in PLAN_FIELDS
        if before[k] != after[k]
    }
    if _jsonable(steps) != current_steps:
        diff["prices"] = {"from": current_steps, "to": _jsonable(steps)}
    in_use = plan.subscriptions.exists()
    for name in PLAN_FIXED_WHEN_USED:
        if name in diff and in_use:
            raise InvalidPlan(
                f"The {name} of a plan with subscriptions cannot change; create a new plan.",
                field=name,
            )
    if "name" in diff and Plan.objects.filter(name=after["name"]).exclude(pk=plan.pk).exists():
        raise DomainError("A plan with this name already exists.", field="name")
    if not diff:
        return plan
    for name, value in changes.items():
        setattr(plan, name, value)
    plan.save()
    if "prices" in diff:
        plan.prices.all().delete()
        PlanPrice.objects.bulk_create(PlanPrice(plan=plan, **step) for step in steps)
    audit_record(by=by, action="plan.updated", target=plan, details=diff)
    return plan


def _plain(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


def _sorted(steps):
    return sorted(steps, key=lambda s: (s["workload"], s["up_to"] is None, s["up_to"] or 0))


# --- subscriptions --------------------------------------------------------------------------


def subscription_validate(
    *,
    tenant: Tenant,
    plan: Plan,
    starts_on: date,
    ends_on: date | None,
    exclude_pk: int | None = None,
) -> None:
    """Refuse a subscription that ends before it starts, overlaps another of the tenant, or
    changes currency within a month (one invoice has one currency)."""
    if ends_on is not None and ends_on <= starts_on:
        raise DomainError("A subscription must end after it starts.", field="ends_on")
    others = Subscription.objects.filter(tenant=tenant).select_related("plan")
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    clash = others.overlapping(starts_on, ends_on).order_by("starts_on").first()
    if clash is not None:
        until = f" until {clash.ends_on:%Y-%m-%d}" if clash.ends_on else ""
        raise SubscriptionConflict(
            f"{tenant} already has a subscription on some of these days: {clash.plan} from "
            f"{clash.starts_on:%Y-%m-%d}{until}. End it first, or start this one later.",
            field="starts_on",
        )
    # Days never overlap, so another subscription can share a month with this one only in
    # the month of its first or of its last day.
    boundary_months = {Period.month_of(starts_on)}
    if ends_on is not None:
        boundary_months.add(Period.month_of(ends_on - timedelta(days=1)))
    for month in sorted(boundary_months):
        for other in others.overlapping(month.start, month.end):
            if other.plan.currency != plan.currency:
                raise DomainError(
                    f"{other.plan} bills in {other.plan.currency} in {month.label}; a change "
                    "of currency must start on the first day of a month.",
                    field="starts_on",
                )


@transaction.atomic
def subscription_create(
    *,
    by: Principal,
    tenant: Tenant,
    plan: Plan,
    starts_on: date,
    ends_on: date | None = None,
    now: datetime,
) -> Subscription:
    """Put `tenant` on `plan` for `[starts_on, ends_on)`. The tenant row is locked so two
    concurrent requests cannot both pass the overlap check; the exclusion constraint is the
    last word on PostgreSQL."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if not plan.is_active:
        raise DomainError("This plan no longer takes new subscriptions.", field="plan")
    subscription_validate(tenant=tenant, plan=plan, starts_on=starts_on, ends_on=ends_on)
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                tenant=tenant, plan=plan, starts_on=starts_on, ends_on=ends_on
            )
    except IntegrityError as exc:
        raise SubscriptionConflict(
            "This tenant already has a subscription on some of these days.", field="starts_on"
        ) from exc
    audit_record(
        by=by,
        action="subscription.created",
        tenant=tenant,
        target=subscription,
        details={"plan": plan.name, "starts_on": str(starts_on), "ends_on": str(ends_on or "")},
        now=now,
    )
    return subscription


@transaction.atomic
def subscription_end(
    *, by: Principal, subscription: Subscription, ends_on: date | None, now: datetime
) -> Subscription:
    """Set (or clear) the first day a subscription no longer bills. A plan change is this
    followed by `subscription_create` from the same day."""
    Tenant.objects.select_for_update().get(pk=subscription.tenant_id)
    subscription = Subscription.objects.select_related("plan", "tenant").get(pk=subscription.pk)
    if subscription.ends_on == ends_on:
        return subscription
    subscription_validate(
        tenant=subscription.tenant,
        plan=subscription.plan,
        starts_on=subscription.starts_on,
        ends_on=ends_on,
        exclude_pk=subscription.pk,
    )
    previous = subscription.ends_on
    subscription.ends_on = ends_on
    try:
        with transaction.atomic():
            subscription.save(update_fields=["ends_on", "updated_at"])
    except IntegrityError as exc:
        raise SubscriptionConflict(
            "This tenant already has a subscription on some of these days.", field="ends_on"
        ) from exc
    audit_record(
        by=by,
        action="subscription.updated",
        tenant=subscription.tenant,
        target=subscription,
        details={"ends_on": {"from": str(previous or ""), "to": str(ends_on or "")}},
        now=now,
    )
    return subscription


@transaction.atomic
def subscription_delete(*, by: Principal, subscription: Subscription, now: datetime) -> None:
    """Delete a subscription no issued invoice relies on (otherwise end it instead)."""
    if subscription_is_invoiced(subscription):
        raise InvalidTransition(
            "An issued invoice covers days of this subscription; set an end date instead."
        )
    audit_record(
        by=by,
        action="subscription.deleted",
        tenant=subscription.tenant,
        target=subscription,
        details={"plan": subscription.plan.name, "starts_on": str(subscription.starts_on)},
        now=now,
    )
    subscription.delete()
