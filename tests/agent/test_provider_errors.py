"""Retry-After, read the ways providers send it, and the one short retry it allows."""

from __future__ import annotations

import email.utils
import time

from agent.provider_errors import retry_after_s, waited_to_retry


def test_retry_after_is_read_as_seconds_milliseconds_or_a_date() -> None:
    now = time.time()
    assert retry_after_s({"retry-after": "2"}) == 2.0
    assert retry_after_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25  # the finer one first
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 29.0 <= retry_after_s({"retry-after": date}, now=now) <= 30.0
    assert retry_after_s({"retry-after": "soon"}) is None
    assert retry_after_s({}) is None
    assert retry_after_s({"retry-after": "-5"}) == 0.0


async def test_only_a_short_wait_on_the_first_attempt_is_waited_out() -> None:
    started = time.monotonic()
    assert await waited_to_retry({"retry-after": "0.05"}, 0, 0.5)
    assert time.monotonic() - started >= 0.05
    assert not await waited_to_retry({"retry-after": "0.05"}, 1, 0.5)  # one retry at most
    assert not await waited_to_retry({"retry-after": "30"}, 0, 0.5)  # too long: fall back now
    assert not await waited_to_retry({}, 0, 0.5)  # unsaid: fall back now
