"""`greenroom agent`: the interviewer as a livekit-agents worker, one job per LiveKit room.

The worker registers with LiveKit under the explicit-dispatch name `livekit_agent_name`; the
API dispatches it to each session's room (named by the session id, api/livekit_rooms.py). A
job runs the same InterviewRunner as the embedded server, over LiveKitRoomIO instead of the
embedded room's adapters, with the same voice models, question bank, interview writer and
delivery-signal consumer; the consumer joins the room as a hidden participant of its own.

Jobs run as threads of the worker process (JobExecutorType.THREAD), not as processes: the
voice models (Whisper, Piper, Silero, the end-of-turn model: several hundred MB, seconds to
load) are loaded once per process and shared by every interview in it, as the embedded server
shares them between rooms. They are thread-safe (each engine serialises its own calls), and
what is bound to an event loop (VAD streams, the database pool, the writers) is made per job on
the job's own loop. The price is isolation: a job that crashes the interpreter takes the
worker's other interviews with it, and they resume on the next worker from what was stored.

A job holds its session (db/session_holds.py) while it runs, so a duplicate dispatch waits
instead of talking over it; a job on a session an earlier worker left mid-interview resumes
it from the stored questions, as a restarted embedded server does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from livekit import rtc
from livekit.agents import AutoSubscribe, JobContext, JobExecutorType, JobProcess, WorkerOptions
from livekit.agents.utils import aio
from livekit.protocol import agent as agent_pb

from agent.events import CandidateNudged, RoomClosed, SignalSummary
from agent.question_bank import QuestionBank
from agent.worker import InterviewRunner, VoiceModels
from api.tokens import ROLE_ATTRIBUTE, TokenIssuer
from db import sessions as db_sessions
from db.interview_writes import InterviewWriter
from db.pool import create_pool
from db.session_holds import SessionHold
from db.delivery_store import DeliveryStore
from db.delivery import SessionDeliveryStats, load_signal_stats, upsert_signal_stats
from greenroom.interviews import delivery_consumer
from greenroom.log_privacy import keep_personal_data_out_of_logs
from greenroom.settings import Settings
from media.livekit_io import CandidateMediaReader, LiveKitRoomIO
from media.delivery_session import DeliveryConsumer
from reports.builder import ReportContext, offline_fallback
from reports.scorecard import validate_weights
from reports.session_end import score_ended_session
from scoring.factory import close_evaluator, make_evaluator

logger = logging.getLogger(__name__)

MODES = ("dev", "start")
# How long a job waits for the session's hold while another job has it (a duplicate dispatch,
# or a vanished worker whose database connection has not been dropped yet).
HOLD_WAIT_EXTRA_S = 30.0
# Per job: the runner's reads and the interview writer; the signal store has its own.
POOL_MAX_SIZE = 3
END_REASON_FINISHED = "interview_finished"
# After room_closed is sent, how long the candidate's page has to read it and leave before the
# room is deleted. Deleting at once could drop the event still on its way through the SFU.
LEAVE_GRACE_S = 5.0
LEAVE_POLL_S = 0.1


def session_id_of(job: agent_pb.Job) -> uuid.UUID | None:
    """The session a job is for: its dispatch metadata's session_id, else the room's name."""
    try:
        metadata = json.loads(job.metadata) if job.metadata else {}
        raw = metadata.get("session_id") if isinstance(metadata, dict) else None
    except ValueError:
        raw = None
    for candidate in (raw, job.room.name):
        if isinstance(candidate, str):
            try:
                return uuid.UUID(candidate)
            except ValueError:
                continue
    return None


def is_candidate(participant: rtc.RemoteParticipant) -> bool:
    """The session's candidate: the participant whose room token gave it the candidate role."""
    return participant.attributes.get(ROLE_ATTRIBUTE) == "candidate"


def missing_settings(settings: Settings) -> list[str]:
    """The settings a worker cannot start without."""
    return [
        name
        for name, value in (
            ("LIVEKIT_URL", settings.livekit_url),
            ("LIVEKIT_API_KEY", settings.livekit_api_key),
            ("LIVEKIT_API_SECRET", settings.livekit_api_secret and settings.livekit_api_secret.get_secret_value()),
        )
        if not value
    ]


