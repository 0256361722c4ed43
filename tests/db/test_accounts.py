"""Accounts: scrypt password hashes, sign-in tokens stored only as hashes, expiry and deletion."""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db import accounts
from tests.users import new_email

PASSWORD = "a long enough passphrase"


def test_hash_format_and_check() -> None:
    stored = accounts.hash_password(PASSWORD)
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert len(base64.b64decode(salt)) == 16
    # The stored digest is scrypt over the password with the stored salt, not anything else.
    assert base64.b64decode(digest) == hashlib.scrypt(
        PASSWORD.encode(), salt=base64.b64decode(salt), n=2**14, r=8, p=1, dklen=len(base64.b64decode(digest))
    )
    assert accounts.password_matches(PASSWORD, stored)
    assert not accounts.password_matches(PASSWORD + "!", stored)
    assert accounts.hash_password(PASSWORD) != stored  # a fresh salt each time


@pytest.mark.parametrize(
    "stored",
    ["", "plain", "bcrypt$1$2$3$AAAA$AAAA", "scrypt$x$8$1$AAAA$AAAA", "scrypt$16384$8$1$!!$AAAA", "scrypt$3$8$1$AAAA$AAAA"],
)
def test_malformed_hashes_match_nothing(stored: str) -> None:
    assert not accounts.password_matches(PASSWORD, stored)


async def test_create_and_verify(conn: asyncpg.Connection) -> None:
    email = new_email()
    user = await accounts.create_user(conn, f"  {email.upper()}\n", PASSWORD, "Ada")
    assert (user.email, user.display_name) == (email, "Ada")
    stored = await conn.fetchval("SELECT password_hash FROM users WHERE id = $1", user.id)
    assert stored.startswith("scrypt$") and PASSWORD not in stored

    assert await accounts.verify_password(conn, email.upper(), PASSWORD) == user
    assert await accounts.verify_password(conn, email, PASSWORD.upper()) is None
    assert await accounts.verify_password(conn, new_email(), PASSWORD) is None
    assert await accounts.get_user(conn, user.id) == user


async def test_email_taken_names_no_email(conn: asyncpg.Connection) -> None:
    email = new_email()
    await accounts.create_user(conn, email, PASSWORD)
    with pytest.raises(accounts.EmailTaken) as raised:
        await accounts.create_user(conn, email.upper(), "another one entirely")
    assert email not in str(raised.value) and raised.value.__cause__ is None


async def test_an_account_without_a_password_cannot_sign_in(conn: asyncpg.Connection) -> None:
    email = new_email()
    await conn.execute("INSERT INTO users (email) VALUES ($1)", email)
    assert await accounts.verify_password(conn, email, "") is None
    assert await accounts.verify_password(conn, email, PASSWORD) is None


async def test_tokens_are_stored_hashed_and_expire(conn: asyncpg.Connection) -> None:
    user = await accounts.create_user(conn, new_email(), PASSWORD)
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    token = await accounts.create_token(conn, user.id, timedelta(days=30), now=now)
    assert len(token) >= 40
    row = await conn.fetchrow("SELECT * FROM auth_sessions WHERE user_id = $1", user.id)
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert token.encode() not in bytes(row["token_hash"])
    assert row["expires_at"] == now + timedelta(days=30)

    assert await accounts.user_for_token(conn, token, now=now + timedelta(days=29)) == user.id
    assert await accounts.user_for_token(conn, token, now=now + timedelta(days=30)) is None
    assert await accounts.user_for_token(conn, token + "x", now=now) is None
    assert await accounts.user_for_token(conn, "", now=now) is None


async def test_last_seen_is_refreshed_at_most_once_a_minute(conn: asyncpg.Connection) -> None:
    user = await accounts.create_user(conn, new_email(), PASSWORD)
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    token = await accounts.create_token(conn, user.id, timedelta(days=1), now=now)

    async def last_seen() -> datetime:
        return await conn.fetchval("SELECT last_seen_at FROM auth_sessions WHERE user_id = $1", user.id)

    await accounts.user_for_token(conn, token, now=now + timedelta(seconds=30))
    assert await last_seen() == now
    await accounts.user_for_token(conn, token, now=now + timedelta(seconds=90))
    assert await last_seen() == now + timedelta(seconds=90)


async def test_sign_out_and_purge(conn: asyncpg.Connection) -> None:
    user = await accounts.create_user(conn, new_email(), PASSWORD)
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    kept = await accounts.create_token(conn, user.id, timedelta(days=30), now=now)
    signed_out = await accounts.create_token(conn, user.id, timedelta(days=30), now=now)
    await accounts.create_token(conn, user.id, timedelta(hours=1), now=now)

    assert await accounts.delete_token(conn, signed_out)
    assert not await accounts.delete_token(conn, signed_out)
    assert await accounts.user_for_token(conn, signed_out, now=now) is None

    assert await accounts.purge_expired_tokens(conn, now=now + timedelta(hours=2)) >= 1
    assert await conn.fetchval("SELECT count(*) FROM auth_sessions WHERE user_id = $1", user.id) == 1
    assert await accounts.user_for_token(conn, kept, now=now) == user.id


async def test_delete_user_takes_sessions_and_tokens(conn: asyncpg.Connection) -> None:
    user = await accounts.create_user(conn, new_email(), PASSWORD)
    await accounts.create_token(conn, user.id, timedelta(days=1))
    await conn.execute(
        """
        INSERT INTO sessions (user_id, role_track, round_type, difficulty, duration_min, persona)
        VALUES ($1, 'general', 'behavioral', 'easy', 10, 'alex')
        """,
        user.id,
    )
    assert await accounts.delete_user(conn, user.id)
    assert not await accounts.delete_user(conn, user.id)
    for table in ("sessions", "auth_sessions"):
        assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE user_id = $1", user.id) == 0


async def test_nothing_personal_is_logged(conn: asyncpg.Connection, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    email = new_email()
    user = await accounts.create_user(conn, email, PASSWORD)
    token = await accounts.create_token(conn, user.id, timedelta(days=1))
    await accounts.verify_password(conn, email, PASSWORD)
    await accounts.user_for_token(conn, token)
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        assert email not in text and PASSWORD not in text and token not in text
