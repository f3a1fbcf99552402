from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.generic import TemplateView

from tenants.exceptions import DomainError
from tenants.manifest import manifest
from tenants.models import AppProfile, AuditEvent, Membership, Tenant
from tenants.pages import TenantPageMixin
from tenants.principals import request_principal
from tenants.services.onboarding import consent_request_create


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


class AuthorizationView(TenantPageMixin, TemplateView):
    """The app profile as the customer sees it: status, who consented, every permission with
    its purpose and whether it is granted; customer admins can (re-)authorize from here."""

    template_name = "customer/authorization.html"
    section = "customer:authorization"
    writes = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        profile = self.scoped(AppProfile.objects).first()
        context.update(
            profile=profile,
            permissions=manifest(),
            grants={g.permission_key: g for g in profile.grants.all()} if profile else {},
        )
        return context

    def post(self, request, *args, **kwargs):
        try:
            link = consent_request_create(by=self.principal, tenant=self.tenant)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("customer:authorization", slug=self.tenant.slug)
        return redirect(link.url)
