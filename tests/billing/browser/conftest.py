"""Billing's browser tests reuse the core's Playwright set-up (Debian's Chromium, async
safety relaxed for this process; see tests/browser/conftest.py)."""

from tests.browser.conftest import browser_context_args, browser_type_launch_args

__all__ = ["browser_context_args", "browser_type_launch_args"]
