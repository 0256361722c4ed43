"""What an interview records as it goes (questions, answers, turn latencies), written in order
and never lost to a database outage: spooled to disk while the database is away, replayed after."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from db import questions as db_questions
from db import sessions as db_sessions
from db.pool import transaction
from db.spool import Spool, SpoolFull

if TYPE_CHECKING:
    from greenroom.settings import Settings

logger = logging.getLogger(__name__)

Clock = Callable[[], float]

# Writes waiting in memory for the writer; beyond this they are dropped (and logged).
QUEUE_WRITES = 10_000
# One write that takes longer than this counts as the database being away.
WRITE_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class QuestionWrite:
    """A question the interviewer asked, under an id chosen when it was asked."""

    id: UUID
    session_id: UUID
    seq: int
    text: str
    source: db_sessions.QuestionSource
    bank_question_id: str | None
    persona: str
    asked_at: datetime


@dataclass(frozen=True, slots=True)
class ResponseWrite:
    """The whole of an answer so far, under an id chosen when it began; a later one replaces it."""

    id: UUID
    session_id: UUID
    question_id: UUID | None
    transcript: str
    started_at: datetime
    ended_at: datetime | None
    words: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ResponseDelete:
    """A stored 'answer' that was not one (a microphone check the interviewer answered as such)."""

    id: UUID
    session_id: UUID


@dataclass(frozen=True, slots=True)
class TurnLatencyWrite:
    """How long the interviewer took to answer one turn."""

    session_id: UUID
    turn_seq: int
    speech_end_at: datetime
    first_audio_at: datetime
    latency_ms: float
    stt_ms: float | None


InterviewWrite = QuestionWrite | ResponseWrite | ResponseDelete | TurnLatencyWrite
_KINDS: dict[str, type[InterviewWrite]] = {
    cls.__name__: cls for cls in (QuestionWrite, ResponseWrite, ResponseDelete, TurnLatencyWrite)
}


def _encode(write: InterviewWrite) -> dict[str, Any]:
    return {"kind": type(write).__name__, **asdict(write)}


def _json_default(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot spool a {type(value).__name__}")


def _decode(payload: dict[str, Any]) -> InterviewWrite:
    cls = _KINDS[payload["kind"]]
    values = {}
    for f in fields(cls):
        value = payload[f.name]
        if value is not None and (f.name == "id" or f.name.endswith("_id")) and f.name != "bank_question_id":
            value = UUID(value)
        elif value is not None and f.name.endswith("_at"):
            value = datetime.fromisoformat(value)
        values[f.name] = value
    return cls(**values)


async def apply(pool: asyncpg.Pool, write: InterviewWrite) -> None:
    """Stores one write, idempotently: applying it again changes nothing."""
    match write:
        case QuestionWrite():
            async with transaction(pool) as conn:
                stored = await db_sessions.store_question(
                    conn, write.id, write.session_id, write.seq, write.text, write.source,
                    write.bank_question_id, write.persona, write.asked_at,
                )  # fmt: skip
                if stored and write.source == "bank" and write.bank_question_id:
                    await db_questions.record_asked(conn, write.bank_question_id)
        case ResponseWrite():
            await db_sessions.store_response(
                pool, write.id, write.session_id, write.question_id, write.transcript,
                write.started_at, write.ended_at, write.words,
            )  # fmt: skip
        case ResponseDelete():
            await db_sessions.delete_response(pool, write.id, write.session_id)
        case TurnLatencyWrite():
            await db_sessions.store_turn_latency(
                pool, write.session_id, write.turn_seq, write.speech_end_at,
                write.first_audio_at, write.latency_ms, write.stt_ms,
            )  # fmt: skip


# Errors caused by the write itself (its session was deleted, a value out of range): it can
# never be stored, and is dropped. Any other error means the database is away.
_WRITE_ERRORS: tuple[type[BaseException], ...] = (
    TypeError,
    ValueError,  # also asyncpg's client-side DataError
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
)


class _DatabaseAway(Exception):
    """The database could not take a write (refused, lost, shutting down, too slow)."""


class InterviewWriter:
    """Applies the interviews' writes one at a time, in the order they were submitted.

    submit() never waits. While the database is away, writes are appended to a spool on disk
    (fsync'd, at most spool_max_bytes) and the writer retries with backoff; once the database
    is back the spool is replayed in order before any newer write. Writes are idempotent (ids
    chosen by the interviewer, upserts), so replaying one whose commit was lost stores nothing
    twice. A spool left by a process that died is replayed when the next one starts.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        spool_dir: Path,
        spool_max_bytes: int = 64 * 1024 * 1024,
        queue_writes: int = QUEUE_WRITES,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 2.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self._pool = pool
        self._spool = Spool(spool_dir, spool_max_bytes, name="interview", default=_json_default)
        self._queue_writes = queue_writes
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._clock = clock
        # Submitted and not yet stored or spooled; the one being stored stays first until it is.
        self._pending: deque[InterviewWrite] = deque()
        self._wake = asyncio.Event()
        self._settled_changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._database_up = True
        self._retry_at = 0.0
        self._backoff_s = backoff_initial_s
        self.submitted = 0
        self.settled = 0  # submitted writes stored, spooled or dropped
        self.stored = 0
        self.spooled = 0
        self.replayed = 0
        self.dropped = 0

    @classmethod
    def from_settings(cls, settings: Settings, pool: asyncpg.Pool) -> InterviewWriter:
        """A writer spooling under the data directory."""
        return cls(
            pool,
            spool_dir=settings.resolved_data_dir() / "spool" / "interviews",
            spool_max_bytes=settings.interview_spool_max_mb * 1024 * 1024,
        )

    @property
    def database_up(self) -> bool:
        return self._database_up

    @property
    def spool_bytes(self) -> int:
        return self._spool.size_bytes

    async def start(self) -> None:
        """Replays what an earlier process left in the spool (while the database lets it), then
        starts taking writes."""
        if self._task is not None:
            raise RuntimeError("interview writer already started")
        await asyncio.to_thread(self._spool.open)
        if self._spool.has_pending:
            await self._replay()
        self._task = asyncio.create_task(self._run(), name="interview-writer")

    def submit(self, write: InterviewWrite) -> None:
        """Queues a write; it is stored after every write submitted before it."""
        if len(self._pending) >= self._queue_writes:
            self.dropped += 1
            logger.error(
                "interview write dropped: the writer's queue is full",
                extra={"kind": type(write).__name__, "queued": len(self._pending)},
            )
            return
        self._pending.append(write)
        self.submitted += 1
        self._wake.set()

    async def flush(self) -> None:
        """Waits until every write submitted so far is stored, spooled or dropped."""
        target = self.submitted
        async with self._settled_changed:
            await self._settled_changed.wait_for(
                lambda: self.settled >= target or self._task is None or self._task.done()
            )

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Stores what it can within timeout_s and stops; writes not stored by then are left in
        the spool for the next run."""
        task = self._task
        if task is not None:
            try:
                await asyncio.wait_for(self.flush(), timeout_s)
            except TimeoutError:
                pass
            task.cancel()
            await asyncio.wait({task})
            self._task = None
        self._spill()
        self._spool.close()
        async with self._settled_changed:
            self._settled_changed.notify_all()

    # -- the writer's task -----------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wait_until_due()
            if self._spool.has_pending and self._clock() >= self._retry_at:
                await self._replay()
            while self._pending:
                await self._store(self._pending[0])
                self._pending.popleft()
                self.settled += 1
                async with self._settled_changed:
                    self._settled_changed.notify_all()

    async def _wait_until_due(self) -> None:
        """Until a write is pending, or a retry of the spool is due."""
        while not self._pending:
            timeout = None
            if self._spool.has_pending:
                timeout = self._retry_at - self._clock()
                if timeout <= 0:
                    return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                return

    async def _store(self, write: InterviewWrite) -> None:
        """Stores a new write, or spools it while the database is away or older writes wait."""
        if self._spool.has_pending:
            await self._park(write)
            return
        try:
            if await self._apply(write):
                self.stored += 1
        except _DatabaseAway:
            await self._park(write)

    async def _park(self, write: InterviewWrite) -> None:
        try:
            await asyncio.to_thread(self._spool.append, _encode(write))
        except (SpoolFull, OSError, TypeError, ValueError) as exc:
            self.dropped += 1
            logger.error(
                "interview write dropped: database away and spool unusable",
                extra={"kind": type(write).__name__, "reason": type(exc).__name__},
            )
        else:
            self.spooled += 1

    async def _replay(self) -> None:
        """Stores the spooled writes in order, deleting each segment once it is all stored."""
        while (segment := self._spool.oldest()) is not None:
            while (record := await asyncio.to_thread(self._spool.read_next, segment)) is not None:
                payload, next_offset = record
                try:
                    write = _decode(payload)
                except (KeyError, TypeError, ValueError):
                    self._spool.skip_rest(segment, next_offset)
                    break
                try:
                    if await self._apply(write):
                        self.replayed += 1
                except _DatabaseAway:
                    return
                self._spool.mark_replayed(segment, next_offset)
            await asyncio.to_thread(self._spool.remove, segment)
        logger.info("interview spool replayed", extra={"replayed": self.replayed})

    async def _apply(self, write: InterviewWrite) -> bool:
        """Stores one write: True once stored, False when it never can be (dropped and logged);
        raises _DatabaseAway when the database cannot take it now."""
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                await apply(self._pool, write)
        except _WRITE_ERRORS as exc:
            self._mark_up()
            self.dropped += 1
            # Only the type: asyncpg messages can quote what the candidate said.
            logger.error(
                "interview write dropped: the database refused it",
                extra={"kind": type(write).__name__, "error": type(exc).__name__},
            )
            return False
        except Exception as exc:  # noqa: BLE001 - anything else: the database is away
            self._mark_down(exc)
            raise _DatabaseAway from None
        self._mark_up()
        return True

    def _mark_down(self, exc: Exception) -> None:
        if self._database_up:
            logger.warning(
                "interview database unavailable; spooling writes", extra={"error": type(exc).__name__}
            )
        self._database_up = False
        self._retry_at = self._clock() + self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, self._backoff_max_s)

    def _mark_up(self) -> None:
        if not self._database_up:
            logger.info("interview database reachable again")
        self._database_up = True
        self._backoff_s = self._backoff_initial_s

    def _spill(self) -> None:
        """Puts the writes not yet stored in the spool, synchronously (at shutdown).

        The one being stored when the writer stopped may have committed: spooling it all the
        same stores nothing twice.
        """
        while self._pending:
            write = self._pending.popleft()
            try:
                self._spool.append(_encode(write))
            except (SpoolFull, OSError, TypeError, ValueError) as exc:
                self.dropped += 1
                logger.error(
                    "interview write dropped: spool unusable at shutdown",
                    extra={"kind": type(write).__name__, "reason": type(exc).__name__},
                )
            else:
                self.spooled += 1
            self.settled += 1
