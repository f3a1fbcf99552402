from django.db import models

from backups.choices import ScopeMode, ScopeSelectionAction, Workload
from tenants.models import ScopedQuerySet


class ProtectionScopeQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class ProtectionScope(models.Model):
    """What the portal protects in one tenant and workload, defined in the portal and
    applied to the workload's Graph policy by the `apply_scope` job.

    A resource is in scope when it is present in the inventory and either picked
    explicitly, or matched by the mode (everything; or members of `group_ids` and web URLs
    or e-mail addresses matching `url_patterns`) — and it is not excluded. Exclusions win."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    workload = models.CharField(max_length=20, choices=Workload.choices)
    mode = models.CharField(max_length=10, choices=ScopeMode.choices, default=ScopeMode.NONE)
    # Directory object ids of groups (Microsoft 365 groups, Teams, security groups) whose
    # members' mailboxes or OneDrives are protected; for SharePoint, the groups' own sites.
    group_ids = models.JSONField(default=list, blank=True)
    # Shell-style patterns (`*` and `?`, case-insensitive) matched against a site's or
    # OneDrive's web URL, or a mailbox's e-mail address.
    url_patterns = models.JSONField(default=list, blank=True)
    # True: resources a scan finds later join protection on the next application (a scan
    # starts one). False: the mode matches only resources first seen before `frozen_at`,
    # so newcomers wait until someone saves the scope again or picks them.
    auto_add_new = models.BooleanField(default=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProtectionScopeQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "workload"], name="scope_one_per_workload"),
            models.CheckConstraint(
                condition=models.Q(mode__in=ScopeMode.values), name="scope_mode_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(workload__in=Workload.values), name="scope_workload_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {self.get_workload_display()}: {self.get_mode_display()}"


class ScopeSelectionQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class ScopeSelection(models.Model):
    """One resource picked explicitly into a scope, or excluded from it."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    scope = models.ForeignKey(ProtectionScope, on_delete=models.CASCADE, related_name="selections")
    resource = models.ForeignKey("backups.Resource", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=10, choices=ScopeSelectionAction.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopeSelectionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "resource"], name="scope_selection_unique"),
            models.CheckConstraint(
                condition=models.Q(action__in=ScopeSelectionAction.values),
                name="scope_selection_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.resource_id}"


class GroupMember(models.Model):
    """A member of a group a protection scope names, as last read from Graph when the
    scope was applied: a user (for mailboxes and OneDrives) or, for SharePoint, the
    group's own site. Scope matching joins on it, so large groups stay in the database."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    group_external_id = models.CharField(max_length=64)
    # A user's directory object id, or a site id ("host,siteCollectionGuid,webGuid").
    member_external_id = models.CharField(max_length=300)
    synced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "group_external_id", "member_external_id"],
                name="group_member_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.group_external_id} → {self.member_external_id}"
