"""Throttles: how often a client or an account may sign in, sign up, schedule sessions and make
share links, counted in PostgreSQL (db/throttles.py) so that every process sees the same counts.

Sign-in has no lock, only waits: a lock on an account is a weapon for anyone who knows its email.
Each attempt is recorded before its password is checked, in one transaction that locks the
counters it touches, so 25 concurrent guesses cannot all pass a limit of 5. Three counters:

- account and client together: the first `sign_in_free_attempts` (5) pass; after that each
  attempt waits a delay that doubles from `sign_in_backoff_s` (5 s) up to `sign_in_backoff_cap_s`
  (15 min), and a success clears it. This is what stops a guesser, and keying it by the client
  too is what keeps the guesser's waits away from the owner, who signs in from elsewhere.
- the account, over clients that have not signed up or signed in to it within the sign-in
  lifetime: the same backoff after `sign_in_account_free_attempts` (20), against guesses spread
  over many addresses. The owner's known clients skip it, so at worst a botnet makes the owner's
  *new* device wait (up to the cap), and never the devices they already use.
- the client, over all accounts: at most `sign_in_client_limit` password checks per
  `throttle_window_s`, against one address trying many accounts (and burning CPU on scrypt).

An attempt refused by any counter is counted by none (its transaction is rolled back), so
hammering a refused key neither lengthens its wait nor reaches the account-wide counter. Unknown
emails are counted like real ones, so the throttle does not tell which accounts exist.

Sign-ups, sessions and share links are counted per client in a fixed window: at most
`sign_up_limit`, `session_limit` and `share_limit` per `throttle_window_s`.

Refusals are 429 with Retry-After in seconds. Keys are HMAC-SHA256, under the server's token
secret, of the normalised email and/or the client address: the table holds neither, and a copy of
it cannot be matched against guessed emails or addresses without the secret. Every process of a
deployment must share that secret (as it must for room tokens) to share the counters. Expired
rows are deleted by the retention sweep. A client is its peer address (client_address: the one
thing to change behind a reverse proxy).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request, status
from pydantic import BaseModel

from api.deps import PoolDep
from db import throttles
from db.accounts import normalise_email
from db.pool import Db, transaction
from greenroom.settings import Settings

ClientAction = Literal["sign_up", "session", "share"]

TOO_MANY_SIGN_INS = "too many sign-in attempts; try again in {wait}"
TOO_MANY_REQUESTS = "too many requests from this address; try again in {wait}"

_PAIR = "sign_in"
_ACCOUNT = "sign_in_account"
_CLIENT = "sign_in_client"
_KNOWN = "sign_in_known"


class ThrottledPublic(BaseModel):
    """A refusal to do more for now; the Retry-After header says how many seconds to wait."""

    detail: str


THROTTLED = {
    429: {
        "model": ThrottledPublic,
        "description": "Too many attempts; wait the Retry-After header's seconds.",
        "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    }
}


def client_address(request: Request) -> str:
    """Who a request comes from, for throttling: the peer's address. Behind a reverse proxy every
    request comes from the proxy, so such a deployment changes this to read the forwarded address."""
    return request.client.host if request.client else "unknown"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _in_words(wait_s: int) -> str:
    if wait_s >= 120:
        return f"{math.ceil(wait_s / 60)} minutes"
    return "1 second" if wait_s == 1 else f"{wait_s} seconds"


def _refused(message: str, retry_at: datetime, now: datetime) -> HTTPException:
    """A 429 saying how long to wait, in its Retry-After header and in words; `now` is read after
    the counters' locks were waited for, so the wait counts from the answer."""
    wait_s = max(1, math.ceil((retry_at - now).total_seconds()))
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail=message.format(wait=_in_words(wait_s)),
        headers={"Retry-After": str(wait_s)},
    )


