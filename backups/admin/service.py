"""MSP staff pages of the backups app."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path

from backups.models import BackupService
from backups.services.backup_service import backup_service_offboard
from tenants.exceptions import DomainError
from tenants.principals import request_principal


@admin.register(BackupService)
class BackupServiceAdmin(admin.ModelAdmin):
    list_display = [
        "tenant",
        "status",
        "service_app_status",
        "service_app_effective_at",
        "enabled_at",
        "billing_ends_at",
        "last_synced_at",
    ]
    list_filter = ["status", "service_app_status"]
    search_fields = ["tenant__name", "tenant__primary_domain"]
    list_select_related = ["tenant"]
    readonly_fields = [f.name for f in BackupService._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        offboard = path(
            "<int:pk>/offboard/",
            self.admin_site.admin_view(self.offboard_view),
            name="backups_backupservice_offboard",
        )
        return [offboard, *super().get_urls()]

    def offboard_view(self, request, pk):
        if request.method != "POST" or not request.user.has_perm("backups.change_backupservice"):
            raise PermissionDenied
        service = get_object_or_404(BackupService.objects.select_related("tenant"), pk=pk)
        try:
            service = backup_service_offboard(by=request_principal(request), tenant=service.tenant)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.warning(
                request,
                f"{service.tenant.name} offboarded. Microsoft keeps billing until "
                f"{service.billing_ends_at:%d %b %Y} (grace period until "
                f"{service.grace_period_ends_at:%d %b %Y}).",
            )
        return redirect("admin:tenants_appprofile_change", service.tenant.app_profile.pk)
