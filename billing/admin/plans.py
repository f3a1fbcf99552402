"""Admin pages for plans and subscriptions. Saves go through the services; their domain
errors come back as form errors, never as a 500."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.utils import timezone

from billing import services
from billing.exceptions import DomainError
from billing.models import Plan, PlanPrice, Subscription
from billing.selectors import subscription_is_invoiced
from billing.services.plans import PLAN_FIELDS, PLAN_FIXED_WHEN_USED, PLAN_TERMS
from tenants.principals import request_principal


def _as_form_error(exc: DomainError, form: forms.BaseForm) -> ValidationError:
    field = exc.field if exc.field in form.fields else None
    return ValidationError({field: exc.message} if field else exc.message)


def _steps(formset) -> list[dict]:
    return [
        {
            "workload": form.cleaned_data.get("workload") or "",
            "up_to": form.cleaned_data.get("up_to"),
            "unit_price": form.cleaned_data["unit_price"],
        }
        for form in formset.forms
        if form.cleaned_data
        and not form.cleaned_data.get("DELETE")
        and form.cleaned_data.get("unit_price") is not None
    ]


class PlanPriceFormSet(BaseInlineFormSet):
    """Checks the ladders as a whole with the service's rules (the plan's terms are the
    values just entered in the plan form)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        plan = self.instance
        try:
            services.plan_validate(
                prices=_steps(self), **{name: getattr(plan, name) for name in PLAN_TERMS}
            )
        except DomainError as exc:
            raise ValidationError(exc.message) from None

    def validate_unique(self):
        # Steps are replaced as a whole by the service; the ladder rules above cover them.
        return


class PlanPriceInline(admin.TabularInline):
    model = PlanPrice
    formset = PlanPriceFormSet
    extra = 1
    fields = ["workload", "up_to", "unit_price"]
    verbose_name = "price step"
    verbose_name_plural = "Prices: one open-ended step per ladder; tiers are graduated"


class PlanForm(forms.ModelForm):
    class Meta:
        model = Plan
        fields = list(PLAN_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.instance.subscriptions.exists():
            for name in PLAN_FIXED_WHEN_USED:
                if name in self.changed_data:
                    self.add_error(
                        name, "This plan has subscriptions; create a new plan for another one."
                    )
        return cleaned


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    inlines = [PlanPriceInline]
    list_display = [
        "name",
        "kind",
        "quantity_rule",
        "currency",
        "price_summary",
        "subscription_count",
        "is_active",
    ]
    list_filter = ["kind", "currency", "is_active"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "description", "is_active"]}),
        ("What is counted", {"fields": ["kind", "quantity_rule", "currency"]}),
        (
            "Monthly terms (prorated by day for part of a month)",
            {"fields": ["included_quantity", "minimum_fee_minor", "discount_percent"]},
        ),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_subscriptions=Count("subscriptions"))
            .prefetch_related("prices")
        )

    @admin.display(description="Subscriptions", ordering="_subscriptions")
    def subscription_count(self, obj):
        return obj._subscriptions

    @admin.display(description="Prices")
    def price_summary(self, obj):
        return "; ".join(
            f"{p.workload or 'all'}{f' to {p.up_to.normalize():f}' if p.up_to else ''}: "
            f"{p.unit_price.normalize():f}"
            for p in obj.prices.all()
        )

    def has_delete_permission(self, request, obj=None):
        return False  # retire a plan with "active" off; invoices keep pointing at it

    def save_model(self, request, obj, form, change):
        """Saved with its prices in `save_related`, in one service call."""

    def save_formset(self, request, form, formset, change):
        """Prices are written by the plan service in `save_related`."""
        # What the admin's change message reads from a saved formset: nothing saved here.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def save_related(self, request, form, formsets, change):
        by = request_principal(request)
        prices = _steps(formsets[0])
        for formset in formsets:
            self.save_formset(request, form, formset, change)
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            plan = services.plan_update(by=by, plan=form.instance, prices=prices, **changes)
        else:
            plan = services.plan_create(
                by=by, prices=prices, **{name: form.cleaned_data[name] for name in PLAN_FIELDS}
            )
        form.instance.pk = plan.pk
        form.instance.refresh_from_db()


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = ["tenant", "plan", "starts_on", "ends_on"]
        help_texts = {
            "starts_on": "First billed day (UTC).",
            "ends_on": "First day no longer billed; empty for open-ended.",
        }

    def clean(self):
        cleaned = super().clean()
        tenant = cleaned.get("tenant") or getattr(self.instance, "tenant", None)
        plan = cleaned.get("plan") or getattr(self.instance, "plan", None)
        starts_on = cleaned.get("starts_on") or self.instance.starts_on
        if tenant is None or plan is None or starts_on is None:
            return cleaned
        if not self.instance.pk and not plan.is_active:
            self.add_error("plan", "This plan no longer takes new subscriptions.")
            return cleaned
        try:
            services.subscription_validate(
                tenant=tenant,
                plan=plan,
                starts_on=starts_on,
                ends_on=cleaned.get("ends_on"),
                exclude_pk=self.instance.pk,
            )
        except DomainError as exc:
            raise _as_form_error(exc, self) from None
        return cleaned

    def validate_constraints(self, exclude=None):
        # The overlap check above says it in words; the database constraint stays the guard.
        return


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["tenant", "plan", "starts_on", "ends_on", "created_at"]
    list_filter = ["plan"]
    search_fields = ["tenant__name", "tenant__slug", "plan__name"]
    list_select_related = ["tenant", "plan"]
    autocomplete_fields = ["tenant"]
    date_hierarchy = "starts_on"

    def get_readonly_fields(self, request, obj=None):
        # A plan change is "end this one, start the next": only the end date changes.
        return ["tenant", "plan", "starts_on"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        by, now = request_principal(request), timezone.now()
        if change:
            saved = services.subscription_end(by=by, subscription=obj, ends_on=obj.ends_on, now=now)
        else:
            saved = services.subscription_create(
                by=by,
                tenant=obj.tenant,
                plan=obj.plan,
                starts_on=obj.starts_on,
                ends_on=obj.ends_on,
                now=now,
            )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or not subscription_is_invoiced(obj))

    def delete_model(self, request, obj):
        services.subscription_delete(
            by=request_principal(request), subscription=obj, now=timezone.now()
        )

    def delete_queryset(self, request, queryset):
        by, now = request_principal(request), timezone.now()
        for subscription in queryset:
            try:
                services.subscription_delete(by=by, subscription=subscription, now=now)
            except DomainError as exc:
                self.message_user(request, f"{subscription}: {exc.message}", messages.ERROR)
