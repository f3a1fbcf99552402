from backups.models.health import GraphHealth
from backups.models.inventory import Resource
from backups.models.jobs import BackupJob
from backups.models.protection import ProtectionPolicy, ProtectionUnit
from backups.models.restores import RestoreArtifact, RestorePoint, RestoreSession
from backups.models.scope import GroupMember, ProtectionScope, ScopeSelection
from backups.models.service import BackupService

__all__ = [
    "BackupJob",
    "BackupService",
    "GraphHealth",
    "GroupMember",
    "ProtectionPolicy",
    "ProtectionScope",
    "ProtectionUnit",
    "Resource",
    "RestoreArtifact",
    "RestorePoint",
    "RestoreSession",
    "ScopeSelection",
]
