"""Inventory, coverage, scopes, policies and units for MSP staff."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from backups.choices import UNIT_PENDING_STATUSES, JobKind, ProtectionUnitStatus, Workload
from backups.models import ProtectionPolicy, ProtectionScope, ProtectionUnit, Resource
from backups.selectors import coverage, resources_unprotected, resources_with_protection
from backups.services.jobs import backup_job_start
from backups.services.scope import protection_scope_set
from tenants.exceptions import DomainError
from tenants.models import Tenant
from tenants.principals import request_principal


class PresenceFilter(admin.SimpleListFilter):
    title = "presence"
    parameter_name = "present"

    def lookups(self, request, model_admin):
        return [("yes", "In the tenant"), ("no", "Gone from the tenant")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


class ProtectionFilter(admin.SimpleListFilter):
    title = "protection"
    parameter_name = "protection"

    def lookups(self, request, model_admin):
        return [
            ("protected", "Protected"),
            ("pending", "Being protected"),
            ("failed", "Refused"),
            ("unprotected", "Unprotected"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "protected":
            return queryset.filter(unit_status=ProtectionUnitStatus.PROTECTED)
        if value == "pending":
            return queryset.filter(unit_status__in=UNIT_PENDING_STATUSES)
        if value == "failed":
            return queryset.filter(unit_status=ProtectionUnitStatus.FAILED)
        if value == "unprotected":
            return resources_unprotected(queryset)
        return queryset


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "tenant",
        "kind",
        "email_or_url",
        "size",
        "protection",
        "first_seen_at",
        "last_seen_at",
        "deleted_at",
    ]
    list_filter = [
        ProtectionFilter,
        PresenceFilter,
        "kind",
        "workload",
        ("tenant", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["display_name", "email", "web_url", "external_id"]
    list_select_related = ["tenant"]
    list_per_page = 100
    ordering = ["tenant__name", "kind", "display_name"]
    readonly_fields = [f.name for f in Resource._meta.fields]
    change_list_template = "admin/backups/resource/change_list.html"

    def get_queryset(self, request):
        return resources_with_protection(super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="E-mail / URL")
    def email_or_url(self, obj):
        return obj.email or obj.web_url

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj):
        return filesizeformat(obj.size_bytes) if obj.workload else "—"

    @admin.display(description="Protection")
    def protection(self, obj):
        if not obj.workload:
            return "—"
        status = obj.unit_status or "unprotected"
        css = {"protected": "protected", "failed": "failed", "unprotected": "missing"}.get(
            status, "pending"
        )
        return format_html('<span class="badge status-{}">{}</span>', css, status.replace("_", " "))

    def get_urls(self):
        return [
            path(
                "coverage/",
                self.admin_site.admin_view(self.coverage_view),
                name="backups_resource_coverage",
            ),
            *super().get_urls(),
        ]

    def coverage_view(self, request):
        """Discovered versus protected per tenant and workload, linking to the unprotected."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = coverage(Resource.objects.all())
        names = dict(
            Tenant.objects.filter(pk__in={r.tenant_id for r in rows}).values_list("pk", "name")
        )
        changelist = reverse("admin:backups_resource_changelist")
        table = [
            {
                "tenant": names.get(r.tenant_id, r.tenant_id),
                "workload": Workload(r.workload).label,
                "row": r,
                "unprotected_url": f"{changelist}?tenant__id__exact={r.tenant_id}&workload={r.workload}"
                "&protection=unprotected&present=yes",
                "failed_url": reverse("admin:backups_protectionunit_changelist")
                + f"?tenant__id__exact={r.tenant_id}&workload={r.workload}&has_error=yes",
            }
            for r in rows
        ]
        return TemplateResponse(
            request,
            "admin/backups/resource/coverage.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Protection coverage",
                "table": table,
            },
        )


