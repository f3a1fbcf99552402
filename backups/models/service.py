from django.db import models

from backups.choices import BackupServiceStatus, ServiceAppStatus
from tenants.models import ScopedQuerySet


class BackupServiceQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class BackupService(models.Model):
    """The Microsoft 365 Backup service of one tenant, as the portal last saw it in Graph:
    whether it is enabled, whether the MSP's app is the tenant's controller, and the window
    in which Microsoft bills the MSP for it."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="backup_service"
    )
    status = models.CharField(
        max_length=32, choices=BackupServiceStatus.choices, default=BackupServiceStatus.DISABLED
    )
    # Graph's serviceApp id of the MSP's app in this tenant (empty until registered).
    service_app_id = models.CharField(max_length=64, blank=True)
    service_app_status = models.CharField(
        max_length=32, choices=ServiceAppStatus.choices, default=ServiceAppStatus.NONE
    )
    # When a pending hand-over makes the MSP's app the controller (7 to 30 days ahead).
    service_app_effective_at = models.DateTimeField(null=True, blank=True)
    # Billing starts here: the first successful `enable` with the MSP as app owner.
    enabled_at = models.DateTimeField(null=True, blank=True)
    # Offboarding: the serviceApp DELETE, the 7-day grace Graph reports
    # (gracePeriodDateTime), and the end of billing up to 30 days later
    # (restoreAllowedTillDateTime). Billing covers [enabled_at, billing_ends_at).
    offboard_requested_at = models.DateTimeField(null=True, blank=True)
    grace_period_ends_at = models.DateTimeField(null=True, blank=True)
    billing_ends_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BackupServiceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=BackupServiceStatus.values),
                name="backup_service_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(billing_ends_at__isnull=True)
                | models.Q(enabled_at__isnull=False, billing_ends_at__gte=models.F("enabled_at")),
                name="backup_service_billing_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant}: {self.get_status_display()}"
