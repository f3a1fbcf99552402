from django.contrib.postgres.fields import RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from backups.choices import Workload
from billing.choices import Currency, PlanKind, QuantityRule
from billing.constraints import DateRange, PostgresExclusionConstraint
from tenants.models import ScopedQuerySet

ZERO = 0


class PlanQuerySet(ScopedQuerySet):
    """Plans belong to the MSP, not to one tenant. MSP principals see every plan; anyone else
    sees the plans their tenants subscribe or subscribed to (through the scoped
    `Subscription` queryset, so the tenant filter still lives in `ScopedQuerySet`)."""

    scope_field = "subscriptions__tenant"

    def visible_to(self, principal):
        if principal.tenant_ids is None:
            return self
        return self.filter(pk__in=Subscription.objects.visible_to(principal).values("plan_id"))


class Plan(models.Model):
    """One price list of the MSP: what a month of protection costs a customer on it.

    Prices are the `PlanPrice` rows (one flat rate, a rate per workload, or graduated tiers).
    Monthly amounts (included quantity, minimum fee, tier bounds) are prorated by day when a
    subscription covers only part of a month. Changing a plan changes drafts on the next
    invoice run; finalized invoices keep the prices they were issued with.
    """

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=PlanKind.choices, default=PlanKind.PER_GB)
    quantity_rule = models.CharField(
        max_length=20, choices=QuantityRule.choices, default=QuantityRule.DAILY_AVERAGE
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    # Free quantity per month (GB-month or seat-month), deducted before prices apply.
    included_quantity = models.DecimalField(
        max_digits=18, decimal_places=6, default=0, validators=[MinValueValidator(0)]
    )
    # Minor units of `currency` per month; a shortfall is added as a top-up line.
    minimum_fee_minor = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    # Percentage off every usage and minimum line, e.g. 12.50.
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # Inactive plans keep their subscriptions but take no new ones.
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="plan_unique_name",
                violation_error_message="A plan with this name already exists.",
            ),
            models.CheckConstraint(condition=Q(kind__in=PlanKind.values), name="plan_kind_valid"),
            models.CheckConstraint(
                condition=Q(quantity_rule__in=QuantityRule.values),
                name="plan_quantity_rule_valid",
            ),
            models.CheckConstraint(
                condition=Q(currency__in=Currency.values), name="plan_currency_valid"
            ),
            models.CheckConstraint(
                condition=Q(included_quantity__gte=ZERO),
                name="plan_included_non_negative",
                violation_error_message="The included quantity cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(minimum_fee_minor__gte=ZERO),
                name="plan_minimum_fee_non_negative",
                violation_error_message="The minimum fee cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=ZERO, discount_percent__lte=100),
                name="plan_discount_percent_range",
                violation_error_message="The discount is a percentage from 0 to 100.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PlanPrice(models.Model):
    """One price step of a plan: the unit price of the monthly quantity up to `up_to`.

    Steps with the same `workload` form a ladder, priced graduated (each step prices only
    the quantity between the previous bound and its own). A ladder always ends with an open
    step (`up_to` empty). A plan has either one ladder for every workload together
    (`workload` empty) or one ladder per workload; per-user plans have the single ladder.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    # Empty: every workload together.
    workload = models.CharField(max_length=20, choices=Workload.choices, blank=True)
    # Upper bound of the step in GB-month (per-GB) or seat-month (per-user); empty = no bound.
    up_to = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    # Major units of the plan's currency per GB-month or seat-month, e.g. 0.090000.
    unit_price = models.DecimalField(
        max_digits=14, decimal_places=6, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["plan_id", "workload", models.F("up_to").asc(nulls_last=True)]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=ZERO),
                name="plan_price_unit_price_non_negative",
                violation_error_message="A unit price cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(up_to__isnull=True) | Q(up_to__gt=ZERO),
                name="plan_price_up_to_positive",
                violation_error_message="A tier bound must be greater than zero.",
            ),
            models.CheckConstraint(
                condition=Q(workload__in=[*Workload.values, ""]),
                name="plan_price_workload_valid",
            ),
            models.UniqueConstraint(
                fields=["plan", "workload", "up_to"], name="plan_price_unique_step"
            ),
            models.UniqueConstraint(
                fields=["plan", "workload"],
                condition=Q(up_to__isnull=True),
                name="plan_price_one_open_step",
                violation_error_message="A ladder has exactly one open-ended step.",
            ),
        ]

    def __str__(self) -> str:
        bound = f"up to {self.up_to}" if self.up_to is not None else "open"
        return f"{self.plan} {self.workload or 'all'} {bound} @ {self.unit_price}"


class SubscriptionQuerySet(ScopedQuerySet):
    scope_field = "tenant"

    def overlapping(self, start, end):
        """Subscriptions with at least one day in `[start, end)` (`end` None = open)."""
        query = Q(ends_on__isnull=True) | Q(ends_on__gt=start)
        if end is not None:
            query &= Q(starts_on__lt=end)
        return self.filter(query)


class Subscription(models.Model):
    """A tenant on a plan for the days `[starts_on, ends_on)`.

    One tenant's subscriptions never overlap (an exclusion constraint on PostgreSQL, the
    service's check everywhere). A plan change is the old subscription ending on the day the
    new one starts; within a month each part is billed for its own days.
    """

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="billing_subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    # First billed day (UTC).
    starts_on = models.DateField()
    # First day no longer billed under this plan; empty = until further notice.
    ends_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["tenant_id", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=models.F("starts_on")),
                name="subscription_ends_after_start",
                violation_error_message="A subscription must end after it starts.",
            ),
            PostgresExclusionConstraint(
                name="subscription_no_overlap",
                expressions=[
                    ("tenant", RangeOperators.EQUAL),
                    (DateRange("starts_on", "ends_on"), RangeOperators.OVERLAPS),
                ],
                violation_error_message=(
                    "This tenant already has a subscription on some of these days."
                ),
            ),
        ]
        indexes = [models.Index(fields=["tenant", "starts_on"], name="subscription_tenant_idx")]

    def __str__(self) -> str:
        until = f"until {self.ends_on:%Y-%m-%d}" if self.ends_on else "open-ended"
        return f"{self.tenant} on {self.plan} from {self.starts_on:%Y-%m-%d} {until}"
