from tenants.exceptions import DomainError


class AppProfileNotActive(DomainError):
    status = 409
    code = "app_profile_not_active"


class BackupServiceError(DomainError):
    """Microsoft refused a backup-service operation; the message says why."""

    code = "backup_service_error"


class BackupServiceNotReady(DomainError):
    """Microsoft 365 Backup is not enabled with the MSP's app as controller."""

    status = 409
    code = "backup_service_not_ready"


class JobAlreadyActive(DomainError):
    """A job of the same kind is already queued or running for the tenant."""

    status = 409
    code = "job_already_active"

    def __init__(self, message: str, *, job_id: int | None = None):
        super().__init__(message)
        self.job_id = job_id


class IdempotencyKeyReused(DomainError):
    """The idempotency key already started something else (another kind or tenant)."""

    status = 409
    code = "idempotency_key_reused"


class JobStateConflict(DomainError):
    """The job's state does not allow the action (cancel a finished job, retry a running one)."""

    status = 409
    code = "invalid_transition"


class RestoreRequestInvalid(DomainError):
    """A restore request that cannot be carried out; `field` names the input to blame."""

    code = "invalid_restore"


class ScopeInvalid(DomainError):
    code = "invalid_scope"


class MicrosoftRefused(DomainError):
    """Microsoft answered a backup operation with an error that retrying will not fix."""

    status = 502
    code = "microsoft_refused"
