"""Restore history and restore points for MSP staff."""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.html import format_html

from backups.choices import ARTIFACT_FINISHED_STATUSES, ArtifactStatus
from backups.models import RestoreArtifact, RestorePoint, RestoreSession


class RestoreArtifactInline(admin.TabularInline):
    model = RestoreArtifact
    extra = 0
    can_delete = False
    fields = [
        "unit",
        "restore_point_at",
        "fast_restore",
        "status",
        "error_code",
        "error_message",
        "started_at",
        "completed_at",
        "restored_to",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit__resource")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RestoreSession)
class RestoreSessionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "tenant",
        "workload",
        "destination_type",
        "status_badge",
        "progress",
        "failed",
        "requested_by",
        "created_at",
        "completed_at",
        "waiting_reason",
    ]
    list_filter = [
        "status",
        "workload",
        "destination_type",
        ("tenant", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    date_hierarchy = "created_at"
    search_fields = ["requested_by", "graph_id", "tenant__name"]
    list_select_related = ["tenant"]
    inlines = [RestoreArtifactInline]
    readonly_fields = [f.name for f in RestoreSession._meta.fields]
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _total=Count("artifacts"),
                _done=Count(
                    "artifacts", filter=Q(artifacts__status__in=ARTIFACT_FINISHED_STATUSES)
                ),
                _failed=Count("artifacts", filter=Q(artifacts__status=ArtifactStatus.FAILED)),
            )
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        css = {
            "completed": "succeeded",
            "completed_with_errors": "partially_succeeded",
            "failed": "failed",
            "cancelled": "draft",
        }.get(obj.status, "running")
        return format_html('<span class="badge status-{}">{}</span>', css, obj.get_status_display())

    @admin.display(description="Progress")
    def progress(self, obj):
        return format_html(
            '<progress value="{}" max="{}"></progress> {} / {}',
            obj._done,
            obj._total or 1,
            obj._done,
            obj._total,
        )

    @admin.display(description="Failed", ordering="_failed")
    def failed(self, obj):
        return obj._failed


@admin.register(RestorePoint)
class RestorePointAdmin(admin.ModelAdmin):
    list_display = [
        "unit",
        "tenant",
        "workload",
        "protected_at",
        "expires_at",
        "fast_restore",
        "synced_at",
    ]
    list_filter = ["workload", "fast_restore", ("tenant", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["tenant", "unit__resource"]
    date_hierarchy = "protected_at"
    readonly_fields = [f.name for f in RestorePoint._meta.fields]
    ordering = ["-protected_at", "-id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
