import django_filters
from django.db.models import Exists, OuterRef

from backups.choices import (
    ArtifactStatus,
    DestinationType,
    JobKind,
    JobState,
    ProtectionUnitStatus,
    ResourceKind,
    RestoreStatus,
    Workload,
)
from backups.models import (
    BackupJob,
    BackupService,
    GraphHealth,
    ProtectionPolicy,
    ProtectionScope,
    ProtectionUnit,
    Resource,
    RestorePoint,
    RestoreSession,
)
from backups.selectors import resources_unprotected


class BackupServiceFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")

    class Meta:
        model = BackupService
        fields = ["tenant", "status", "service_app_status"]


class ResourceFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    kind = django_filters.MultipleChoiceFilter(choices=ResourceKind.choices)
    workload = django_filters.ChoiceFilter(choices=Workload.choices)
    deleted = django_filters.BooleanFilter(
        field_name="deleted_at",
        lookup_expr="isnull",
        exclude=True,
        label="Gone from the tenant (true) or present (false)",
    )
    protected = django_filters.BooleanFilter(
        method="filter_protected",
        label="false: present resources with no unit protected or being protected",
    )
    search = django_filters.CharFilter(method="filter_search", label="Name, e-mail or URL contains")

    class Meta:
        model = Resource
        fields = ["tenant", "kind", "workload", "external_id"]

    def filter_protected(self, queryset, name, value):
        unprotected = resources_unprotected(queryset)
        if value:
            return (
                queryset.filter(deleted_at__isnull=True)
                .exclude(workload="")
                .exclude(pk__in=unprotected.values("pk"))
            )
        return unprotected

    def filter_search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(
            Q(display_name__icontains=value)
            | Q(email__icontains=value)
            | Q(web_url__icontains=value)
        )


class ProtectionScopeFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")

    class Meta:
        model = ProtectionScope
        fields = ["tenant", "workload", "mode"]


class ProtectionPolicyFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")

    class Meta:
        model = ProtectionPolicy
        fields = ["tenant", "workload"]


class ProtectionUnitFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    status = django_filters.MultipleChoiceFilter(choices=ProtectionUnitStatus.choices)
    has_error = django_filters.BooleanFilter(
        method="filter_has_error", label="Units Microsoft refused or reported an error for"
    )
    removed = django_filters.BooleanFilter(
        field_name="removed_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = ProtectionUnit
        fields = ["tenant", "workload", "status", "policy", "resource"]

    def filter_has_error(self, queryset, name, value):
        return queryset.exclude(error_code="") if value else queryset.filter(error_code="")


class RestorePointFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    before = django_filters.IsoDateTimeFilter(field_name="protected_at", lookup_expr="lte")
    after = django_filters.IsoDateTimeFilter(field_name="protected_at", lookup_expr="gte")

    class Meta:
        model = RestorePoint
        fields = ["tenant", "unit", "workload", "fast_restore"]


class RestoreSessionFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    status = django_filters.MultipleChoiceFilter(choices=RestoreStatus.choices)
    destination_type = django_filters.ChoiceFilter(choices=DestinationType.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    artifact_status = django_filters.ChoiceFilter(
        choices=ArtifactStatus.choices,
        method="filter_artifact_status",
        label="Restores with at least one artifact in this status",
    )

    class Meta:
        model = RestoreSession
        fields = ["tenant", "workload", "status", "job"]

    def filter_artifact_status(self, queryset, name, value):
        from backups.models import RestoreArtifact

        return queryset.filter(
            Exists(RestoreArtifact.objects.filter(session=OuterRef("pk"), status=value))
        )


class BackupJobFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    kind = django_filters.MultipleChoiceFilter(choices=JobKind.choices)
    state = django_filters.MultipleChoiceFilter(choices=JobState.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = BackupJob
        fields = ["tenant", "kind", "state", "idempotency_key"]


class GraphHealthFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    day_after = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    day_before = django_filters.DateFilter(field_name="day", lookup_expr="lte")
    throttled = django_filters.BooleanFilter(
        method="filter_throttled", label="Days with at least one throttled answer"
    )

    class Meta:
        model = GraphHealth
        fields = ["tenant", "day"]

    def filter_throttled(self, queryset, name, value):
        return queryset.filter(throttled__gt=0) if value else queryset.filter(throttled=0)
