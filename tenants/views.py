from django.shortcuts import redirect, render
from django.views.generic import TemplateView

from tenants.models import AuditEvent, Membership, Tenant
from tenants.pages import TenantPageMixin
from tenants.principals import request_principal


def home(request):
    """Send each visitor where they work: staff to the admin, customers to their tenant."""
    if not request.user.is_authenticated:
        return redirect("login")
    principal = request_principal(request)
    if principal.is_msp:
        return redirect("admin:index")
    tenants = list(Tenant.objects.visible_to(principal).order_by("name"))
    if len(tenants) == 1:
        return redirect("customer:overview", slug=tenants[0].slug)
    return render(request, "customer/choose_tenant.html", {"tenants": tenants})


class OverviewView(TenantPageMixin, TemplateView):
    template_name = "customer/overview.html"
    section = "customer:overview"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["members"] = (
            self.scoped(Membership.objects)
            .select_related("user")
            .order_by("role", "user__username")
        )
        context["recent_events"] = self.scoped(AuditEvent.objects).order_by("-created_at")[:10]
        return context
