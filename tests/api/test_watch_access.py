"""WatchAccess ends each watcher once: a periodic recheck that read the watchers before a
revocation ended them, and sees the revocation in the database after, does not end them again
(a coach's socket was sent "access_ended" twice)."""

from __future__ import annotations

import asyncio

import asyncpg

from api.tokens import RoomClaims
from api.watch_access import SESSION_DELETED, WatchAccess
from db import sessions as repo
from tests.users import PLAIN_SESSION, make_user


async def test_a_recheck_racing_a_revocation_ends_the_watcher_once(pool: asyncpg.Pool) -> None:
    user_id = await make_user(pool)
    session = await repo.create_session(pool, user_id=user_id, persona="alex", **PLAIN_SESSION)
    session_id = session.id
    access = WatchAccess(pool)
    ended: list[str] = []

    async def end(reason: str) -> None:
        ended.append(reason)

    claims = RoomClaims(identity="c", name="", room=str(session_id), role="candidate", can_publish=True, hidden=False)
    await access.watch(claims, end, in_room=True)
    assert await repo.delete_session(pool, session_id)
    rechecking = asyncio.create_task(access.recheck(session_id))
    await asyncio.sleep(0)  # the recheck has read the watchers and waits for the database
    await access.session_deleted(session_id)  # as the API does when it deletes the session
    await rechecking  # the database now says the session is gone
    assert ended == [SESSION_DELETED]
    assert access.coaches_in_room(str(session_id)) == []
