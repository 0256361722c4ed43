"""Accounts: users with scrypt-hashed passwords, and the sign-in tokens that stand for them.

Only a token's SHA-256 is stored, so a copy of the database does not sign anyone in. Emails and
passwords are personal data: they never appear in log or exception messages here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from db import orgs
from db.pool import Db, transaction

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_SALT_BYTES = 16
SCRYPT_HASH_BYTES = 32
# scrypt needs 128 * n * r bytes (16 MiB with the parameters above); refuse stored hashes that
# would ask for more than this.
SCRYPT_MAX_MEMORY = 64 * 1024 * 1024
TOKEN_BYTES = 32
# A token's last_seen_at is refreshed at most this often, so a busy client does not write on
# every request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)

# The hash of a random password nobody knows: unknown emails are checked against it, so that a
# failed sign-in takes as long whether or not the account exists.
_DUMMY_HASH = "scrypt$16384$8$1$m6c1rffvq+P7/RNQEVEdYA==$qTI3+rmZKnMM+TRIMBmMZp3nILzMq4WUqw/zXJIt684="

_USER_COLUMNS = "id, email, display_name, created_at"


class EmailTaken(Exception):
    """An account with this email already exists (the message names no email)."""

    def __init__(self) -> None:
        super().__init__("an account with this email already exists")


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One row of users, without its password hash."""

    id: UUID
    email: str
    display_name: str | None
    created_at: datetime


def normalise_email(email: str) -> str:
    """The form an email is stored and looked up in: trimmed and lower-cased."""
    return email.strip().lower()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=SCRYPT_HASH_BYTES,
        maxmem=SCRYPT_MAX_MEMORY,
    )


def hash_password(password: str) -> str:
    """A new salted scrypt hash of a password, as "scrypt$n$r$p$salt_b64$hash_b64" (CPU-heavy)."""
    salt = secrets.token_bytes(SCRYPT_SALT_BYTES)
    derived = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(derived)}"


def password_matches(password: str, stored: str) -> bool:
    """Whether a password matches a stored hash; a malformed hash matches nothing (CPU-heavy)."""
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(hash_b64, validate=True)
        derived = _scrypt(password, salt, int(n), int(r), int(p))
    except (ValueError, binascii.Error):  # bad fields, or scrypt refusing its parameters
        return False
    return hmac.compare_digest(derived, expected)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _user(row: asyncpg.Record | None) -> UserRecord | None:
    return None if row is None else UserRecord(**dict(row))


# -- users ------------------------------------------------------------------------


async def create_user(
    db: Db, email: str, password: str, display_name: str | None = None
) -> UserRecord:
    """Creates an account; EmailTaken when the (normalised) email already has one."""
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        async with transaction(db) as conn:
            row = await conn.fetchrow(
                f"""
                INSERT INTO users (email, display_name, password_hash) VALUES ($1, $2, $3)
                RETURNING {_USER_COLUMNS}
                """,
                normalise_email(email),
                display_name,
                password_hash,
            )
    except asyncpg.UniqueViolationError:
        raise EmailTaken() from None
    return _user(row)


async def verify_password(db: Db, email: str, password: str) -> UserRecord | None:
    """The user whose email and password these are; None otherwise, in about the same time."""
    row = await db.fetchrow(
        f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE email = $1",
        normalise_email(email),
    )
    stored = row["password_hash"] if row is not None else None
    matches = await asyncio.to_thread(password_matches, password, stored or _DUMMY_HASH)
    if row is None or stored is None or not matches:
        return None
    return UserRecord(
        id=row["id"], email=row["email"], display_name=row["display_name"], created_at=row["created_at"]
    )


async def get_user(db: Db, user_id: UUID) -> UserRecord | None:
    """A user by id; None when there is none."""
    return _user(await db.fetchrow(f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1", user_id))


async def delete_user(db: Db, user_id: UUID) -> bool:
    """Deletes an account and, by cascade, its sessions, everything recorded in them and its
    sign-in tokens; organisations it alone owns pass to another member, or go with it when it
    was their only member. False when there was no such user."""
    async with transaction(db) as conn:
        await orgs.hand_over(conn, user_id)
        deleted = await conn.fetchval("DELETE FROM users WHERE id = $1 RETURNING id", user_id)
    return deleted is not None


# -- sign-in tokens ---------------------------------------------------------------------


async def create_token(
    db: Db, user_id: UUID, ttl: timedelta, *, now: datetime | None = None
) -> str:
    """A new sign-in token for a user, valid for ttl; only its hash is stored."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with transaction(db) as conn:
        await conn.execute(
            """
            INSERT INTO auth_sessions (token_hash, user_id, created_at, expires_at, last_seen_at)
            VALUES ($1, $2, $3, $4, $3)
            """,
            _token_hash(token),
            user_id,
            now,
            now + ttl,
        )
    return token


async def user_for_token(db: Db, token: str, *, now: datetime | None = None) -> UUID | None:
    """The user a live token signs in; None for an unknown or expired one."""
    now = now or datetime.now(UTC)
    token_hash = _token_hash(token)
    row = await db.fetchrow(
        """
        SELECT user_id, last_seen_at FROM auth_sessions
        WHERE token_hash = $1 AND expires_at > $2
        """,
        token_hash,
        now,
    )
    if row is None:
        return None
    if now - row["last_seen_at"] >= LAST_SEEN_RESOLUTION:
        async with transaction(db) as conn:
            await conn.execute(
                "UPDATE auth_sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $2",
                token_hash,
                now,
            )
    return row["user_id"]


async def delete_token(db: Db, token: str) -> bool:
    """Signs a token out; False when it was not a stored token."""
    async with transaction(db) as conn:
        deleted = await conn.fetchval(
            "DELETE FROM auth_sessions WHERE token_hash = $1 RETURNING user_id", _token_hash(token)
        )
    return deleted is not None


async def purge_expired_tokens(db: Db, *, now: datetime | None = None) -> int:
    """Deletes the tokens that have expired; returns how many."""
    async with transaction(db) as conn:
        result = await conn.execute(
            "DELETE FROM auth_sessions WHERE expires_at <= $1", now or datetime.now(UTC)
        )
    return int(result.split()[-1])
