"""Runs the interviewer in embedded rooms: one AgentSession per live session, its events to the DB."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from livekit.agents import AgentSession
from livekit.agents.utils import aio
from livekit.agents.vad import VAD
from livekit.agents.voice.events import AgentStateChangedEvent, UserInputTranscribedEvent
from livekit.plugins import silero

from agent.interviewer import (
    AskedQuestion,
    InterviewPlan,
    InterviewScript,
    PreviousQuestion,
    Utterance,
)
from agent.question_bank import QuestionBank
from agent.echo import EchoMonitor
from agent.room_io import INPUT_SAMPLE_RATE, CallbackTextOutput, TrackAudioInput, VoiceTrackOutput
from agent.scripted_llm import InterviewerAgent, ScriptedInterviewerLLM, split_sentences
from agent.stt_whisper import BackgroundWhisper, RecognizedUtterance, WhisperEngine, WhisperSTT
from agent.tts_piper import PiperEngine, PiperTTS
from agent.turn_taking import EndOfTurnModel, LocalEndOfTurn, TurnTaker, TurnTakingSettings
from db import sessions as db_sessions
from db.interview_writes import InterviewWriter, QuestionWrite, ResponseWrite, TurnLatencyWrite
from greenroom.settings import Settings
from db.signal_store import SessionSignalStats, SignalStore, load_signal_stats, upsert_signal_stats
from media.live_feed import LiveFeeds
from media.nudges import NudgeRules
from media.room_server import Room, RoomServer
from media.signal_session import SessionSignals
from media.speech_signals import FILLER_PROMPT
from media.voice_track import SAMPLE_RATE as VOICE_SAMPLE_RATE
from media.voice_track import SegmentStarted

logger = logging.getLogger(__name__)

# How long closing an interview waits for its writes to be stored (or spooled).
WRITES_SETTLE_S = 10.0
# Why a live session whose server process died was ended (see Interviews.keep_alive).
END_REASON_SERVER_LOST = "server_lost"
# How late a speech start can reach the turn taker after it happened (media path + VAD).
YIELD_HEARING_S = 0.6
# What the interviewer says to a candidate who has paused mid-answer for a long time.
GENTLE_PROMPTS = ("Take your time.", "No rush, take your time.")


@dataclass(slots=True)
class VoiceModels:
    """The speech models, loaded once at startup and shared by every interview."""

    vad: VAD
    whisper: WhisperEngine
    piper: PiperEngine
    # Hears each utterance again, prompted to keep fillers, for the delivery signals only.
    filler_whisper: BackgroundWhisper | None = None
    # LiveKit's audio end-of-turn model, one of the turn-taking signals.
    eot: EndOfTurnModel | None = None

    @classmethod
    def load(cls, settings: Settings, progress: Callable[[str], None] = lambda _m: None) -> VoiceModels:
        progress("loading voice activity detector (Silero)")
        vad = silero.VAD.load(min_silence_duration=settings.vad_min_silence_s)
        progress(f"loading speech recognition (faster-whisper {settings.stt_model})")
        whisper = WhisperEngine(
            settings.stt_model, threads=settings.stt_threads, short_context=settings.stt_short_context
        )
        progress("loading interviewer voice (Piper)")
        piper = PiperEngine(settings.tts_voice)
        filler_whisper = None
        if settings.signals_enabled:
            progress("loading the filler-aware recogniser for delivery signals")
            # Always on Whisper's full 30 s window: prompted with fillers, a cut window loops.
            filler_whisper = BackgroundWhisper(settings.stt_model, prompt=FILLER_PROMPT)
        eot = None
        if settings.turn_audio_model:
            progress("loading the end-of-turn detector (LiveKit turn-detector, offline)")
            eot = LocalEndOfTurn()
        return cls(vad=vad, whisper=whisper, piper=piper, filler_whisper=filler_whisper, eot=eot)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def turn_taking_settings(settings: Settings) -> TurnTakingSettings:
    """The turn-taking knobs from the deployment's settings."""
    return TurnTakingSettings(
        complete_hold_s=settings.turn_complete_hold_s,
        likely_hold_s=settings.turn_likely_hold_s,
        open_hold_s=settings.turn_open_hold_s,
        prompt_after_s=settings.turn_prompt_after_s,
        give_up_after_s=settings.turn_give_up_after_s,
        yield_window_s=settings.turn_yield_window_s,
    )


