"""Serializers of the backups API: read shapes, and the request bodies of the writes
(strict: unknown and read-only fields are 400s)."""

from django.utils import timezone
from rest_framework import serializers

from backups.choices import DestinationType, JobKind, ScopeMode, Workload
from backups.models import (
    BackupJob,
    BackupService,
    GraphHealth,
    ProtectionPolicy,
    ProtectionScope,
    ProtectionUnit,
    Resource,
    RestoreArtifact,
    RestorePoint,
    RestoreSession,
)
from portal.api.serializers import ScopedPrimaryKeyRelatedField, StrictSerializer
from tenants.models import Tenant


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
        if obj.billing_ends_at is None:
            return None
        return max(0, (obj.billing_ends_at - timezone.now()).days)


# --- inventory ----------------------------------------------------------------------------


class ResourceSerializer(serializers.ModelSerializer):
    protection_status = serializers.CharField(
        source="unit_status",
        read_only=True,
        allow_null=True,
        help_text="Status of its protection unit (protected, protect_requested, failed...); "
        "null when it has none.",
    )

    class Meta:
        model = Resource
        fields = [
            "id",
            "tenant",
            "kind",
            "workload",
            "external_id",
            "display_name",
            "email",
            "web_url",
            "owner_external_id",
            "size_bytes",
            "size_reported_on",
            "first_seen_at",
            "last_seen_at",
            "deleted_at",
            "protection_status",
        ]
        read_only_fields = fields


class CoverageSerializer(serializers.Serializer):
    tenant = serializers.IntegerField(source="tenant_id")
    workload = serializers.ChoiceField(choices=Workload.choices)
    discovered = serializers.IntegerField()
    protected = serializers.IntegerField()
    pending = serializers.IntegerField()
    failed = serializers.IntegerField()
    unprotected = serializers.IntegerField(help_text="Discovered, neither protected nor pending.")
    percent = serializers.IntegerField(help_text="Protected share of discovered, in percent.")


# --- scope and policies -------------------------------------------------------------------


class ProtectionScopeSerializer(serializers.ModelSerializer):
    include = serializers.SerializerMethodField(help_text="Resource ids always protected.")
    exclude = serializers.SerializerMethodField(help_text="Resource ids never protected.")

    class Meta:
        model = ProtectionScope
        fields = [
            "id",
            "tenant",
            "workload",
            "mode",
            "group_ids",
            "url_patterns",
            "auto_add_new",
            "include",
            "exclude",
            "frozen_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _picked(self, obj, action) -> list[int]:
        return [s.resource_id for s in obj.selections.all() if s.action == action]

    def get_include(self, obj) -> list[int]:
        return self._picked(obj, "include")

    def get_exclude(self, obj) -> list[int]:
        return self._picked(obj, "exclude")


class _ScopeFields(StrictSerializer):
    mode = serializers.ChoiceField(choices=ScopeMode.choices, required=False)
    group_ids = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=100,
        help_text="Directory ids of scanned groups: their members (SharePoint: their sites).",
    )
    url_patterns = serializers.ListField(
        child=serializers.CharField(max_length=300),
        required=False,
        max_length=50,
        help_text="`*` and `?` patterns on web URLs (e-mail addresses for mailboxes).",
    )
    auto_add_new = serializers.BooleanField(required=False)
    include = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Resource ids to always protect (replaces).",
    )
    exclude = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Resource ids never to protect (replaces).",
    )


class ProtectionScopeCreateSerializer(_ScopeFields):
    tenant = ScopedPrimaryKeyRelatedField(queryset=Tenant.objects.all())
    workload = serializers.ChoiceField(choices=Workload.choices)


class ProtectionScopeUpdateSerializer(_ScopeFields):
    pass


