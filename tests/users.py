"""Accounts for tests: fresh users with a known password, and a plain session they can schedule."""

from __future__ import annotations

from uuid import UUID, uuid4

from api.consent import CONSENT_VERSION
from db import accounts
from db.pool import Db

TEST_PASSWORD = "correct horse battery staple"
# The body of POST /v1/sessions for tests that don't care which interview it is.
PLAIN_SESSION = {
    "role_track": "general",
    "round_type": "behavioral",
    "difficulty": "easy",
    "duration_min": 10,
    "consent_version": CONSENT_VERSION,
}


def new_email() -> str:
    """An email no other test uses."""
    return f"{uuid4().hex}@example.test"


async def make_user(db: Db, email: str | None = None, password: str = TEST_PASSWORD) -> UUID:
    """Creates an account (a fresh email unless given); returns its id."""
    user = await accounts.create_user(db, email or new_email(), password)
    return user.id
