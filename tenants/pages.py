"""Base for customer pages under `/t/<slug>/`.

The tenant is resolved once per request through `Tenant.objects.visible_to(principal)`, the
same scoping the API uses: another tenant's slug answers 404, an anonymous visitor is sent to
sign in. Views then reach their rows with `self.scoped(Model.objects)`.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.views.generic.base import ContextMixin

from tenants.models import Tenant
from tenants.principals import Principal, request_principal

# Sections of the customer pages, in navigation order: (label, url name). Apps add theirs.
CUSTOMER_SECTIONS: list[tuple[str, str]] = [
    ("Overview", "customer:overview"),
    ("Authorization", "customer:authorization"),
]


class TenantPageMixin(LoginRequiredMixin, ContextMixin):
    # Set True on pages that change data: customer viewers and read-only principals get 403.
    writes = False
    section = "customer:overview"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.principal: Principal = request_principal(request)
        try:
            self.tenant = Tenant.objects.visible_to(self.principal).get(slug=kwargs["slug"])
        except Tenant.DoesNotExist as exc:
            raise Http404("No such tenant.") from exc
        writing = self.writes and request.method not in ("GET", "HEAD", "OPTIONS")
        if writing and not self.principal.can_write_tenant(self.tenant.pk):
            raise PermissionDenied("Your role in this tenant is read-only.")
        return super().dispatch(request, *args, **kwargs)

    def scoped(self, manager_or_queryset):
        """Rows of this page's tenant that the principal may see."""
        return manager_or_queryset.visible_to(self.principal).filter(tenant=self.tenant)

    @property
    def can_write(self) -> bool:
        return self.principal.can_write_tenant(self.tenant.pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            tenant=self.tenant,
            sections=CUSTOMER_SECTIONS,
            active_section=self.section,
            can_write=self.can_write,
        )
        return context
