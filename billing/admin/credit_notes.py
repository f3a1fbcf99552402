"""Admin pages for credit notes: issued through the service, never edited."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing import services
from billing.choices import InvoiceStatus
from billing.exceptions import DomainError
from billing.models import CreditNote, Invoice
from billing.money import format_money, parse_major
from tenants.principals import request_principal


class CreditNoteForm(forms.ModelForm):
    amount = forms.DecimalField(
        max_digits=18,
        decimal_places=2,
        help_text="In the invoice's currency, e.g. 12.50; at most what remains creditable.",
    )

    class Meta:
        model = CreditNote
        fields = ["invoice", "amount", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = Invoice.objects.filter(
            status__in=[InvoiceStatus.FINALIZED, InvoiceStatus.PAID]
        ).select_related("tenant")

    def clean(self):
        cleaned = super().clean()
        invoice, amount = cleaned.get("invoice"), cleaned.get("amount")
        if invoice is None or amount is None:
            return cleaned
        try:
            cleaned["amount_minor"] = parse_major(amount, invoice.currency)
            services.credit_note_check(invoice=invoice, amount_minor=cleaned["amount_minor"])
        except ValueError as exc:
            raise ValidationError({"amount": str(exc)}) from None
        except DomainError as exc:
            field = "amount" if exc.field == "amount_minor" else None
            raise ValidationError({field: exc.message} if field else exc.message) from None
        return cleaned


@admin.register(CreditNote)
class CreditNoteAdmin(admin.ModelAdmin):
    form = CreditNoteForm
    list_display = ["number", "invoice", "tenant", "amount_display", "reason", "created_at"]
    search_fields = ["number", "invoice__number", "tenant__name"]
    list_select_related = ["invoice", "tenant"]
    raw_id_fields = ["invoice"]

    @admin.display(description="Amount", ordering="amount_minor")
    def amount_display(self, obj):
        return format_money(obj.amount_minor, obj.currency)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "number",
            "tenant",
            "invoice",
            "amount_display",
            "reason",
            "created_at",
            "created_by_label",
        ]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) or ["invoice", "amount", "reason"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        return {"invoice": request.GET.get("invoice")}

    def save_model(self, request, obj, form, change):
        note = services.credit_note_create(
            by=request_principal(request),
            invoice=form.cleaned_data["invoice"],
            amount_minor=form.cleaned_data["amount_minor"],
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
        )
        obj.pk = note.pk
        obj.refresh_from_db()
