"""TLS trust for every HTTP stack the client uses (httpx for Graph, requests for msal).

Why explicit contexts: httpx defaults to certifi, not the system store the contract asks for;
and requests lets REQUESTS_CA_BUNDLE override a Session-level `verify` (libraries.md section 9),
so with a CA bundle the msal session must not trust the environment.
"""

from __future__ import annotations

import ssl
from typing import Any

import requests

from m365.config import GraphSettings


def ssl_context(settings: GraphSettings) -> ssl.SSLContext:
    """The CA bundle of the settings when set, else the operating system's store."""
    if settings.ca_bundle:
        return ssl.create_default_context(cafile=settings.ca_bundle)
    return ssl.create_default_context()


class _TimeoutSession(requests.Session):
    """requests has no session-wide timeout, and msal ignores its own `timeout` argument when
    given an `http_client`: without this a hung identity endpoint would block a worker."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(*args, **kwargs)


def requests_session(settings: GraphSettings) -> requests.Session:
    """A requests session for msal that really verifies against `settings.ca_bundle`."""
    session = _TimeoutSession((settings.connect_timeout_seconds, settings.read_timeout_seconds))
    if settings.ca_bundle:
        session.verify = settings.ca_bundle
        # Otherwise REQUESTS_CA_BUNDLE (exported on these machines) silently wins over verify.
        session.trust_env = False
    session.headers["User-Agent"] = settings.user_agent
    return session
