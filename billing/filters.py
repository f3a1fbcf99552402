import django_filters
from django.db.models import Q

from backups.choices import Workload
from billing.choices import Currency, InvoiceStatus, PlanKind, UsageAlertKind
from billing.models import CreditNote, Invoice, Plan, Subscription, UsageAlert, UsageRecord
from billing.periods import Period


class MonthFilter(django_filters.CharFilter):
    """`?period=2026-03`: rows whose `period_start` is that month."""

    def filter(self, queryset, value):
        if not value:
            return queryset
        try:
            month = Period.parse_month(value)
        except ValueError:
            return queryset.none()
        return queryset.filter(**{self.field_name: month.start})


class PlanFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=PlanKind.choices)
    currency = django_filters.ChoiceFilter(choices=Currency.choices)

    class Meta:
        model = Plan
        fields = ["kind", "currency", "is_active"]


class SubscriptionFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    plan = django_filters.NumberFilter(field_name="plan_id")
    active_on = django_filters.DateFilter(method="filter_active_on", label="Covers this day")

    class Meta:
        model = Subscription
        fields = ["tenant", "plan"]

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(starts_on__lte=value).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gt=value)
        )


class UsageRecordFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    workload = django_filters.ChoiceFilter(choices=Workload.choices)
    day_from = django_filters.DateFilter(field_name="day", lookup_expr="gte", label="From day")
    day_before = django_filters.DateFilter(
        field_name="day", lookup_expr="lt", label="Before day (exclusive)"
    )

    class Meta:
        model = UsageRecord
        fields = ["tenant", "workload", "day"]


class InvoiceFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    status = django_filters.MultipleChoiceFilter(choices=InvoiceStatus.choices)
    period = MonthFilter(field_name="period_start", label="Month, YYYY-MM")

    class Meta:
        model = Invoice
        fields = ["tenant", "status", "period", "number", "currency"]


class CreditNoteFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    invoice = django_filters.NumberFilter(field_name="invoice_id")

    class Meta:
        model = CreditNote
        fields = ["tenant", "invoice", "number"]


class UsageAlertFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    kind = django_filters.ChoiceFilter(choices=UsageAlertKind.choices)

    class Meta:
        model = UsageAlert
        fields = ["tenant", "kind"]
