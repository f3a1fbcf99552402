"""Backup Storage objects as frozen dataclasses, parsed defensively from Graph JSON.

Unknown enum values read as `unknownFutureValue`; missing properties read as None or empty,
never as an exception, because Microsoft adds and renames properties between builds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from m365.backup.enums import (
    ArtifactRestoreStatus,
    BackupServiceConsumer,
    BackupServiceStatus,
    DestinationType,
    DisableReason,
    MailboxType,
    ProtectionMode,
    ProtectionPolicyStatus,
    ProtectionRuleStatus,
    ProtectionSource,
    ProtectionUnitsBulkJobStatus,
    ProtectionUnitStatus,
    RestoreJobType,
    RestorePointTags,
    RestoreSessionStatus,
    ServiceAppStatus,
)
from m365.backup.workloads import NAMES, Workload, workload_of_type
from m365.odata import boolean, integer, parse_datetime, strings, text

Json = Mapping[str, Any]


def _object(data: Json, key: str) -> Json:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Identity:
    id: str
    display_name: str
    email: str = ""


@dataclass(frozen=True)
class IdentitySet:
    """Who did something: the application, the user, or both (`createdBy`...)."""

    application: Identity | None
    user: Identity | None

    @classmethod
    def from_graph(cls, data: Any) -> IdentitySet | None:
        if not isinstance(data, Mapping):
            return None
        found = {}
        for key in ("application", "user"):
            item = data.get(key)
            found[key] = (
                Identity(text(item, "id"), text(item, "displayName"), text(item, "email"))
                if isinstance(item, Mapping)
                else None
            )
        return cls(**found)


@dataclass(frozen=True)
class PublicError:
    """Graph's `publicError` on units, rules, jobs, sessions and artifacts."""

    code: str
    message: str
    target: str = ""
    details: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_graph(cls, data: Any) -> PublicError | None:
        if not isinstance(data, Mapping) or not (data.get("code") or data.get("message")):
            return None
        details = tuple(
            (text(item, "code"), text(item, "message"))
            for item in data.get("details") or []
            if isinstance(item, Mapping)
        )
        return cls(text(data, "code"), text(data, "message"), text(data, "target"), details)


def _workload(data: Json, fallback: Workload | None) -> Workload | None:
    return workload_of_type(text(data, "@odata.type")) or fallback


@dataclass(frozen=True)
class ServiceStatus:
    """The tenant's Backup Storage switch (`backupRestoreRoot.serviceStatus`)."""

    status: BackupServiceStatus
    disable_reason: DisableReason | None
    consumer: BackupServiceConsumer | None
    grace_period_until: datetime | None
    restore_allowed_until: datetime | None
    last_modified_by: IdentitySet | None
    last_modified_at: datetime | None

    @classmethod
    def from_graph(cls, data: Json) -> ServiceStatus:
        consumer = data.get("backupServiceConsumer", data.get("serviceConsumer"))
        return cls(
            status=BackupServiceStatus.parse(data.get("status")) or BackupServiceStatus.DISABLED,
            disable_reason=DisableReason.parse(data.get("disableReason")),
            consumer=BackupServiceConsumer.parse(consumer),
            grace_period_until=parse_datetime(data.get("gracePeriodDateTime")),
            restore_allowed_until=parse_datetime(data.get("restoreAllowedTillDateTime")),
            last_modified_by=IdentitySet.from_graph(data.get("lastModifiedBy")),
            last_modified_at=parse_datetime(data.get("lastModifiedDateTime")),
        )


@dataclass(frozen=True)
class ServiceApp:
    """A candidate or actual Backup Storage controller app of the tenant."""

    id: str
    application_id: str
    application_name: str
    status: ServiceAppStatus
    registered_at: datetime | None
    effective_at: datetime | None
    last_modified_by: IdentitySet | None
    last_modified_at: datetime | None

    @classmethod
    def from_graph(cls, data: Json) -> ServiceApp:
        application = _object(data, "application")
        return cls(
            id=text(data, "id"),
            application_id=text(application, "id"),
            application_name=text(application, "displayName"),
            status=ServiceAppStatus.parse(data.get("status")) or ServiceAppStatus.INACTIVE,
            registered_at=parse_datetime(data.get("registrationDateTime")),
            effective_at=parse_datetime(data.get("effectiveDateTime")),
            last_modified_by=IdentitySet.from_graph(data.get("lastModifiedBy")),
            last_modified_at=parse_datetime(data.get("lastModifiedDateTime")),
        )


