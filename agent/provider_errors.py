"""What the cloud providers share: reading Retry-After, and the one bounded retry it allows."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Mapping


def retry_after_s(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds a 429 or 503 asks to wait (Retry-After as seconds or an HTTP date); None if unsaid."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def worth_waiting(wait_s: float | None, max_wait_s: float) -> bool:
    """Whether a rate-limited call is retried (once) rather than handed to the local provider."""
    return wait_s is not None and wait_s <= max_wait_s


async def waited_to_retry(headers: Mapping[str, str], attempt: int, max_wait_s: float) -> bool:
    """After a 429 on the first attempt: waits out a short Retry-After and says to retry; False
    (no wait) when it is the second attempt or the wait is unsaid or too long."""
    wait_s = retry_after_s(headers)
    if attempt > 0 or not worth_waiting(wait_s, max_wait_s):
        return False
    await asyncio.sleep(wait_s or 0.0)
    return True
