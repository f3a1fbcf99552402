"""MSP staff pages for tenants, memberships, the audit log and API keys.

Saves go through the same services as the API, so admin changes are validated and audited.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from rest_framework_api_key.models import APIKey

from tenants import services
from tenants.admin_onboarding import NeedsAttentionFilter, onboard_view, profile_link, status_badge
from tenants.choices import TenantStatus
from tenants.exceptions import DomainError
from tenants.models import ApiKey, AuditEvent, Membership, Tenant
from tenants.principals import request_principal

# The library registers its own concrete model; the portal uses tenants.ApiKey instead.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "primary_domain",
        "status_badge",
        "app_profile_badge",
        "backup_service_badge",
        "member_count",
        "created_at",
    ]
    list_filter = [NeedsAttentionFilter, "status"]
    change_list_template = "admin/tenants/tenant/change_list.html"
    search_fields = ["name", "slug", "primary_domain", "entra_tenant_id"]
    readonly_fields = ["status", "status_reason", "status_changed_at", "created_at", "updated_at"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    actions = ["suspend_selected", "reactivate_selected"]
    list_per_page = 50

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("app_profile", "backup_service")
            .annotate(_member_count=Count("memberships"))
        )

    def get_urls(self):
        from django.urls import path

        onboard = path(
            "onboard/",
            self.admin_site.admin_view(lambda request: onboard_view(self, request)),
            name="tenants_tenant_onboard",
        )
        return [onboard, *super().get_urls()]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="App profile")
    def app_profile_badge(self, obj):
        return profile_link(obj)

    @admin.display(description="Backup service")
    def backup_service_badge(self, obj):
        service = getattr(obj, "backup_service", None)
        if service is None:
            return status_badge("none", "Not connected")
        label = service.get_status_display()
        if service.service_app_status == "pending_active":
            label = f"Hand-over {service.service_app_effective_at:%d %b}"
        elif service.offboard_requested_at:
            label = f"Offboarded, billed until {service.billing_ends_at:%d %b}"
        return status_badge(
            service.service_app_status
            if service.service_app_status == "pending_active"
            else service.status,
            label,
        )

    @admin.display(description="Members", ordering="_member_count")
    def member_count(self, obj):
        return obj._member_count

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("entra_tenant_id")
        return fields

    def save_model(self, request, obj, form, change):
        by = request_principal(request)
        if change:
            changes = {
                name: form.cleaned_data[name]
                for name in services.EDITABLE_TENANT_FIELDS
                if name in form.changed_data
            }
            saved = services.tenant_update(by=by, tenant=obj, **changes)
        else:
            saved = services.tenant_create(
                by=by,
                name=obj.name,
                slug=obj.slug,
                entra_tenant_id=obj.entra_tenant_id,
                primary_domain=obj.primary_domain,
            )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        by = request_principal(request)
        instances = formset.save(commit=False)
        for removed in formset.deleted_objects:
            services.membership_delete(by=by, membership=removed)
        for membership in instances:
            if membership.pk is None:
                services.membership_add(
                    by=by, tenant=form.instance, user=membership.user, role=membership.role
                )
            else:
                services.membership_update(by=by, membership=membership, role=membership.role)

    @admin.action(description="Suspend selected tenants")
    def suspend_selected(self, request, queryset):
        self._transition(request, queryset, TenantStatus.SUSPENDED, "Suspended from the admin.")

    @admin.action(description="Reactivate selected tenants")
    def reactivate_selected(self, request, queryset):
        self._transition(request, queryset, TenantStatus.ACTIVE, "")

    def _transition(self, request, queryset, status, reason):
        by = request_principal(request)
        done = 0
        for tenant in queryset:
            try:
                services.tenant_set_status(by=by, tenant=tenant, status=status, reason=reason)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{tenant}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} tenant(s) updated.", messages.SUCCESS)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "tenant__name"]
    list_select_related = ["user", "tenant"]
    autocomplete_fields = ["user", "tenant"]

    def save_model(self, request, obj, form, change):
        by = request_principal(request)
        if change:
            services.membership_update(by=by, membership=obj, role=obj.role)
        else:
            saved = services.membership_add(by=by, tenant=obj.tenant, user=obj.user, role=obj.role)
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.membership_delete(by=request_principal(request), membership=obj)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is written by services and never edited."""

    list_display = ["created_at", "actor_label", "tenant", "action", "target_label", "source_ip"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_label", "action", "target_label", "tenant__name"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant"]
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "tenant", "read_only", "expiry_date"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["prefix", "name", "scope", "read_only", "created", "last_used_at", "revoked"]
    list_filter = ["revoked", "read_only"]
    search_fields = ["name", "prefix", "tenant__name"]
    list_select_related = ["tenant"]
    autocomplete_fields = ["tenant"]
    actions = ["revoke_selected"]

    @admin.display(description="Reaches")
    def scope(self, obj):
        return obj.tenant.name if obj.tenant_id else "All tenants (MSP)"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "prefix",
            "name",
            "tenant",
            "read_only",
            "expiry_date",
            "created",
            "last_used_at",
            "revoked",
            "revoked_at",
        ]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) or [
            "name",
            "tenant",
            "read_only",
            "expiry_date",
        ]

    def save_model(self, request, obj, form, change):
        if change:
            return
        api_key, plaintext = services.api_key_create(
            by=request_principal(request),
            name=obj.name,
            tenant=obj.tenant,
            read_only=obj.read_only,
            expires_at=obj.expiry_date,
        )
        obj.pk = api_key.pk
        obj.prefix = api_key.prefix
        self.message_user(
            request,
            f"The API key for “{api_key.name}” is {plaintext} — copy it now: it is stored only "
            "as a hash and will not be shown again.",
            messages.WARNING,
        )

    def has_delete_permission(self, request, obj=None):
        # Keys are revoked, not deleted, so the audit trail keeps pointing at them.
        return False

    @admin.action(description="Revoke selected keys")
    def revoke_selected(self, request, queryset):
        by = request_principal(request)
        for api_key in queryset:
            services.api_key_revoke(by=by, api_key=api_key)
        self.message_user(request, f"{queryset.count()} key(s) revoked.", messages.SUCCESS)
