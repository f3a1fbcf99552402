"""Customer pages of billing under `/t/<slug>/billing/`: usage and the month's estimate,
invoices with their downloads, and usage alerts. Rows come through `self.scoped(...)`, the
same `visible_to` scoping as the API; downloads are the API's PDF and CSV endpoints."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.generic import DetailView, ListView, TemplateView

from backups.choices import Workload
from billing import services
from billing.choices import Currency, UsageAlertKind
from billing.exceptions import DomainError
from billing.models import CreditNote, Invoice, Subscription, UsageAlert
from billing.periods import utc_today
from billing.pricing import WORKLOAD_ORDER
from billing.selectors import month_estimate, usage_chart
from tenants.pages import TenantPageMixin

USAGE_SECTION = "customer:billing-usage"
INVOICES_SECTION = "customer:billing-invoices"


class UsageView(TenantPageMixin, TemplateView):
    """Protected data per workload over the last 90 days, the plan, and what this month
    is costing so far."""

    template_name = "billing/usage.html"
    section = USAGE_SECTION

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = utc_today(timezone.now())
        chart = usage_chart(tenant_id=self.tenant.pk, end=today, days=90)
        labels = dict(Workload.choices)
        context.update(
            chart={
                "days": [day.isoformat() for day in chart.days],
                "series": [
                    {"workload": w, "label": labels[w], "values": chart.series[w]}
                    for w in WORKLOAD_ORDER
                ],
            },
            latest=self._latest(chart),
            estimate=month_estimate(tenant_id=self.tenant.pk, today=today),
            subscriptions=self.scoped(Subscription.objects)
            .select_related("plan")
            .prefetch_related("plan__prices")
            .overlapping(today, None)
            .order_by("starts_on")[:2],
            alert_count=self.scoped(UsageAlert.objects).count(),
        )
        return context

    @staticmethod
    def _latest(chart):
        """The last day with records, and its GB per workload in WORKLOAD_ORDER (the order of
        the chart's series, which the table's columns follow)."""
        for index in range(len(chart.days) - 1, -1, -1):
            values = [chart.series[w][index] for w in WORKLOAD_ORDER]
            if any(v is not None for v in values):
                return {"day": chart.days[index], "values": values}
        return None


class InvoiceListView(TenantPageMixin, ListView):
    template_name = "billing/invoices.html"
    section = INVOICES_SECTION
    context_object_name = "invoices"
    paginate_by = 24

    def get_queryset(self):
        return self.scoped(Invoice.objects).order_by("-period_start", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["credit_notes"] = (
            self.scoped(CreditNote.objects).select_related("invoice").order_by("-created_at")[:20]
        )
        return context


class InvoiceDetailView(TenantPageMixin, DetailView):
    """One invoice: its lines, the days and GB behind each quantity, credit notes."""

    model = Invoice
    template_name = "billing/invoice_detail.html"
    section = INVOICES_SECTION
    context_object_name = "invoice"

    def get_queryset(self):
        return self.scoped(Invoice.objects).prefetch_related("lines", "credit_notes")


class AlertForm(forms.Form):
    kind = forms.ChoiceField(choices=UsageAlertKind.choices, label="Alert me when")
    threshold = forms.CharField(
        max_length=40,
        help_text="An amount (e.g. 250.00), a number of GB, or a percentage (e.g. 80).",
    )
    currency = forms.ChoiceField(
        choices=[("", "My plan's currency"), *Currency.choices],
        required=False,
        help_text="For amounts only.",
    )
    email = forms.EmailField(label="Send the e-mail to")


class AlertsView(TenantPageMixin, TemplateView):
    """Alerts on usage or charges; customer admins add and remove them."""

    template_name = "billing/alerts.html"
    section = USAGE_SECTION
    writes = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        alerts = self.scoped(UsageAlert.objects).prefetch_related("notices").order_by("created_at")
        context["alerts"] = [
            {
                "alert": alert,
                "threshold": services.threshold_label(alert),
                "last_sent": max(
                    (n.month for n in alert.notices.all() if n.sent_at is not None), default=None
                ),
            }
            for alert in alerts
        ]
        context.setdefault("form", AlertForm(initial={"email": self.request.user.email}))
        return context

    def post(self, request, *args, **kwargs):
        now = timezone.now()
        if "delete" in request.POST:
            alert = get_object_or_404(self.scoped(UsageAlert.objects), pk=request.POST["delete"])
            services.usage_alert_delete(by=self.principal, alert=alert, now=now)
            messages.success(request, "The alert was removed.")
            return redirect("customer:billing-alerts", slug=self.tenant.slug)
        form = AlertForm(request.POST)
        if form.is_valid():
            try:
                services.usage_alert_create(
                    by=self.principal, tenant=self.tenant, now=now, **form.cleaned_data
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "The alert was saved.")
                return redirect("customer:billing-alerts", slug=self.tenant.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)
