"""Backoff and Retry-After arithmetic (pure)."""

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m365.retry import backoff_delay, parse_retry_after, retry_after_delay, should_retry_status


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10", 10.0),
        ("2.128", 2.128),
        ("0", 0.0),
        ("-3", 0.0),
        (" 1.5 ", 1.5),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_retry_after_seconds(value, expected):
    assert parse_retry_after({"Retry-After": value}) == expected


def test_retry_after_http_date_and_header_case():
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    headers = {"retry-after": "Wed, 01 May 2024 12:00:30 GMT"}
    assert parse_retry_after(headers, now=now) == 30.0


def test_no_retry_after():
    assert parse_retry_after({}) is None


@given(
    attempt=st.integers(min_value=1, max_value=40),
    base=st.floats(min_value=0.01, max_value=5),
    cap=st.floats(min_value=0.01, max_value=120),
)
def test_backoff_is_capped_jittered_and_never_immediate(attempt, base, cap):
    delay = backoff_delay(attempt, base=base, cap=cap, rng=random.Random(attempt))
    step = min(cap, base * 2 ** (attempt - 1))
    assert step / 2 <= delay <= step


def test_backoff_grows_exponentially_until_the_cap():
    class Top(random.Random):
        def uniform(self, a, b):
            return b

    delays = [backoff_delay(n, base=1, cap=10, rng=Top()) for n in range(1, 7)]
    assert delays == [1, 2, 4, 8, 10, 10]


@given(st.floats(min_value=0, max_value=1000))
def test_retry_after_delay_never_shorter_than_asked(retry_after):
    delay = retry_after_delay(retry_after, rng=random.Random(1))
    assert retry_after <= delay <= retry_after + 1.0


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        (429, "POST", True),
        (503, "PATCH", True),
        (504, "GET", True),
        (504, "POST", False),
        (502, "DELETE", True),
        (500, "GET", False),
        (404, "GET", False),
    ],
)
def test_which_answers_are_retried(status, method, expected):
    assert should_retry_status(status, method) is expected
