"""Real parts the suite needs, and what happens when a machine lacks one.

A test that needs PostgreSQL, Redis or Chromium skips with the reason on a machine that lacks
it, and fails under CI=true: in CI nothing may be skipped for lack of a part.
"""

import contextlib
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
    # A database of its own, so a worker started by a test never meets other messages.
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


@contextlib.contextmanager
def celery_broker(url: str, transport_options: dict | None = None):
    """Point the portal's Celery app at another broker for the duration of a test."""
    from portal.celery import app

    def reset_pools():
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    # Celery reads CELERY_BROKER_URL from the environment before its configuration, so both
    # must change (CI sets the variable).
    previous = (app.conf.broker_url, app.conf.broker_transport_options)
    previous_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.update(broker_url=url, broker_transport_options=transport_options or {})
    reset_pools()
    try:
        yield app
    finally:
        if previous_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous_env
        app.conf.update(broker_url=previous[0], broker_transport_options=previous[1])
        reset_pools()
