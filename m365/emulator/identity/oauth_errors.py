"""Microsoft identity platform error answers (OAuth JSON and AADSTS codes)."""

from __future__ import annotations

import json

from werkzeug.wrappers import Response

from ..clock import real_now
from ..ids import new_guid

_STATUS_OF = {"invalid_client": 401}


class OAuthError(Exception):
    def __init__(
        self,
        error: str,
        code: int,
        description: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.code = code
        self.description = description
        self.status = status or _STATUS_OF.get(error, 400)
        self.headers = headers or {}

    def response(self) -> Response:
        trace_id, correlation_id = new_guid(), new_guid()
        timestamp = _timestamp()
        body = {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.code}: {self.description} Trace ID: {trace_id} "
                f"Correlation ID: {correlation_id} Timestamp: {timestamp}"
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }
        return Response(
            json.dumps(body),
            status=self.status,
            headers=self.headers,
            content_type="application/json; charset=utf-8",
        )


def _timestamp() -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(real_now(), UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def tenant_not_found(ref: str) -> OAuthError:
    return OAuthError(
        "invalid_tenant",
        90002,
        f"Tenant '{ref}' not found. Check to make sure you have the correct tenant ID and are "
        "signing into the correct cloud. Check with your subscription administrator, this may "
        "happen if there are no active subscriptions for the tenant.",
    )
