from rest_framework import serializers

from backups.models import BackupService


class BackupServiceSerializer(serializers.ModelSerializer):
    tenant_slug = serializers.SlugRelatedField(source="tenant", slug_field="slug", read_only=True)
    billed_days_remaining = serializers.SerializerMethodField(
        help_text="After offboarding: days Microsoft still bills the MSP (grace + tail)."
    )

    class Meta:
        model = BackupService
        fields = [
            "id",
            "tenant",
            "tenant_slug",
            "status",
            "service_app_id",
            "service_app_status",
            "service_app_effective_at",
            "enabled_at",
            "offboard_requested_at",
            "grace_period_ends_at",
            "billing_ends_at",
            "billed_days_remaining",
            "last_synced_at",
        ]
        read_only_fields = fields

    def get_billed_days_remaining(self, obj) -> int | None:
        from django.utils import timezone

        if obj.billing_ends_at is None:
            return None
        return max(0, (obj.billing_ends_at - timezone.now()).days)
