"""Admin pages for invoice runs: started here, followed with a progress bar."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from billing import services
from billing.choices import InvoiceRunStatus
from billing.models import InvoiceRun
from billing.periods import Period, utc_today
from tenants.principals import request_principal


class InvoiceRunForm(forms.ModelForm):
    period = forms.CharField(
        max_length=7,
        label="Month",
        help_text="YYYY-MM; a month that is over. Re-running a month refreshes its drafts and "
        "never adds a second invoice.",
    )

    class Meta:
        model = InvoiceRun
        fields = []

    def clean_period(self):
        try:
            month = Period.parse_month(self.cleaned_data["period"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if month.end > utc_today(timezone.now()):
            raise ValidationError(f"{month.label} is not over yet.")
        return month


@admin.register(InvoiceRun)
class InvoiceRunAdmin(admin.ModelAdmin):
    form = InvoiceRunForm
    list_display = [
        "__str__",
        "progress",
        "created_count",
        "refreshed_count",
        "skipped_count",
        "started_by_label",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status"]
    change_form_template = "admin/billing/invoicerun/change_form.html"
    readonly_fields = [
        "period_start",
        "status",
        "progress",
        "total",
        "done",
        "created_count",
        "refreshed_count",
        "skipped_count",
        "started_by_label",
        "error",
        "created_at",
        "started_at",
        "finished_at",
    ]

    @admin.display(description="Progress")
    def progress(self, obj):
        return format_html(
            '<progress value="{}" max="{}" title="{} of {}"></progress> {} / {}',
            obj.done,
            max(obj.total, 1),
            obj.done,
            obj.total,
            obj.done,
            obj.total,
        )

    def get_fields(self, request, obj=None):
        return ["period"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        previous = Period.month_of(utc_today(timezone.now())).previous_month()
        return {"period": previous.label}

    def save_model(self, request, obj, form, change):
        run = services.invoice_run_start(
            by=request_principal(request),
            period_start=form.cleaned_data["period"].start,
            now=timezone.now(),
        )
        obj.pk = run.pk
        obj.refresh_from_db()

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request,
            f"The invoice run for {obj.period_start:%Y-%m} is {obj.get_status_display().lower()}; "
            "this page follows its progress.",
            messages.SUCCESS,
        )
        return redirect(reverse("admin:billing_invoicerun_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = InvoiceRun.objects.filter(pk=object_id).first()
        active = run is not None and run.status in (
            InvoiceRunStatus.QUEUED,
            InvoiceRunStatus.RUNNING,
        )
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "refresh": active}
        )