class ScopeForm(forms.ModelForm):
    group_ids_text = forms.CharField(
        label="Groups",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Directory ids of scanned groups, one per line: their members are protected "
        "(for SharePoint, the groups' sites).",
    )
    url_patterns_text = forms.CharField(
        label="URL patterns",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line; * and ? wildcards; matched against web URLs (e-mail addresses "
        "for mailboxes).",
    )

    class Meta:
        model = ProtectionScope
        fields = ["tenant", "workload", "mode", "auto_add_new"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["group_ids_text"].initial = "\n".join(self.instance.group_ids)
            self.fields["url_patterns_text"].initial = "\n".join(self.instance.url_patterns)
            self.fields["tenant"].disabled = True
            self.fields["workload"].disabled = True


@admin.register(ProtectionScope)
class ProtectionScopeAdmin(admin.ModelAdmin):
    form = ScopeForm
    list_display = [
        "tenant",
        "workload",
        "mode",
        "auto_add_new",
        "patterns",
        "groups",
        "picks",
        "updated_at",
    ]
    list_filter = ["workload", "mode", ("tenant", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["tenant"]
    actions = ["apply_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_picks=Count("selections"))

    @admin.display(description="URL patterns")
    def patterns(self, obj):
        return ", ".join(obj.url_patterns) or "—"

    @admin.display(description="Groups")
    def groups(self, obj):
        return len(obj.group_ids)

    @admin.display(description="Picks and exclusions")
    def picks(self, obj):
        return obj._picks

    def save_model(self, request, obj, form, change):
        def lines(name):
            return [s.strip() for s in form.cleaned_data.get(name, "").splitlines() if s.strip()]

        try:
            saved = protection_scope_set(
                by=request_principal(request),
                tenant=form.cleaned_data["tenant"],
                workload=form.cleaned_data["workload"],
                now=timezone.now(),
                mode=form.cleaned_data["mode"],
                auto_add_new=form.cleaned_data["auto_add_new"],
                group_ids=lines("group_ids_text"),
                url_patterns=lines("url_patterns_text"),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return
        obj.pk = saved.pk

    @admin.action(description="Apply the scopes of the selected tenants now")
    def apply_now(self, request, queryset):
        principal = request_principal(request)
        for tenant in {scope.tenant for scope in queryset.select_related("tenant")}:
            try:
                job, _ = backup_job_start(
                    by=principal, tenant=tenant, kind=JobKind.APPLY_SCOPE, now=timezone.now()
                )
                messages.success(
                    request, f"{tenant.name}: scope application queued (job {job.pk})."
                )
            except DomainError as exc:
                messages.error(request, f"{tenant.name}: {exc.message}")


@admin.register(ProtectionPolicy)
class ProtectionPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "tenant",
        "workload",
        "display_name",
        "graph_status",
        "protected",
        "pending",
        "failed",
        "retention_days",
        "activated_at",
        "last_synced_at",
    ]
    list_filter = ["workload", "graph_status", ("tenant", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["tenant"]
    readonly_fields = [f.name for f in ProtectionPolicy._meta.fields]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _protected=Count(
                    "units",
                    filter=Q(
                        units__status=ProtectionUnitStatus.PROTECTED, units__removed_at__isnull=True
                    ),
                ),
                _pending=Count("units", filter=Q(units__status__in=UNIT_PENDING_STATUSES)),
                _failed=Count(
                    "units",
                    filter=Q(
                        units__status=ProtectionUnitStatus.FAILED, units__removed_at__isnull=True
                    ),
                ),
            )
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Protected", ordering="_protected")
    def protected(self, obj):
        return obj._protected

    @admin.display(description="Pending", ordering="_pending")
    def pending(self, obj):
        return obj._pending

    @admin.display(description="Refused", ordering="_failed")
    def failed(self, obj):
        return obj._failed


class HasErrorFilter(admin.SimpleListFilter):
    title = "error"
    parameter_name = "has_error"

    def lookups(self, request, model_admin):
        return [("yes", "With an error"), ("no", "Without")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(error_code="")
        if self.value() == "no":
            return queryset.filter(error_code="")
        return queryset


@admin.register(ProtectionUnit)
class ProtectionUnitAdmin(admin.ModelAdmin):
    list_display = [
        "resource",
        "tenant",
        "workload",
        "status_badge",
        "error_code",
        "short_error",
        "requested_at",
        "protected_at",
        "removed_at",
        "size_at_removal",
    ]
    list_filter = [
        HasErrorFilter,
        "status",
        "workload",
        ("tenant", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["resource__display_name", "resource__email", "graph_id", "error_code"]
    list_select_related = ["tenant", "resource"]
    list_per_page = 100
    ordering = ["-requested_at", "-id"]
    readonly_fields = [f.name for f in ProtectionUnit._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        css = {"protected": "protected", "failed": "failed", "removed": "draft"}.get(
            obj.status, "pending"
        )
        return format_html('<span class="badge status-{}">{}</span>', css, obj.get_status_display())

    @admin.display(description="Error message")
    def short_error(self, obj):
        return (
            (obj.error_message[:100] + "…") if len(obj.error_message) > 100 else obj.error_message
        )

    @admin.display(description="Frozen size")
    def size_at_removal(self, obj):
        return (
            filesizeformat(obj.size_at_removal_bytes)
            if obj.size_at_removal_bytes is not None
            else "—"
        )
