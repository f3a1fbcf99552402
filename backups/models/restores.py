from django.conf import settings
from django.db import models

from backups.choices import ArtifactStatus, DestinationType, RestoreStatus, Workload
from tenants.models import ScopedQuerySet


class RestorePointQuerySet(ScopedQuerySet):
    scope_field = "tenant"

    def unexpired(self, now):
        return self.filter(expires_at__gt=now)


class RestorePoint(models.Model):
    """A point in time from which Microsoft can restore one protection unit, as the
    restore point search returned it (kept for display and to pick restores from)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(
        "backups.ProtectionUnit", on_delete=models.CASCADE, related_name="restore_points"
    )
    workload = models.CharField(max_length=20, choices=Workload.choices)
    graph_id = models.CharField(max_length=100)
    protected_at = models.DateTimeField()
    # After this Microsoft no longer keeps it (14 days for 10-minute points, 1 year for
    # weekly ones): a restore from it would fail with InvalidRestoreTime.
    expires_at = models.DateTimeField()
    # SharePoint and OneDrive points less than 14 days old restore faster.
    fast_restore = models.BooleanField(default=False)
    synced_at = models.DateTimeField()

    objects = RestorePointQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "graph_id"], name="restore_point_unique"),
            models.CheckConstraint(
                condition=models.Q(expires_at__gte=models.F("protected_at")),
                name="restore_point_expires_after_taken",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "-protected_at"], name="restore_point_unit_time_idx"),
            models.Index(
                fields=["tenant", "workload", "-protected_at"], name="restore_point_tenant_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protected_at:%Y-%m-%d %H:%M} UTC{' (fast)' if self.fast_restore else ''}"


class RestoreSessionQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class RestoreSession(models.Model):
    """One restore asked for by a customer administrator or MSP staff: units of one
    workload, restored to one destination type, as one Graph restore session.

    Requests wait in `queued` while Microsoft already runs 25 sessions for the tenant; the
    tenant's `restore` job creates, activates and follows them to their end."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    workload = models.CharField(max_length=20, choices=Workload.choices)
    destination_type = models.CharField(max_length=10, choices=DestinationType.choices)
    status = models.CharField(
        max_length=24, choices=RestoreStatus.choices, default=RestoreStatus.QUEUED
    )
    # The moment to restore to (the latest restore point at or before it, per unit); None
    # when every artifact names its restore point.
    point_in_time = models.DateTimeField(null=True, blank=True)
    # Graph's restore session id; empty until created there.
    graph_id = models.CharField(max_length=100, blank=True)
    job = models.ForeignKey(
        "backups.BackupJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = models.CharField(max_length=200, blank=True)
    requested_by = models.CharField(max_length=200, blank=True)
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    # Why it still waits (e.g. Microsoft's 25 running sessions), shown to the requester.
    waiting_reason = models.CharField(max_length=300, blank=True)

    objects = RestoreSessionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="restore_session_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RestoreStatus.values),
                name="restore_session_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(destination_type__in=DestinationType.values),
                name="restore_session_destination_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "status", "created_at"], name="restore_tenant_status_idx"
            ),
            models.Index(fields=["job", "status"], name="restore_job_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Restore #{self.pk} ({self.get_status_display()})"


class RestoreArtifactQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class RestoreArtifact(models.Model):
    """One unit restored by a restore session, from one restore point, and its result."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(RestoreSession, on_delete=models.CASCADE, related_name="artifacts")
    # RESTRICT, not PROTECT: deleting a tenant (which deletes its artifacts too) still works.
    unit = models.ForeignKey("backups.ProtectionUnit", on_delete=models.RESTRICT, related_name="+")
    # The point restored from: chosen by the requester, or found by the restore job (the
    # latest at or before the session's point in time). Kept as values too, because the
    # synced RestorePoint rows are pruned when they expire.
    restore_point = models.ForeignKey(
        RestorePoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    restore_point_graph_id = models.CharField(max_length=100, blank=True)
    restore_point_at = models.DateTimeField(null=True, blank=True)
    fast_restore = models.BooleanField(default=False)
    graph_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=16, choices=ArtifactStatus.choices, default=ArtifactStatus.PENDING
    )
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Where the data went: the restored site's URL, or the mailbox folder's name.
    restored_to = models.CharField(max_length=1000, blank=True)

    objects = RestoreArtifactQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "unit"], name="restore_artifact_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=ArtifactStatus.values),
                name="restore_artifact_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} ({self.get_status_display()})"
