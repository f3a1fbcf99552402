from backups.models.inventory import Resource
from backups.models.protection import ProtectionPolicy, ProtectionUnit
from backups.models.service import BackupService

__all__ = ["BackupService", "ProtectionPolicy", "ProtectionUnit", "Resource"]
