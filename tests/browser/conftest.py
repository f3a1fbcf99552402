"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, so Django's async-safety check
would refuse the ORM in fixtures and teardown; it is relaxed for this process (these tests
live in their own folder for that reason, see reference/libraries.md §10).
"""

import os

import pytest

from tests.services import CHROMIUM, chromium_available, require

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require("Chromium", chromium_available(), "install Debian's chromium (make test does as root)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # The emulator's consent pages use its own CA.
    return {**browser_context_args, "ignore_https_errors": True}
