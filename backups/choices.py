from django.db import models


class Workload(models.TextChoices):
    """The three Microsoft 365 Backup workloads; each has one protection policy per tenant."""

    EXCHANGE = "exchange", "Exchange (mailboxes)"
    ONEDRIVE = "onedrive", "OneDrive"
    SHAREPOINT = "sharepoint", "SharePoint (sites)"


class ResourceKind(models.TextChoices):
    USER_MAILBOX = "user_mailbox", "User mailbox"
    SHARED_MAILBOX = "shared_mailbox", "Shared mailbox"
    ONEDRIVE = "onedrive", "OneDrive account"
    SITE = "site", "SharePoint site"
    GROUP = "group", "Microsoft 365 group"
    TEAM = "team", "Team"
    # Not protected itself: scanned so a protection scope can name its members.
    SECURITY_GROUP = "security_group", "Security group"


# The workload that protects each kind; groups and teams are protected through their site
# (and mailbox), so they have none of their own.
KIND_WORKLOAD: dict[str, str | None] = {
    ResourceKind.USER_MAILBOX: Workload.EXCHANGE,
    ResourceKind.SHARED_MAILBOX: Workload.EXCHANGE,
    ResourceKind.ONEDRIVE: Workload.ONEDRIVE,
    ResourceKind.SITE: Workload.SHAREPOINT,
    ResourceKind.GROUP: None,
    ResourceKind.TEAM: None,
    ResourceKind.SECURITY_GROUP: None,
}
WORKLOAD_KINDS: dict[str, tuple[str, ...]] = {
    Workload.EXCHANGE: (ResourceKind.USER_MAILBOX, ResourceKind.SHARED_MAILBOX),
    Workload.ONEDRIVE: (ResourceKind.ONEDRIVE,),
    Workload.SHAREPOINT: (ResourceKind.SITE,),
}
GROUP_KINDS = (ResourceKind.GROUP, ResourceKind.TEAM, ResourceKind.SECURITY_GROUP)


class BackupServiceStatus(models.TextChoices):
    """Graph's backupServiceStatus, in snake case."""

    DISABLED = "disabled", "Disabled"
    ENABLED = "enabled", "Enabled"
    PROTECTION_CHANGE_LOCKED = "protection_change_locked", "Protection changes locked"
    RESTORE_LOCKED = "restore_locked", "Restores locked"


class ServiceAppStatus(models.TextChoices):
    """Graph's serviceAppStatus for the MSP's app in this tenant; `none` = not registered."""

    NONE = "none", "Not registered"
    INACTIVE = "inactive", "Inactive"
    PENDING_ACTIVE = "pending_active", "Hand-over pending"
    ACTIVE = "active", "Active (controller)"
    PENDING_INACTIVE = "pending_inactive", "Being replaced"


class ProtectionUnitStatus(models.TextChoices):
    """Graph's protectionUnitStatus in snake case, plus `failed` for units Graph refused."""

    PROTECT_REQUESTED = "protect_requested", "Protection requested"
    PROTECTED = "protected", "Protected"
    UNPROTECT_REQUESTED = "unprotect_requested", "Unprotection requested"
    UNPROTECTED = "unprotected", "Unprotected"
    REMOVE_REQUESTED = "remove_requested", "Removal requested"
    REMOVED = "removed", "Removed"
    FAILED = "failed", "Failed"


# Statuses in which Graph is still working on a unit: the scope application follows them.
UNIT_PENDING_STATUSES = (
    ProtectionUnitStatus.PROTECT_REQUESTED,
    ProtectionUnitStatus.UNPROTECT_REQUESTED,
    ProtectionUnitStatus.REMOVE_REQUESTED,
)


class ScopeMode(models.TextChoices):
    """What a workload's protection scope starts from."""

    NONE = "none", "Nothing (only explicit picks)"
    ALL = "all", "Everything"
    RULES = "rules", "Members of groups and URL patterns"


class ScopeSelectionAction(models.TextChoices):
    INCLUDE = "include", "Always protect"
    EXCLUDE = "exclude", "Never protect"


class JobKind(models.TextChoices):
    """What a backup job does. Each kind runs at most once at a time per tenant."""

    SCAN_INVENTORY = "scan_inventory", "Inventory scan (everything)"
    SCAN_MAILBOXES = "scan_mailboxes", "Mailbox scan"
    SCAN_ONEDRIVE = "scan_onedrive", "OneDrive scan"
    SCAN_SITES = "scan_sites", "SharePoint site scan"
    SCAN_GROUPS = "scan_groups", "Groups and Teams scan"
    COLLECT_SIZES = "collect_sizes", "Size collection (usage reports)"
    APPLY_SCOPE = "apply_scope", "Apply protection scope"
    SYNC_RESTORE_POINTS = "sync_restore_points", "Restore point sync"
    RESTORE = "restore", "Restore"


SCAN_KINDS = (
    JobKind.SCAN_INVENTORY,
    JobKind.SCAN_MAILBOXES,
    JobKind.SCAN_ONEDRIVE,
    JobKind.SCAN_SITES,
    JobKind.SCAN_GROUPS,
    JobKind.COLLECT_SIZES,
)


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIALLY_SUCCEEDED = "partially_succeeded", "Partially succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_JOB_STATES = (JobState.QUEUED, JobState.RUNNING)
FINISHED_JOB_STATES = (
    JobState.SUCCEEDED,
    JobState.PARTIALLY_SUCCEEDED,
    JobState.FAILED,
    JobState.CANCELLED,
)


class DestinationType(models.TextChoices):
    """Where a restore writes: over the original, or to a new location (Graph's `new`)."""

    IN_PLACE = "in_place", "In place (overwrite the original)"
    NEW = "new", "To a new location"


class RestoreStatus(models.TextChoices):
    """A restore request (one Graph restore session) as the portal follows it.

    `queued` waits for a slot (Microsoft runs at most 25 sessions at once per tenant);
    `creating` means the draft session is being made in Graph; then Graph's own states."""

    QUEUED = "queued", "Queued"
    CREATING = "creating", "Creating in Microsoft 365"
    ACTIVATING = "activating", "Activating"
    ACTIVE = "active", "Restoring"
    COMPLETED = "completed", "Completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


RESTORE_RUNNING_STATUSES = (RestoreStatus.ACTIVATING, RestoreStatus.ACTIVE)
RESTORE_FINISHED_STATUSES = (
    RestoreStatus.COMPLETED,
    RestoreStatus.COMPLETED_WITH_ERRORS,
    RestoreStatus.FAILED,
    RestoreStatus.CANCELLED,
)


class ArtifactStatus(models.TextChoices):
    """Graph's artifactRestoreStatus in snake case, plus `pending` before the session
    exists and `cancelled`."""

    PENDING = "pending", "Pending"
    ADDED = "added", "Added"
    SCHEDULING = "scheduling", "Scheduling"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ARTIFACT_FINISHED_STATUSES = (
    ArtifactStatus.SUCCEEDED,
    ArtifactStatus.FAILED,
    ArtifactStatus.CANCELLED,
)
