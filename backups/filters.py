import django_filters

from backups.models import BackupService


class BackupServiceFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")

    class Meta:
        model = BackupService
        fields = ["tenant", "status", "service_app_status"]