@dataclass(frozen=True)
class RetentionSetting:
    interval: str  # ISO-8601 repeating interval, e.g. "R/PT10M"
    period: str  # ISO-8601 duration, e.g. "P2W"


@dataclass(frozen=True)
class ProtectionPolicy:
    id: str
    workload: Workload | None
    display_name: str
    status: ProtectionPolicyStatus
    retention_settings: tuple[RetentionSetting, ...]
    created_by: IdentitySet | None
    created_at: datetime | None
    last_modified_by: IdentitySet | None
    last_modified_at: datetime | None
    is_enabled: bool | None = None  # beta
    protection_mode: ProtectionMode | None = None  # beta

    @classmethod
    def from_graph(cls, data: Json, workload: Workload | None = None) -> ProtectionPolicy:
        return cls(
            id=text(data, "id"),
            workload=_workload(data, workload),
            display_name=text(data, "displayName"),
            status=ProtectionPolicyStatus.parse(data.get("status"))
            or ProtectionPolicyStatus.UNKNOWN_FUTURE_VALUE,
            retention_settings=tuple(
                RetentionSetting(text(item, "interval"), text(item, "period"))
                for item in data.get("retentionSettings") or []
                if isinstance(item, Mapping)
            ),
            created_by=IdentitySet.from_graph(data.get("createdBy")),
            created_at=parse_datetime(data.get("createdDateTime")),
            last_modified_by=IdentitySet.from_graph(data.get("lastModifiedBy")),
            last_modified_at=parse_datetime(data.get("lastModifiedDateTime")),
            is_enabled=boolean(data.get("isEnabled")),
            protection_mode=ProtectionMode.parse(data.get("protectionMode")),
        )


@dataclass(frozen=True)
class ProtectionUnit:
    """One protected site, mailbox or OneDrive. `resource_id` is the site id (SharePoint) or
    the user's directory object id (Exchange, OneDrive)."""

    id: str
    workload: Workload | None
    policy_id: str
    status: ProtectionUnitStatus
    resource_id: str
    protection_sources: frozenset[ProtectionSource]
    error: PublicError | None
    display_name: str
    email: str
    mailbox_type: MailboxType | None
    created_at: datetime | None
    last_modified_at: datetime | None
    offboard_requested_at: datetime | None

    @classmethod
    def from_graph(cls, data: Json, workload: Workload | None = None) -> ProtectionUnit:
        return cls(
            id=text(data, "id"),
            workload=_workload(data, workload),
            policy_id=text(data, "policyId"),
            status=ProtectionUnitStatus.parse(data.get("status"))
            or ProtectionUnitStatus.UNKNOWN_FUTURE_VALUE,
            resource_id=text(data, "siteId") or text(data, "directoryObjectId"),
            protection_sources=ProtectionSource.parse_flags(data.get("protectionSources")),
            error=PublicError.from_graph(data.get("error")),
            display_name=text(data, "displayName"),
            email=text(data, "email"),
            mailbox_type=MailboxType.parse(data.get("mailboxType")),
            created_at=parse_datetime(data.get("createdDateTime")),
            last_modified_at=parse_datetime(data.get("lastModifiedDateTime")),
            offboard_requested_at=parse_datetime(data.get("offboardRequestedDateTime")),
        )


