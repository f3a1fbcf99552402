"""Backup Storage enums, values exactly as in the reference (section 1), in its order."""

from __future__ import annotations

from m365.enums import GraphEnum


class BackupServiceStatus(GraphEnum):
    DISABLED = "disabled"
    ENABLED = "enabled"
    PROTECTION_CHANGE_LOCKED = "protectionChangeLocked"
    RESTORE_LOCKED = "restoreLocked"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class BackupServiceConsumer(GraphEnum):
    # Metadata spells `firstparty`/`thirdparty`; a doc example shows `thirdParty`: the base
    # class compares without regard to case, so both read as the same member.
    UNKNOWN = "unknown"
    FIRST_PARTY = "firstparty"
    THIRD_PARTY = "thirdparty"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class DisableReason(GraphEnum):
    NONE = "none"
    INVALID_BILLING_PROFILE = "invalidBillingProfile"
    USER_REQUESTED = "userRequested"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"
    CONTROLLER_SERVICE_APP_DELETED = "controllerServiceAppDeleted"


class ServiceAppStatus(GraphEnum):
    INACTIVE = "inactive"
    ACTIVE = "active"
    PENDING_ACTIVE = "pendingActive"
    PENDING_INACTIVE = "pendingInactive"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class ProtectionPolicyStatus(GraphEnum):
    INACTIVE = "inactive"
    ACTIVE_WITH_ERRORS = "activeWithErrors"
    UPDATING = "updating"
    ACTIVE = "active"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"
    OFFBOARD_REQUESTED = "offboardRequested"
    OFFBOARDED = "offboarded"


class ProtectionUnitStatus(GraphEnum):
    PROTECT_REQUESTED = "protectRequested"
    PROTECTED = "protected"
    UNPROTECT_REQUESTED = "unprotectRequested"
    UNPROTECTED = "unprotected"
    REMOVE_REQUESTED = "removeRequested"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"
    OFFBOARD_REQUESTED = "offboardRequested"
    OFFBOARDED = "offboarded"
    CANCEL_OFFBOARD_REQUESTED = "cancelOffboardRequested"


class ProtectionRuleStatus(GraphEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completedWithErrors"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"
    UPDATE_REQUESTED = "updateRequested"
    DELETE_REQUESTED = "deleteRequested"


class ProtectionSource(GraphEnum):
    """A flags enum: a unit reads as a frozenset of these (`GraphEnum.parse_flags`)."""

    NONE = "none"
    MANUAL = "manual"
    DYNAMIC_RULE = "dynamicRule"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class ProtectionUnitsBulkJobStatus(GraphEnum):
    UNKNOWN = "unknown"
    ACTIVE = "active"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completedWithErrors"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class RestoreSessionStatus(GraphEnum):
    DRAFT = "draft"
    ACTIVATING = "activating"
    ACTIVE = "active"
    COMPLETED_WITH_ERROR = "completedWithError"
    COMPLETED = "completed"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"
    FAILED = "failed"


class ArtifactRestoreStatus(GraphEnum):
    ADDED = "added"
    SCHEDULING = "scheduling"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "inProgress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class DestinationType(GraphEnum):
    NEW = "new"
    IN_PLACE = "inPlace"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class RestorePointTags(GraphEnum):
    NONE = "none"
    FAST_RESTORE = "fastRestore"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class RestorePointPreference(GraphEnum):
    LATEST = "latest"
    OLDEST = "oldest"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class RestoreJobType(GraphEnum):
    STANDARD = "standard"
    BULK = "bulk"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class MailboxType(GraphEnum):
    UNKNOWN = "unknown"
    USER = "user"
    SHARED = "shared"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class ProtectionMode(GraphEnum):
    """beta only."""

    STANDARD = "standard"
    FULL_SERVICE_BACKUP = "fullServiceBackup"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"
