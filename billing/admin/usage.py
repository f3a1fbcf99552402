"""Admin pages for usage records and the reconciliation check (billable days without a
record), with a button that backfills them."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from billing.models import UsageRecord
from billing.periods import Period, utc_today
from billing.selectors import gb_text, usage_gaps
from tenants.models import Tenant


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    """Read-only: usage is written by metering only."""

    list_display = [
        "day",
        "tenant",
        "workload",
        "gb",
        "protected_units",
        "protected_users",
        "recorded_at",
    ]
    list_filter = ["workload"]
    search_fields = ["tenant__name", "tenant__slug"]
    list_select_related = ["tenant"]
    date_hierarchy = "day"
    list_per_page = 100
    change_list_template = "admin/billing/usagerecord/change_list.html"

    @admin.display(description="GB", ordering="protected_bytes")
    def gb(self, obj):
        return gb_text(obj.protected_bytes)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "reconciliation/",
                self.admin_site.admin_view(self.reconciliation_view),
                name="billing_usage_reconciliation",
            ),
            *super().get_urls(),
        ]

    def reconciliation_view(self, request):
        if not request.user.has_perm("billing.view_usagerecord"):
            raise PermissionDenied
        today = utc_today(timezone.now())
        period = Period(today - timedelta(days=settings.BILLING_RECONCILE_DAYS), today)
        gaps = usage_gaps(period=period)
        if request.method == "POST":
            if not request.user.has_perm("billing.add_usagerecord"):
                raise PermissionDenied
            if gaps:
                from billing.tasks import usage_backfill

                start = min(g.day for g in gaps)
                end = max(g.day for g in gaps) + timedelta(days=1)
                transaction.on_commit(
                    lambda: usage_backfill.delay(start.isoformat(), end.isoformat())
                )
                messages.success(
                    request,
                    f"Backfill of {start} to {end - timedelta(days=1)} queued: missing days are "
                    "metered, recorded ones left alone, and drafts of those months recomputed.",
                )
            return redirect("admin:billing_usage_reconciliation")
        names = dict(
            Tenant.objects.filter(pk__in={g.tenant_id for g in gaps}).values_list("pk", "name")
        )
        return TemplateResponse(
            request,
            "admin/billing/reconciliation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Usage reconciliation",
                "opts": self.model._meta,
                "period": period,
                "gaps": [(names.get(g.tenant_id, g.tenant_id), g) for g in gaps[:500]],
                "gap_count": len(gaps),
                "can_backfill": request.user.has_perm("billing.add_usagerecord"),
            },
        )
