from tenants.exceptions import DomainError


class AppProfileNotActive(DomainError):
    status = 409
    code = "app_profile_not_active"


class BackupServiceError(DomainError):
    """Microsoft refused a backup-service operation; the message says why."""

    code = "backup_service_error"
