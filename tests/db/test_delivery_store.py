"""Signal rows reach PostgreSQL in batches, survive it going away, and are never duplicated."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from db import sessions as repo
from db import delivery
from db.embedded import EmbeddedPostgres
from db.migrate import apply_migrations
from db.delivery_store import APPLICATION_NAME, DeliveryStore, DeliveryStoreStats
from db.delivery import FaceSampleRow, ProsodyWindowRow, SpeechEventRow
from db.spool import Spool
from tests.users import make_user


def face_row(session_id: UUID, t_ms: int, *, present: bool = True) -> FaceSampleRow:
    if not present:
        return FaceSampleRow(
            session_id=session_id, t_ms=t_ms, face_present=False, num_faces=0, yaw=None, pitch=None,
            roll=None, gaze_on_camera=None, eye_open=None, blink=None, smile=None, brow_raise=None,
            stability=None, quality=0.2,
        )  # fmt: skip
    return FaceSampleRow(
        session_id=session_id, t_ms=t_ms, face_present=True, num_faces=1, yaw=5.0, pitch=-2.0, roll=1.0,
        gaze_on_camera=0.8, eye_open=0.9, blink=t_ms % 1000 == 0, smile=0.3, brow_raise=0.1,
        stability=0.95, quality=0.9,
    )  # fmt: skip


async def new_session(db: asyncpg.Connection | asyncpg.Pool) -> UUID:
    user_id = await make_user(db)
    created = await repo.create_session(
        db,
        user_id=user_id,
        role_track="general",
        round_type="behavioral",
        difficulty="easy",
        duration_min=10,
        persona="alex",
    )
    return created.id


def unreachable_url(tmp_path: Path) -> str:
    """A URL whose server is not there: connecting fails at once."""
    return f"postgresql://postgres@/greenroom?host={tmp_path / 'no-server'}"


def spool_files(spool_dir: Path) -> list[Path]:
    return sorted(spool_dir.glob("*.spool")) if spool_dir.exists() else []


@pytest.fixture
async def session_id(pool: asyncpg.Pool) -> UUID:
    return await new_session(pool)


@pytest.fixture
async def make_store(tmp_path: Path) -> AsyncIterator[Callable[..., DeliveryStore]]:
    """Builds started-later stores that are closed at the end of the test."""
    stores: list[DeliveryStore] = []

    def make(database: str, **kwargs: Any) -> DeliveryStore:
        kwargs.setdefault("spool_dir", tmp_path / "spool")
        kwargs.setdefault("flush_interval_s", 0.02)
        kwargs.setdefault("backoff_initial_s", 0.02)
        kwargs.setdefault("backoff_max_s", 0.2)
        store = DeliveryStore(database, **kwargs)
        stores.append(store)
        return store

    try:
        yield make
    finally:
        for store in stores:
            await store.aclose()


async def wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


# -- the key property: a database restart mid-stream loses and duplicates nothing ----------


async def test_no_row_lost_or_duplicated_when_the_database_restarts_mid_stream(
    tmp_path: Path,
) -> None:
    embedded = EmbeddedPostgres(tmp_path / "data")
    url = await asyncio.to_thread(embedded.start)
    try:
        conn = await asyncpg.connect(url)
        try:
            await apply_migrations(conn)
            session_id = await new_session(conn)
        finally:
            await conn.close()

        spool_dir = tmp_path / "spool"
        store = DeliveryStore(
            url,
            spool_dir=spool_dir,
            batch_rows=250,
            flush_interval_s=0.05,
            backoff_initial_s=0.05,
            backoff_max_s=0.3,
        )
        await store.start()
        submitted = 0
        producing = True

        async def produce() -> None:
            nonlocal submitted
            while producing:  # ~5,000 rows/s, like 250 candidates' face samples
                for _ in range(50):
                    assert store.submit("face_samples", face_row(session_id, submitted * 10))
                    submitted += 1
                await asyncio.sleep(0.01)

        producer = asyncio.create_task(produce())
        try:
            await wait_for(lambda: store.stats().rows_written > 1000)
            await asyncio.to_thread(embedded.stop)
            await wait_for(lambda: store.stats().rows_spooled > 0)
            await asyncio.sleep(1.0)  # keep producing into the spool
            assert not store.stats().database_up
            assert spool_files(spool_dir)

            assert await asyncio.to_thread(embedded.start) == url
            await wait_for(lambda: store.stats().rows_replayed == store.stats().rows_spooled)
            await wait_for(lambda: store.stats().database_up and not spool_files(spool_dir))
            await asyncio.sleep(0.3)  # normal writes resume
        finally:
            producing = False
            await producer
        await store.flush()
        spooled_during_outage = store.stats().rows_spooled

        # A restart while the store is idle kills its pooled connection: the next batch
        # still goes straight to the database, not the spool.
        await asyncio.to_thread(embedded.stop)
        assert await asyncio.to_thread(embedded.start) == url
        for _ in range(100):
            assert store.submit("face_samples", face_row(session_id, submitted * 10))
            submitted += 1
        await store.aclose()

        stats = store.stats()
        conn = await asyncpg.connect(url)
        try:
            stored, distinct_t = await conn.fetchrow(
                "SELECT count(*), count(DISTINCT t_ms) FROM face_samples WHERE session_id = $1",
                session_id,
            )
        finally:
            await conn.close()
        assert stored == distinct_t == submitted == stats.rows_accepted
        assert stats.rows_spooled == spooled_during_outage > 0
        assert stats.rows_replayed == stats.rows_spooled
        assert stats.rows_written + stats.rows_replayed == submitted
        assert stats.rows_dropped == 0 and stats.queue_full_drops == 0
        assert stats.reconnects >= 1
        assert not spool_files(spool_dir) and stats.spool_bytes == 0
    finally:
        await asyncio.to_thread(embedded.stop)


# -- batching, bounds, and what gets dropped -----------------------------------------------


async def test_many_rows_go_in_few_copies(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool, session_id: UUID
) -> None:
    store = make_store(database_url, batch_rows=1000, flush_interval_s=30)
    await store.start()
    for i in range(5000):
        assert store.submit("face_samples", face_row(session_id, i))
    for i in range(30):
        assert store.submit("prosody_windows", (session_id, i * 100, -23.5, True, 180.0, 0.9))
    await store.flush()

    stats = store.stats()
    assert stats.copies == 6  # 5 x 1000 face samples, 1 x 30 prosody windows
    assert stats.rows_written == 5030
    assert (await delivery.signal_counts(pool, session_id)).table_rows == {
        "face_samples": 5000,
        "prosody_windows": 30,
        "speech_events": 0,
    }


async def test_rows_wait_at_most_the_flush_interval(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool, session_id: UUID
) -> None:
    store = make_store(database_url, batch_rows=1000, flush_interval_s=0.05)
    await store.start()
    assert store.submit("face_samples", face_row(session_id, 0))
    await wait_for(lambda: store.stats().rows_written == 1, timeout_s=2)
    assert store.stats().copies == 1


async def test_a_full_queue_drops_and_counts(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool, session_id: UUID
) -> None:
    store = make_store(database_url, queue_rows=100)
    accepted = [store.submit("face_samples", face_row(session_id, i)) for i in range(150)]
    assert accepted == [True] * 100 + [False] * 50
    assert store.stats().queue_full_drops == 50
    assert store.stats().rows_buffered == 100

    await store.start()
    await store.flush()
    assert (await delivery.signal_counts(pool, session_id)).face_samples == 100
    assert store.stats_row(session_id).rows_dropped == 50


async def test_the_spool_is_bounded_and_what_overflows_is_counted(
    make_store: Callable[..., DeliveryStore],
    database_url: str,
    pool: asyncpg.Pool,
    session_id: UUID,
    tmp_path: Path,
) -> None:
    spool_dir = tmp_path / "spool"
    limit = 40_000
    away = make_store(unreachable_url(tmp_path), batch_rows=100, spool_max_bytes=limit)
    await away.start()
    for batch in range(10):
        for i in range(100):
            assert away.submit("face_samples", face_row(session_id, batch * 100 + i))
        await away.flush()
    stats = away.stats()
    assert not stats.database_up
    assert 0 < stats.rows_spooled < 1000
    assert stats.rows_dropped_spool == stats.rows_dropped == 1000 - stats.rows_spooled
    assert stats.spool_bytes == sum(p.stat().st_size for p in spool_files(spool_dir)) <= limit
    await away.aclose()

    # The next run, with the database there, replays what the spool kept.
    back = make_store(database_url)
    await back.start()
    await wait_for(lambda: not spool_files(spool_dir))
    assert back.stats().rows_replayed == stats.rows_spooled
    assert (await delivery.signal_counts(pool, session_id)).face_samples == stats.rows_spooled


async def test_replaying_the_same_spool_twice_duplicates_nothing(
    make_store: Callable[..., DeliveryStore],
    database_url: str,
    pool: asyncpg.Pool,
    session_id: UUID,
    tmp_path: Path,
) -> None:
    spool_dir = tmp_path / "spool"
    away = make_store(unreachable_url(tmp_path), batch_rows=200)
    await away.start()
    for i in range(1000):
        assert away.submit("face_samples", face_row(session_id, i))
    for i in range(20):
        assert away.submit("speech_events", (session_id, i * 500, "pause", 700, None, None))
    assert away.submit("speech_events", (session_id, 0, "nudge", None, None, "slow down"))
    await away.aclose()
    assert away.stats().rows_spooled == 1021
    saved = tmp_path / "spool-copy"
    shutil.copytree(spool_dir, saved)

    # A crash mid-replay leaves segments that were already (partly) stored: replay them again.
    for _ in range(2):
        store = make_store(database_url)
        await store.start()
        await wait_for(lambda: not spool_files(spool_dir))
        await store.aclose()
        assert store.stats().rows_replayed == 1021
        assert store.stats().rows_dropped == 0
        assert (await delivery.signal_counts(pool, session_id)).table_rows == {
            "face_samples": 1000,
            "prosody_windows": 0,
            "speech_events": 21,
        }
        shutil.rmtree(spool_dir)
        shutil.copytree(saved, spool_dir)


async def test_a_torn_record_at_the_end_of_a_segment_is_skipped(
    make_store: Callable[..., DeliveryStore],
    database_url: str,
    pool: asyncpg.Pool,
    session_id: UUID,
    tmp_path: Path,
) -> None:
    spool_dir = tmp_path / "spool"
    away = make_store(unreachable_url(tmp_path), batch_rows=50)
    await away.start()
    for i in range(100):
        assert away.submit("face_samples", face_row(session_id, i))
    await away.aclose()
    (segment,) = spool_files(spool_dir)
    with segment.open("ab") as f:
        f.write(b"\x00\x00\x10\x00garbage")  # a crash in the middle of an append

    store = make_store(database_url)
    await store.start()
    await wait_for(lambda: not spool_files(spool_dir))
    assert store.stats().rows_replayed == 100
    assert (await delivery.signal_counts(pool, session_id)).face_samples == 100


async def test_a_spool_of_plain_tuples_from_before_typed_rows_is_replayed(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool, session_id: UUID, tmp_path: Path
) -> None:
    typed = face_row(session_id, 0)
    assert json.dumps(typed, default=str) == json.dumps(tuple(typed), default=str)  # what a spool holds
    older = Spool(tmp_path / "spool", 1 << 20, name="signal")
    older.open()
    older.append({"table": "face_samples", "rows": [[str(session_id), *typed[1:]]]})
    older.append({"table": "speech_events", "rows": [[str(session_id), 100, "filler", None, None, "um"]]})
    older.close()

    store = make_store(database_url)
    await store.start()
    await wait_for(lambda: not spool_files(tmp_path / "spool"))
    assert store.stats().rows_replayed == 2 and store.stats().rows_dropped == 0
    assert (await delivery.signal_counts(pool, session_id)).table_rows == {
        "face_samples": 1,
        "prosody_windows": 0,
        "speech_events": 1,
    }


async def test_rows_of_a_deleted_session_are_dropped_and_counted(
    make_store: Callable[..., DeliveryStore],
    database_url: str,
    pool: asyncpg.Pool,
    tmp_path: Path,
) -> None:
    kept, deleted_live, deleted_while_away = [await new_session(pool) for _ in range(3)]

    # Spooled while the database was away; the session is deleted before the replay.
    away = make_store(unreachable_url(tmp_path))
    await away.start()
    for i in range(30):
        away.submit("face_samples", face_row(deleted_while_away, i))
        away.submit("face_samples", face_row(kept, i))
    await away.aclose()
    assert await repo.delete_session(pool, deleted_while_away)
    assert await repo.delete_session(pool, deleted_live)

    store = make_store(database_url)
    await store.start()
    await wait_for(lambda: not spool_files(tmp_path / "spool"))
    # Written live, in one batch with rows of a session that still exists.
    for i in range(30, 60):
        store.submit("face_samples", face_row(deleted_live, i))
        store.submit("face_samples", face_row(kept, i))
    await store.flush()

    stats = store.stats()
    assert stats.rows_dropped_session_gone == stats.rows_dropped == 60
    assert stats.rows_replayed == 30 and stats.rows_written == 30
    assert store.stats_row(deleted_while_away).rows_dropped == 30
    assert store.stats_row(deleted_live).rows_dropped == 30
    assert (await delivery.signal_counts(pool, kept)).face_samples == 60
    for gone in (deleted_live, deleted_while_away):
        assert (await delivery.signal_counts(pool, gone)).face_samples == 0


async def test_an_invalid_row_is_dropped_alone(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool, session_id: UUID
) -> None:
    store = make_store(database_url, batch_rows=500, flush_interval_s=30)
    await store.start()
    for i in range(100):
        kind = "bogus" if i == 37 else "filler"
        assert store.submit("speech_events", (session_id, i * 100, kind, 200, None, "um"))
    for i in range(100):
        row = face_row(session_id, i)
        if i == 3:
            row = row._replace(yaw="not a number")
        assert store.submit("face_samples", row)
    await store.flush()

    stats = store.stats()
    assert stats.rows_dropped_invalid == stats.rows_dropped == 2
    assert stats.rows_written == 198
    counts = await delivery.signal_counts(pool, session_id)
    assert counts.speech_events == 99 and counts.face_samples == 99


async def test_aclose_flushes_pending_rows(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool, session_id: UUID
) -> None:
    store = make_store(database_url, batch_rows=10_000, flush_interval_s=60)
    await store.start()
    for i in range(123):
        assert store.submit("face_samples", face_row(session_id, i))
    await asyncio.sleep(0.05)
    assert store.stats().rows_written == 0
    await store.aclose()
    assert store.stats().rows_written == 123
    assert (await delivery.signal_counts(pool, session_id)).face_samples == 123
    assert not store.submit("face_samples", face_row(session_id, 999))
    assert store.stats().rows_rejected_closed == 1


async def test_a_cancelled_store_spools_what_it_held(
    make_store: Callable[..., DeliveryStore],
    database_url: str,
    pool: asyncpg.Pool,
    session_id: UUID,
    tmp_path: Path,
) -> None:
    async def unanswered() -> asyncpg.Pool:  # a server that never answers
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    store = make_store(unanswered, batch_rows=100)
    await store.start()
    for i in range(250):
        assert store.submit("face_samples", face_row(session_id, i))
    await asyncio.sleep(0.1)  # the first batch is now stuck connecting
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(store.aclose(), 0.2)
    assert store.stats().rows_spooled == 250
    assert spool_files(tmp_path / "spool")

    back = make_store(database_url)
    await back.start()
    await wait_for(lambda: not spool_files(tmp_path / "spool"))
    assert back.stats().rows_replayed == 250
    assert (await delivery.signal_counts(pool, session_id)).face_samples == 250


async def test_connections_killed_under_an_idle_store_are_replaced(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool, session_id: UUID
) -> None:
    store = make_store(database_url)
    await store.start()
    store.submit("face_samples", face_row(session_id, 0))
    await store.flush()
    killed = await pool.fetchval(
        """
        SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
        WHERE application_name = $1 AND datname = current_database()
        """,
        APPLICATION_NAME,
    )
    assert killed >= 1
    await asyncio.sleep(0.1)
    store.submit("face_samples", face_row(session_id, 1))
    await store.flush()
    stats = store.stats()
    assert stats.rows_written == 2 and stats.rows_spooled == 0
    assert stats.connection_resets == 1
    assert (await delivery.signal_counts(pool, session_id)).face_samples == 2


async def test_connections_killed_mid_stream_lose_and_duplicate_nothing(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool, session_id: UUID
) -> None:
    store = make_store(database_url, batch_rows=200)
    await store.start()
    submitted = 0
    producing = True

    async def produce() -> None:
        nonlocal submitted
        while producing:
            for _ in range(50):
                assert store.submit("face_samples", face_row(session_id, submitted))
                submitted += 1
            await asyncio.sleep(0.005)

    producer = asyncio.create_task(produce())
    attempts = killed = 0
    try:
        # Every 0.1 s, eight times and until four of the store's connections have died under it
        # (it must have reconnected in between, which takes longer on a loaded machine).
        try:
            async with asyncio.timeout(30):
                while attempts < 8 or killed < 4:
                    attempts += 1
                    await asyncio.sleep(0.1)
                    killed += await pool.fetchval(
                        """
                        SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                        WHERE application_name = $1 AND datname = current_database()
                        """,
                        APPLICATION_NAME,
                    )
        except TimeoutError:
            pytest.fail(f"only {killed} of the store's connections were there to kill in {attempts} tries")
    finally:
        producing = False
        await producer
    await store.aclose()

    stats = store.stats()
    assert stats.connection_resets >= 1
    assert stats.rows_written + stats.rows_replayed == submitted == stats.rows_accepted
    assert stats.rows_replayed == stats.rows_spooled and stats.rows_dropped == 0
    stored, distinct_t = await pool.fetchrow(
        "SELECT count(*), count(DISTINCT t_ms) FROM face_samples WHERE session_id = $1",
        session_id,
    )
    assert stored == distinct_t == submitted


async def test_a_pool_factory_store_and_its_stats_row(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool, session_id: UUID
) -> None:
    async def create_pool() -> asyncpg.Pool:
        return await asyncpg.create_pool(database_url, min_size=1, max_size=1)

    store = make_store(create_pool)
    await store.start()
    for i in range(40):
        store.submit("prosody_windows", (session_id, i * 100, -20.0, i % 2 == 0, 200.0, 0.8))
    await store.flush()
    row = store.stats_row(session_id, frames_received=450, frames_analysed=400, frames_dropped=50)
    assert row.rows_written == 40 and row.rows_spooled == 0
    await delivery.upsert_signal_stats(pool, row)
    await delivery.upsert_signal_stats(pool, row)  # a newer snapshot replaces the older one
    saved = await delivery.load_signal_stats(pool, session_id)
    assert saved is not None
    assert (saved.frames_received, saved.frames_dropped, saved.rows_written) == (450, 50, 40)
    assert isinstance(store.stats(), DeliveryStoreStats)


# -- read side -----------------------------------------------------------------------------


async def test_timelines_bucket_the_signals(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool, session_id: UUID
) -> None:
    store = make_store(database_url)
    await store.start()
    for t in range(0, 3000, 100):  # 3 s at 10 Hz; no face during the second second
        store.submit("face_samples", face_row(session_id, t, present=not 1000 <= t < 2000))
        voiced = t < 1500
        loudness, f0_hz = (-20.0, 100.0 + t / 10) if voiced else (-60.0, None)
        store.submit(
            "prosody_windows",
            ProsodyWindowRow(
                session_id=session_id, t_ms=t, loudness_dbfs=loudness, voiced=voiced, f0_hz=f0_hz, f0_confidence=0.9
            ),
        )
    store.submit("speech_events", SpeechEventRow(session_id=session_id, t_ms=1200, kind="pause", duration_ms=1500))
    store.submit("speech_events", SpeechEventRow(session_id=session_id, t_ms=2500, kind="wpm", value=150.0))
    store.submit("speech_events", SpeechEventRow(session_id=session_id, t_ms=2500, kind="nudge", label="look at the camera"))
    await store.aclose()

    face = await delivery.face_series(pool, session_id, 0, 3000, 1000)
    assert [b.t_ms for b in face] == [0, 1000, 2000]
    assert [b.samples for b in face] == [10, 10, 10]
    assert [b.face_present_ratio for b in face] == [1.0, 0.0, 1.0]
    assert face[0].yaw == pytest.approx(5.0) and face[1].yaw is None
    assert face[0].blinks == 1 and face[1].blinks == 0
    assert face[1].quality == pytest.approx(0.2)

    window = await delivery.face_series(pool, session_id, 500, 1500, 500)
    assert [(b.t_ms, b.samples) for b in window] == [(500, 5), (1000, 5)]

    prosody = await delivery.prosody_series(pool, session_id, 0, 3000, 1000)
    assert [b.voiced_ratio for b in prosody] == [1.0, 0.5, 0.0]
    assert prosody[0].f0_hz == pytest.approx(145.0)
    assert prosody[2].f0_hz is None and prosody[2].loudness_dbfs == pytest.approx(-60.0)

    events = await delivery.speech_events(pool, session_id)
    assert [(e.t_ms, e.kind) for e in events] == [(1200, "pause"), (2500, "wpm"), (2500, "nudge")]
    nudges = await delivery.speech_events(pool, session_id, ["nudge"])
    assert [e.label for e in nudges] == ["look at the camera"]
    assert await delivery.speech_events(pool, session_id, ["pause"], t_from_ms=2000) == []

    with pytest.raises(ValueError):
        await delivery.face_series(pool, session_id, 0, 3000, 0)


async def test_pitch_shown_to_a_speaker_keeps_to_their_range_and_needs_enough_voice(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool
) -> None:
    # A man's voice around 110 Hz for 3 s, with three frames a hoarse voice tracks an octave or
    # two up; and a session with too little clearly voiced speech to say anything.
    steady, hoarse = await new_session(pool), await new_session(pool)
    store = make_store(database_url)
    await store.start()
    for t in range(0, 3000, 100):
        f0 = 440.0 if t in (500, 1500, 2500) else 110.0
        store.submit("prosody_windows", ProsodyWindowRow(steady, t, -25.0, True, f0, 0.8))
    for t in range(0, 500, 100):
        store.submit("prosody_windows", ProsodyWindowRow(hoarse, t, -30.0, True, 380.0, 0.7))
    await store.aclose()

    raw = await delivery.prosody_series(pool, steady, 0, 3000, 3000)
    assert raw[0].f0_hz == pytest.approx((27 * 110.0 + 3 * 440.0) / 30)  # the octave errors pull it up
    ranged = await delivery.prosody_series(pool, steady, 0, 3000, 3000, speaker_range=True)
    assert ranged[0].f0_hz == pytest.approx(110.0)
    # A zoomed view keeps the whole session's range: the window at 1500 ms is still an error.
    zoomed = await delivery.prosody_series(pool, steady, 1000, 2000, 1000, speaker_range=True)
    assert zoomed[0].f0_hz == pytest.approx(110.0)
    assert (await delivery.prosody_series(pool, hoarse, 0, 500, 500))[0].f0_hz == pytest.approx(380.0)
    few = await delivery.prosody_series(pool, hoarse, 0, 500, 500, speaker_range=True)
    assert few[0].f0_hz is None and few[0].voiced_ratio == 1.0


async def test_deleting_a_session_deletes_its_signals(
    make_store: Callable[..., DeliveryStore], database_url: str, pool: asyncpg.Pool
) -> None:
    session_id = await new_session(pool)
    store = make_store(database_url)
    await store.start()
    store.submit("face_samples", face_row(session_id, 0))
    store.submit("prosody_windows", (session_id, 0, -30.0, False, None, None))
    store.submit("speech_events", (session_id, 0, "filler", 300, None, "uh"))
    await store.aclose()
    await delivery.upsert_signal_stats(pool, store.stats_row(session_id, frames_received=1))
    assert sum((await delivery.signal_counts(pool, session_id)).table_rows.values()) == 3

    assert await repo.delete_session(pool, session_id)
    assert sum((await delivery.signal_counts(pool, session_id)).table_rows.values()) == 0
    assert await delivery.load_signal_stats(pool, session_id) is None


async def test_submit_rejects_unknown_tables_and_wrong_widths(tmp_path: Path) -> None:
    store = DeliveryStore(unreachable_url(tmp_path), spool_dir=tmp_path / "spool")
    with pytest.raises(ValueError):
        store.submit("users", (uuid4(),))
    with pytest.raises(ValueError):
        store.submit("face_samples", (uuid4(), 0))
