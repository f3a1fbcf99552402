"""The three Backup Storage workloads and the Graph names of everything they hold."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    key: str  # "sharePoint" | "exchange" | "oneDriveForBusiness"
    policies: str  # collection segment under /solutions/backupRestore
    policy_type: str  # @odata.type without '#'
    units: str
    unit_type: str
    unit_key: str  # the property naming the protected resource: siteId | directoryObjectId
    rules: str
    rule_type: str
    expression_key: str
    jobs: str
    job_type: str
    job_lists: tuple[str, str]  # (by id, by URL or e-mail)
    sessions: str
    session_type: str
    artifacts: str
    artifact_type: str
    fast_restore: bool  # SharePoint and OneDrive have fastRestore points; Exchange has none


SHAREPOINT = Workload(
    "sharePoint",
    "sharePointProtectionPolicies",
    "microsoft.graph.sharePointProtectionPolicy",
    "siteProtectionUnits",
    "microsoft.graph.siteProtectionUnit",
    "siteId",
    "siteInclusionRules",
    "microsoft.graph.siteProtectionRule",
    "siteExpression",
    "siteProtectionUnitsBulkAdditionJobs",
    "microsoft.graph.siteProtectionUnitsBulkAdditionJob",
    ("siteIds", "siteWebUrls"),
    "sharePointRestoreSessions",
    "microsoft.graph.sharePointRestoreSession",
    "siteRestoreArtifacts",
    "microsoft.graph.siteRestoreArtifact",
    True,
)
EXCHANGE = Workload(
    "exchange",
    "exchangeProtectionPolicies",
    "microsoft.graph.exchangeProtectionPolicy",
    "mailboxProtectionUnits",
    "microsoft.graph.mailboxProtectionUnit",
    "directoryObjectId",
    "mailboxInclusionRules",
    "microsoft.graph.mailboxProtectionRule",
    "mailboxExpression",
    "mailboxProtectionUnitsBulkAdditionJobs",
    "microsoft.graph.mailboxProtectionUnitsBulkAdditionJob",
    ("directoryObjectIds", "mailboxes"),
    "exchangeRestoreSessions",
    "microsoft.graph.exchangeRestoreSession",
    "mailboxRestoreArtifacts",
    "microsoft.graph.mailboxRestoreArtifact",
    False,
)
ONEDRIVE = Workload(
    "oneDriveForBusiness",
    "oneDriveForBusinessProtectionPolicies",
    "microsoft.graph.oneDriveForBusinessProtectionPolicy",
    "driveProtectionUnits",
    "microsoft.graph.driveProtectionUnit",
    "directoryObjectId",
    "driveInclusionRules",
    "microsoft.graph.driveProtectionRule",
    "driveExpression",
    "driveProtectionUnitsBulkAdditionJobs",
    "microsoft.graph.driveProtectionUnitsBulkAdditionJob",
    ("directoryObjectIds", "drives"),
    "oneDriveForBusinessRestoreSessions",
    "microsoft.graph.oneDriveForBusinessRestoreSession",
    "driveRestoreArtifacts",
    "microsoft.graph.driveRestoreArtifact",
    True,
)

WORKLOADS: tuple[Workload, ...] = (SHAREPOINT, EXCHANGE, ONEDRIVE)
BY_KEY = {w.key: w for w in WORKLOADS}
