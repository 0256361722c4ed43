"""Signal rows into PostgreSQL in batched COPYs, spooled to disk while the database is away."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from db.delivery import SIGNAL_ROWS, SessionDeliveryStats
from db.spool import Spool, SpoolFull

if TYPE_CHECKING:
    from greenroom.settings import Settings

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
PoolFactory = Callable[[], Awaitable[asyncpg.Pool]]
# A signal row: one of db.delivery' row types, or a plain tuple of the same values in the same
# order (as spooled batches are read back, from this version or an older one).
Row = Sequence[Any]

# The columns of each signal table, in the order of its row's values (db.delivery row types).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {table: row._fields for table, row in SIGNAL_ROWS.items()}

APPLICATION_NAME = "greenroom-signals"


def _stage_table(table: str) -> str:
    return f"signal_stage_{table}"


# The idempotent path (spool replays, and batches that hit a duplicate or a deleted session):
# COPY into a temporary stage, then insert what is not there yet for sessions that still exist.
# Returns the rows left out because their session is gone, counted per session.
_CREATE_STAGE_SQL = {
    table: f"""
        CREATE TEMPORARY TABLE {_stage_table(table)} ON COMMIT DROP AS
        SELECT {", ".join(columns)} FROM {table} WITH NO DATA
    """
    for table, columns in TABLE_COLUMNS.items()
}
_MERGE_STAGE_SQL = {
    table: f"""
        WITH inserted AS (
            INSERT INTO {table} ({", ".join(columns)})
            SELECT {", ".join(columns)} FROM {_stage_table(table)} AS s
            WHERE EXISTS (SELECT 1 FROM sessions WHERE sessions.id = s.session_id)
            ON CONFLICT DO NOTHING
            RETURNING 1
        )
        SELECT s.session_id, count(*) AS orphaned
        FROM {_stage_table(table)} AS s
        WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.id = s.session_id)
        GROUP BY s.session_id
    """
    for table, columns in TABLE_COLUMNS.items()
}

# Errors caused by the rows themselves (bad types, values out of range, constraint violations):
# the batch is split to find and drop the offending rows. Any other error means the database
# is unavailable: the batch is spooled and the store reconnects.
_ROW_ERRORS: tuple[type[BaseException], ...] = (
    TypeError,
    ValueError,  # also asyncpg's client-side DataError
    OverflowError,
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
)
_NEEDS_IDEMPOTENT_PATH = (asyncpg.UniqueViolationError, asyncpg.ForeignKeyViolationError)


@dataclass(frozen=True, slots=True)
class DeliveryStoreStats:
    """A snapshot of the store's counters since it was made.

    Accepted rows end up written, spooled or dropped; spooled rows end up replayed, dropped or
    still in the spool (spool_bytes). Rows already stored count as written (or replayed).
    """

    rows_accepted: int
    queue_full_drops: int
    rows_rejected_closed: int
    rows_buffered: int
    rows_written: int
    rows_spooled: int
    rows_replayed: int
    rows_dropped: int
    rows_dropped_spool: int
    rows_dropped_session_gone: int
    rows_dropped_invalid: int
    copies: int
    connection_resets: int
    spool_bytes: int
    database_up: bool
    reconnects: int


@dataclass(slots=True)
class _SessionCounts:
    written: int = 0
    spooled: int = 0
    replayed: int = 0
    dropped: int = 0


@dataclass(slots=True)
class _Outcome:
    """What became of one batch, counted per session."""

    stored: Counter = field(default_factory=Counter)
    session_gone: Counter = field(default_factory=Counter)
    invalid: Counter = field(default_factory=Counter)

    def __iadd__(self, other: _Outcome) -> _Outcome:
        self.stored.update(other.stored)
        self.session_gone.update(other.session_gone)
        self.invalid.update(other.invalid)
        return self


class _DatabaseUnavailable(Exception):
    """The database could not take a batch (connection refused, lost, shutting down, ...)."""


def _per_session(rows: Iterable[Row]) -> Counter:
    try:
        return Counter(map(itemgetter(0), rows))
    except TypeError:  # a malformed row whose session_id is not even hashable
        return Counter(row[0] if isinstance(row[0], Hashable) else None for row in rows)


def _json_default(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    # Kept as text: the row will fail to COPY at replay and be dropped as invalid.
    return str(value)


def _decode_session_id(value: Any) -> Any:
    try:
        return UUID(value)
    except (TypeError, ValueError, AttributeError):
        return value


class DeliveryStore:
    """Takes signal rows without blocking and stores them in PostgreSQL in batched COPYs.

    submit() puts a row in a bounded buffer (queue_rows; when full the row is dropped and
    counted). The store's flusher task writes each table's rows in COPY batches of at most
    batch_rows, at least every flush_interval_s, each in a transaction. While the database is
    unreachable, batches are appended to a spool on disk (at most spool_max_bytes; beyond
    that they are dropped and counted) and the store reconnects with backoff; once it is back
    the spool is replayed in order, idempotently, before normal writes resume.

    database is a URL, or a factory making a pool the store then owns (it is terminated and
    replaced when its connections break).
    """

    def __init__(
        self,
        database: str | PoolFactory,
        *,
        spool_dir: Path,
        batch_rows: int = 2000,
        flush_interval_s: float = 0.25,
        queue_rows: int = 100_000,
        spool_max_bytes: int = 256 * 1024 * 1024,
        clock: Clock = time.monotonic,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 2.0,
        connect_timeout_s: float = 10.0,
        command_timeout_s: float = 30.0,
    ) -> None:
        if batch_rows < 1 or queue_rows < 1:
            raise ValueError("batch_rows and queue_rows must be positive")
        if isinstance(database, str):
            url = database

            async def create_pool() -> asyncpg.Pool:
                return await asyncpg.create_pool(
                    url,
                    min_size=1,
                    max_size=1,
                    timeout=connect_timeout_s,
                    command_timeout=command_timeout_s,
                    server_settings={"application_name": APPLICATION_NAME},
                )

            self._pool_factory: PoolFactory = create_pool
        else:
            self._pool_factory = database
        self._batch_rows = batch_rows
        self._flush_interval_s = flush_interval_s
        self._queue_rows = queue_rows
        self._clock = clock
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._spool = Spool(spool_dir, spool_max_bytes, name="signal", default=_json_default)

        self._pending: dict[str, list[Row]] = {table: [] for table in TABLE_COLUMNS}
        self._widths = {table: len(columns) for table, columns in TABLE_COLUMNS.items()}
        self._buffered = 0
        self._oldest_at = 0.0
        # Batches taken from the buffer and not yet stored, for _spill_on_cancel.
        self._taken: deque[tuple[str, list[Row]]] = deque()
        self._inflight: tuple[str, list[Row]] | None = None
        self._wake = asyncio.Event()
        self._flush_requested = False
        self._flush_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._closing = False

        self._pool: asyncpg.Pool | None = None
        # Held between batches: a pool release costs a reset round trip per batch.
        self._conn: asyncpg.Connection | None = None
        self._database_up = True
        self._retry_at = 0.0
        self._backoff_s = backoff_initial_s

        self._sessions: dict[Any, _SessionCounts] = {}
        self._accepted = 0
        self._settled = 0  # accepted rows that were written, spooled or dropped
        self._queue_full_drops = 0
        self._rejected_closed = 0
        self._written = 0
        self._spooled = 0
        self._replayed = 0
        self._dropped_spool = 0
        self._dropped_session_gone = 0
        self._dropped_invalid = 0
        self._copies = 0
        self._reconnects = 0
        self._connection_resets = 0

    @classmethod
    def from_settings(cls, settings: Settings, database: str | PoolFactory) -> DeliveryStore:
        """A store tuned by the signal_* settings, spooling under the data directory."""
        return cls(
            database,
            spool_dir=settings.resolved_data_dir() / "spool" / "signals",
            batch_rows=settings.signal_batch_rows,
            flush_interval_s=settings.signal_flush_interval_s,
            queue_rows=settings.signal_queue_rows,
            spool_max_bytes=settings.signal_spool_max_mb * 1024 * 1024,
        )

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Opens the spool (finding batches left by an earlier run) and starts the flusher."""
        if self._task is not None:
            raise RuntimeError("signal store already started")
        await asyncio.to_thread(self._spool.open)
        self._task = asyncio.create_task(self._run(), name="signal-store-flusher")

    async def aclose(self) -> None:
        """Stores every accepted row (in the database, or the spool if it is away) and stops."""
        self._closing = True
        self._wake.set()
        task = self._task
        try:
            if task is not None:
                if not task.done():
                    await task  # cancelling aclose cancels the flusher too
                elif not task.cancelled():
                    task.result()  # a flusher that failed says so
        finally:
            pool, self._pool = self._pool, None
            conn, self._conn = self._conn, None
            if pool is not None:
                try:
                    if conn is not None:
                        await pool.release(conn, timeout=5)
                    await asyncio.wait_for(pool.close(), timeout=5)
                except asyncio.CancelledError:
                    pool.terminate()
                    raise
                except Exception:  # noqa: BLE001 - closing a broken pool: just let it go
                    pool.terminate()

    async def __aenter__(self) -> DeliveryStore:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- producer side -------------------------------------------------------------------

    def submit(self, table: str, row: Row) -> bool:
        """Queues one row (e.g. a FaceSampleRow for face_samples) without blocking; False when
        the buffer is full (the row is dropped)."""
        pending = self._pending.get(table)
        if pending is None:
            raise ValueError(f"not a signal table: {table!r}")
        if len(row) != self._widths[table]:
            raise ValueError(f"{table} rows have {self._widths[table]} values, got {len(row)}")
        if self._closing:
            self._rejected_closed += 1
            return False
        if self._buffered >= self._queue_rows:
            self._queue_full_drops += 1
            self._session(row[0]).dropped += 1
            return False
        if self._buffered == 0:
            self._oldest_at = self._clock()
            self._wake.set()  # the flusher now has a deadline to keep
        pending.append(row)
        self._buffered += 1
        self._accepted += 1
        if self._buffered == self._batch_rows:
            self._wake.set()
        return True

    async def flush(self) -> None:
        """Waits until every row accepted so far is in the database, the spool, or dropped."""
        if self._task is None or self._task.done():
            raise RuntimeError("signal store is not running")
        target = self._accepted
        if self._settled >= target:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._flush_waiters.append((target, waiter))
        self._flush_requested = True
        self._wake.set()
        await waiter

    # -- counters ------------------------------------------------------------------------

    def stats(self) -> DeliveryStoreStats:
        """A snapshot of the counters."""
        dropped = self._dropped_spool + self._dropped_session_gone + self._dropped_invalid
        return DeliveryStoreStats(
            rows_accepted=self._accepted,
            queue_full_drops=self._queue_full_drops,
            rows_rejected_closed=self._rejected_closed,
            rows_buffered=self._buffered,
            rows_written=self._written,
            rows_spooled=self._spooled,
            rows_replayed=self._replayed,
            rows_dropped=dropped,
            rows_dropped_spool=self._dropped_spool,
            rows_dropped_session_gone=self._dropped_session_gone,
            rows_dropped_invalid=self._dropped_invalid,
            copies=self._copies,
            connection_resets=self._connection_resets,
            spool_bytes=self._spool.size_bytes,
            database_up=self._database_up,
            reconnects=self._reconnects,
        )

    def stats_row(
        self,
        session_id: UUID,
        *,
        frames_received: int = 0,
        frames_analysed: int = 0,
        frames_dropped: int = 0,
        audio_windows: int = 0,
    ) -> SessionDeliveryStats:
        """A signal_stats row: the consumer's frame counters with this store's row counters."""
        counts = self._sessions.get(session_id, _SessionCounts())
        return SessionDeliveryStats(
            session_id=session_id,
            frames_received=frames_received,
            frames_analysed=frames_analysed,
            frames_dropped=frames_dropped,
            audio_windows=audio_windows,
            rows_written=counts.written,
            rows_spooled=counts.spooled,
            rows_replayed=counts.replayed,
            rows_dropped=counts.dropped,
        )

    def forget_session(self, session_id: UUID) -> None:
        """Drops a finished session's row counters (they are kept per session otherwise)."""
        self._sessions.pop(session_id, None)

    def _session(self, session_id: Any) -> _SessionCounts:
        try:
            counts = self._sessions.get(session_id)
        except TypeError:  # not hashable: a malformed row
            return _SessionCounts()
        if counts is None:
            counts = self._sessions[session_id] = _SessionCounts()
        return counts

    # -- the flusher ---------------------------------------------------------------------

    async def _run(self) -> None:
        failed = False
        try:
            while True:
                await self._wait_until_due()
                if self._spool.has_pending and (
                    self._closing or self._clock() >= self._retry_at
                ):
                    await self._replay()
                self._taken.extend(self._take_all())
                while self._taken:
                    table, rows = self._taken.popleft()
                    await self._store(table, rows)
                self._wake_flush_waiters()
                if self._closing and self._buffered == 0:
                    return
        except asyncio.CancelledError:
            self._spill_on_cancel()
            raise
        except Exception as exc:
            failed = True
            # The owner gets the traceback from aclose(); the log gets no message text.
            logger.error("signal store flusher failed", extra={"error": type(exc).__name__})
            raise
        finally:
            self._spool.close()
            for _, waiter in self._flush_waiters:
                if not waiter.done():
                    if failed:
                        waiter.set_exception(RuntimeError("signal store flusher failed"))
                    else:
                        waiter.set_result(None)
            self._flush_waiters.clear()

    async def _wait_until_due(self) -> None:
        while not (self._closing or self._flush_requested):
            now = self._clock()
            deadlines = []
            if self._buffered:
                if self._buffered >= self._batch_rows:
                    return
                deadlines.append(self._oldest_at + self._flush_interval_s)
            if self._spool.has_pending:
                deadlines.append(self._retry_at)
            due = min(deadlines, default=None)
            if due is not None and due <= now:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), None if due is None else due - now)
            except TimeoutError:
                return
        self._flush_requested = False

    def _take_all(self) -> list[tuple[str, list[Row]]]:
        """Empties the buffer into batches of at most batch_rows, per table."""
        batches = []
        for table, rows in self._pending.items():
            if rows:
                self._pending[table] = []
                for start in range(0, len(rows), self._batch_rows):
                    batches.append((table, rows[start : start + self._batch_rows]))
        self._buffered = 0
        return batches

    def _wake_flush_waiters(self) -> None:
        still_waiting = []
        for target, waiter in self._flush_waiters:
            if waiter.done():
                continue
            if self._settled >= target:
                waiter.set_result(None)
            else:
                still_waiting.append((target, waiter))
        self._flush_waiters = still_waiting

    async def _store(self, table: str, rows: list[Row]) -> None:
        """Writes a fresh batch, or spools it while the database is away or the spool not empty."""
        # Left set if cancelled, for _spill_on_cancel.
        self._inflight = (table, rows)
        if self._spool.has_pending or (not self._database_up and self._clock() < self._retry_at):
            await self._park(table, rows)
        else:
            try:
                outcome = await self._write(table, rows, idempotent=False)
            except _DatabaseUnavailable as exc:
                self._mark_down(exc)
                await self._park(table, rows)
            else:
                self._mark_up()
                self._account(outcome, replayed=False)
                self._settled += len(rows)
        self._inflight = None

    async def _park(self, table: str, rows: list[Row]) -> None:
        """Appends a batch to the spool; drops and counts it when the spool is full or failing."""
        try:
            await asyncio.to_thread(self._spool.append, {"table": table, "rows": rows}, marker=rows)
        except SpoolFull:
            self._drop_for_spool(table, rows, reason="spool full")
        except (OSError, TypeError, ValueError) as exc:
            self._drop_for_spool(table, rows, reason=type(exc).__name__)
        else:
            self._count_spooled(rows)
        self._settled += len(rows)

    def _count_spooled(self, rows: list[Row]) -> None:
        self._spooled += len(rows)
        for session_id, n in _per_session(rows).items():
            self._session(session_id).spooled += n

    def _drop_for_spool(self, table: str, rows: list[Row], *, reason: str) -> None:
        logger.warning(
            "signal rows dropped: database away and spool unusable",
            extra={"table": table, "rows": len(rows), "reason": reason},
        )
        self._dropped_spool += len(rows)
        for session_id, n in _per_session(rows).items():
            self._session(session_id).dropped += n

    async def _replay(self) -> None:
        """Writes spooled batches back in order, deleting each segment once it is all stored."""
        while (segment := self._spool.oldest()) is not None:
            while True:
                record = await asyncio.to_thread(self._read_batch, segment)
                if record is None:
                    break
                table, rows, next_offset = record
                try:
                    outcome = await self._write(table, rows, idempotent=True)
                except _DatabaseUnavailable as exc:
                    self._mark_down(exc)
                    return
                self._mark_up()
                self._account(outcome, replayed=True)
                self._spool.mark_replayed(segment, next_offset)
                # A long replay must not let the buffer overflow: new rows join the spool's end.
                if self._buffered >= self._batch_rows:
                    self._taken.extend(self._take_all())
                    while self._taken:
                        new_table, new_rows = self._taken.popleft()
                        self._inflight = (new_table, new_rows)
                        await self._park(new_table, new_rows)
                        self._inflight = None
            await asyncio.to_thread(self._spool.remove, segment)
        logger.info("signal spool replayed")

    def _read_batch(self, segment: Path) -> tuple[str, list[tuple[Any, ...]], int] | None:
        """The spool's next batch (table, rows) and the offset past it; None at the segment's end."""
        record = self._spool.read_next(segment)
        if record is None:
            return None
        batch, next_offset = record
        try:
            table = batch["table"]
            if table in TABLE_COLUMNS:
                rows = [(_decode_session_id(r[0]), *r[1:]) for r in batch["rows"]]
                return table, rows, next_offset
        except (KeyError, TypeError, IndexError):
            pass
        self._spool.skip_rest(segment, next_offset)
        return None

    def _account(self, outcome: _Outcome, *, replayed: bool) -> None:
        for session_id, n in outcome.stored.items():
            counts = self._session(session_id)
            if replayed:
                self._replayed += n
                counts.replayed += n
            else:
                self._written += n
                counts.written += n
        for session_id, n in outcome.session_gone.items():
            self._dropped_session_gone += n
            self._session(session_id).dropped += n
        for session_id, n in outcome.invalid.items():
            self._dropped_invalid += n
            self._session(session_id).dropped += n
        if outcome.session_gone:
            logger.info(
                "signal rows dropped: session deleted",
                extra={"rows": sum(outcome.session_gone.values())},
            )

    def _spill_on_cancel(self) -> None:
        """On cancellation, puts the in-flight and buffered rows in the spool, synchronously.

        An in-flight batch whose COPY may have committed is spooled all the same: its replay
        stores nothing twice.
        """
        batches = [*self._taken, *self._take_all()]
        self._taken.clear()
        if self._inflight is not None:
            table, rows = self._inflight
            self._inflight = None
            if self._spool.was_appended(rows):  # by a spool append the cancel interrupted
                self._count_spooled(rows)
                self._settled += len(rows)
            else:
                batches.insert(0, (table, rows))
        for table, rows in batches:
            try:
                self._spool.append({"table": table, "rows": rows}, marker=rows)
            except SpoolFull:
                self._drop_for_spool(table, rows, reason="spool full")
            except (OSError, TypeError, ValueError) as exc:
                self._drop_for_spool(table, rows, reason=type(exc).__name__)
            else:
                self._count_spooled(rows)
            self._settled += len(rows)

    # -- database ------------------------------------------------------------------------

    def _mark_down(self, exc: _DatabaseUnavailable) -> None:
        if self._database_up:
            logger.warning(
                "signal database unavailable; spooling rows",
                extra={"error": str(exc)},
            )
        self._database_up = False
        self._retry_at = self._clock() + self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, self._backoff_max_s)

    def _mark_up(self) -> None:
        if not self._database_up:
            logger.info("signal database reachable again")
            self._reconnects += 1
        self._database_up = True
        self._backoff_s = self._backoff_initial_s

    def _discard_pool(self) -> None:
        pool, self._pool, self._conn = self._pool, None, None
        if pool is not None:
            self._connection_resets += 1
            pool.terminate()

    async def _write(self, table: str, rows: list[Row], *, idempotent: bool) -> _Outcome:
        """Writes a batch; a pool found broken while the database was up gets one fresh retry."""
        retry = self._database_up
        while True:
            try:
                if self._pool is None:
                    self._pool = await self._pool_factory()
                if self._conn is None:
                    self._conn = await self._pool.acquire()
                return await self._write_on(self._conn, table, rows, idempotent=idempotent)
            except Exception as exc:  # noqa: BLE001 - row errors never get here (see _write_on)
                self._discard_pool()
                if not retry:
                    # Only the type: asyncpg messages can quote the rows' values.
                    raise _DatabaseUnavailable(type(exc).__name__) from None
                retry = False

    async def _write_on(
        self, conn: asyncpg.Connection, table: str, rows: list[Row], *, idempotent: bool
    ) -> _Outcome:
        columns = TABLE_COLUMNS[table]
        if not idempotent:
            try:
                async with conn.transaction():
                    await conn.copy_records_to_table(table, records=rows, columns=columns)
                self._copies += 1
                return _Outcome(stored=_per_session(rows))
            except _NEEDS_IDEMPOTENT_PATH:
                pass  # a duplicate (e.g. a commit whose answer was lost) or a deleted session
            except _ROW_ERRORS:
                return await self._bisect(conn, table, rows, idempotent=False)
        try:
            async with conn.transaction():
                await conn.execute(_CREATE_STAGE_SQL[table])
                await conn.copy_records_to_table(
                    _stage_table(table), records=rows, columns=columns
                )
                orphaned = await conn.fetch(_MERGE_STAGE_SQL[table])
        except _ROW_ERRORS:
            return await self._bisect(conn, table, rows, idempotent=True)
        self._copies += 1
        session_gone = Counter({r["session_id"]: r["orphaned"] for r in orphaned})
        return _Outcome(stored=_per_session(rows) - session_gone, session_gone=session_gone)

    async def _bisect(
        self, conn: asyncpg.Connection, table: str, rows: list[Row], *, idempotent: bool
    ) -> _Outcome:
        """Splits a batch that some row spoils until the bad rows stand alone, and drops them."""
        if len(rows) == 1:
            logger.warning("signal row dropped: invalid for its table", extra={"table": table})
            return _Outcome(invalid=_per_session(rows))
        middle = len(rows) // 2
        outcome = await self._write_on(conn, table, rows[:middle], idempotent=idempotent)
        outcome += await self._write_on(conn, table, rows[middle:], idempotent=idempotent)
        return outcome
