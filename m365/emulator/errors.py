"""The exception every layer raises for an answer that is not a success."""

from __future__ import annotations

from typing import Any


class ControlError(Exception):
    """An error answer: HTTP status, a machine-readable code and a message.

    Graph handlers render it as Graph's error JSON, the control API as
    `{"error": {"code", "message"}}`; `headers` and `extra` (merged into the error object,
    e.g. `details`) are optional.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}
