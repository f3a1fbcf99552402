from django.db import models
from django.db.models import Q

from backups.choices import Workload
from tenants.models import ScopedQuerySet

GIB = 1024**3


class UsageRecordQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class UsageRecord(models.Model):
    """What was protected for one tenant and workload at the end of one UTC day.

    Written by metering from the backups selectors (Microsoft's billed-size rule), for every
    day of the tenant's billing window, zeros included, so that a missing row always means
    "not metered" (the reconciliation check looks for those). Unique per tenant, workload and
    day: a re-run updates the row or leaves it alone, never adds a second one.
    """

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="billing_usage"
    )
    workload = models.CharField(max_length=20, choices=Workload.choices)
    # UTC day the figures describe (its end).
    day = models.DateField()
    # Billed size in bytes: live size of protected units plus the frozen size of removed ones
    # still in retention.
    protected_bytes = models.BigIntegerField(default=0)
    # Units protected (not removed) at the end of the day.
    protected_units = models.IntegerField(default=0)
    # Seats this workload adds to the tenant's count: a user whose mailbox is protected counts
    # on Exchange; one with only a OneDrive counts on OneDrive; sites add none. So the sum
    # over a day's rows is the tenant's number of protected users (per-user plans).
    protected_users = models.IntegerField(default=0)
    recorded_at = models.DateTimeField()

    objects = UsageRecordQuerySet.as_manager()

    class Meta:
        ordering = ["tenant_id", "day", "workload"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "workload", "day"],
                name="usage_record_one_per_tenant_workload_day",
            ),
            models.CheckConstraint(
                condition=Q(workload__in=Workload.values), name="usage_record_workload_valid"
            ),
            models.CheckConstraint(
                condition=Q(protected_bytes__gte=0, protected_units__gte=0, protected_users__gte=0),
                name="usage_record_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["day"], name="usage_record_day_idx")]

    def __str__(self) -> str:
        return f"{self.tenant} {self.workload} {self.day:%Y-%m-%d}"
