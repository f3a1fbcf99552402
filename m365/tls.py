"""TLS trust for every HTTP stack the client uses (httpx for Graph, requests for msal).

Why explicit contexts: httpx defaults to certifi, not the system store the contract asks for;
and requests lets REQUESTS_CA_BUNDLE override a Session-level `verify` (libraries.md section 9),
so with a CA bundle the msal session must not trust the environment.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx
import requests

from m365.config import GraphSettings


def ssl_context(settings: GraphSettings) -> ssl.SSLContext:
    """The CA bundle of the settings when set, else the operating system's store."""
    if settings.ca_bundle:
        return ssl.create_default_context(cafile=settings.ca_bundle)
    return _system_context()


@functools.cache
def _system_context() -> ssl.SSLContext:
    # Loading the system store costs ~45 ms; every Graph session and token redemption would
    # pay it. A CA file is not cached: the emulator may regenerate it.
    return ssl.create_default_context()


def http_client(settings: GraphSettings, **options: Any) -> httpx.Client:
    """An httpx client trusting what the settings say, with their timeouts."""
    return httpx.Client(
        verify=ssl_context(settings),
        timeout=httpx.Timeout(
            settings.read_timeout_seconds, connect=settings.connect_timeout_seconds
        ),
        # With a private CA (dev, tests) no proxy from the environment may intercept;
        # in production (system store) proxies from the environment still apply.
        trust_env=not settings.ca_bundle,
        **options,
    )


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
