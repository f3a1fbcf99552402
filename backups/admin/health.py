"""Microsoft Graph health per tenant and day for MSP staff: where Microsoft throttles."""

from django.contrib import admin
from django.utils.html import format_html

from backups.models import GraphHealth


class ThrottledFilter(admin.SimpleListFilter):
    title = "throttling"
    parameter_name = "throttled"

    def lookups(self, request, model_admin):
        return [("yes", "Throttled at least once"), ("no", "Never throttled")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(throttled__gt=0)
        if self.value() == "no":
            return queryset.filter(throttled=0)
        return queryset


@admin.register(GraphHealth)
class GraphHealthAdmin(admin.ModelAdmin):
    list_display = ["tenant", "day", "requests", "throttled", "throttled_share", "errors", "waited"]
    list_filter = [ThrottledFilter, ("tenant", admin.RelatedOnlyFieldListFilter), "day"]
    date_hierarchy = "day"
    search_fields = ["tenant__name", "tenant__slug"]
    list_select_related = ["tenant"]
    ordering = ["-day", "tenant__name"]
    readonly_fields = ["tenant", "day", "requests", "throttled", "errors", "waited_seconds"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Throttled share")
    def throttled_share(self, obj):
        share = 100 * obj.throttled / obj.requests if obj.requests else 0
        css = "failed" if share >= 10 else "queued" if share > 0 else "succeeded"
        return format_html('<span class="badge status-{}">{} %</span>', css, f"{share:.1f}")

    @admin.display(description="Waited", ordering="waited_seconds")
    def waited(self, obj):
        return f"{obj.waited_seconds:.1f} s"
