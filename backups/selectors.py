"""Reads of backup data that other apps depend on. Billing reads backups only through here.

Microsoft's billing rule for Backup Storage (reference/graph-backup-api.md, section 3): the
controller app pays for the live size of protected content; once a unit is removed from
protection its size is frozen at the size it had on removal and stays billed until the
deleted content's retention ends (365 days). Billing starts when the service is enabled and
stops at the end of the offboarding tail (7-day grace plus up to 30 days).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from backups.choices import (
    ACTIVE_JOB_STATES,
    UNIT_PENDING_STATUSES,
    BackupServiceStatus,
    ProtectionUnitStatus,
    ServiceAppStatus,
    Workload,
)
from backups.models import BackupJob, BackupService, ProtectionUnit, Resource, RestorePoint
from tenants.choices import AppProfileStatus, TenantStatus
from tenants.models import Tenant

RETENTION_AFTER_REMOVAL = timedelta(days=365)


@dataclass(frozen=True)
class BillingWindow:
    """Days Microsoft bills the MSP for a tenant: [starts_on, ends_on), ends_on None = open."""

    tenant_id: int
    starts_on: date
    ends_on: date | None

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)


@dataclass(frozen=True)
class WorkloadUsage:
    """Billed protected data of one tenant and workload at the end of a day (UTC)."""

    tenant_id: int
    workload: str
    protected_bytes: int
    protected_units: int
    # Distinct directory users whose mailbox or OneDrive is protected (0 for SharePoint).
    protected_users: int


def billing_windows(*, tenant_ids: Iterable[int] | None = None) -> dict[int, BillingWindow]:
    """Billing window per tenant whose backup service was ever enabled."""
    services = BackupService.objects.filter(enabled_at__isnull=False)
    if tenant_ids is not None:
        services = services.filter(tenant_id__in=list(tenant_ids))
    windows = {}
    for tenant_id, enabled_at, billing_ends_at in services.values_list(
        "tenant_id", "enabled_at", "billing_ends_at"
    ):
        ends_on = None
        if billing_ends_at is not None:
            # Billed through the day the tail ends in: the window closes the day after.
            ends_on = billing_ends_at.astimezone(UTC).date() + timedelta(days=1)
        windows[tenant_id] = BillingWindow(tenant_id, enabled_at.astimezone(UTC).date(), ends_on)
    return windows


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def _billable_units() -> QuerySet[ProtectionUnit]:
    """Units Microsoft ever protected, less those it refused: the only ones billing counts."""
    return ProtectionUnit.objects.filter(protected_at__isnull=False).exclude(
        status=ProtectionUnitStatus.FAILED
    )


def _protected_at(moment: datetime) -> Q:
    """Protected at `moment`: protected before it and not removed by then. The one rule both
    the billed size and the seat count use, so they cannot disagree."""
    return Q(protected_at__lt=moment) & (Q(removed_at__isnull=True) | Q(removed_at__gte=moment))


def protected_usage_on(
    *, day: date, tenant_ids: Iterable[int] | None = None
) -> list[WorkloadUsage]:
    """Billed size per tenant and workload at the end of `day`, in one aggregate query.

    A unit counts at the resource's current size while protected (protected by the end of
    the day and not removed by then), and at its frozen removal size for 365 days after its
    removal — unless the same resource is protected again by then, when its live size,
    counted through the new unit, already covers that data (no double count). Units never
    protected (still requested, or refused by Graph) count nothing.
    """
    day_end = _day_end(day)
    protected = _protected_at(day_end)
    protected_again = Exists(
        _billable_units()
        .filter(_protected_at(day_end), resource_id=OuterRef("resource_id"))
        .exclude(pk=OuterRef("pk"))
    )
    retained = Q(
        protected_at__lt=day_end,
        removed_at__lt=day_end,
        removed_at__gte=day_end - RETENTION_AFTER_REMOVAL,
    ) & ~Q(protected_again)
    units = _billable_units()
    if tenant_ids is not None:
        units = units.filter(tenant_id__in=list(tenant_ids))
    rows = (
        units.filter(protected | retained)
        .values("tenant_id", "workload")
        .annotate(
            protected_bytes=Coalesce(
                Sum(
                    SqlCase(
                        When(protected, then=F("resource__size_bytes")),
                        default=Coalesce(F("size_at_removal_bytes"), Value(0)),
                    )
                ),
                Value(0),
            ),
            protected_units=Count("id", filter=protected),
            protected_users=Count(
                "resource__owner_external_id",
                filter=protected
                & ~Q(workload=Workload.SHAREPOINT)
                & ~Q(resource__owner_external_id=""),
                distinct=True,
            ),
        )
        .order_by("tenant_id", "workload")
    )
    return [WorkloadUsage(**row) for row in rows]


def protected_users_on(*, day: date, tenant_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Distinct users per tenant whose mailbox or OneDrive is protected at the end of `day`:
    the seat count of per-user plans (one seat covers a user's mailbox, OneDrive and site)."""
    units = (
        _billable_units()
        .filter(_protected_at(_day_end(day)), workload__in=[Workload.EXCHANGE, Workload.ONEDRIVE])
        .exclude(resource__owner_external_id="")
    )
    if tenant_ids is not None:
        units = units.filter(tenant_id__in=list(tenant_ids))
    return dict(
        units.values("tenant_id")
        .annotate(users=Count("resource__owner_external_id", distinct=True))
        .values_list("tenant_id", "users")
    )


