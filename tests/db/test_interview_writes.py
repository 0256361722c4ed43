"""Interview writes: applied in order, spooled while the database is away, never stored twice."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg

from db import sessions as repo
from db.interview_writes import InterviewWriter, QuestionWrite, ResponseDelete, ResponseWrite, TurnLatencyWrite
from tests.db.test_delivery_store import new_session, unreachable_url

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def one_answer(session_id: UUID) -> list[QuestionWrite | ResponseWrite | TurnLatencyWrite]:
    """A question, an answer that grows over two utterances, and the reply's latency."""
    question = QuestionWrite(uuid4(), session_id, 1, "Why us?", "bank", "beh-why-us", "alex", T0)
    response_id = uuid4()
    words = [{"w": "Because", "start": 0.0, "end": 0.4, "p": 0.9}]
    return [
        question,
        ResponseWrite(response_id, session_id, question.id, "Because", T0 + timedelta(seconds=2), T0 + timedelta(seconds=3), words),
        ResponseWrite(
            response_id, session_id, question.id, "Because I like it.", T0 + timedelta(seconds=2),
            T0 + timedelta(seconds=5), [*words, {"w": "I like it.", "start": 0.6, "end": 1.5, "p": 0.8}],
        ),  # fmt: skip
        TurnLatencyWrite(session_id, 1, T0 + timedelta(seconds=5), T0 + timedelta(seconds=5.6), 600.0, 80.0),
    ]


async def stored(pool: asyncpg.Pool, session_id: UUID) -> tuple[list, list, int, int]:
    questions = await pool.fetch("SELECT id, seq FROM questions WHERE session_id = $1", session_id)
    responses = await pool.fetch(
        "SELECT question_id, transcript, ended_at, words FROM responses WHERE session_id = $1", session_id
    )
    latencies = await pool.fetchval("SELECT count(*) FROM turn_latency WHERE session_id = $1", session_id)
    asked = await pool.fetchval("SELECT times_asked FROM question_stats WHERE question_id = 'beh-why-us'")
    return questions, responses, latencies, asked


async def test_writes_made_while_the_database_is_away_are_replayed_in_order_and_once(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    session_id = await new_session(pool)
    asked_before = await pool.fetchval("SELECT times_asked FROM question_stats WHERE question_id = 'beh-why-us'") or 0
    spool_dir = tmp_path / "spool"
    away_pool = await asyncpg.create_pool(unreachable_url(tmp_path), min_size=0)
    away = InterviewWriter(away_pool, spool_dir=spool_dir, backoff_initial_s=0.01, backoff_max_s=0.05)
    await away.start()
    writes = one_answer(session_id)
    for write in writes:
        away.submit(write)
    await away.flush()
    await away.aclose()
    await away_pool.close()
    assert (away.spooled, away.stored, away.dropped) == (4, 0, 0)
    assert not away.database_up
    saved = tmp_path / "spool-copy"
    shutil.copytree(spool_dir, saved)

    # The next process replays the spool before it takes new writes; then the same spool again,
    # as after a crash in the middle of a replay.
    for _ in range(2):
        back = InterviewWriter(pool, spool_dir=spool_dir)
        await back.start()
        assert back.replayed == 4 and back.spool_bytes == 0
        await back.aclose()
        shutil.rmtree(spool_dir)
        shutil.copytree(saved, spool_dir)

    questions, responses, latencies, asked = await stored(pool, session_id)
    assert [q["id"] for q in questions] == [writes[0].id]
    (response,) = responses
    assert (response["question_id"], response["transcript"]) == (writes[0].id, "Because I like it.")
    assert response["ended_at"] == T0 + timedelta(seconds=5) and len(response["words"]) == 2
    assert latencies == 1
    assert asked == asked_before + 1  # counted when first stored, not again at the replay


async def test_a_write_the_database_refuses_is_dropped_alone(pool: asyncpg.Pool, tmp_path: Path) -> None:
    session_id = await new_session(pool)
    writer = InterviewWriter(pool, spool_dir=tmp_path / "spool")
    await writer.start()
    gone = QuestionWrite(uuid4(), uuid4(), 1, "For a session that is not there", "bank", None, "alex", T0)
    writer.submit(gone)
    for write in one_answer(session_id):
        writer.submit(write)
    await writer.flush()
    await writer.aclose()

    assert (writer.stored, writer.dropped, writer.spooled) == (4, 1, 0)
    questions, responses, latencies, _ = await stored(pool, session_id)
    assert len(questions) == 1 and len(responses) == 1 and latencies == 1


async def test_an_answer_to_a_question_never_stored_is_kept(pool: asyncpg.Pool) -> None:
    session_id = await new_session(pool)
    await repo.store_response(pool, uuid4(), session_id, uuid4(), "Kept all the same.", T0, None)
    (row,) = await pool.fetch("SELECT question_id, transcript FROM responses WHERE session_id = $1", session_id)
    assert (row["question_id"], row["transcript"]) == (None, "Kept all the same.")


async def test_a_mic_check_taken_back_is_deleted_in_order_also_from_the_spool(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """"Can you hear me?" is stored as it is heard, then taken back once the interviewer answers
    it as a mic check; the answer after it stays. Spooled and replayed (twice), the same."""
    session_id = await new_session(pool)
    question, *answer = one_answer(session_id)
    check = ResponseWrite(uuid4(), session_id, question.id, "Can you hear me?", T0, T0 + timedelta(seconds=1), [])
    writes = [question, check, ResponseDelete(check.id, session_id), *answer]
    spool_dir = tmp_path / "spool"
    away_pool = await asyncpg.create_pool(unreachable_url(tmp_path), min_size=0)
    away = InterviewWriter(away_pool, spool_dir=spool_dir, backoff_initial_s=0.01, backoff_max_s=0.05)
    await away.start()
    for write in writes:
        away.submit(write)
    await away.flush()
    await away.aclose()
    await away_pool.close()
    assert away.spooled == len(writes)
    saved = tmp_path / "spool-copy"
    shutil.copytree(spool_dir, saved)
    for _ in range(2):
        back = InterviewWriter(pool, spool_dir=spool_dir)
        await back.start()
        await back.aclose()
        shutil.rmtree(spool_dir)
        shutil.copytree(saved, spool_dir)

    _, responses, _, _ = await stored(pool, session_id)
    assert [r["transcript"] for r in responses] == ["Because I like it."]
