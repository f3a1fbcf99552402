"""The backups API. Viewsets set `queryset` (scoped by the base class), serializers and
filters; writes call services. Starts accept an idempotency key (the `Idempotency-Key`
header or an `idempotency_key` body field): the same key in the same tenant returns the
first job or restore instead of starting another."""

from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from backups import filters
from backups.api import serializers
from backups.choices import UNIT_PENDING_STATUSES, JobKind, ProtectionUnitStatus
from backups.exceptions import ScopeInvalid
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
from backups.selectors import coverage, resources_with_protection
from backups.services.backup_service import backup_service_connect, backup_service_offboard
from backups.services.jobs import backup_job_cancel, backup_job_retry, backup_job_start
from backups.services.restores import ArtifactRequest, restore_request, restore_session_cancel
from backups.services.scope import protection_scope_set
from portal.api.viewsets import ScopedCreateReadViewSet, ScopedModelViewSet, ScopedReadOnlyViewSet

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any string up to 200 characters. A second request with the same key (same "
    "tenant) returns what the first created, with 200 instead of 201.",
)


def idempotency_key(request, body: dict) -> str:
    header = (request.headers.get("Idempotency-Key") or "").strip()
    field = (body.get("idempotency_key") or "").strip()
    if header and field and header != field:
        raise ValidationError({"idempotency_key": ["Differs from the Idempotency-Key header."]})
    key = header or field
    if len(key) > 200:
        raise ValidationError({"idempotency_key": ["At most 200 characters."]})
    return key


