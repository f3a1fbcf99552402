"""MSP staff pages for onboarding: tenants from a domain, app profiles with their grants
against the manifest, the consent timeline, and the actions (send a consent link, re-verify,
start re-authorization, offboard)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from tenants.choices import AppProfileStatus
from tenants.exceptions import DomainError
from tenants.manifest import manifest, manifest_version
from tenants.models import AppProfile, AuditEvent, ConsentRequest
from tenants.principals import request_principal
from tenants.services.onboarding import consent_request_create, tenant_onboard


class OnboardForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="The customer organisation's name.")
    domain = forms.CharField(
        max_length=253,
        help_text="Any domain the customer verified in Microsoft 365, e.g. contoso.onmicrosoft.com.",
    )
    slug = forms.SlugField(max_length=60, required=False, help_text="Defaults from the name.")


class ConsentLinkForm(forms.Form):
    sent_to = forms.EmailField(
        required=False,
        label="E-mail it to",
        help_text="The customer's Microsoft 365 administrator.",
    )
    valid_days = forms.IntegerField(min_value=1, max_value=30, initial=7, label="Valid for (days)")


def onboard_view(model_admin, request):
    """Create a tenant from a domain (its Entra tenant id comes from OpenID discovery)."""
    if not request.user.has_perm("tenants.add_tenant"):
        raise PermissionDenied
    form = OnboardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = tenant_onboard(by=request_principal(request), **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"{tenant.name} onboarded ({tenant.entra_tenant_id}).")
            return redirect("admin:tenants_appprofile_change", tenant.app_profile.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Onboard a tenant from its domain",
        "form": form,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/tenants/onboard.html", context)


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("needed", "Needs attention")]

    def queryset(self, request, queryset):
        if self.value() == "needed":
            prefix = "" if queryset.model is AppProfile else "app_profile__"
            return queryset.filter(
                ~Q(**{f"{prefix}status": AppProfileStatus.ACTIVE})
                | Q(**{f"{prefix}isnull" if prefix else "pk__isnull": True})
            )
        return queryset


def status_badge(value: str, label: str) -> str:
    return format_html('<span class="badge status-{}">{}</span>', value, label)


@admin.register(AppProfile)
class AppProfileAdmin(admin.ModelAdmin):
    list_display = [
        "tenant",
        "status_badge",
        "consented_by_upn",
        "consented_at",
        "last_verified_at",
    ]
    list_filter = [NeedsAttentionFilter, "status"]
    search_fields = ["tenant__name", "tenant__primary_domain", "consented_by_upn"]
    list_select_related = ["tenant"]
    change_form_template = "admin/tenants/appprofile/change_form.html"
    fields = [
        "tenant",
        "status",
        "status_reason",
        "consented_by_upn",
        "consented_by_role",
        "consented_at",
        "manifest_version",
        "service_principal_id",
        "token_user_upn",
        "last_verified_at",
        "last_verification_error",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj.status, obj.get_status_display())

    def get_urls(self):
        own = [
            path(
                "<int:pk>/consent-link/",
                self.admin_site.admin_view(self.consent_link_view),
                name="tenants_appprofile_consent_link",
            ),
            path(
                "<int:pk>/verify/",
                self.admin_site.admin_view(self.verify_view),
                name="tenants_appprofile_verify",
            ),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        profile = get_object_or_404(AppProfile.objects.select_related("tenant"), pk=object_id)
        grants = {grant.permission_key: grant for grant in profile.grants.all()}
        extra_context = {
            **(extra_context or {}),
            "profile": profile,
            "permissions": manifest(),
            "grants": grants,
            "current_manifest_version": manifest_version(),
            "consent_requests": ConsentRequest.objects.filter(profile=profile)[:20],
            "timeline": AuditEvent.objects.filter(tenant=profile.tenant).filter(
                Q(action__startswith="app_profile.")
                | Q(action__startswith="consent_request.")
                | Q(action__startswith="backup_service.")
            )[:50],
            "link_form": ConsentLinkForm(),
            # Every field is read-only: the actions below replace the save buttons.
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
            "backup_service": getattr(profile.tenant, "backup_service", None),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def consent_link_view(self, request, pk):
        """Make a consent link (creation or re-authorization follows from the profile)."""
        if request.method != "POST" or not request.user.has_perm("tenants.change_appprofile"):
            raise PermissionDenied
        profile = get_object_or_404(AppProfile.objects.select_related("tenant"), pk=pk)
        form = ConsentLinkForm(request.POST)
        if not form.is_valid():
            messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
            return redirect("admin:tenants_appprofile_change", pk)
        try:
            link = consent_request_create(
                by=request_principal(request),
                tenant=profile.tenant,
                sent_to=form.cleaned_data["sent_to"],
                valid_for=timezone.timedelta(days=form.cleaned_data["valid_days"]),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("admin:tenants_appprofile_change", pk)
        sent = f" and e-mailed to {link.request.sent_to}" if link.request.sent_to else ""
        messages.success(
            request,
            format_html(
                "Consent link created{} ({}; works once, until {} UTC): "
                '<a href="{}" data-testid="consent-link">{}</a>',
                sent,
                link.request.get_purpose_display().lower(),
                f"{link.request.expires_at:%d %b %Y %H:%M}",
                link.url,
                link.url,
            ),
        )
        return redirect("admin:tenants_appprofile_change", pk)

    def verify_view(self, request, pk):
        """Queue a verification now (it also runs every six hours)."""
        from tenants.tasks import app_profile_verify

        if request.method != "POST" or not request.user.has_perm("tenants.change_appprofile"):
            raise PermissionDenied
        app_profile_verify.delay(pk)
        messages.success(request, "Verification queued; reload in a moment to see the result.")
        return redirect("admin:tenants_appprofile_change", pk)


def profile_link(tenant) -> str:
    profile = getattr(tenant, "app_profile", None)
    if profile is None:
        return status_badge("missing", "No profile")
    url = reverse("admin:tenants_appprofile_change", args=[profile.pk])
    return format_html(
        '<a href="{}">{}</a>', url, status_badge(profile.status, profile.get_status_display())
    )