class LiveKitInterviewers:
    """The worker's composition root: what every job shares (settings, models, question bank),
    the worker options that hand it to livekit-agents, and the per-room entrypoint."""

    def __init__(
        self,
        settings: Settings,
        *,
        models: VoiceModels | None = None,
        bank: QuestionBank | None = None,
        progress: Callable[[str], None] = lambda _m: None,
    ) -> None:
        if missing := missing_settings(settings):
            raise ValueError(f"the LiveKit worker needs {', '.join(missing)} to be set")
        if not settings.database_url:
            raise ValueError("the LiveKit worker needs a database (DATABASE_URL)")
        self.settings = settings
        self._models = models
        self._bank = bank or QuestionBank.load()
        self._progress = progress
        self._loading = threading.Lock()  # prewarm runs in each job thread

    def worker_options(self) -> WorkerOptions:
        secret = self.settings.livekit_api_secret
        return WorkerOptions(
            entrypoint_fnc=self.entrypoint,
            prewarm_fnc=self.prewarm,
            agent_name=self.settings.livekit_agent_name,
            job_executor_type=JobExecutorType.THREAD,
            # Loading the models the first time (when they were not loaded up front) takes longer
            # than livekit-agents' default 10 s.
            initialize_process_timeout=120.0,
            ws_url=self.settings.livekit_url,
            api_key=self.settings.livekit_api_key,
            api_secret=secret.get_secret_value() if secret else None,
        )

    def models(self) -> VoiceModels:
        """The process's voice models, loaded by the first caller."""
        with self._loading:
            if self._models is None:
                self._models = VoiceModels.load(self.settings, self._progress)
            return self._models

    def prewarm(self, proc: JobProcess) -> None:
        """Gives a job runner (a thread here) the process's models, loading them if need be."""
        proc.userdata["models"] = self.models()

    async def entrypoint(self, ctx: JobContext) -> None:
        session_id = session_id_of(ctx.job)
        if session_id is None:
            logger.warning("job for a room that is no session", extra={"room": ctx.job.room.name})
            ctx.shutdown("not a session room")
            return
        models = ctx.proc.userdata.get("models") or self.models()
        job = InterviewJob(ctx, session_id, settings=self.settings, models=models, bank=self._bank)
        await job.start()


