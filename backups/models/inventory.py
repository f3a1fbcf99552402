from django.db import models

from backups.choices import ResourceKind, Workload
from tenants.models import ScopedQuerySet


class ResourceQuerySet(ScopedQuerySet):
    scope_field = "tenant"

    def present(self):
        return self.filter(deleted_at__isnull=True)


class Resource(models.Model):
    """One thing found in a customer tenant by an inventory scan: a mailbox, a OneDrive
    account, a SharePoint site, a Microsoft 365 group, a team or a security group.

    Scans write rows in bulk (insert or update on tenant + kind + external id), so a row
    is never duplicated however often a scan runs or is redelivered."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ResourceKind.choices)
    # The workload that protects it; empty for groups and teams (protected via their site).
    workload = models.CharField(max_length=20, choices=Workload.choices, blank=True)
    # Graph id: the user's or group's directory object id, or the site id
    # ("host,siteCollectionGuid,webGuid").
    external_id = models.CharField(max_length=300)
    display_name = models.CharField(max_length=300, blank=True)
    # User principal name / mail for mailboxes and OneDrives; empty for sites.
    email = models.CharField(max_length=320, blank=True)
    web_url = models.URLField(max_length=1000, blank=True)
    # Directory object id of the owning user (mailboxes, OneDrives): one "protected user".
    owner_external_id = models.CharField(max_length=64, blank=True)
    # How the usage reports name it, lower-cased: the user principal name of a mailbox or
    # OneDrive, the site collection GUID of a site. Sizes are matched on it in bulk.
    size_key = models.CharField(max_length=320, blank=True)
    # Billed size in bytes as the usage reports last showed it (mailbox: storage used plus
    # deleted items; sites and OneDrives: storage used), and the report day it came from.
    size_bytes = models.BigIntegerField(default=0)
    size_reported_on = models.DateField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    # The start of the last scan that found it (every row a scan writes gets that scan's
    # start time, so "not seen by this scan" is `last_seen_at < scan start`).
    last_seen_at = models.DateTimeField()
    # Set when a scan no longer finds it in the tenant (deleted there); cleared if it returns.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "external_id"], name="resource_unique_per_tenant"
            ),
            models.CheckConstraint(
                condition=models.Q(size_bytes__gte=0), name="resource_size_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ResourceKind.values), name="resource_kind_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "workload", "deleted_at"], name="resource_tenant_workload_idx"
            ),
            models.Index(fields=["tenant", "size_key"], name="resource_size_key_idx"),
            models.Index(fields=["tenant", "kind", "last_seen_at"], name="resource_last_seen_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email or self.external_id
