"""Real parts the suite needs, and what happens when a machine lacks one.

A test that needs PostgreSQL, Redis or Chromium skips with the reason on a machine that lacks
it, and fails under CI=true: in CI nothing may be skipped for lack of a part.
"""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(part: str, available: bool, how_to_get_it: str) -> None:
    if available:
        return
    message = f"{part} is not available here; {how_to_get_it}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: nothing may be skipped for lack of a part)")
    pytest.skip(message)


def tcp_reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def redis_url() -> str:
    configured = os.environ.get("CELERY_BROKER_URL", "")
    if configured.startswith("redis://"):
        return configured
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None