class InterviewJob:
    """One session's interview in a LiveKit room: runner, hidden signal consumer, writes and
    heartbeat; everything made on the job's event loop and closed with the job."""

    def __init__(
        self,
        ctx: JobContext,
        session_id: uuid.UUID,
        *,
        settings: Settings,
        models: VoiceModels,
        bank: QuestionBank,
    ) -> None:
        self._ctx = ctx
        self.session_id = session_id
        self._settings = settings
        self._models = models
        self._bank = bank
        self._log = {"session_id": str(session_id)}
        self._pool: asyncpg.Pool | None = None
        self._hold: SessionHold | None = None
        self._writer: InterviewWriter | None = None
        self._store: DeliveryStore | None = None
        self._room_io: LiveKitRoomIO | None = None
        self._signals: DeliveryConsumer | None = None
        self._earlier_stats: SessionDeliveryStats | None = None
        self._reader: CandidateMediaReader | None = None
        self._runner: InterviewRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._keeper: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def _spool_dir(self) -> Path:
        """This session's spools: a later job for it replays what this one could not store."""
        return self._settings.resolved_data_dir() / "spool" / "livekit" / str(self.session_id)

    async def start(self) -> None:
        """Takes the session, joins the room, and starts the interview once the candidate's
        microphone is heard (in a task of the job's own, so the entrypoint returns)."""
        ctx, s = self._ctx, self._settings
        ctx.add_shutdown_callback(self.aclose)
        assert s.database_url is not None
        self._hold = await SessionHold.acquire(
            s.database_url, self.session_id, wait_s=s.reconnect_grace_s + HOLD_WAIT_EXTRA_S
        )
        if self._hold is None:
            logger.warning("another interviewer holds the session; this job leaves", extra=self._log)
            ctx.shutdown("session held by another interviewer")
            return
        self._pool = await create_pool(s.database_url, min_size=1, max_size=POOL_MAX_SIZE)
        session = await db_sessions.get_session(self._pool, self.session_id)
        if session is None or session.status not in ("scheduled", "live"):
            logger.info("job for a session that is gone or over; leaving", extra=self._log)
            ctx.shutdown("session not open")
            return
        self._writer = InterviewWriter(
            self._pool,
            spool_dir=self._spool_dir / "interviews",
            spool_max_bytes=s.interview_spool_max_mb * 1024 * 1024,
        )
        await self._writer.start()  # replays what an earlier job here left spooled
        await ctx.connect(auto_subscribe=AutoSubscribe.SUBSCRIBE_NONE)
        await ctx.room.local_participant.set_attributes({ROLE_ATTRIBUTE: "agent"})
        self._room_io = LiveKitRoomIO(ctx.room, is_candidate=is_candidate)
        await self._room_io.start()
        self._spawn(self._interview(session), name="interview-start")

    async def _interview(self, session: db_sessions.SessionRecord) -> None:
        assert self._room_io is not None and self._pool is not None and self._writer is not None
        await self._room_io.wait_for_candidate()
        signals = await self._start_signals(session)
        self._runner = InterviewRunner(
            session,
            self._room_io,
            models=self._models,
            bank=self._bank,
            settings=self._settings,
            pool=self._pool,
            writer=self._writer,
            on_finished=self._finished,
            signals=signals,
        )
        await self._runner.start()
        self._keeper = asyncio.create_task(self._keep_alive_every(), name="interview-keep-alive")
        logger.info("interview running in LiveKit room", extra=self._log)

    async def _start_signals(self, session: db_sessions.SessionRecord) -> DeliveryConsumer | None:
        """The delivery-signal consumer, unless signals are off or the candidate declined; its
        hidden participant joins in the background (the interview does not wait for it)."""
        s = self._settings
        if not s.signals_enabled or not session.capture_signals:
            return None
        assert s.database_url is not None and self._pool is not None and self._room_io is not None
        self._store = DeliveryStore(
            s.database_url,
            spool_dir=self._spool_dir / "signals",
            batch_rows=s.signal_batch_rows,
            flush_interval_s=s.signal_flush_interval_s,
            queue_rows=s.signal_queue_rows,
            spool_max_bytes=s.signal_spool_max_mb * 1024 * 1024,
        )
        await self._store.start()
        if session.started_at is not None:  # resumed: this job's counters add to the stored ones
            self._earlier_stats = await load_signal_stats(self._pool, session.id)
        room_io = self._room_io

        def publish(event: CandidateNudged | SignalSummary) -> None:
            if isinstance(event, CandidateNudged):
                self._spawn(room_io.broadcast(event))
            else:
                self._spawn(room_io.publish_signals(event.to_wire()))

        self._signals = delivery_consumer(s, session, store=self._store, models=self._models, publish=publish)
        self._reader = CandidateMediaReader(self._signals, is_candidate=is_candidate)
        self._spawn(self._join_hidden(self._reader), name="signal-consumer-join")
        return self._signals

    async def _join_hidden(self, reader: CandidateMediaReader) -> None:
        s = self._settings
        assert s.livekit_api_key and s.livekit_api_secret and s.livekit_url
        issuer = TokenIssuer(
            s.livekit_api_key,
            s.livekit_api_secret.get_secret_value(),
            s.token_ttl_s,
            transport="livekit",
            server_url=s.livekit_url,
        )
        token = issuer.issue(self._ctx.room.name, f"greenroom-signals-{self.session_id}", "consumer")
        try:
            await reader.connect(s.livekit_url, token)
        except Exception as exc:  # no signals for this session, the interview goes on
            logger.error("signal consumer could not join the room", extra={**self._log, "error": type(exc).__name__})

    async def _keep_alive_every(self) -> None:
        """Notes every session_heartbeat_s that this worker holds the session (so no server
        ends it as abandoned) and saves its signal counters."""
        while True:
            await asyncio.sleep(self._settings.session_heartbeat_s)
            try:
                assert self._pool is not None
                await db_sessions.heartbeat(self._pool, [self.session_id])
                if self._signals is not None:
                    await upsert_signal_stats(self._pool, self._signals.stats().plus(self._earlier_stats))
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("session not kept alive this time", extra={**self._log, "error": type(exc).__name__})

    async def _finished(self, runner: InterviewRunner) -> None:
        """The interviewer closed the interview: the session is completed and its room closed
        (it is scored as the job closes, once its last answers are stored)."""
        assert self._pool is not None and self._room_io is not None
        await db_sessions.mark_ended(
            self._pool, self.session_id, "completed", datetime.now(UTC), END_REASON_FINISHED
        )
        await self._room_io.broadcast(RoomClosed("completed"))
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._candidates_left(), LEAVE_GRACE_S)
            await self._ctx.delete_room()
        finally:
            self._ctx.shutdown("interview finished")

    async def _candidates_left(self) -> None:
        """Returns once no candidate is left in the room: a page that read room_closed leaves by
        itself."""
        while any(is_candidate(p) for p in self._ctx.room.remote_participants.values()):
            await asyncio.sleep(LEAVE_POLL_S)

    async def _score(self) -> None:
        """Scores an ended session's answers and stores its scorecard (called once what was said
        is stored), as the embedded server does at a session's end, so that the report and
        progress are ready before anyone asks. A failure leaves the scoring to the report's first
        reading."""
        assert self._pool is not None
        s = self._settings
        try:
            evaluator = make_evaluator(s)
            try:
                context = ReportContext(
                    weights=validate_weights(s.report_weights),
                    bank=self._bank,
                    evaluator=evaluator,
                    evaluator_timeout_s=s.report_evaluator_timeout_s,
                    fallback=offline_fallback,
                )
                scored = await score_ended_session(self._pool, self.session_id, context)
            finally:
                await close_evaluator(evaluator)
        except Exception as exc:
            logger.error("session not scored at its end", extra={**self._log, "error": type(exc).__name__})
            return
        if scored:
            logger.info("session scored", extra=self._log)

    def _spawn(self, coro: Coroutine[Any, Any, Any], *, name: str | None = None) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("interview job task failed", exc_info=exc, extra={**self._log, "task": task.get_name()})
            if task.get_name() == "interview-start":
                self._ctx.shutdown("interview failed to start")

    async def aclose(self) -> None:
        """Stops the interview and the consumer, stores what is pending, lets go of the session.
        The session itself stays as it is: ended if it ended, else live for the next job."""
        if self._closed:
            return
        self._closed = True
        if self._keeper is not None:
            await aio.cancel_and_wait(self._keeper)
        for task in [t for t in self._tasks if t.get_name() in ("interview-start", "signal-consumer-join")]:
            await aio.cancel_and_wait(task)
        stored = False
        if self._runner is not None:
            stored = await self._runner.aclose()  # closes the room I/O too, and stores the last answers
        elif self._room_io is not None:
            await self._room_io.aclose()
        if self._reader is not None:
            await self._reader.aclose()
        if self._signals is not None:
            stats = (await self._signals.aclose()).plus(self._earlier_stats)
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                assert self._pool is not None
                await db_sessions.heartbeat(self._pool, [self.session_id])
                await upsert_signal_stats(self._pool, stats)
        if stored:  # the answers and the signals: the report may be final now
            assert self._pool is not None
            await db_sessions.close_transcript(self._pool, self.session_id)
            await self._score()  # if the session has ended (a live one is left to the next job)
        for task in list(self._tasks):
            await aio.cancel_and_wait(task)
        if self._writer is not None:
            await self._writer.aclose()
        if self._store is not None:
            await self._store.aclose()
        if self._pool is not None:
            await self._pool.close()
        if self._hold is not None:
            await self._hold.release()
        for spool in (self._spool_dir / "interviews", self._spool_dir / "signals", self._spool_dir):
            with contextlib.suppress(OSError):
                spool.rmdir()  # only when empty: what could not be stored stays for the next job
        logger.info("interview job closed", extra=self._log)


def run_worker(settings: Settings, mode: str, cli_args: list[str], progress: Callable[[str], None]) -> None:
    """Loads the models once, then hands the process to livekit-agents' CLI in `mode` (dev or
    start; cli_args are passed on, e.g. --log-level)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    from livekit.agents import cli

    keep_personal_data_out_of_logs()
    models = VoiceModels.load(settings, progress)
    interviewers = LiveKitInterviewers(settings, models=models, progress=progress)
    progress(f"worker {settings.livekit_agent_name!r} connecting to {settings.livekit_url} ({mode})")
    sys.argv = [f"{Path(sys.argv[0]).name} agent", mode, *cli_args]
    cli.run_app(interviewers.worker_options())