# --- coverage and status (the portal's own pages and API) ---------------------------------


def _active_unit_status():
    return Subquery(
        ProtectionUnit.objects.filter(resource=OuterRef("pk"), removed_at__isnull=True)
        .order_by("-requested_at")
        .values("status")[:1]
    )


def resources_with_protection(queryset: QuerySet[Resource]) -> QuerySet[Resource]:
    """Annotate `unit_status`: the status of the resource's active unit (None: no unit)."""
    return queryset.annotate(unit_status=_active_unit_status())


def resources_unprotected(queryset: QuerySet[Resource]) -> QuerySet[Resource]:
    """Present resources of a protected workload with no unit protected or on its way."""
    covered = ProtectionUnit.objects.filter(
        resource=OuterRef("pk"),
        removed_at__isnull=True,
        status__in=[ProtectionUnitStatus.PROTECTED, ProtectionUnitStatus.PROTECT_REQUESTED],
    )
    return queryset.filter(deleted_at__isnull=True).exclude(workload="").exclude(Exists(covered))


@dataclass(frozen=True)
class Coverage:
    """Discovered versus protected resources of one tenant and workload."""

    tenant_id: int
    workload: str
    discovered: int
    protected: int
    pending: int
    failed: int

    @property
    def unprotected(self) -> int:
        return self.discovered - self.protected - self.pending

    @property
    def percent(self) -> int:
        return round(100 * self.protected / self.discovered) if self.discovered else 100


def coverage(resources: QuerySet[Resource]) -> list[Coverage]:
    """Coverage per tenant and workload of the given (already scoped) resources, in one
    grouped query."""
    rows = (
        resources_with_protection(resources.filter(deleted_at__isnull=True).exclude(workload=""))
        .values("tenant_id", "workload")
        .annotate(
            discovered=Count("pk"),
            protected=Count("pk", filter=Q(unit_status=ProtectionUnitStatus.PROTECTED)),
            pending=Count("pk", filter=Q(unit_status__in=UNIT_PENDING_STATUSES)),
            failed=Count("pk", filter=Q(unit_status=ProtectionUnitStatus.FAILED)),
        )
        .order_by("tenant_id", "workload")
    )
    return [Coverage(**row) for row in rows]


def latest_restore_points(tenant: Tenant) -> dict[str, datetime]:
    """The newest synced restore point per workload of a tenant."""
    return dict(
        RestorePoint.objects.filter(tenant=tenant)
        .values("workload")
        .annotate(latest=Max("protected_at"))
        .values_list("workload", "latest")
    )


def units_with_errors(queryset: QuerySet[ProtectionUnit]) -> QuerySet[ProtectionUnit]:
    return queryset.filter(removed_at__isnull=True).exclude(error_code="")


def tenants_ready_for_backups(*, needs_backup_service: bool = True) -> QuerySet[Tenant]:
    """Tenants the scheduled jobs run for: active, with an active app profile and (for
    protection and restores) Microsoft 365 Backup enabled with the MSP's app in control."""
    tenants = Tenant.objects.filter(
        status=TenantStatus.ACTIVE, app_profile__status=AppProfileStatus.ACTIVE
    )
    if needs_backup_service:
        tenants = tenants.filter(
            backup_service__status=BackupServiceStatus.ENABLED,
            backup_service__service_app_status=ServiceAppStatus.ACTIVE,
            backup_service__offboard_requested_at__isnull=True,
        )
    return tenants.order_by("pk")


def active_jobs(tenant: Tenant) -> QuerySet[BackupJob]:
    return BackupJob.objects.filter(tenant=tenant, state__in=ACTIVE_JOB_STATES).order_by(
        "-created_at"
    )