@dataclass(frozen=True)
class UnitChange:
    """One entry of a policy PATCH answer: a unit added or removed, or why it was not.
    Item-level failures come back inside the 200 (`@Core.DataModificationException`)."""

    unit_id: str  # the protection unit id (removals, and additions when Graph gives it)
    resource_id: str  # the siteId / directoryObjectId of an addition
    status: ProtectionUnitStatus | None
    error_code: str
    error_message: str
    failed_operation: str
    response_code: int | None

    @property
    def ok(self) -> bool:
        return not self.error_code

    @classmethod
    def from_graph(cls, data: Json) -> UnitChange:
        failure = _object(data, "@Core.DataModificationException")
        info = _object(failure, "info")
        return cls(
            unit_id=text(data, "id"),
            resource_id=text(data, "siteId") or text(data, "directoryObjectId"),
            status=ProtectionUnitStatus.parse(data.get("status")),
            error_code=text(info, "code"),
            error_message=text(info, "message"),
            failed_operation=text(failure, "failedOperation"),
            response_code=integer(failure.get("responseCode")),
        )


@dataclass(frozen=True)
class ProtectionRule:
    """An inclusion rule: static (`is_auto_apply_enabled` False, run once) or dynamic."""

    id: str
    workload: Workload | None
    status: ProtectionRuleStatus
    expression: str
    is_auto_apply_enabled: bool
    error: PublicError | None
    created_at: datetime | None
    last_modified_at: datetime | None

    @classmethod
    def from_graph(cls, data: Json, workload: Workload | None = None) -> ProtectionRule:
        found = _workload(data, workload)
        expression = ""
        for table in [NAMES[found]] if found else NAMES.values():
            expression = expression or text(data, table.rule_expression)
        return cls(
            id=text(data, "id"),
            workload=found,
            status=ProtectionRuleStatus.parse(data.get("status"))
            or ProtectionRuleStatus.UNKNOWN_FUTURE_VALUE,
            expression=expression,
            is_auto_apply_enabled=bool(boolean(data.get("isAutoApplyEnabled"))),
            error=PublicError.from_graph(data.get("error")),
            created_at=parse_datetime(data.get("createdDateTime")),
            last_modified_at=parse_datetime(data.get("lastModifiedDateTime")),
        )


@dataclass(frozen=True)
class BulkAdditionJob:
    """Units added in bulk by ids, or by site URLs / email addresses (`names`)."""

    id: str
    workload: Workload | None
    display_name: str
    status: ProtectionUnitsBulkJobStatus
    ids: tuple[str, ...]
    names: tuple[str, ...]
    error: PublicError | None
    created_at: datetime | None
    last_modified_at: datetime | None

    @classmethod
    def from_graph(cls, data: Json, workload: Workload | None = None) -> BulkAdditionJob:
        found = _workload(data, workload)
        tables = [NAMES[found]] if found else list(NAMES.values())
        ids: tuple[str, ...] = ()
        names: tuple[str, ...] = ()
        for table in tables:
            ids = ids or strings(data.get(table.bulk_id_field))
            names = names or strings(data.get(table.bulk_name_field))
        return cls(
            id=text(data, "id"),
            workload=found,
            display_name=text(data, "displayName"),
            status=ProtectionUnitsBulkJobStatus.parse(data.get("status"))
            or ProtectionUnitsBulkJobStatus.UNKNOWN,
            ids=ids,
            names=names,
            error=PublicError.from_graph(data.get("error")),
            created_at=parse_datetime(data.get("createdDateTime")),
            last_modified_at=parse_datetime(data.get("lastModifiedDateTime")),
        )


@dataclass(frozen=True)
class RestorePoint:
    id: str
    protection_at: datetime | None
    expires_at: datetime | None
    tags: frozenset[RestorePointTags]
    protection_unit_id: str
    policy_id: str
    resource_id: str  # siteId / directoryObjectId of the unit, when Graph includes it
    workload: Workload | None

    @property
    def is_fast_restore(self) -> bool:
        return RestorePointTags.FAST_RESTORE in self.tags

    @classmethod
    def from_graph(cls, data: Json) -> RestorePoint:
        unit = _object(data, "protectionUnit")
        return cls(
            id=text(data, "id"),
            protection_at=parse_datetime(data.get("protectionDateTime")),
            expires_at=parse_datetime(data.get("expirationDateTime")),
            tags=RestorePointTags.parse_flags(data.get("tags")),
            protection_unit_id=text(unit, "id"),
            policy_id=text(unit, "policyId"),
            resource_id=text(unit, "siteId") or text(unit, "directoryObjectId"),
            workload=workload_of_type(text(unit, "@odata.type")),
        )


