"""The embedded rooms and their hooks: an interviewer and a delivery-signal consumer per room, the outcome stored."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from livekit.agents.utils import aio

from agent.events import CandidateNudged, InterviewEnded, SignalSummary
from agent.question_bank import QuestionBank
from agent.worker import InterviewRunner, VoiceModels
from db import sessions as db_sessions
from db.interview_writes import InterviewWriter
from db.delivery_store import DeliveryStore
from db.delivery import SessionDeliveryStats, load_signal_stats, upsert_signal_stats
from greenroom.settings import Settings
from media.agent_io import EmbeddedRoomIO
from media.live_feed import LiveFeeds
from media.nudges import NudgeRules
from media.room_server import Room, RoomServer
from media.delivery_session import DeliveryConsumer

logger = logging.getLogger(__name__)

# Why a live session whose server process died was ended (see Interviews.keep_alive).
END_REASON_SERVER_LOST = "server_lost"


class Interviews:
    """The room hooks: admits participants, starts an interviewer per room, records the outcome.

    It makes its own room server (`rooms`), whose hooks it is: the server calls these hooks and
    the hooks close the server's rooms, so each needs the other; making the server here leaves
    neither to be finished by setting attributes after construction.
    """

    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool,
        models: VoiceModels,
        bank: QuestionBank,
        *,
        store: DeliveryStore | None = None,
        feeds: LiveFeeds | None = None,
        on_ended: Callable[[uuid.UUID], Awaitable[None]] | None = None,
    ) -> None:
        """`on_ended(session_id)` runs once a session has ended (e.g. to score its answers
        right away), in a task of its own; None: nothing does."""
        self._settings = settings
        self._pool = pool
        self._models = models
        self._bank = bank
        self._store = store
        self._feeds = feeds
        self.runners: dict[str, InterviewRunner] = {}
        self._room_io: dict[str, EmbeddedRoomIO] = {}  # each runner's hold on its room
        self.signals: dict[str, DeliveryConsumer] = {}
        # The counters an earlier process stored for each session with signals here (None:
        # none); a session is in it once they are known, and only then are its counters saved.
        self._earlier_stats: dict[str, SessionDeliveryStats | None] = {}
        self._stats_saving = asyncio.Lock()  # a late periodic save never overwrites the final one
        # Questions and answers of every interview here, stored in order, spooled while the
        # database is away.
        self.writer = InterviewWriter.from_settings(settings, pool)
        self._on_ended = on_ended
        self._tasks: set[asyncio.Task[None]] = set()
        self._keeper: asyncio.Task[None] | None = None
        self._started_at = datetime.now(UTC)  # reset by start()
        self.rooms = RoomServer(
            self,
            ice_servers=settings.ice_servers,
            announced_addresses=settings.announced_addresses,
            reconnect_grace_s=settings.reconnect_grace_s,
        )

    async def start(self) -> None:
        """Stores what an earlier process left spooled, then keeps this process's live sessions
        alive in the database every session_heartbeat_s (see keep_alive)."""
        self._started_at = datetime.now(UTC)
        await self.writer.start()
        self._keeper = asyncio.create_task(self._keep_alive_every(), name="interviews-keep-alive")

    async def _keep_alive_every(self) -> None:
        while True:
            try:
                await self.keep_alive()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("live sessions not kept alive this time", extra={"error": type(exc).__name__})
            except Exception:  # a bug must not stop the heartbeats of every session here
                logger.exception("keeping live sessions alive failed")
            await asyncio.sleep(self._settings.session_heartbeat_s)

    async def keep_alive(self) -> None:
        """Notes in the database that this process holds its rooms' sessions, saves their signal
        counters, and ends as abandoned the live sessions no process holds any more: their
        process died and their candidate did not come back within the grace period."""
        held = [uuid.UUID(session_id) for session_id in self._held_sessions()]
        if held:
            await db_sessions.heartbeat(self._pool, held)
        async with self._stats_saving:
            for session_id, signals in list(self.signals.items()):
                if session_id in self._earlier_stats and self.signals.get(session_id) is signals:
                    stats = signals.stats().plus(self._earlier_stats[session_id])
                    await upsert_signal_stats(self._pool, stats)
        abandoned = await db_sessions.abandon_orphaned(
            self._pool,
            held=held,
            stale_after_s=self._settings.reconnect_grace_s + self._settings.session_heartbeat_s,
            end_reason=END_REASON_SERVER_LOST,
            since=self._started_at,
        )
        for session_id in abandoned:
            logger.info("session abandoned: its server process is gone", extra={"session_id": str(session_id)})
            self._after_end_soon(session_id)

    def _held_sessions(self) -> set[str]:
        """The sessions whose rooms this process holds, the candidate away or not."""
        return set(self.rooms.rooms) | set(self.runners) | set(self.signals)

    async def admit(self, session_id: str, identity: str, role: str) -> str | None:
        try:
            sid = uuid.UUID(session_id)
        except ValueError:
            return "session not found"
        session = await db_sessions.get_session(self._pool, sid)
        if session is None:
            return "session not found"
        if session.status in ("completed", "failed", "abandoned"):
            return "session has ended"
        return None

    def _signals_for(self, room: Room, session: db_sessions.SessionRecord) -> DeliveryConsumer | None:
        """The room's delivery-signal consumer, made on the first candidate track.

        None when signals are off here, or when the candidate chose not to have their
        delivery analysed: then no frame or sound of theirs is measured, and nothing nudges.
        """
        if self._store is None or self._feeds is None or not self._settings.signals_enabled:
            return None
        if not session.capture_signals:
            return None
        signals = self.signals.get(room.session_id)
        if signals is None:
            feeds, session_id = self._feeds, room.session_id

            def publish(event: CandidateNudged | SignalSummary) -> None:
                wire = event.to_wire()
                feeds.publish(session_id, wire)
                if isinstance(event, CandidateNudged):
                    asyncio.ensure_future(room.broadcast(wire))

            signals = self.signals[session_id] = delivery_consumer(
                self._settings, session, store=self._store, models=self._models, publish=publish
            )
        return signals

    async def candidate_track(self, room: Room, track: MediaStreamTrack) -> None:
        session = await db_sessions.get_session(self._pool, uuid.UUID(room.session_id))
        fresh = room.session_id not in self.signals
        signals = self._signals_for(room, session) if session is not None else None
        if signals is not None and fresh:
            # Resumed after a server restart: this process's counters add to the stored ones.
            earlier = await load_signal_stats(self._pool, session.id) if session.started_at is not None else None
            self._earlier_stats[room.session_id] = earlier
        if track.kind == "video":
            if signals is not None:
                await signals.attach_video(room.subscribe(track))
            else:  # keep the relay draining so nothing piles up
                asyncio.ensure_future(_drain(room.subscribe(track)))
            return
        if signals is not None:
            signals.attach_audio(room.subscribe(track))
        runner = self.runners.get(room.session_id)
        if runner is None:
            if session is None:
                return
            room_io = self._room_io[room.session_id] = EmbeddedRoomIO(room)
            runner = InterviewRunner(
                session,
                room_io,
                models=self._models,
                bank=self._bank,
                settings=self._settings,
                pool=self._pool,
                writer=self.writer,
                on_finished=self._finished,
                signals=signals,
            )
            self.runners[room.session_id] = runner
            room_io.attach_audio(room.subscribe(track))
            await runner.start()
        else:
            self._room_io[room.session_id].attach_audio(room.subscribe(track))

    async def _finished(self, runner: InterviewRunner) -> None:
        await db_sessions.mark_ended(
            self._pool, runner.session_id, "completed", datetime.now(UTC), "interview_finished"
        )
        await self.rooms.close_room(str(runner.session_id), "completed")

    async def candidate_gone(self, room: Room) -> None:
        await db_sessions.mark_ended(
            self._pool, uuid.UUID(room.session_id), "abandoned", datetime.now(UTC), "candidate_disconnected"
        )

    async def room_closed(self, room: Room, reason: str) -> None:
        runner = self.runners.pop(room.session_id, None)
        self._room_io.pop(room.session_id, None)
        stored = await runner.aclose() if runner is not None else False
        signals = self.signals.pop(room.session_id, None)
        if signals is not None:
            stats = await self._close_signals(room.session_id, signals)
            try:
                async with self._stats_saving:
                    await upsert_signal_stats(self._pool, stats)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                logger.error("signal stats not stored", extra={"session_id": room.session_id})
        if stored:  # the answers and the signals: the report may be final now
            await db_sessions.close_transcript(self._pool, uuid.UUID(room.session_id))
        if self._feeds is not None:
            self._feeds.publish(room.session_id, InterviewEnded(reason).to_wire())
        if reason != "server_shutdown":
            self._after_end_soon(uuid.UUID(room.session_id))

    def _after_end_soon(self, session_id: uuid.UUID) -> None:
        """Runs the work after a session's end (on_ended) in a task of its own."""
        if self._on_ended is None:
            return
        task = asyncio.create_task(self._after_end(self._on_ended, session_id), name="session-ended")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _after_end(on_ended: Callable[[uuid.UUID], Awaitable[None]], session_id: uuid.UUID) -> None:
        try:
            await on_ended(session_id)
        except Exception:
            logger.exception("work after a session's end failed", extra={"session_id": str(session_id)})

    async def aclose(self) -> None:
        """Closes every room (reason server_shutdown), then stops what is left and stores what is pending."""
        await self.rooms.aclose()
        if self._keeper is not None:
            await aio.cancel_and_wait(self._keeper)
        for task in list(self._tasks):
            await aio.cancel_and_wait(task)
        for session_id in list(self.runners):
            runner = self.runners.pop(session_id)
            self._room_io.pop(session_id, None)
            await runner.aclose()
        try:
            for session_id in list(self.signals):
                stats = await self._close_signals(session_id, self.signals.pop(session_id))
                await upsert_signal_stats(self._pool, stats)
        finally:
            await self.writer.aclose()

    async def _close_signals(self, session_id: str, signals: DeliveryConsumer) -> SessionDeliveryStats:
        """Stops a session's consumer; its counters, with any an earlier process stored."""
        return (await signals.aclose()).plus(self._earlier_stats.pop(session_id, None))


def delivery_consumer(
    settings: Settings,
    session: db_sessions.SessionRecord,
    *,
    store: DeliveryStore,
    models: VoiceModels,
    publish: Callable[[CandidateNudged | SignalSummary], None],
) -> DeliveryConsumer:
    """A session's delivery-signal consumer as the settings make it, whatever room it is in."""
    s = settings
    return DeliveryConsumer(
        session.id,
        store=store,
        publish=publish,
        rules=NudgeRules(
            silence_s=s.nudge_silence_s,
            pace_wpm=s.nudge_pace_wpm,
            pace_sustain_s=s.nudge_pace_sustain_s,
            face_missing_s=s.nudge_face_missing_s,
        ),
        face_model_path=s.face_model_path,
        face_sample_fps=s.face_sample_fps,
        prosody_window_ms=s.prosody_window_ms,
        transcriber=models.filler_whisper.transcribe if models.filler_whisper else None,
        # A session resumed after a restart keeps its clock: rows follow the stored ones.
        origin_wall=session.started_at.timestamp() if session.started_at else None,
    )


async def _drain(track: MediaStreamTrack) -> None:
    try:
        while True:
            await track.recv()
    except MediaStreamError:
        return
