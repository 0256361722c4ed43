"""The session repository, each test inside a rolled-back transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest

from db import accounts
from db import sessions as repo
from tests.users import make_user

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


async def _session(conn: asyncpg.Connection, user_id: UUID | None = None) -> repo.SessionRecord:
    user_id = user_id or await make_user(conn)
    return await repo.create_session(
        conn,
        user_id=user_id,
        role_track="software_engineer",
        round_type="behavioral",
        difficulty="medium",
        duration_min=20,
        persona="alex",
        consent_version="2025-01",
    )


async def _other_user(conn: asyncpg.Connection) -> UUID:
    return await make_user(conn)


async def test_create_get_and_list(conn: asyncpg.Connection) -> None:
    created = await _session(conn)
    assert created.status == "scheduled"
    assert created.consent_version == "2025-01"
    assert created.started_at is None and created.ended_at is None
    assert await repo.get_session(conn, created.id) == created
    assert await repo.get_session(conn, uuid4()) is None

    other = await _other_user(conn)
    assert await repo.get_session(conn, created.id, user_id=other) is None
    assert await repo.list_sessions(conn, other) == []

    # Inside one transaction now() is constant, so order the rows by setting created_at.
    newer = await _session(conn, created.user_id)
    await conn.execute(
        "UPDATE sessions SET created_at = created_at + interval '1 minute' WHERE id = $1", newer.id
    )
    listed = await repo.list_sessions(conn, created.user_id)
    assert [s.id for s in listed] == [newer.id, created.id]
    assert [s.id for s in await repo.list_sessions(conn, created.user_id, limit=1, offset=1)] == [created.id]


async def test_live_then_ended_once(conn: asyncpg.Connection) -> None:
    s = await _session(conn)
    live = await repo.mark_live(conn, s.id, T0)
    assert (live.status, live.started_at) == ("live", T0)
    assert (await repo.mark_live(conn, s.id, T0 + timedelta(seconds=5))).started_at == T0

    ended = await repo.mark_ended(conn, s.id, "completed", T0 + timedelta(minutes=20), "time_up")
    assert (ended.status, ended.end_reason) == ("completed", "time_up")
    assert ended.ended_at == T0 + timedelta(minutes=20)

    again = await repo.mark_ended(conn, s.id, "abandoned", T0 + timedelta(hours=1), "left")
    assert again == ended
    assert (await repo.mark_live(conn, s.id, T0 + timedelta(hours=2))).status == "completed"

    with pytest.raises(ValueError):
        await repo.mark_ended(conn, s.id, "live", T0, "nope")  # type: ignore[arg-type]
    assert await repo.mark_ended(conn, uuid4(), "failed", T0, "gone") is None


async def test_set_status(conn: asyncpg.Connection) -> None:
    s = await _session(conn)
    assert (await repo.set_status(conn, s.id, "failed")).status == "failed"
    assert await repo.set_status(conn, uuid4(), "failed") is None
    with pytest.raises(asyncpg.CheckViolationError):
        await repo.set_status(conn, s.id, "paused")  # type: ignore[arg-type]


async def test_transcript_interleaves_questions_and_responses(conn: asyncpg.Connection) -> None:
    s = await _session(conn)
    q1 = await repo.add_question(conn, s.id, 1, "Tell me about yourself.", "bank", "se-b-001", "alex", T0)
    q2 = await repo.add_question(
        conn, s.id, 2, "What did you learn?", "follow_up", None, "alex", T0 + timedelta(seconds=40)
    )
    words = [{"w": "I", "start": 0.0, "end": 0.2, "p": 0.9}, {"w": "build", "start": 0.2, "end": 0.6, "p": 0.8}]
    r2 = await repo.add_response(
        conn, s.id, q2, "That testing matters.", T0 + timedelta(seconds=45), T0 + timedelta(seconds=50)
    )
    r1 = await repo.add_response(
        conn, s.id, q1, "I build things.", T0 + timedelta(seconds=5), T0 + timedelta(seconds=30), words
    )
    assert isinstance(r1, UUID) and r1 != r2
    assert await conn.fetchval("SELECT words FROM responses WHERE id = $1", r1) == words
    assert await conn.fetchval("SELECT words FROM responses WHERE id = $1", r2) == []

    entries = await repo.transcript(conn, s.id)
    assert [(e.speaker, e.text, e.seq) for e in entries] == [
        ("interviewer", "Tell me about yourself.", 1),
        ("candidate", "I build things.", 1),
        ("interviewer", "What did you learn?", 2),
        ("candidate", "That testing matters.", 2),
    ]
    assert entries[0].source == "bank" and entries[2].source == "follow_up"
    assert entries[1].question_id == q1 and entries[0].question_id == q1
    assert entries[1].at == T0 + timedelta(seconds=5)
    assert await repo.transcript(conn, uuid4()) == []

    with pytest.raises(asyncpg.UniqueViolationError):
        await repo.add_question(conn, s.id, 1, "Again?", "bank", None, "alex", T0)


async def test_delete_removes_everything_under_a_session(conn: asyncpg.Connection) -> None:
    s = await _session(conn)
    kept = await _session(conn)
    q = await repo.add_question(conn, s.id, 1, "Why us?", "bank", None, "alex", T0)
    await repo.add_response(conn, s.id, q, "Because.", T0, None)
    await repo.add_turn_latency(conn, s.id, 1, T0, T0 + timedelta(milliseconds=550), 550.0, 120.0)
    await repo.add_question(conn, kept.id, 1, "Why us?", "bank", None, "alex", T0)

    assert not await repo.delete_session(conn, s.id, user_id=await _other_user(conn))
    assert await repo.delete_session(conn, s.id)
    assert not await repo.delete_session(conn, s.id)
    for table in ("questions", "responses", "turn_latency"):
        assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE session_id = $1", s.id) == 0
    assert await conn.fetchval("SELECT count(*) FROM questions WHERE session_id = $1", kept.id) == 1


async def test_turn_latency_round_trips(conn: asyncpg.Connection) -> None:
    s = await _session(conn)
    row_id = await repo.add_turn_latency(conn, s.id, 3, T0, T0 + timedelta(milliseconds=610), 610.0)
    row = await conn.fetchrow("SELECT * FROM turn_latency WHERE id = $1", row_id)
    assert (row["turn_seq"], row["latency_ms"], row["stt_ms"]) == (3, 610.0, None)


async def test_works_on_a_pool_too(pool: asyncpg.Pool) -> None:
    user_id = await make_user(pool)
    s = await _session(pool, user_id)  # type: ignore[arg-type]
    try:
        q = await repo.add_question(pool, s.id, 1, "Hello?", "bank", None, "alex", T0)
        assert [e.question_id for e in await repo.transcript(pool, s.id)] == [q]
    finally:
        assert await repo.delete_session(pool, s.id)
        await accounts.delete_user(pool, user_id)


async def test_create_records_the_candidates_choices(conn: asyncpg.Connection) -> None:
    user_id = await make_user(conn)
    created = await repo.create_session(
        conn, user_id=user_id, role_track="general", round_type="behavioral", difficulty="easy",
        duration_min=10, persona="alex", consent_version="v1", cv_text="My CV", jd_text="The job",
        capture_signals=False, retention_days=30, practice_question_id="beh-background-overview",
    )  # fmt: skip
    assert (created.cv_text, created.jd_text, created.capture_signals) == ("My CV", "The job", False)
    assert created.practice_question_id == "beh-background-overview"
    assert created.consented_at == created.created_at
    assert (created.retention_days, created.retain_until) == (30, created.created_at + timedelta(days=30))
    assert await repo.get_session(conn, created.id) == created

    bare = await repo.create_session(
        conn, user_id=user_id, role_track="general", round_type="behavioral", difficulty="easy",
        duration_min=10, persona="alex",
    )  # fmt: skip
    assert (bare.consented_at, bare.retention_days, bare.retain_until, bare.capture_signals) == (None, None, None, True)


async def test_purge_deletes_only_sessions_past_retain_until(conn: asyncpg.Connection) -> None:
    user_id = await make_user(conn)
    kinds = {}
    for days in (7, 30, None):
        kinds[days] = await repo.create_session(
            conn, user_id=user_id, role_track="general", round_type="behavioral", difficulty="easy",
            duration_min=10, persona="alex", retention_days=days,
        )  # fmt: skip
        await repo.add_question(conn, kinds[days].id, 1, "Why?", "bank", None, "alex", T0)
    now = kinds[7].created_at

    async def purge(at: datetime) -> list[UUID]:
        # Other tests' committed sessions may expire too; only this user's are looked at.
        return [s.id for s in await repo.purge_expired_sessions(conn, now=at) if s.user_id == user_id]

    assert await purge(now + timedelta(days=7)) == []
    assert await purge(now + timedelta(days=8)) == [kinds[7].id]
    assert await repo.get_session(conn, kinds[7].id) is None
    assert await conn.fetchval("SELECT count(*) FROM questions WHERE session_id = $1", kinds[7].id) == 0
    assert await purge(now + timedelta(days=10_000)) == [kinds[30].id]
    assert await repo.get_session(conn, kinds[None].id) is not None


async def test_practice_days_and_open_sessions(conn: asyncpg.Connection) -> None:
    user_id = await make_user(conn)
    other = await make_user(conn)
    ended_at = [
        datetime(2026, 3, 1, 23, 59, tzinfo=UTC),
        datetime(2026, 3, 2, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        datetime(2026, 1, 1, 9, 0, tzinfo=UTC),
    ]
    for at in ended_at:
        s = await _session(conn, user_id)
        await repo.mark_ended(conn, s.id, "completed", at, "interview_finished")
    failed = await _session(conn, user_id)
    await repo.mark_ended(conn, failed.id, "failed", datetime(2026, 3, 3, 9, 0, tzinfo=UTC), "agent_crashed")
    theirs = await _session(conn, other)
    await repo.mark_ended(conn, theirs.id, "completed", datetime(2026, 3, 4, 9, 0, tzinfo=UTC), "interview_finished")
    still_open = await _session(conn, user_id)

    days = await repo.practice_days(conn, user_id, since=date(2026, 2, 1))
    assert days == [date(2026, 3, 1), date(2026, 3, 2)]
    assert len(await repo.practice_days(conn, user_id, since=date.min)) == 3
    assert await repo.open_session_ids(conn, user_id) == [still_open.id]
