"""Typed errors of the client.

Two families: `AuthError` (the identity platform: tokens, consent, tenants) and `GraphError`
(Microsoft Graph answers). Every error has a `transient` flag: True means "the same call may
succeed later", which is what the portal's Celery tasks retry on. Messages never contain a
token or a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from m365.retry import parse_retry_after


class M365Error(Exception):
    """Base of every error raised by `m365` (the emulator excepted)."""

    transient: bool = False


# --- identity platform ----------------------------------------------------------------------


class AuthError(M365Error):
    """The identity platform refused or failed to issue a token."""

    def __init__(
        self,
        message: str,
        *,
        error: str = "",
        aadsts_codes: tuple[int, ...] = (),
        tenant: str = "",
        status: int | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.error = error  # OAuth `error`, e.g. "invalid_grant"
        self.aadsts_codes = aadsts_codes  # e.g. (50126,) from `error_codes`
        self.tenant = tenant
        self.status = status
        self.transient = transient


class InvalidGrant(AuthError):
    """A refresh token no longer works: password reset, user disabled or deleted, consent
    revoked, MFA or conditional access now required. The portal marks the profile for
    re-authorization; retrying will not help."""


class AppNotConsented(AuthError):
    """The MSP app has no service principal (no admin consent) in the customer tenant, or the
    consent was removed. An admin of that tenant must consent again."""


class UnknownTenant(AuthError):
    """No Entra tenant answers to that id or domain."""


class TokenEndpointError(AuthError):
    """Any other token endpoint failure: network, 5xx, bad client secret, bad scope.
    `transient` says whether a retry may help."""


# --- Microsoft Graph ------------------------------------------------------------------------


class GraphError(M365Error):
    """A Graph request failed. Branch on `code` (stable), never on `message` (developer text)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        code: str = "",
        request_id: str = "",
        client_request_id: str = "",
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
        transient: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.method = method
        self.url = url
        self.retry_after = retry_after  # seconds Graph asked to wait, when it said so
        if transient is not None:
            self.transient = transient

    def has_code(self, *codes: str) -> bool:
        """Graph's codes vary in case between services (`invalidRequest`, `InvalidPolicyId`)."""
        mine = self.code.casefold()
        return any(mine == code.casefold() for code in codes)

    def __str__(self) -> str:
        where = f" {self.method} {self.url}" if self.method else ""
        rid = f" request-id={self.request_id}" if self.request_id else ""
        return f"{self.status} {self.code}: {self.message}{where}{rid}"


class GraphBadRequest(GraphError):
    """400, 405, 411, 413, 415, 416, 422: the request itself is wrong; do not retry as is."""


class GraphUnauthorized(GraphError):
    """401: the token was refused (expired, wrong tenant, wrong audience)."""


class GraphForbidden(GraphError):
    """403: missing permission (`Authorization_RequestDenied`, `accessDenied`) or an action
    the object's state forbids (`PolicyActionNotAllowed`, `RestoreSessionActionNotAllowed`)."""


class GraphNotFound(GraphError):
    """404 or 410: `itemNotFound`, `PolicyNotFound`, `RestoreSessionNotFound`..."""


class GraphConflict(GraphError):
    """409 or 412: `PolicyCreationNotAllowed`, `ProtectionUnitAlreadyExists`..."""


class GraphTransientError(GraphError):
    """5xx (`PolicySaveFailed`, `TooManyActiveRestoreSessions`), a network failure or a
    timeout: the same call may succeed later."""

    transient = True


class GraphThrottled(GraphTransientError):
    """429 after the client's attempts ran out, or a Retry-After too long to sleep in process;
    `retry_after` says when to come back."""


def graph_error_class(status: int | None) -> type[GraphError]:
    """The exception class for an HTTP status."""
    if status is None:
        return GraphTransientError
    if status == 429:
        return GraphThrottled
    if status == 401:
        return GraphUnauthorized
    if status == 403:
        return GraphForbidden
    if status in (404, 410):
        return GraphNotFound
    if status in (409, 412):
        return GraphConflict
    if status in (400, 405, 411, 413, 415, 416, 422):
        return GraphBadRequest
    if status >= 500 and status != 501:
        return GraphTransientError
    return GraphError


