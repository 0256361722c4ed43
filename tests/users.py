"""Accounts for tests: fresh users with a known password."""

from __future__ import annotations

from uuid import UUID, uuid4

from db import accounts
from db.pool import Db

TEST_PASSWORD = "correct horse battery staple"


def new_email() -> str:
    """An email no other test uses."""
    return f"{uuid4().hex}@example.test"


async def make_user(db: Db, email: str | None = None, password: str = TEST_PASSWORD) -> UUID:
    """Creates an account (a fresh email unless given); returns its id."""
    user = await accounts.create_user(db, email or new_email(), password)
    return user.id
