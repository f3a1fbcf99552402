"""The three Backup Storage workloads and the path and property names each one uses.

Graph repeats the same shapes three times under different names (sites, mailboxes, drives);
this table is the one place that knows them, so every operation is written once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

ROOT = "/solutions/backupRestore"


class Workload(StrEnum):
    SHAREPOINT = "sharePoint"
    EXCHANGE = "exchange"
    ONEDRIVE = "oneDriveForBusiness"


@dataclass(frozen=True)
class WorkloadNames:
    policies: str  # policy collection under the root
    units: str  # unit collection under a policy (and tenant-wide)
    unit_key: str  # what a unit is created from
    unit_type: str  # @odata.type of a unit, without the namespace
    policy_type: str
    rules: str
    rule_expression: str
    bulk_jobs: str
    bulk_id_field: str  # ids a bulk job takes
    bulk_name_field: str  # URLs or email addresses a bulk job takes
    sessions: str
    session_type: str
    artifacts: str


NAMES: dict[Workload, WorkloadNames] = {
    Workload.SHAREPOINT: WorkloadNames(
        policies="sharePointProtectionPolicies",
        units="siteProtectionUnits",
        unit_key="siteId",
        unit_type="siteProtectionUnit",
        policy_type="sharePointProtectionPolicy",
        rules="siteInclusionRules",
        rule_expression="siteExpression",
        bulk_jobs="siteProtectionUnitsBulkAdditionJobs",
        bulk_id_field="siteIds",
        bulk_name_field="siteWebUrls",
        sessions="sharePointRestoreSessions",
        session_type="sharePointRestoreSession",
        artifacts="siteRestoreArtifacts",
    ),
    Workload.EXCHANGE: WorkloadNames(
        policies="exchangeProtectionPolicies",
        units="mailboxProtectionUnits",
        unit_key="directoryObjectId",
        unit_type="mailboxProtectionUnit",
        policy_type="exchangeProtectionPolicy",
        rules="mailboxInclusionRules",
        rule_expression="mailboxExpression",
        bulk_jobs="mailboxProtectionUnitsBulkAdditionJobs",
        bulk_id_field="directoryObjectIds",
        bulk_name_field="mailboxes",
        sessions="exchangeRestoreSessions",
        session_type="exchangeRestoreSession",
        artifacts="mailboxRestoreArtifacts",
    ),
    Workload.ONEDRIVE: WorkloadNames(
        policies="oneDriveForBusinessProtectionPolicies",
        units="driveProtectionUnits",
        unit_key="directoryObjectId",
        unit_type="driveProtectionUnit",
        policy_type="oneDriveForBusinessProtectionPolicy",
        rules="driveInclusionRules",
        rule_expression="driveExpression",
        bulk_jobs="driveProtectionUnitsBulkAdditionJobs",
        bulk_id_field="directoryObjectIds",
        bulk_name_field="drives",
        sessions="oneDriveForBusinessRestoreSessions",
        session_type="oneDriveForBusinessRestoreSession",
        artifacts="driveRestoreArtifacts",
    ),
}


def names(workload: Workload | str) -> WorkloadNames:
    return NAMES[Workload(workload)]


def workload_of_type(odata_type: str) -> Workload | None:
    """The workload of a polymorphic object from its `@odata.type`."""
    short = odata_type.rsplit(".", 1)[-1]
    for workload, table in NAMES.items():
        if short in (table.policy_type, table.unit_type, table.session_type, table.artifacts[:-1]):
            return workload
    return None


# Ask Graph for the enum members it hides by default (`failed`, `offboard*`, ...).
PREFER_ALL_ENUMS: Mapping[str, str] = MappingProxyType({"Prefer": "include-unknown-enum-members"})
# Graph's limits per request (reference section 2): units per policy create or PATCH,
# restore artifacts per session create or PATCH.
MAX_UNITS_PER_REQUEST = 50
MAX_ARTIFACTS_PER_REQUEST = 50


def backup_path(*segments: str) -> str:
    """`/solutions/backupRestore/...` with each id safely encoded."""
    from m365.odata import segment  # local: keeps this table module free of helpers

    return "/".join([ROOT, *(segment(part) for part in segments)])