class ErrorCode(StrEnum):
    """Graph error codes the portal branches on (reference sections 2 and 6). Compare with
    `GraphError.has_code(...)`: case differs between services."""

    # generic
    ITEM_NOT_FOUND = "itemNotFound"
    ACCESS_DENIED = "accessDenied"
    AUTHORIZATION_REQUEST_DENIED = "Authorization_RequestDenied"
    REQUEST_RESOURCE_NOT_FOUND = "Request_ResourceNotFound"
    TOO_MANY_REQUESTS = "TooManyRequests"
    INVALID_AUTHENTICATION_TOKEN = "InvalidAuthenticationToken"
    # enable
    INVALID_APP_OWNER_TENANT_ID = "InvalidAppOwnerTenantId"
    INVALID_BILLING_PROFILE = "InvalidBillingProfile"
    UNABLE_TO_READ_BILLING_PROFILE = "UnableToReadBillingProfile"
    # policies
    INVALID_CREATE_REQUEST = "InvalidCreateRequest"
    INVALID_DISPLAY_NAME = "InvalidDisplayName"
    INVALID_PROTECTION_UNIT_ID = "InvalidProtectionUnitId"
    PROTECTION_UNITS_LIMIT_BREACHED = "ProtectionUnitsLimitBreached"
    POLICY_CREATION_NOT_ALLOWED = "PolicyCreationNotAllowed"
    PROTECTION_UNIT_ALREADY_EXISTS = "ProtectionUnitAlreadyExists"
    POLICY_SAVE_FAILED = "PolicySaveFailed"
    INVALID_POLICY_ID = "InvalidPolicyId"
    POLICY_NOT_FOUND = "PolicyNotFound"
    PROTECTION_UNIT_NOT_FOUND = "ProtectionUnitNotFound"
    DUPLICATE_PROTECTION_UNIT_IN_LIST = "DuplicateProtectionUnitInList"
    PROTECTION_UNIT_ACTION_NOT_ALLOWED = "ProtectionUnitActionNotAllowed"
    POLICY_ACTION_NOT_ALLOWED = "PolicyActionNotAllowed"
    INVALID_STATE_FOR_ACTIVATION = "invalidStateForActivation"
    FILTER_LENGTH_EXCEEDED = "FilterLengthExceeded"
    # rules
    INVALID_INCLUSION_RULE_CREATE_REQUEST = "InvalidInclusionRuleCreateRequest"
    INVALID_RULE_EXPRESSION = "InvalidRuleExpression"
    INVALID_RULE_EXPRESSION_GROUP_LIMIT_EXCEEDED = "InvalidRuleExpressionGroupLimitExceeded"
    RUN_NOT_ALLOWED_FOR_DYNAMIC_RULE = "RunNotAllowedForDynamicRule"
    PROTECTION_RULE_NOT_FOUND = "ProtectionRuleNotFound"
    PROTECTION_RULE_ACTION_NOT_ALLOWED = "ProtectionRuleActionNotAllowed"
    # restore points and sessions
    INVALID_SEARCH_REQUEST = "InvalidSearchRequest"
    INVALID_PATH_TYPE = "InvalidPathType"
    INVALID_ARTIFACT_REQUEST = "InvalidArtifactRequest"
    INVALID_RESTORE_POINT = "InvalidRestorePoint"
    DIFFERENT_RESTORE_DESTINATION_TYPE = "DifferentRestoreDestinationType"
    DUPLICATE_ARTIFACT_IN_LIST = "DuplicateArtifactInList"
    RESTORE_ARTIFACTS_LIMIT_BREACHED = "RestoreArtifactsLimitBreached"
    INVALID_RESTORE_SESSION_ID = "InvalidRestoreSessionId"
    RESTORE_SESSION_ACTION_NOT_ALLOWED = "RestoreSessionActionNotAllowed"
    RESTORE_SESSION_NOT_FOUND = "RestoreSessionNotFound"
    TOO_MANY_ACTIVE_RESTORE_SESSIONS = "TooManyActiveRestoreSessions"
    INCOMPLETE_ARTIFACT_DELETION = "IncompleteArtifactDeletion"


def graph_error(
    status: int,
    headers: Mapping[str, str],
    body: Any,
    *,
    method: str = "",
    url: str = "",
) -> GraphError:
    """The typed error for a Graph answer (a whole response or one `$batch` item).

    Reads `{"error": {"code", "message", "innerError": {"request-id", ...}}}` and falls back
    on the `request-id` header; a non-JSON body still yields an error with the status."""
    code, message, request_id, client_request_id = "", "", "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        message = str(error.get("message") or "")
        inner = error.get("innerError") or error.get("innererror") or {}
        if isinstance(inner, dict):
            request_id = str(inner.get("request-id") or "")
            client_request_id = str(inner.get("client-request-id") or "")
    elif isinstance(error, str):  # OAuth-style {"error": "..."} from a misrouted call
        code = error
        message = str(body.get("error_description") or "") if isinstance(body, dict) else ""
    lowered = {key.lower(): value for key, value in headers.items()}
    request_id = request_id or lowered.get("request-id", "")
    client_request_id = client_request_id or lowered.get("client-request-id", "")
    return graph_error_class(status)(
        message or f"HTTP {status}",
        status=status,
        code=code or f"http{status}",
        request_id=request_id,
        client_request_id=client_request_id,
        method=method,
        url=url,
        retry_after=parse_retry_after(headers),
    )
