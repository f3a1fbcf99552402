from django.db import models

from backups.choices import ProtectionUnitStatus, Workload
from tenants.models import ScopedQuerySet


class ProtectionPolicyQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class ProtectionPolicy(models.Model):
    """The one protection policy per tenant and workload that the portal keeps in step with
    Graph (Graph allows one active policy per workload)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    workload = models.CharField(max_length=20, choices=Workload.choices)
    # Graph's protection policy id; empty until created there.
    graph_id = models.CharField(max_length=100, blank=True)
    display_name = models.CharField(max_length=200)
    # Graph's protectionPolicyStatus as last read (inactive, activeWithErrors, updating, active).
    graph_status = models.CharField(max_length=40, blank=True)
    # The longest retention of the policy's retentionSettings (Graph: P1Y): how far back a
    # restore may reach.
    retention_days = models.PositiveIntegerField(default=365)
    activated_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProtectionPolicyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "protection policies"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "workload"], name="protection_policy_one_per_workload"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {self.get_workload_display()}"


class ProtectionUnitQuerySet(ScopedQuerySet):
    scope_field = "tenant"

    def active(self):
        """Units not removed from protection (pending, protected or refused)."""
        return self.filter(removed_at__isnull=True)


class ProtectionUnit(models.Model):
    """One resource in a protection policy, followed until Graph reports it protected.

    A resource removed from protection keeps its row (billing counts its frozen size for
    the 365 days Microsoft keeps the data); protecting it again makes a new row."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(ProtectionPolicy, on_delete=models.CASCADE, related_name="units")
    resource = models.ForeignKey(
        "backups.Resource", on_delete=models.CASCADE, related_name="protection_units"
    )
    workload = models.CharField(max_length=20, choices=Workload.choices)
    # Graph's protection unit id; empty until Graph has accepted the unit (a bulk addition
    # job resolves ids later).
    graph_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=32,
        choices=ProtectionUnitStatus.choices,
        default=ProtectionUnitStatus.PROTECT_REQUESTED,
    )
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    requested_at = models.DateTimeField()
    # The Graph bulk addition job that carries the request, while it has not resolved.
    bulk_job_id = models.CharField(max_length=100, blank=True)
    # The scope application that last asked Graph for a change of this unit.
    job = models.ForeignKey(
        "backups.BackupJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # First time Graph reported it protected; billing counts the unit from here.
    protected_at = models.DateTimeField(null=True, blank=True)
    # When removal from protection was requested. Microsoft keeps billing the data at its
    # size on removal until its retention (365 days) ends; that size is frozen here.
    removed_at = models.DateTimeField(null=True, blank=True)
    size_at_removal_bytes = models.BigIntegerField(null=True, blank=True)
    # Last time Graph's list of the policy's units was compared with this row.
    last_checked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProtectionUnitQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "resource"],
                condition=models.Q(removed_at__isnull=True),
                name="protection_unit_one_active_per_resource",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ProtectionUnitStatus.values),
                name="protection_unit_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "workload", "status"], name="unit_tenant_workload_idx"),
            models.Index(fields=["policy", "graph_id"], name="unit_policy_graph_idx"),
            models.Index(fields=["job", "status"], name="unit_job_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} ({self.get_status_display()})"