@dataclass(slots=True)
class OpenAnswer:
    """The answer being given: its utterances stitched across pauses into one stored response."""

    started_at: float  # wall clock of its first word's utterance
    question_id: uuid.UUID | None
    response_id: uuid.UUID = field(default_factory=uuid.uuid4)
    ended_at: float = 0.0
    texts: list[str] = field(default_factory=list)
    words: list[dict[str, Any]] = field(default_factory=list)

    def add(self, u: RecognizedUtterance) -> None:
        offset = u.speech_start_at - self.started_at
        self.texts.append(u.text)
        self.words += [
            {"w": w.text, "start": round(w.start + offset, 3), "end": round(w.end + offset, 3), "p": round(w.probability, 3)}
            for w in u.words
        ]
        self.ended_at = u.speech_end_at

    @property
    def transcript(self) -> str:
        return " ".join(t for t in self.texts if t)


def plan_for(session: db_sessions.SessionRecord) -> InterviewPlan:
    """The interview a session asks for: its choices, CV, job description or practice question."""
    return InterviewPlan(
        role_track=session.role_track,
        round_type=session.round_type,
        difficulty=session.difficulty,
        duration_s=session.duration_min * 60.0,
        persona_id=session.persona,
        seed=zlib.crc32(session.id.bytes),
        practice_question_id=session.practice_question_id,
        cv_text=session.cv_text,
        jd_text=session.jd_text,
    )


