"""Settings of the Microsoft Graph / identity client.

The portal builds one `GraphSettings` from its Django settings; nothing under `m365/` reads
Django. Production and development differ only in these values (base URLs and CA bundle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

GRAPH_RESOURCE = "https://graph.microsoft.com"


@dataclass(frozen=True)
class GraphSettings:
    """Everything the client needs to reach Microsoft (or the emulator)."""

    client_id: str
    # The MSP's multi-tenant app secret. Never printed: repr=False.
    client_secret: str = field(repr=False)
    # The MSP's own Entra tenant: the `appOwnerTenantId` sent when enabling Backup Storage.
    msp_tenant_id: str
    login_base_url: str = "https://login.microsoftonline.com"
    # Without `/v1.0` or `/beta`: the client appends the version itself.
    graph_base_url: str = "https://graph.microsoft.com"
    # PEM file to trust instead of the system store (dev: the emulator's CA). Empty = system.
    ca_bundle: str = ""
    # The resource whose `/.default` scope tokens are asked for. It names Microsoft Graph even
    # when `graph_base_url` points at the emulator: a scope is an identifier, not a URL to call.
    graph_resource: str = GRAPH_RESOURCE
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 60.0
    # Attempts per request, the first one included (429/503/504 and network errors are retried).
    max_attempts: int = 6
    # Exponential backoff when Graph gives no Retry-After: base * 2**(n-1), capped, jittered.
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 60.0
    # A Retry-After longer than this is not slept on in-process: the client raises
    # GraphThrottled(retry_after=...) so a Celery task can retry later without holding a worker.
    max_retry_after_seconds: float = 300.0
    user_agent: str = "CloudBackupExpressPortal/0.1 (+m365 client)"

    def __post_init__(self) -> None:
        for name in ("login_base_url", "graph_base_url", "graph_resource"):
            value = getattr(self, name).rstrip("/")
            parts = urlsplit(value)
            # msal refuses non-HTTPS authorities; the bearer token must never travel in clear.
            if parts.scheme != "https" or not parts.netloc:
                raise ValueError(f"{name} must be an https:// URL, got {value!r}")
            object.__setattr__(self, name, value)
        if not self.client_id:
            raise ValueError("client_id is required")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_base_seconds < 0 or self.backoff_cap_seconds < 0:
            raise ValueError("backoff durations must not be negative")
        object.__setattr__(self, "ca_bundle", self.ca_bundle or "")

    @property
    def graph_scope(self) -> str:
        """The app-only scope: every application permission consented to the app."""
        return f"{self.graph_resource}/.default"

    def authority(self, tenant: str) -> str:
        """The msal authority of one tenant: https, a tenant segment, no trailing slash."""
        return f"{self.login_base_url}/{tenant}"
