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


# The workload that protects each kind; groups and teams are protected through their site
# (and mailbox), so they have none of their own.
KIND_WORKLOAD: dict[str, str | None] = {
    ResourceKind.USER_MAILBOX: Workload.EXCHANGE,
    ResourceKind.SHARED_MAILBOX: Workload.EXCHANGE,
    ResourceKind.ONEDRIVE: Workload.ONEDRIVE,
    ResourceKind.SITE: Workload.SHAREPOINT,
    ResourceKind.GROUP: None,
    ResourceKind.TEAM: None,
}


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