class ProtectionPolicySerializer(serializers.ModelSerializer):
    units_protected = serializers.IntegerField(read_only=True)
    units_pending = serializers.IntegerField(read_only=True)
    units_failed = serializers.IntegerField(read_only=True)

    class Meta:
        model = ProtectionPolicy
        fields = [
            "id",
            "tenant",
            "workload",
            "graph_id",
            "display_name",
            "graph_status",
            "retention_days",
            "activated_at",
            "last_synced_at",
            "units_protected",
            "units_pending",
            "units_failed",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ResourceBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Resource
        fields = ["id", "kind", "display_name", "email", "web_url", "size_bytes", "deleted_at"]
        read_only_fields = fields


class ProtectionUnitSerializer(serializers.ModelSerializer):
    resource = ResourceBriefSerializer(read_only=True)

    class Meta:
        model = ProtectionUnit
        fields = [
            "id",
            "tenant",
            "policy",
            "workload",
            "resource",
            "graph_id",
            "status",
            "error_code",
            "error_message",
            "requested_at",
            "protected_at",
            "removed_at",
            "size_at_removal_bytes",
            "last_checked_at",
            "job",
        ]
        read_only_fields = fields


# --- restore points and restores ----------------------------------------------------------


class RestorePointSerializer(serializers.ModelSerializer):
    class Meta:
        model = RestorePoint
        fields = [
            "id",
            "tenant",
            "unit",
            "workload",
            "graph_id",
            "protected_at",
            "expires_at",
            "fast_restore",
            "synced_at",
        ]
        read_only_fields = fields


class RestoreArtifactSerializer(serializers.ModelSerializer):
    resource = ResourceBriefSerializer(source="unit.resource", read_only=True)

    class Meta:
        model = RestoreArtifact
        fields = [
            "id",
            "unit",
            "resource",
            "restore_point",
            "restore_point_at",
            "fast_restore",
            "status",
            "error_code",
            "error_message",
            "started_at",
            "completed_at",
            "restored_to",
        ]
        read_only_fields = fields


class RestoreSessionSerializer(serializers.ModelSerializer):
    artifacts = RestoreArtifactSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField(help_text="Artifacts finished / all.")

    class Meta:
        model = RestoreSession
        fields = [
            "id",
            "tenant",
            "workload",
            "destination_type",
            "status",
            "point_in_time",
            "graph_id",
            "job",
            "idempotency_key",
            "requested_by",
            "created_at",
            "activated_at",
            "completed_at",
            "error_code",
            "error_message",
            "waiting_reason",
            "progress",
            "artifacts",
        ]
        read_only_fields = fields

    def get_progress(self, obj) -> dict[str, int]:
        finished = {"succeeded", "failed", "cancelled"}
        artifacts = obj.artifacts.all()
        return {"done": sum(1 for a in artifacts if a.status in finished), "total": len(artifacts)}


class RestoreArtifactInput(StrictSerializer):
    unit = ScopedPrimaryKeyRelatedField(
        queryset=ProtectionUnit.objects.select_related("policy", "resource")
    )
    restore_point = ScopedPrimaryKeyRelatedField(
        queryset=RestorePoint.objects.all(),
        required=False,
        allow_null=True,
        help_text="A synced restore point of the unit; omit to use the latest at or before "
        "point_in_time.",
    )
    destination_type = serializers.ChoiceField(choices=DestinationType.choices, required=False)


class RestoreCreateSerializer(StrictSerializer):
    tenant = ScopedPrimaryKeyRelatedField(queryset=Tenant.objects.all())
    destination_type = serializers.ChoiceField(
        choices=DestinationType.choices, default=DestinationType.IN_PLACE
    )
    point_in_time = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Restore each unit from its latest restore point at or before this moment "
        "(default: now). Must lie within the policy's retention.",
    )
    artifacts = RestoreArtifactInput(many=True, allow_empty=False)
    idempotency_key = serializers.CharField(max_length=200, required=False, allow_blank=True)


# --- jobs and Graph health ----------------------------------------------------------------


class BackupJobSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True, allow_null=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = BackupJob
        fields = [
            "id",
            "tenant",
            "kind",
            "state",
            "phase",
            "progress_done",
            "progress_total",
            "progress_percent",
            "attempts",
            "idempotency_key",
            "requested_by",
            "retry_of",
            "params",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "next_run_at",
            "cancel_requested_at",
            "error_code",
            "error",
            "summary",
            "log",
        ]
        read_only_fields = fields


STARTABLE_KINDS = [k for k in JobKind if k != JobKind.RESTORE]


class BackupJobStartSerializer(StrictSerializer):
    tenant = ScopedPrimaryKeyRelatedField(queryset=Tenant.objects.all())
    kind = serializers.ChoiceField(
        choices=[(k.value, k.label) for k in STARTABLE_KINDS],
        help_text="Restores are started by POST /restores/.",
    )
    idempotency_key = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Or the Idempotency-Key header: a second start with the same key in the "
        "same tenant returns the first job (200) instead of starting another.",
    )


class JobRetrySerializer(StrictSerializer):
    idempotency_key = serializers.CharField(max_length=200, required=False, allow_blank=True)


class GraphHealthSerializer(serializers.ModelSerializer):
    throttled_percent = serializers.SerializerMethodField(
        help_text="Throttled answers per 100 requests that day."
    )

    class Meta:
        model = GraphHealth
        fields = [
            "id",
            "tenant",
            "day",
            "requests",
            "throttled",
            "errors",
            "waited_seconds",
            "throttled_percent",
        ]
        read_only_fields = fields

    def get_throttled_percent(self, obj) -> float:
        return round(100 * obj.throttled / obj.requests, 1) if obj.requests else 0.0
