"""Admin pages for invoices (credit notes and runs have their own modules).

An invoice is never edited here once finalized: its change page is read-only (a POST is
refused), and finalize / void / mark paid / credit go through the services.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from billing import services
from billing.exceptions import DomainError
from billing.models import CreditNote, Invoice, InvoiceLine
from billing.money import format_money
from billing.periods import Period, utc_today
from billing.selectors import margin_rows
from tenants.principals import request_principal


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ["position", "description", "plan_name", "quantity", "unit", "unit_price", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="Amount")
    def amount(self, obj):
        return format_money(obj.amount_minor, obj.invoice.currency)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CreditNoteInline(admin.TabularInline):
    model = CreditNote
    fields = ["number", "amount", "reason", "created_at", "created_by_label"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="Amount")
    def amount(self, obj):
        return format_money(obj.amount_minor, obj.currency)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VoidForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "tenant",
        "period_start",
        "status",
        "total",
        "credited",
        "due_on",
        "created_at",
    ]
    list_filter = ["status", "currency"]
    date_hierarchy = "period_start"
    search_fields = ["number", "tenant__name", "tenant__slug"]
    list_select_related = ["tenant"]
    list_per_page = 100
    inlines = [InvoiceLineInline, CreditNoteInline]
    actions = ["finalize_selected", "mark_paid_selected", "recalculate_selected", "void_selected"]
    fields = [
        "tenant",
        "period_start",
        "period_end",
        "status",
        "number",
        "currency",
        "total",
        "credited",
        "amount_due",
        "microsoft_cost",
        "notes",
        "finalized_at",
        "due_on",
        "paid_at",
        "voided_at",
        "void_reason",
        "run",
        "created_at",
        "updated_at",
    ]
    change_form_template = "admin/billing/invoice/change_form.html"
    change_list_template = "admin/billing/invoice/change_list.html"

    @admin.display(description="Invoice", ordering="number")
    def label(self, obj):
        return obj.number or "Draft"

    @admin.display(description="Total", ordering="total_minor")
    def total(self, obj):
        return format_money(obj.total_minor, obj.currency)

    @admin.display(description="Credited")
    def credited(self, obj):
        return format_money(obj.credited_minor, obj.currency) if obj.credited_minor else "-"

    @admin.display(description="Amount due")
    def amount_due(self, obj):
        return format_money(obj.amount_due_minor, obj.currency)

    @admin.display(description="Microsoft's charge (USD)")
    def microsoft_cost(self, obj):
        rows = margin_rows(
            first=obj.period_start, last=obj.period_start, tenant_ids=[obj.tenant_id]
        )
        row = next((r for r in rows if r.month == obj.period_start), None)
        if row is None:
            return "no usage recorded"
        margin = (
            "" if row.margin_minor is None else f", margin {format_money(row.margin_minor, 'USD')}"
        )
        return f"{format_money(row.cost_minor, 'USD')} for {row.gb_month.normalize():f} GB-month{margin}"

    def get_readonly_fields(self, request, obj=None):
        editable = {"notes"} if obj is not None and obj.is_draft else set()
        return [name for name in self.fields if name not in editable]

    def has_add_permission(self, request):
        return False  # invoices come from the invoice run

    def has_delete_permission(self, request, obj=None):
        return False  # void instead; numbers are never reused

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        # A finalized (paid, void) invoice never changes: its page is view-only.
        return allowed and (obj is None or obj.is_draft)

    def save_model(self, request, obj, form, change):
        services.invoice_update(
            by=request_principal(request), invoice=obj, notes=obj.notes, now=timezone.now()
        )

    def save_formset(self, request, form, formset, change):
        """Lines and credit notes are read-only here."""
        # What the admin's change message reads from a saved formset: nothing saved here.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def changelist_view(self, request, extra_context=None):
        previous = Period.month_of(utc_today(timezone.now())).previous_month()
        return super().changelist_view(
            request, {**(extra_context or {}), "export_month": previous.label}
        )

    # --- actions ------------------------------------------------------------------------

    def _each(self, request, queryset, call, done_message):
        by, now, done = request_principal(request), timezone.now(), 0
        for invoice in queryset:
            try:
                call(by=by, invoice=invoice, now=now)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{invoice}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, done_message.format(done), messages.SUCCESS)

    @admin.action(description="Finalize selected drafts", permissions=["change"])
    def finalize_selected(self, request, queryset):
        self._each(request, queryset, services.invoice_finalize, "{} invoice(s) finalized.")

    @admin.action(description="Mark selected as paid", permissions=["change"])
    def mark_paid_selected(self, request, queryset):
        self._each(request, queryset, services.invoice_mark_paid, "{} invoice(s) marked paid.")

    @admin.action(description="Recalculate drafts / redraft voided", permissions=["change"])
    def recalculate_selected(self, request, queryset):
        by, now, done = request_principal(request), timezone.now(), 0
        for invoice in queryset:
            try:
                services.invoice_redraft(
                    by=by, tenant_id=invoice.tenant_id, period_start=invoice.period_start, now=now
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{invoice}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} draft(s) recalculated.", messages.SUCCESS)

    @admin.action(description="Void selected (asks for a reason)", permissions=["change"])
    def void_selected(self, request, queryset):
        form = VoidForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda **kw: services.invoice_void(reason=reason, **kw),
                "{} invoice(s) voided.",
            )
            return None
        return TemplateResponse(
            request,
            "admin/billing/invoice/void.html",
            {
                **self.admin_site.each_context(request),
                "title": "Void invoices",
                "invoices": queryset,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    # --- extra pages --------------------------------------------------------------------

    def get_urls(self):
        from billing.admin.dashboard import dashboard_view

        extra = [
            path(
                "dashboard/",
                self.admin_site.admin_view(dashboard_view(self.admin_site)),
                name="billing_dashboard",
            ),
            path(
                "<int:pk>/finalize/",
                self.admin_site.admin_view(
                    self._transition(services.invoice_finalize, "finalized")
                ),
                name="billing_invoice_finalize",
            ),
            path(
                "<int:pk>/mark-paid/",
                self.admin_site.admin_view(
                    self._transition(services.invoice_mark_paid, "marked paid")
                ),
                name="billing_invoice_mark_paid",
            ),
            path(
                "<int:pk>/void/",
                self.admin_site.admin_view(self._void_view),
                name="billing_invoice_void",
            ),
        ]
        return extra + super().get_urls()

    def _require_change(self, request):
        if not request.user.has_perm("billing.change_invoice"):
            raise PermissionDenied

    def _transition(self, service, verb):
        def view(request, pk):
            self._require_change(request)
            if request.method != "POST":
                return redirect("admin:billing_invoice_change", pk)
            invoice = get_object_or_404(Invoice, pk=pk)
            try:
                invoice = service(
                    by=request_principal(request), invoice=invoice, now=timezone.now()
                )
                self.message_user(request, f"{invoice} {verb}.", messages.SUCCESS)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            return redirect("admin:billing_invoice_change", pk)

        return view

    def _void_view(self, request, pk):
        self._require_change(request)
        invoice = get_object_or_404(Invoice.objects.select_related("tenant"), pk=pk)
        form = VoidForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.invoice_void(
                    by=request_principal(request),
                    invoice=invoice,
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),
                )
                self.message_user(request, f"{invoice} voided.", messages.SUCCESS)
                return redirect("admin:billing_invoice_change", pk)
            except DomainError as exc:
                form.add_error("reason" if exc.field == "reason" else None, exc.message)
        return TemplateResponse(
            request,
            "admin/billing/invoice/void.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Void {invoice}",
                "invoices": [invoice],
                "form": form,
                "single": True,
                "opts": self.model._meta,
            },
        )
