from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from backups.api import serializers
from backups.filters import BackupServiceFilter
from backups.models import BackupService
from backups.services.backup_service import backup_service_connect, backup_service_offboard
from portal.api.viewsets import ScopedReadOnlyViewSet


class BackupServiceViewSet(ScopedReadOnlyViewSet):
    """The Microsoft 365 Backup service of each tenant: controller state, enablement (when
    Microsoft starts billing the MSP) and offboarding (how long billing continues)."""

    queryset = BackupService.objects.select_related("tenant")
    serializer_class = serializers.BackupServiceSerializer
    filterset_class = BackupServiceFilter
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