@dataclass(frozen=True)
class RestorePointSearchResult:
    """Restore points found per unit. One search per chunk of unit ids, hence possibly
    several `search_response_ids` (needed for granular mailbox restores)."""

    search_response_ids: tuple[str, ...]
    restore_points: tuple[RestorePoint, ...]
    no_result_unit_ids: tuple[str, ...]


@dataclass(frozen=True)
class RestoreSession:
    id: str
    workload: Workload | None
    status: RestoreSessionStatus
    error: PublicError | None
    created_by: IdentitySet | None
    created_at: datetime | None
    completed_at: datetime | None
    last_modified_at: datetime | None
    restore_job_type: RestoreJobType | None = None  # beta

    @classmethod
    def from_graph(cls, data: Json, workload: Workload | None = None) -> RestoreSession:
        return cls(
            id=text(data, "id"),
            workload=_workload(data, workload),
            status=RestoreSessionStatus.parse(data.get("status"))
            or RestoreSessionStatus.UNKNOWN_FUTURE_VALUE,
            error=PublicError.from_graph(data.get("error")),
            created_by=IdentitySet.from_graph(data.get("createdBy")),
            created_at=parse_datetime(data.get("createdDateTime")),
            completed_at=parse_datetime(data.get("completedDateTime")),
            last_modified_at=parse_datetime(data.get("lastModifiedDateTime")),
            restore_job_type=RestoreJobType.parse(data.get("restoreJobType")),
        )


@dataclass(frozen=True)
class RestoreArtifact:
    """One restore point being restored in a session, and where to."""

    id: str
    workload: Workload | None
    destination_type: DestinationType | None
    status: ArtifactRestoreStatus
    restore_point_id: str
    started_at: datetime | None
    completed_at: datetime | None
    error: PublicError | None
    restored_site_id: str  # site and drive artifacts
    restored_site_name: str
    restored_site_web_url: str
    restored_folder_id: str  # mailbox artifacts
    restored_folder_name: str

    @classmethod
    def from_graph(cls, data: Json, workload: Workload | None = None) -> RestoreArtifact:
        point = data.get("restorePoint")
        point_id = ""
        if isinstance(point, Mapping):
            point_id = text(point, "id") or text(point, "@odata.id")
        point_id = point_id or text(data, "restorePoint@odata.id")
        return cls(
            id=text(data, "id"),
            workload=_workload(data, workload),
            destination_type=DestinationType.parse(data.get("destinationType")),
            status=ArtifactRestoreStatus.parse(data.get("status"))
            or ArtifactRestoreStatus.UNKNOWN_FUTURE_VALUE,
            restore_point_id=point_id.rsplit("/", 1)[-1].strip("')").split("('")[-1],
            started_at=parse_datetime(data.get("startDateTime")),
            completed_at=parse_datetime(data.get("completionDateTime")),
            error=PublicError.from_graph(data.get("error")),
            restored_site_id=text(data, "restoredSiteId"),
            restored_site_name=text(data, "restoredSiteName"),
            restored_site_web_url=text(data, "restoredSiteWebUrl"),
            restored_folder_id=text(data, "restoredFolderId"),
            restored_folder_name=text(data, "restoredFolderName"),
        )


__all__ = [
    "BulkAdditionJob",
    "Identity",
    "IdentitySet",
    "ProtectionPolicy",
    "ProtectionRule",
    "ProtectionUnit",
    "PublicError",
    "RestoreArtifact",
    "RestorePoint",
    "RestorePointSearchResult",
    "RestoreSession",
    "RetentionSetting",
    "ServiceApp",
    "ServiceStatus",
    "UnitChange",
]