class InterviewRunner:
    """One live interview: the agent session over the room's tracks, and what it records."""

    def __init__(
        self,
        session: db_sessions.SessionRecord,
        room: Room,
        *,
        models: VoiceModels,
        bank: QuestionBank,
        settings: Settings,
        pool: asyncpg.Pool,
        writer: InterviewWriter,
        on_finished: Callable[[InterviewRunner], Awaitable[None]],
        signals: SessionSignals | None = None,
    ) -> None:
        self.session_id = session.id
        self.signals = signals
        self.room = room
        self._settings = settings
        self._on_finished = on_finished
        self._pool = pool
        self._writer = writer
        plan = plan_for(session)
        self.script = InterviewScript(plan, bank)
        self.audio_input = TrackAudioInput()
        self._piper = models.piper
        self.turn_latencies_ms: list[float] = []
        self._question_ids: dict[int, uuid.UUID] = {}
        self._current_seq: int | None = None
        self._speech_end_at: float | None = None
        self._last_stt_ms: float | None = None
        self._turn_seq = 0
        self._closing = False
        self._finish_task: asyncio.Task[None] | None = None
        self._caption: list[str] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        # The reply generated for the candidate's turn, until it has played past the yield
        # window: only then is its question asked (stored, shown) and the answer closed.
        self._pending: Utterance | None = None
        self._reply_audio_at: float | None = None
        self._asking = False  # a confirmed reply is playing: when it ends, the question has ended
        self._answer: OpenAnswer | None = None
        self._withdraw_next: float | None = None  # when a reply not yet made was withdrawn
        self._prompts_said = 0

        # Tells the candidate resuming from the interviewer's own voice leaking back in.
        self.echo = EchoMonitor()
        self.audio_input.on_frame = lambda f: self.echo.on_input(bytes(f.data), INPUT_SAMPLE_RATE)
        room.voice.on_sent = lambda pcm: self.echo.on_output(pcm, VOICE_SAMPLE_RATE)
        self.turns = TurnTaker(
            turn_taking_settings(settings),
            question=lambda: self.script.checkpoint().current,
            eot_model=models.eot,
            on_yield=self._yield,
            on_long_silence=self._gentle_prompt,
            on_pause=self._prepare_reply,
            is_echo=self.echo.likely_echo,
        )
        stt = WhisperSTT(
            models.whisper, models.vad, on_utterance=self._on_candidate_utterance, turns=self.turns
        )
        self.agent_session = AgentSession(
            vad=models.vad,
            stt=stt,
            tts=PiperTTS(models.piper),
            llm=ScriptedInterviewerLLM(self.script, on_utterance=self._on_utterance),
            turn_handling={
                # The STT stream ends a turn only when the turn taker says so (agent/turn_taking.py).
                "turn_detection": "stt",
                "endpointing": {"min_delay": 0.0, "max_delay": 0.5},
                "interruption": {
                    "mode": "vad",
                    "min_duration": settings.interruption_min_duration_s,
                    "resume_false_interruption": False,
                },
                # The turn taker prepares the reply at each pause (see _prepare_reply).
                "preemptive_generation": {"enabled": False},
            },
            user_away_timeout=None,
            # The browser cancels echo itself; its canceller settles well within a second,
            # after which the candidate can interrupt (livekit's default waits 3 s). A
            # candidate who resumes just after a reply starts is heard sooner: the turn taker
            # yields at once (_yield).
            aec_warmup_duration=settings.aec_warmup_s,
        )
        self.agent_session.input.audio = self.audio_input
        self.agent_session.output.audio = VoiceTrackOutput(
            room.voice, on_segment_started=self._on_voice_started
        )
        self.agent_session.output.transcription = CallbackTextOutput(self._on_interviewer_text)
        self.agent_session.on("user_input_transcribed", self._on_user_transcribed)
        self.agent_session.on("agent_state_changed", self._on_agent_state)
        self._plan = plan

    async def start(self) -> None:
        # Signal rows count from the media's start; the session's start is the same instant.
        started_at = self.signals.origin_wall if self.signals is not None else time.time()
        live = await db_sessions.mark_live(self._pool, self.session_id, _utc(started_at))
        if live is not None and live.started_at is not None:
            await self._resume_stored_questions(live.started_at)
        # Lines the interviewer will say for sure are synthesised ahead, off the event loop,
        # so a reply's first sentence usually costs no synthesis at all.
        lines = [*self.script.prepared_lines, *GENTLE_PROMPTS]
        self._spawn(asyncio.to_thread(self._piper.prewarm, lines))
        await self.agent_session.start(InterviewerAgent(self._plan), record=False)

    async def _resume_stored_questions(self, session_started_at: datetime) -> None:
        """Continues from the questions an earlier run of this session stored (e.g. before a
        restart): they are not asked or written again, and their time counts as used."""
        stored = await db_sessions.asked_questions(self._pool, self.session_id)
        if not stored:
            return
        self._turn_seq = await db_sessions.last_turn_seq(self._pool, self.session_id)
        for row in stored:
            self._question_ids[row.seq] = row.id
        previous = [
            PreviousQuestion(
                seq=row.seq,
                text=row.text,
                source="bank" if row.source == "bank" else "follow_up",
                bank_question_id=row.bank_question_id,
                answered=row.answered,
            )
            for row in stored
        ]
        elapsed_s = max(0.0, time.time() - session_started_at.timestamp())
        self.script.resume(previous, elapsed_s)
        logger.info(
            "interview resumed",
            extra={"session_id": str(self.session_id), "questions_stored": len(stored), "elapsed_s": round(elapsed_s, 1)},
        )

    def attach_audio(self, track: MediaStreamTrack) -> None:
        self.audio_input.attach(track)

    async def aclose(self) -> None:
        if self._finish_task is not None and self._finish_task is not asyncio.current_task():
            await aio.cancel_and_wait(self._finish_task)
        await self.agent_session.aclose()
        await self.audio_input.detach()
        for task in list(self._tasks):
            await aio.cancel_and_wait(task)
        try:  # the session's end is acted on (scored) once its answers are stored
            await asyncio.wait_for(self._writer.flush(), WRITES_SETTLE_S)
        except TimeoutError:
            logger.error("interview writes still pending at close", extra={"session_id": str(self.session_id)})

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _event(self, event: dict[str, Any]) -> None:
        self._spawn(self.room.broadcast(event))

    # -- interviewer side -------------------------------------------------

    def _on_utterance(self, utterance: Utterance) -> None:
        """A reply was generated; it counts once it has played past the yield window."""
        if self._withdraw_next is not None and time.monotonic() - self._withdraw_next < 2.0:
            # The candidate went on before this reply was even made.
            self._withdraw_next = None
            self._spawn(self._withdraw_reply(utterance))
            return
        self._pending = utterance

    def _confirm(self, utterance: Utterance) -> None:
        """The reply stands: its question is asked, and the answer before it is closed."""
        if self._pending is not utterance:
            return  # yielded, or superseded by a newer reply
        self._pending = None
        self._asking = True
        self.turns.confirm_reply()
        self._answer = None
        self._record_latency()
        if utterance.closing:
            self._closing = True
        q = utterance.question
        if q is None:
            return
        self._current_seq = q.seq
        # A question asked again (a repeat, or the one left unanswered before a restart) keeps
        # its stored row: only a new seq is written.
        if q.seq not in self._question_ids:
            self._write_question(q)
        self._event(
            {
                "type": "question",
                "seq": q.seq,
                "text": q.text,
                "source": q.source,
                "from_cv": q.text == self.script.tailored_opener,
                "number": sum(1 for a in self.script.asked if a.source == "bank"),
                "total": self.script.questions_total,
            }
        )

    async def _confirm_after(self, utterance: Utterance, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        self._confirm(utterance)

    def _yield(self) -> None:
        """The candidate went on just as the reply started: stop it, and forget it was said."""
        self.room.voice.clear()  # silence now; the session's own interrupt follows
        utterance, self._pending = self._pending, None
        self._reply_audio_at = None
        self._withdraw_next = time.monotonic() if utterance is None else None
        self._event({"type": "interviewer_yielded"})
        logger.info("reply withdrawn: the candidate went on", extra={"session_id": str(self.session_id)})
        self._spawn(self._withdraw_reply(utterance))

    async def _withdraw_reply(self, utterance: Utterance | None) -> None:
        """Stops the reply's audio and takes it out of the conversation, so the script answers
        the whole answer, stitched, as if the reply had never started."""
        try:
            await asyncio.wait_for(self.agent_session.interrupt(force=True), timeout=2.0)
        except (RuntimeError, TimeoutError):
            pass  # nothing was playing, or the session is closing
        agent = self.agent_session.current_agent
        ctx = agent.chat_ctx.copy()
        for i in range(len(ctx.items) - 1, -1, -1):
            item = ctx.items[i]
            if item.type != "message" or item.role != "assistant":
                continue
            said = (item.text_content or "").strip()
            if item.interrupted or (utterance is not None and said == utterance.text.strip()):
                del ctx.items[i]
                await agent.update_chat_ctx(ctx)
            break

    def _gentle_prompt(self) -> None:
        """A long silence in the middle of an answer: encourage, never move on."""
        text = GENTLE_PROMPTS[self._prompts_said % len(GENTLE_PROMPTS)]
        self._prompts_said += 1
        self.agent_session.say(text, add_to_chat_ctx=False)

    def _prepare_reply(self, answer: str) -> None:
        """At a pause, synthesise ahead the first sentence the interviewer would say if the
        answer ended here; thrown away (it only warms a cache) if the candidate goes on."""
        checkpoint = self.script.checkpoint()
        if not self.script.started or self.script.finished:
            return
        try:
            reply = self.script.respond(answer)
        finally:
            self.script.restore(checkpoint)
        first = split_sentences(reply.text)[:1]
        if first:
            self._spawn(asyncio.to_thread(self._piper.prewarm, first))

    def _write_question(self, q: AskedQuestion) -> None:
        question_id = self._question_ids[q.seq] = uuid.uuid4()
        self._writer.submit(
            QuestionWrite(
                id=question_id,
                session_id=self.session_id,
                seq=q.seq,
                text=q.text,
                source=q.source,
                bank_question_id=q.bank_question_id or None,
                persona=q.persona,
                asked_at=_utc(time.time()),
            )
        )

    def _on_interviewer_text(self, delta: str, final: bool) -> None:
        if final:
            text, self._caption = "".join(self._caption).strip(), []
            self._event({"type": "caption", "speaker": "interviewer", "text": text, "final": True})
        elif delta:
            self._caption.append(delta)
            self._event({"type": "caption", "speaker": "interviewer", "text": delta, "final": False})

    def _on_voice_started(self, ev: SegmentStarted) -> None:
        pending = self._pending
        if pending is None:
            return  # a gentle prompt: it neither asks nor closes anything
        self._reply_audio_at = ev.at
        if not self.turns.awaiting_reply:  # the opening, or a reply nobody can talk over
            self._confirm(pending)
            return
        self.turns.on_reply_started(ev.at)
        # A speech start inside the window is heard a few hundred ms after it happened: wait
        # that much longer before the reply stands (the yield itself is judged by the start).
        self._spawn(self._confirm_after(pending, self.turns.settings.yield_window_s + YIELD_HEARING_S))

    def _record_latency(self) -> None:
        """End of the candidate's speech → the first audio of the reply that stands."""
        if self._speech_end_at is None or self._reply_audio_at is None:
            return
        speech_end_at, self._speech_end_at = self._speech_end_at, None
        reply_at, self._reply_audio_at = self._reply_audio_at, None
        latency_ms = (reply_at - speech_end_at) * 1000.0
        self.turn_latencies_ms.append(latency_ms)
        self._turn_seq += 1
        self._writer.submit(
            TurnLatencyWrite(
                session_id=self.session_id,
                turn_seq=self._turn_seq,
                speech_end_at=_utc(speech_end_at),
                first_audio_at=_utc(reply_at),
                latency_ms=latency_ms,
                stt_ms=self._last_stt_ms,
            )
        )

    def _on_agent_state(self, ev: AgentStateChangedEvent) -> None:
        self._event({"type": "agent_state", "state": ev.new_state})
        stopped = ev.old_state == "speaking" and ev.new_state != "speaking"
        if stopped and self._pending is not None and self._reply_audio_at is not None:
            self._confirm(self._pending)  # a reply shorter than the yield window, played out
        if self.signals is not None and (ev.new_state == "speaking") != (ev.old_state == "speaking"):
            self.signals.on_interviewer_speaking(ev.new_state == "speaking")
            if stopped and self._asking:  # prompts and withdrawn replies end no question
                self.signals.on_question_end(time.time())
        if stopped:
            self._asking = False
        if self._closing and stopped:
            if self._finish_task is None:
                self._finish_task = asyncio.create_task(self._on_finished(self), name="interview-finish")

    # -- candidate side ---------------------------------------------------

    def _on_user_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        self._event(
            {"type": "caption", "speaker": "candidate", "text": ev.transcript, "final": ev.is_final}
        )

    def _on_candidate_utterance(self, u: RecognizedUtterance) -> None:
        self._speech_end_at = u.speech_end_at
        if self.signals is not None:
            self.signals.on_utterance(u)
        self._last_stt_ms = u.final_compute_ms
        answer = self._answer
        if answer is None:
            qid = self._question_ids.get(self._current_seq) if self._current_seq is not None else None
            answer = self._answer = OpenAnswer(started_at=u.speech_start_at, question_id=qid)
        answer.add(u)
        # The whole answer so far, under its id: writes are applied in order (after its
        # question's), and each replaces the one before.
        self._writer.submit(
            ResponseWrite(
                id=answer.response_id,
                session_id=self.session_id,
                question_id=answer.question_id,
                transcript=answer.transcript,
                started_at=_utc(answer.started_at),
                ended_at=_utc(answer.ended_at),
                words=list(answer.words),
            )
        )


class Interviews:
    """The room hooks: admits participants, starts an interviewer per room, records the outcome."""

    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool,
        models: VoiceModels,
        bank: QuestionBank,
        *,
        store: SignalStore | None = None,
        feeds: LiveFeeds | None = None,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._models = models
        self._bank = bank
        self._store = store
        self._feeds = feeds
        self.runners: dict[str, InterviewRunner] = {}
        self.signals: dict[str, SessionSignals] = {}
        # The counters an earlier process stored for each session with signals here (None:
        # none); a session is in it once they are known, and only then are its counters saved.
        self._earlier_stats: dict[str, SessionSignalStats | None] = {}
        self._stats_saving = asyncio.Lock()  # a late periodic save never overwrites the final one
        # Questions and answers of every interview here, stored in order, spooled while the
        # database is away.
        self.writer = InterviewWriter.from_settings(settings, pool)
        # Called once a session's room has closed (e.g. to score its answers right away).
        self.on_ended: Callable[[uuid.UUID], Awaitable[None]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._keeper: asyncio.Task[None] | None = None
        self._started_at = datetime.now(UTC)  # reset by start()
        self.rooms: RoomServer | None = None  # set once the room server exists

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
        rooms = set(self.rooms.rooms) if self.rooms is not None else set()
        return rooms | set(self.runners) | set(self.signals)

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

    def _signals_for(self, room: Room, session: db_sessions.SessionRecord) -> SessionSignals | None:
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

            def publish(event: dict[str, Any]) -> None:
                feeds.publish(session_id, event)
                if event["type"] == "nudge":
                    asyncio.ensure_future(room.broadcast(event))

            s = self._settings
            signals = self.signals[session_id] = SessionSignals(
                uuid.UUID(session_id),
                store=self._store,
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
                transcriber=self._models.filler_whisper.transcribe if self._models.filler_whisper else None,
                # A session resumed after a restart keeps its clock: rows follow the stored ones.
                origin_wall=session.started_at.timestamp() if session.started_at else None,
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
            runner = InterviewRunner(
                session,
                room,
                models=self._models,
                bank=self._bank,
                settings=self._settings,
                pool=self._pool,
                writer=self.writer,
                on_finished=self._finished,
                signals=signals,
            )
            self.runners[room.session_id] = runner
            runner.attach_audio(room.subscribe(track))
            await runner.start()
        else:
            runner.attach_audio(room.subscribe(track))

    async def _finished(self, runner: InterviewRunner) -> None:
        await db_sessions.mark_ended(
            self._pool, runner.session_id, "completed", _utc(time.time()), "interview_finished"
        )
        if self.rooms is not None:
            await self.rooms.close_room(str(runner.session_id), "completed")

    async def candidate_gone(self, room: Room) -> None:
        await db_sessions.mark_ended(
            self._pool, uuid.UUID(room.session_id), "abandoned", _utc(time.time()), "candidate_disconnected"
        )

    async def room_closed(self, room: Room, reason: str) -> None:
        runner = self.runners.pop(room.session_id, None)
        if runner is not None:
            await runner.aclose()
        signals = self.signals.pop(room.session_id, None)
        if signals is not None:
            stats = await self._close_signals(room.session_id, signals)
            try:
                async with self._stats_saving:
                    await upsert_signal_stats(self._pool, stats)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                logger.error("signal stats not stored", extra={"session_id": room.session_id})
        if self._feeds is not None:
            self._feeds.publish(room.session_id, {"type": "ended", "reason": reason})
        if reason != "server_shutdown":
            self._after_end_soon(uuid.UUID(room.session_id))

    def _after_end_soon(self, session_id: uuid.UUID) -> None:
        """Runs the work after a session's end (on_ended) in a task of its own."""
        if self.on_ended is None:
            return
        task = asyncio.create_task(self._after_end(session_id), name="session-ended")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_end(self, session_id: uuid.UUID) -> None:
        assert self.on_ended is not None
        try:
            await self.on_ended(session_id)
        except Exception:
            logger.exception("work after a session's end failed", extra={"session_id": str(session_id)})

    async def aclose(self) -> None:
        if self._keeper is not None:
            await aio.cancel_and_wait(self._keeper)
        for task in list(self._tasks):
            await aio.cancel_and_wait(task)
        for session_id in list(self.runners):
            runner = self.runners.pop(session_id)
            await runner.aclose()
        try:
            for session_id in list(self.signals):
                stats = await self._close_signals(session_id, self.signals.pop(session_id))
                await upsert_signal_stats(self._pool, stats)
        finally:
            await self.writer.aclose()

    async def _close_signals(self, session_id: str, signals: SessionSignals) -> SessionSignalStats:
        """Stops a session's consumer; its counters, with any an earlier process stored."""
        return (await signals.aclose()).plus(self._earlier_stats.pop(session_id, None))


async def _drain(track: MediaStreamTrack) -> None:
    try:
        while True:
            await track.recv()
    except MediaStreamError:
        return