class Throttle:
    """A deployment's limits, applied to the counters in the database."""

    def __init__(self, settings: Settings, secret: str, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._secret = secret.encode()
        self._enabled = settings.throttle_enabled
        self._clock = clock
        self._window = timedelta(seconds=settings.throttle_window_s)
        self._client_limits: dict[str, int] = {
            "sign_up": settings.sign_up_limit,
            "session": settings.session_limit,
            "share": settings.share_limit,
        }
        self._sign_in_client_limit = settings.sign_in_client_limit
        backoff = {
            "first_delay": timedelta(seconds=settings.sign_in_backoff_s),
            "max_delay": timedelta(seconds=settings.sign_in_backoff_cap_s),
            "window": timedelta(seconds=settings.sign_in_window_s),
        }
        self._pair = throttles.Backoff(free=settings.sign_in_free_attempts, **backoff)
        self._account = throttles.Backoff(free=settings.sign_in_account_free_attempts, **backoff)
        self._known_for = timedelta(seconds=settings.auth_token_ttl_s)

    def _key(self, scope: str, *parts: str) -> bytes:
        message = "\x00".join((scope, *parts)).encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    async def limit_client(self, db: Db, action: ClientAction, client: str) -> None:
        """Counts one action by a client; 429 when that makes more than its limit in the window."""
        if not self._enabled:
            return
        now = self._clock()
        limit = self._client_limits[action]
        key = self._key(action, client)
        retry_at = await throttles.hit(db, action, key, limit=limit, window=self._window, now=now)
        if retry_at is not None:
            raise _refused(TOO_MANY_REQUESTS, retry_at, self._clock())

    async def check_sign_in(self, db: Db, email: str, client: str) -> None:
        """Records a sign-in attempt before its password is checked; 429 when it must wait."""
        if not self._enabled:
            return
        now = self._clock()
        email = normalise_email(email)
        async with transaction(db) as conn:  # a refusal rolls back whatever was counted before it
            pair = self._key(_PAIR, email, client)
            retry_at = await throttles.attempt(conn, _PAIR, pair, self._pair, now=now)
            if retry_at is None:
                retry_at = await throttles.hit(
                    conn,
                    _CLIENT,
                    self._key(_CLIENT, client),
                    limit=self._sign_in_client_limit,
                    window=self._window,
                    now=now,
                )
            if retry_at is None and not await self._known(conn, email, client, now):
                account = self._key(_ACCOUNT, email)
                retry_at = await throttles.attempt(conn, _ACCOUNT, account, self._account, now=now)
            if retry_at is not None:
                raise _refused(TOO_MANY_SIGN_INS, retry_at, self._clock())

    async def _known(self, db: Db, email: str, client: str, now: datetime) -> bool:
        """Whether the client has signed up or signed in to the account within the sign-in lifetime."""
        return await throttles.remembered(db, _KNOWN, self._key(_KNOWN, email, client), now=now)

    async def signed_in(self, db: Db, email: str, client: str) -> None:
        """After a sign-up or a sign-in: clears the client's attempts on the account and remembers
        it as a client the account's owner uses."""
        if not self._enabled:
            return
        email = normalise_email(email)
        async with transaction(db) as conn:
            await throttles.forget(conn, _PAIR, self._key(_PAIR, email, client))
            known = self._key(_KNOWN, email, client)
            await throttles.remember(conn, _KNOWN, known, until=self._clock() + self._known_for)


def get_throttle(request: Request) -> Throttle:
    """The throttle made in the lifespan."""
    return request.app.state.throttle


ThrottleDep = Annotated[Throttle, Depends(get_throttle)]


def _per_client(action: ClientAction) -> Callable:
    async def limit(request: Request, pool: PoolDep, throttle: ThrottleDep) -> None:
        await throttle.limit_client(pool, action, client_address(request))

    limit.__doc__ = f"Counts one {action.replace('_', '-')} by the requesting client; 429 over its limit."
    return limit


SignUpLimit = Annotated[None, Depends(_per_client("sign_up"))]
SessionLimit = Annotated[None, Depends(_per_client("session"))]
ShareLimit = Annotated[None, Depends(_per_client("share"))]