class BackupServiceViewSet(ScopedReadOnlyViewSet):
    """The Microsoft 365 Backup service of each tenant: controller state, enablement (when
    Microsoft starts billing the MSP) and offboarding (how long billing continues)."""

    queryset = BackupService.objects.select_related("tenant")
    serializer_class = serializers.BackupServiceSerializer
    filterset_class = filters.BackupServiceFilter
    ordering = ("-updated_at", "-id")
    ordering_fields = ["enabled_at", "updated_at"]
    action_permissions = {
        "enable": "backups.change_backupservice",
        "offboard": "backups.change_backupservice",
    }

    @extend_schema(request=None, responses=serializers.BackupServiceSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        """Register the MSP's app as controller, activate it (or schedule the hand-over when
        another controller exists) and enable the service. Safe to call again."""
        service = backup_service_connect(by=self.principal, tenant=self.get_object().tenant)
        return Response(serializers.BackupServiceSerializer(service).data)

    @extend_schema(request=None, responses=serializers.BackupServiceSerializer)
    @action(detail=True, methods=["post"])
    def offboard(self, request, pk=None):
        """Unregister the MSP's app; the answer shows until when Microsoft still bills."""
        service = backup_service_offboard(by=self.principal, tenant=self.get_object().tenant)
        return Response(serializers.BackupServiceSerializer(service).data)


class ResourceViewSet(ScopedReadOnlyViewSet):
    """What inventory scans found in each tenant, with sizes from the usage reports and the
    status of each resource's protection. `?protected=false` lists the unprotected."""

    queryset = resources_with_protection(Resource.objects.all())
    serializer_class = serializers.ResourceSerializer
    filterset_class = filters.ResourceFilter
    customer_actions = ("list", "retrieve", "coverage")
    ordering = ("-first_seen_at", "-id")
    ordering_fields = ["first_seen_at", "size_bytes", "display_name"]

    @extend_schema(responses=serializers.CoverageSerializer(many=True))
    @action(detail=False, methods=["get"])
    def coverage(self, request):
        """Discovered versus protected resources per tenant and workload (same filters)."""
        rows = coverage(self.filter_queryset(Resource.objects.visible_to(self.principal)))
        return Response(serializers.CoverageSerializer(rows, many=True).data)


class ProtectionScopeViewSet(ScopedModelViewSet):
    """What the portal protects per tenant and workload: everything, members of groups and
    URL patterns, explicit picks and exclusions. `apply` starts the scope application."""

    queryset = ProtectionScope.objects.prefetch_related("selections")
    serializer_class = serializers.ProtectionScopeSerializer
    filterset_class = filters.ProtectionScopeFilter
    ordering = ("-created_at", "-id")
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {"apply": "backups.add_backupjob"}

    def _resources(self, tenant, ids, field):
        if ids is None:
            return None
        found = {
            r.pk: r
            for r in Resource.objects.visible_to(self.principal).filter(tenant=tenant, pk__in=ids)
        }
        missing = [i for i in ids if i not in found]
        if missing:
            raise ScopeInvalid(f"Unknown resources: {missing[:10]}.", field=field)
        return list(found.values())

    def _set(self, tenant, workload, data):
        return protection_scope_set(
            by=self.principal,
            tenant=tenant,
            workload=workload,
            now=timezone.now(),
            mode=data.get("mode"),
            group_ids=data.get("group_ids"),
            url_patterns=data.get("url_patterns"),
            auto_add_new=data.get("auto_add_new"),
            include=self._resources(tenant, data.get("include"), "include"),
            exclude=self._resources(tenant, data.get("exclude"), "exclude"),
        )

    @extend_schema(
        request=serializers.ProtectionScopeCreateSerializer,
        responses={201: serializers.ProtectionScopeSerializer},
    )
    def create(self, request, *args, **kwargs):
        body = serializers.ProtectionScopeCreateSerializer(
            data=request.data, context={"request": request}
        )
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if ProtectionScope.objects.filter(
            tenant=data["tenant"], workload=data["workload"]
        ).exists():
            raise ScopeInvalid(
                "This tenant already has a scope for the workload; PATCH it.", field="workload"
            )
        scope = self._set(data["tenant"], data["workload"], data)
        scope = self.get_queryset().get(pk=scope.pk)
        return Response(self.get_serializer(scope).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.ProtectionScopeUpdateSerializer,
        responses=serializers.ProtectionScopeSerializer,
    )
    def partial_update(self, request, *args, **kwargs):
        scope = self.get_object()
        body = serializers.ProtectionScopeUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scope = self._set(scope.tenant, scope.workload, body.validated_data)
        scope = self.get_queryset().get(pk=scope.pk)
        return Response(self.get_serializer(scope).data)

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: serializers.BackupJobSerializer, 200: serializers.BackupJobSerializer},
    )
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Start the tenant's scope application (every workload) now."""
        scope = self.get_object()
        job, created = backup_job_start(
            by=self.principal,
            tenant=scope.tenant,
            kind=JobKind.APPLY_SCOPE,
            now=timezone.now(),
            idempotency_key=idempotency_key(request, request.data or {}),
        )
        return Response(
            serializers.BackupJobSerializer(job).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ProtectionPolicyViewSet(ScopedReadOnlyViewSet):
    """The Graph protection policy of each tenant and workload, with its units' counts."""

    queryset = ProtectionPolicy.objects.annotate(
        units_protected=Count(
            "units",
            filter=Q(units__status=ProtectionUnitStatus.PROTECTED, units__removed_at__isnull=True),
        ),
        units_pending=Count("units", filter=Q(units__status__in=UNIT_PENDING_STATUSES)),
        units_failed=Count(
            "units",
            filter=Q(units__status=ProtectionUnitStatus.FAILED, units__removed_at__isnull=True),
        ),
    )
    serializer_class = serializers.ProtectionPolicySerializer
    filterset_class = filters.ProtectionPolicyFilter
    ordering = ("-created_at", "-id")


class ProtectionUnitViewSet(ScopedReadOnlyViewSet):
    """Every resource the portal asked Microsoft to protect, its status and per-unit error.
    `?has_error=true` lists the units Microsoft refused."""

    queryset = ProtectionUnit.objects.select_related("resource")
    serializer_class = serializers.ProtectionUnitSerializer
    filterset_class = filters.ProtectionUnitFilter
    ordering = ("-requested_at", "-id")
    ordering_fields = ["requested_at", "protected_at"]


class RestorePointViewSet(ScopedReadOnlyViewSet):
    """Restore points found by the restore point sync (fastRestore shown)."""

    queryset = RestorePoint.objects.all()
    serializer_class = serializers.RestorePointSerializer
    filterset_class = filters.RestorePointFilter
    ordering = ("-protected_at", "-id")


class RestoreSessionViewSet(ScopedCreateReadViewSet):
    """Restores: request one (customer admins and MSP staff) and follow it to the end, each
    artifact with its result."""

    queryset = RestoreSession.objects.prefetch_related(
        Prefetch(
            "artifacts",
            queryset=RestoreArtifact.objects.select_related("unit__resource").order_by("pk"),
        )
    )
    serializer_class = serializers.RestoreSessionSerializer
    filterset_class = filters.RestoreSessionFilter
    customer_actions = ("list", "retrieve", "create", "cancel")
    action_permissions = {"cancel": "backups.change_restoresession"}

    @extend_schema(
        request=serializers.RestoreCreateSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: serializers.RestoreSessionSerializer,
            200: serializers.RestoreSessionSerializer,
        },
    )
    def create(self, request, *args, **kwargs):
        """Queue a restore of units of one workload, to one destination type, from the latest
        restore point at or before `point_in_time` (or the points named per unit)."""
        body = serializers.RestoreCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        tenant = data["tenant"]
        if not self.principal.can_write_tenant(tenant.pk):
            raise PermissionDenied("Your role in this tenant is read-only.")
        session, created = restore_request(
            by=self.principal,
            tenant=tenant,
            now=timezone.now(),
            destination_type=data["destination_type"],
            point_in_time=data.get("point_in_time"),
            idempotency_key=idempotency_key(request, request.data),
            artifacts=[
                ArtifactRequest(a["unit"], a.get("restore_point"), a.get("destination_type"))
                for a in data["artifacts"]
            ],
        )
        session = self.get_queryset().get(pk=session.pk)
        return Response(
            self.get_serializer(session).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses=serializers.RestoreSessionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a restore still queued (Microsoft cannot stop a running one)."""
        session = restore_session_cancel(
            by=self.principal, session=self.get_object(), now=timezone.now()
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=session.pk)).data)


class BackupJobViewSet(ScopedCreateReadViewSet):
    """Backup jobs: scans, scope applications, restore point syncs, size collections and
    each tenant's restores, with state, progress, attempts, timings, error and log."""

    queryset = BackupJob.objects.all()
    serializer_class = serializers.BackupJobSerializer
    filterset_class = filters.BackupJobFilter
    action_permissions = {"cancel": "backups.change_backupjob", "retry": "backups.add_backupjob"}

    @extend_schema(
        request=serializers.BackupJobStartSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: serializers.BackupJobSerializer,
            200: OpenApiResponse(
                serializers.BackupJobSerializer, description="The job the key started before."
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """Start a job. One job of a kind runs at a time per tenant (409 otherwise)."""
        body = serializers.BackupJobStartSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        job, created = backup_job_start(
            by=self.principal,
            tenant=body.validated_data["tenant"],
            kind=body.validated_data["kind"],
            now=timezone.now(),
            idempotency_key=idempotency_key(request, request.data),
        )
        return Response(
            self.get_serializer(job).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses=serializers.BackupJobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel: at once when queued, at the next checkpoint when running."""
        job = backup_job_cancel(by=self.principal, job=self.get_object(), now=timezone.now())
        return Response(self.get_serializer(job).data)

    @extend_schema(
        request=serializers.JobRetrySerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: serializers.BackupJobSerializer},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Start a finished job's work again as a new job (`retry_of` names this one)."""
        body = serializers.JobRetrySerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        job = backup_job_retry(
            by=self.principal,
            job=self.get_object(),
            now=timezone.now(),
            idempotency_key=idempotency_key(request, body.validated_data),
        )
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)


class GraphHealthViewSet(ScopedReadOnlyViewSet):
    """Microsoft Graph health per tenant and day: requests, throttled answers, errors and
    seconds waited (MSP staff only)."""

    queryset = GraphHealth.objects.select_related("tenant")
    serializer_class = serializers.GraphHealthSerializer
    filterset_class = filters.GraphHealthFilter
    ordering = ("-day", "-id")
    customer_actions = ()
