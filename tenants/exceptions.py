"""Domain errors. Every app's exceptions derive from `DomainError`; the API answers them with
`status`, `code` and the message (and the field, when one input is to blame), never a 500."""


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class NotPermitted(DomainError):
    status = 403
    code = "permission_denied"


class MicrosoftUnavailable(DomainError):
    """Microsoft (or the emulator) did not answer in time; the caller may try again."""

    status = 503
    code = "microsoft_unavailable"


class ConsentError(DomainError):
    """A consent step refused; `failure` is the ConsentFailure code recorded for it."""

    code = "consent_failed"

    def __init__(self, failure: str, message: str):
        super().__init__(message)
        self.failure = failure
