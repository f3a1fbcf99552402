"""Billing API shapes. Money is integer minor units plus an ISO 4217 `currency`; rates and
quantities are decimal strings (never JSON floats)."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backups.choices import Workload
from billing.choices import Currency, UsageAlertKind
from billing.models import (
    CreditNote,
    Invoice,
    InvoiceLine,
    Plan,
    PlanPrice,
    Subscription,
    UsageAlert,
    UsageRecord,
)
from billing.periods import Period
from billing.selectors import gb_text
from billing.services import threshold_value
from portal.api.serializers import (
    ScopedPrimaryKeyRelatedField,
    StrictModelSerializer,
    StrictSerializer,
)
from tenants.models import Tenant

# --- plans ----------------------------------------------------------------------------------


class PlanPriceSerializer(StrictModelSerializer):
    workload = serializers.ChoiceField(
        choices=[("", "Every workload"), *Workload.choices],
        required=False,
        allow_blank=True,
        default="",
        help_text="Empty: one ladder for every workload together.",
    )
    up_to = serializers.DecimalField(
        max_digits=18,
        decimal_places=6,
        required=False,
        allow_null=True,
        default=None,
        help_text="Upper bound of the step (GB-month or seat-month); null on the last step.",
    )
    unit_price = serializers.DecimalField(
        max_digits=14,
        decimal_places=6,
        help_text="Price per GB-month (per-GB plans) or seat-month (per-user plans).",
    )

    class Meta:
        model = PlanPrice
        fields = ["workload", "up_to", "unit_price"]

    def validate_unit_price(self, value: Decimal) -> Decimal:
        if value < 0:
            raise serializers.ValidationError("A unit price cannot be negative.")
        return value

    def validate_up_to(self, value):
        if value is not None and value <= 0:
            raise serializers.ValidationError("A tier bound must be greater than zero.")
        return value


class PlanSerializer(StrictModelSerializer):
    prices = PlanPriceSerializer(many=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "name",
            "description",
            "kind",
            "quantity_rule",
            "currency",
            "included_quantity",
            "minimum_fee_minor",
            "discount_percent",
            "is_active",
            "prices",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The service checks name uniqueness and answers with the field named.
        extra_kwargs = {"name": {"validators": []}}


class PlanUpdateSerializer(PlanSerializer):
    prices = PlanPriceSerializer(many=True, required=False)

    class Meta(PlanSerializer.Meta):
        extra_kwargs = {
            **PlanSerializer.Meta.extra_kwargs,
            **{name: {"required": False} for name in ("name", "kind", "quantity_rule", "currency")},
        }


# --- subscriptions --------------------------------------------------------------------------


class SubscriptionSerializer(StrictModelSerializer):
    tenant = ScopedPrimaryKeyRelatedField(queryset=Tenant.objects.all())
    plan = ScopedPrimaryKeyRelatedField(queryset=Plan.objects.all())
    plan_name = serializers.CharField(source="plan.name", read_only=True)
    currency = serializers.CharField(source="plan.currency", read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "tenant",
            "plan",
            "plan_name",
            "currency",
            "starts_on",
            "ends_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class SubscriptionUpdateSerializer(StrictSerializer):
    ends_on = serializers.DateField(
        allow_null=True, help_text="First day no longer billed; null for open-ended."
    )


# --- usage ----------------------------------------------------------------------------------


class UsageRecordSerializer(serializers.ModelSerializer):
    protected_gb = serializers.SerializerMethodField(help_text="protected_bytes / 2^30.")

    class Meta:
        model = UsageRecord
        fields = [
            "id",
            "tenant",
            "workload",
            "day",
            "protected_bytes",
            "protected_gb",
            "protected_units",
            "protected_users",
            "recorded_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=20, decimal_places=6))
    def get_protected_gb(self, obj) -> str:
        return gb_text(obj.protected_bytes, places=6)


class UsageAggregateSerializer(serializers.Serializer):
    tenant = serializers.IntegerField(source="tenant_id")
    workload = serializers.ChoiceField(choices=Workload.choices)
    days_recorded = serializers.IntegerField()
    gb_month = serializers.DecimalField(
        max_digits=20,
        decimal_places=6,
        help_text="Mean over the period's days of each day's GB (days without a record count 0).",
    )
    peak_gb = serializers.DecimalField(max_digits=20, decimal_places=6)
    last_day = serializers.DateField(allow_null=True)
    last_gb = serializers.DecimalField(
        max_digits=20, decimal_places=6, help_text="GB on the last recorded day."
    )


@extend_schema_field({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2026-03"})
class MonthField(serializers.Field):
    """A calendar month given as YYYY-MM, validated into a `Period`."""

    default_error_messages = {"invalid": "Expected a month as YYYY-MM."}

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Month, YYYY-MM")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return Period.parse_month(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value):
        return value.label


class UsageAggregateQuerySerializer(StrictSerializer):
    month = MonthField()
    tenant = serializers.IntegerField(required=False)
    workload = serializers.ChoiceField(choices=Workload.choices, required=False)


# --- invoices -------------------------------------------------------------------------------


class InvoiceLineSerializer(serializers.ModelSerializer):
    series = serializers.SerializerMethodField(
        help_text="The days behind the quantity, as [day, value, source]: value in bytes "
        '(per-GB) or seats (per-user); source "r" recorded, "c" carried from the last known '
        "day because that day had no record."
    )

    class Meta:
        model = InvoiceLine
        fields = [
            "position",
            "kind",
            "description",
            "workload",
            "plan",
            "plan_name",
            "starts_on",
            "ends_on",
            "quantity",
            "unit",
            "unit_price",
            "amount_minor",
            "basis",
            "series",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "array",
                "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "minItems": 3,
                "maxItems": 3,
            },
        }
    )
    def get_series(self, obj) -> list:
        return [list(entry) for entry in obj.daily()]


class CreditNoteBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditNote
        fields = ["id", "number", "amount_minor", "reason", "created_at"]
        read_only_fields = fields


class InvoiceSerializer(serializers.ModelSerializer):
    tenant_slug = serializers.CharField(source="tenant.slug", read_only=True)
    amount_due_minor = serializers.IntegerField(read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "tenant",
            "tenant_slug",
            "period_start",
            "period_end",
            "status",
            "currency",
            "total_minor",
            "credited_minor",
            "amount_due_minor",
            "notes",
            "finalized_at",
            "due_on",
            "paid_at",
            "voided_at",
            "void_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    credit_notes = CreditNoteBriefSerializer(many=True, read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines", "credit_notes"]
        read_only_fields = fields


class InvoiceUpdateSerializer(StrictSerializer):
    notes = serializers.CharField(allow_blank=True, max_length=5000)


class InvoiceVoidSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class InvoiceMarkPaidSerializer(StrictSerializer):
    paid_at = serializers.DateTimeField(required=False, help_text="Default: now.")


class InvoiceExportQuerySerializer(StrictSerializer):
    period = MonthField()
    days = serializers.BooleanField(
        required=False, default=False, help_text="One row per line and day instead of per line."
    )


class InvoiceCsvQuerySerializer(StrictSerializer):
    days = serializers.BooleanField(required=False, default=False)


# --- credit notes ---------------------------------------------------------------------------


class CreditNoteSerializer(StrictModelSerializer):
    invoice = ScopedPrimaryKeyRelatedField(queryset=Invoice.objects.all())
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    amount_minor = serializers.IntegerField(
        min_value=1, help_text="Minor units of the invoice's currency."
    )

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "number",
            "tenant",
            "invoice",
            "invoice_number",
            "amount_minor",
            "currency",
            "reason",
            "created_at",
            "created_by_label",
        ]
        read_only_fields = ["id", "number", "tenant", "currency", "created_at", "created_by_label"]


# --- alerts ---------------------------------------------------------------------------------


class UsageAlertSerializer(serializers.ModelSerializer):
    threshold = serializers.SerializerMethodField(
        help_text="amount: major units of `currency`; gb: GB; percent_of_previous: percent."
    )
    last_sent_month = serializers.SerializerMethodField(
        help_text="First day of the last month this alert sent its e-mail."
    )

    class Meta:
        model = UsageAlert
        fields = [
            "id",
            "tenant",
            "kind",
            "threshold",
            "currency",
            "email",
            "last_sent_month",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=20, decimal_places=3))
    def get_threshold(self, obj) -> str:
        return f"{threshold_value(obj)}"

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_last_sent_month(self, obj):
        months = [n.month for n in obj.notices.all() if n.sent_at is not None]
        return max(months).isoformat() if months else None


class UsageAlertCreateSerializer(StrictSerializer):
    tenant = ScopedPrimaryKeyRelatedField(queryset=Tenant.objects.all())
    kind = serializers.ChoiceField(choices=UsageAlertKind.choices)
    threshold = serializers.CharField(
        max_length=40,
        help_text="amount: in major units of `currency` (e.g. 250.00); gb: GB; "
        "percent_of_previous: percent (e.g. 80).",
    )
    currency = serializers.ChoiceField(
        choices=Currency.choices,
        required=False,
        help_text="amount alerts only; default the tenant's plan currency.",
    )
    email = serializers.EmailField(help_text="Where the alert e-mail goes.")


class UsageAlertUpdateSerializer(StrictSerializer):
    threshold = serializers.CharField(max_length=40, required=False)
    currency = serializers.ChoiceField(choices=Currency.choices, required=False)
    email = serializers.EmailField(required=False)
