"""Runs the interviewer in a room: one AgentSession per live session, its events to the DB."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from livekit.agents import AgentSession
from livekit.agents.utils import aio
from livekit.agents.vad import VAD
from livekit.agents.voice import SpeechHandle
from livekit.agents.voice.events import AgentStateChangedEvent, UserInputTranscribedEvent
from livekit.plugins import silero

from agent.catalog import PERSONAS, Voice
from agent.echo import EchoMonitor
from agent.events import AgentStateChanged, Caption, InterviewerYielded, QuestionAsked, WireEvent
from agent.interviewer import (
    ASIDE_KINDS,
    AskedQuestion,
    InterviewPlan,
    InterviewScript,
    PreviousQuestion,
    SpokenPart,
    Utterance,
    is_mic_check,
)
from agent.interview_io import CallbackTextOutput, DeliverySignals, InterviewRoom
from agent.providers import build_providers
from agent.question_bank import QuestionBank
from agent.scripted_llm import InterviewerAgent, ScriptedInterviewerLLM, split_sentences
from agent.stt_whisper import (
    FILLER_PROMPT,
    BackgroundWhisper,
    RecognizedUtterance,
    WhisperEngine,
    WhisperSTT,
    hear_again,
)
from agent.tts_piper import PiperEngine, PiperTTS, SpeakerVoices, sentence_streamed
from agent.turn_taking import EndOfTurnModel, LocalEndOfTurn, TurnTaker, TurnTakingSettings
from agent.voice_level import AFTER_TURN_DB, BACKGROUND_DB, VoiceGatedVAD
from agent.whole_answer import BEAM_SIZE, AnswerAudio, stitched
from db import sessions as db_sessions
from db import usage as db_usage
from db.interview_writes import InterviewWriter, QuestionWrite, ResponseDelete, ResponseWrite, TurnLatencyWrite
from greenroom.settings import Settings

logger = logging.getLogger(__name__)

# How long closing an interview waits for its writes to be stored (or spooled).
WRITES_SETTLE_S = 10.0
# At the interview's end, answers still being heard whole (agent/whole_answer.py) are waited
# for this long; past it, the live transcript stays.
WHOLE_PASS_SETTLE_S = 20.0
# How late a speech start can reach the turn taker after it happened (media path + VAD).
YIELD_HEARING_S = 0.6
# What a long silence inside an answer gets (TurnTaker.long_silence): time, or, once an answer
# has substance, a question they can close on ("No, that's all.").
TIME_PROMPTS = ("Take your time.", "No rush, take your time.")
MORE_PROMPT = "Is there anything you'd like to add?"
GENTLE_PROMPTS = (*TIME_PROMPTS, MORE_PROMPT)
QUESTIONS_AHEAD = 2  # planned questions kept synthesised ahead of the one being asked
# An utterance left without words (a sound, or a decode that wrote nothing) this soon before an
# answer's first words may be its opening, in a hoarse or quiet voice: the whole pass hears it
# again with the answer.
SOUND_BEFORE_S = 3.0


@dataclass(slots=True)
class VoiceModels:
    """The speech models, loaded once at startup and shared by every interview."""

    vad: VAD
    whisper: WhisperEngine
    piper: PiperEngine
    # Off the critical path, prompted to keep fillers: hears each utterance again for the
    # delivery signals.
    filler_whisper: BackgroundWhisper | None = None
    # The same, on a thread of its own: hears each answer whole once it is over
    # (agent/whole_answer.py), a few seconds' work the filler pass must not queue behind.
    whole_whisper: BackgroundWhisper | None = None
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
        filler_whisper = whole_whisper = None
        if settings.signals_enabled:
            progress("loading the filler-aware recogniser for delivery signals")
            # Always on Whisper's full 30 s window: prompted with fillers, a cut window loops.
            filler_whisper = BackgroundWhisper(settings.stt_model, prompt=FILLER_PROMPT)
        if settings.stt_whole_answer and not settings.stt_openai_api_key:
            progress("loading the recogniser that hears each answer again whole")
            whole_whisper = BackgroundWhisper(settings.stt_model, prompt=FILLER_PROMPT, name="whisper-whole")
        eot = None
        if settings.turn_audio_model:
            progress("loading the end-of-turn detector (LiveKit turn-detector, offline)")
            eot = LocalEndOfTurn()
        return cls(
            vad=vad, whisper=whisper, piper=piper, filler_whisper=filler_whisper, whole_whisper=whole_whisper, eot=eot
        )


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
        unheard_after_first_voice_s=settings.aec_warmup_s,
    )


class SoundsBefore:
    """Utterances left without words since the interviewer last spoke, for the next answer: the
    ones that end within SOUND_BEFORE_S of its first words."""

    def __init__(self) -> None:
        self._held: list[RecognizedUtterance] = []

    def heard(self, u: RecognizedUtterance) -> None:
        # the answer's first words come after this one: sounds long before it cannot join
        self._held = [*self._kept(u.speech_start_at), u]

    def clear(self) -> None:
        self._held = []

    def take(self, first_words_at: float) -> list[RecognizedUtterance]:
        taken, self._held = self._kept(first_words_at), []
        return taken

    def _kept(self, at: float) -> list[RecognizedUtterance]:
        return [s for s in self._held if s.speech_end_at >= at - SOUND_BEFORE_S]


@dataclass(slots=True)
class OpenAnswer:
    """The answer being given: its utterances stitched across pauses into one stored response."""

    started_at: float  # wall clock of its first word's utterance
    question_id: uuid.UUID | None
    response_id: uuid.UUID = field(default_factory=uuid.uuid4)
    ended_at: float = 0.0
    texts: list[str] = field(default_factory=list)
    words: list[dict[str, Any]] = field(default_factory=list)
    audio: AnswerAudio = field(default_factory=AnswerAudio)  # for the whole pass (agent/whole_answer.py)
    sounds: list[RecognizedUtterance] = field(default_factory=list)  # since the last utterance

    def add(self, u: RecognizedUtterance) -> None:
        # Sounds the candidate went on after join the whole pass; ones after the last words do not.
        for sound in self.sounds:
            self.audio.add(sound.speech_start_at - sound.audio_lead_s, sound.audio, sound=True)
        self.sounds.clear()
        offset = u.speech_start_at - self.started_at
        self.texts.append(u.text)
        words = [
            {"w": w.text, "start": round(w.start + offset, 3), "end": round(w.end + offset, 3), "p": round(w.probability, 3)}
            for w in u.words
        ]
        self.words += words
        self.audio.add(u.speech_start_at - u.audio_lead_s, u.audio, words)
        self.ended_at = u.speech_end_at

    @property
    def transcript(self) -> str:
        return " ".join(t for t in self.texts if t)

    def write(
        self, session_id: uuid.UUID, transcript: str, words: list[dict[str, Any]], started_at: float | None = None
    ) -> ResponseWrite:
        return ResponseWrite(
            id=self.response_id,
            session_id=session_id,
            question_id=self.question_id,
            transcript=transcript,
            started_at=_utc(started_at or self.started_at),
            ended_at=_utc(self.ended_at),
            words=words,
        )


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
        panel=tuple(session.panel),
    )


def _letters(text: str) -> str:
    """The text without its whitespace: captions and replies are compared by it."""
    return "".join(text.split())


def _after_letters(text: str, count: int) -> int:
    """The index in `text` just after its first `count` non-space characters (at least 1)."""
    seen = 0
    for index, char in enumerate(text):
        if not char.isspace():
            seen += 1
            if seen >= max(count, 1):
                return index + 1
    return len(text)


def _persona_name(persona_id: str) -> str:
    persona = PERSONAS.get(persona_id)
    return persona.name if persona is not None else persona_id


def speaker_cues(utterance: Utterance) -> list[tuple[str, Voice | None]]:
    """Each sentence of a reply with the voice of the persona who says it. Words an LLM puts in
    place of the last speaker's part are not among them: they take that speaker's voice."""
    return [
        (sentence, PERSONAS[part.persona].voice) for part in utterance.spoken for sentence in split_sentences(part.text)
    ]


class SpeakerCaptions:
    """The interviewer's live captions, one line per speaker: a panel's reply is captioned as
    the lines of the personas who say it, each line ended (final) when the next one starts."""

    def __init__(self, persona_id: str) -> None:
        self._said: Utterance | None = None  # the reply being spoken
        self._line: list[str] = []
        self._line_persona = persona_id
        self._so_far = ""  # the reply's text captioned so far

    def said(self, utterance: Utterance) -> None:
        """The reply about to be spoken (a prompt said between replies is not one)."""
        self._said = utterance
        self._so_far = ""

    def delta(self, text: str) -> list[Caption]:
        """Captions for the next piece of what is being said."""
        captions: list[Caption] = []
        while text:
            persona, letters_left = self._speaker()
            if self._line and persona != self._line_persona:
                captions.append(self._end_line())  # the next speaker's line starts here
            self._line_persona = persona
            cut = len(text) if letters_left is None else _after_letters(text, letters_left)
            piece, text = text[:cut], text[cut:]
            self._line.append(piece)
            self._so_far += piece
            captions.append(self._caption(piece, final=False))
        return captions

    def final(self) -> list[Caption]:
        """The end of what was being said: its last line, whole."""
        self._so_far = "\0"  # matches no reply: what comes next, until the next reply, is a prompt
        return [self._end_line()]

    def _speaker(self) -> tuple[str, int | None]:
        """Who says the reply where the captions have got to, and how many more of its letters
        are theirs (None: all the rest). Text not from the reply is the current speaker's."""
        said, so_far = self._said, _letters(self._so_far)
        if said is None or not _letters(said.text).startswith(so_far):
            return (said.persona if said is not None else self._line_persona), None
        end = 0
        for index, part in enumerate(said.spoken):
            end += len(_letters(part.text))
            if len(so_far) < end:
                return part.persona, None if index == len(said.spoken) - 1 else end - len(so_far)
        return said.persona, None

    def _end_line(self) -> Caption:
        text, self._line = "".join(self._line).strip(), []
        return self._caption(text, final=True)

    def _caption(self, text: str, *, final: bool) -> Caption:
        persona = self._line_persona
        return Caption(
            speaker="interviewer", text=text, final=final, persona=persona, persona_name=_persona_name(persona)
        )


class InterviewRunner:
    """One live interview: the agent session over the room it is handed, and what it records."""

    def __init__(
        self,
        session: db_sessions.SessionRecord,
        room: InterviewRoom,
        *,
        models: VoiceModels,
        bank: QuestionBank,
        settings: Settings,
        pool: asyncpg.Pool,
        writer: InterviewWriter,
        on_finished: Callable[[InterviewRunner], Awaitable[None]],
        signals: DeliverySignals | None = None,
    ) -> None:
        self.session_id = session.id
        self.signals = signals
        self._room = room
        self._settings = settings
        self._on_finished = on_finished
        self._pool = pool
        self._writer = writer
        plan = plan_for(session)
        self.script = InterviewScript(plan, bank)
        self._piper = models.piper
        self.turn_latencies_ms: list[float] = []
        self._question_ids: dict[int, uuid.UUID] = {}
        self._current_seq: int | None = None
        self._speech_end_at: float | None = None
        self._last_stt_ms: float | None = None
        self._turn_seq = 0
        self._closing = False
        self._finish_task: asyncio.Task[None] | None = None
        self._captions = SpeakerCaptions(plan.persona_id)
        self._caption_persona = plan.persona_id
        # Which persona's voice says each sentence: cued before each reply (_on_utterance).
        self._voices = SpeakerVoices(plan.persona.voice)
        self._tasks: set[asyncio.Task[Any]] = set()
        # The reply generated for the candidate's turn, until it has played past the yield
        # window: only then is its question asked (stored, shown) and the answer closed.
        self._pending: Utterance | None = None
        self._reply_audio_at: float | None = None
        self._reply_speech: SpeechHandle | None = None  # the pending reply's, once it is heard
        self._asking = False  # a confirmed reply is playing: when it ends, the question has ended
        self._answer: OpenAnswer | None = None
        self._sounds_before = SoundsBefore()
        self._interviewer_speaking = False
        # The candidate went on before the reply to their turn was made: that reply, when it
        # comes, is withdrawn too (the turn taker's count of ended turns when they went on).
        self._withdraw_for_turn: int | None = None
        self._withdrawal: asyncio.Future[Any] | None = None  # the last reply being taken back
        self._prompts_said = 0
        self._whole_ears = models.whole_whisper  # None: answers keep their live transcripts
        self._whole_passes: set[asyncio.Future[Any]] = set()
        self._questions_ahead: tuple[SpokenPart, ...] = ()  # the planned ones, in asking order (start)
        # Captions follow the voice: what is being said is captioned once its first sound
        # plays, so a reply stopped before that (the candidate spoke first) is never shown.
        # Its captions wait here until then; None: it is playing, captions go out at once.
        self._held_captions: list[Caption] | None = None

        # Tells the candidate resuming from the interviewer's own voice leaking back in.
        self.echo = EchoMonitor()
        room.listen(heard=self.echo.on_input, said=self.echo.on_output)
        self.turns = TurnTaker(
            turn_taking_settings(settings),
            question=lambda: self.script.checkpoint().current,
            eot_model=models.eot,
            on_yield=self._yield,
            on_long_silence=self._gentle_prompt,
            on_pause=self._prepare_reply,
            on_reply_again=self._reply_again,
            is_echo=self.echo.likely_echo,
            reread=functools.partial(hear_again, models.whisper),
        )
        self._planner = ScriptedInterviewerLLM(self.script, on_utterance=self._on_utterance)
        # Cloud providers where configured, each falling back to the local one (agent/providers.py).
        self.providers = build_providers(
            settings,
            planner=self._planner,
            # fed each sentence as it ends, so an LLM's first one does not wait for its second
            local_tts=sentence_streamed(PiperTTS(models.piper, self._voices)),
            voices=self._voices,
            local_transcriber=models.whisper,
        )
        stt = WhisperSTT(
            self.providers.transcriber,  # type: ignore[arg-type]  # an engine: transcribe() only
            models.vad,
            on_utterance=self._on_candidate_utterance,
            on_sound=self._on_candidate_sound,
            turns=self.turns,
        )
        self.agent_session = AgentSession(
            # Another voice in the room, far under the candidate's, does not interrupt the interviewer.
            vad=VoiceGatedVAD(models.vad, stt.voice, under_db=self._interrupting_under_db),
            stt=stt,
            tts=self.providers.tts,
            llm=self.providers.llm,
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
        self.agent_session.input.audio = room.audio_input
        self.agent_session.output.audio = room.audio_output(self._on_voice_started)
        self.agent_session.output.transcription = CallbackTextOutput(self._on_interviewer_text)
        self.agent_session.on("user_input_transcribed", self._on_user_transcribed)
        self.agent_session.on("agent_state_changed", self._on_agent_state)
        self._plan = plan

    async def start(self) -> None:
        # Signal rows count from the media's start; the session's start is the same instant.
        started_at = self.signals.origin_wall if self.signals is not None else time.time()
        live = await db_sessions.mark_live(self._pool, self.session_id, _utc(started_at))
        # Until the process holding the room says all is stored (db_sessions.close_transcript,
        # after aclose and the delivery signals), the report says it is not final.
        await db_sessions.open_transcript(self._pool, self.session_id)
        if live is not None and live.started_at is not None:
            await self._resume_stored_questions(live.started_at)
        # Lines the interviewer will say for sure are synthesised ahead, on the voice's background
        # lane, so a reply's first sentence usually costs no synthesis at all: at once the lines
        # every interview shares (acknowledgements, prompts, the closing), and the planned
        # questions a few ahead of the one being asked (_on_question_asked), not all at the start.
        # Read here, on the loop: the script is not to be touched from the prewarming thread.
        speech = self.script.prepared_speech
        planned = {q.text for q in self.script.planned_questions}
        self._questions_ahead = tuple(part for part in speech if part.text in planned)
        prompts = tuple(SpokenPart(self._plan.persona_id, line) for line in GENTLE_PROMPTS)
        shared = tuple(part for part in speech if part.text not in planned)
        # The question the opening asks is being synthesised on the spoken lane right now.
        opening = " ".join(part.text for part in self.script.opening_preview().spoken)
        first = tuple(part for part in self._questions_ahead if part.text not in opening)[:QUESTIONS_AHEAD]
        self._synthesise_ahead((*shared, *prompts, *first))
        await self.agent_session.start(InterviewerAgent(self._plan), record=False)

    def _synthesise_ahead(self, parts: tuple[SpokenPart, ...]) -> None:
        if parts:
            loop = asyncio.get_running_loop()
            self._spawn(loop.run_in_executor(self._piper.ahead_executor, self._prewarm_speech, parts))

    def _prewarm_speech(self, parts: tuple[SpokenPart, ...]) -> None:
        """Synthesises lines to be said later, each in its speaker's voice, in order (blocking)."""
        for part in parts:
            self._piper.prewarm([part.text], PERSONAS[part.persona].voice)

    def _on_question_asked(self, text: str) -> None:
        """Keeps the planned questions after this one synthesised ahead."""
        texts = [part.text for part in self._questions_ahead]
        if text in texts:
            index = texts.index(text) + 1
            self._synthesise_ahead(self._questions_ahead[index : index + QUESTIONS_AHEAD])

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
                persona=row.persona,
            )
            for row in stored
        ]
        elapsed_s = max(0.0, time.time() - session_started_at.timestamp())
        self.script.resume(previous, elapsed_s)
        logger.info(
            "interview resumed",
            extra={"session_id": str(self.session_id), "questions_stored": len(stored), "elapsed_s": round(elapsed_s, 1)},
        )

    async def aclose(self) -> bool:
        """Ends the interview and stores what is pending; True if it is all stored."""
        if self._finish_task is not None and self._finish_task is not asyncio.current_task():
            await aio.cancel_and_wait(self._finish_task)
        await self.agent_session.aclose()
        await self._room.aclose()
        if self._answer is not None:  # the last answer, cut short by the end or never replied to
            self._hear_whole(self._answer)
        if self._whole_passes:
            _done, late = await asyncio.wait(self._whole_passes, timeout=WHOLE_PASS_SETTLE_S)
            if late:
                logger.warning(
                    "answers not heard whole by the end: their live transcripts stay",
                    extra={"session_id": str(self.session_id), "answers": len(late)},
                )
        for task in list(self._tasks):
            await aio.cancel_and_wait(task)
        await self._store_usage()
        await self.providers.aclose()
        try:  # the session's end is acted on (scored) once its answers are stored
            await asyncio.wait_for(self._writer.flush(), WRITES_SETTLE_S)
        except TimeoutError:
            logger.error("interview writes still pending at close", extra={"session_id": str(self.session_id)})
            return False  # spooled, stored later: the report waits out its limit (reports/builder.py)
        return True

    async def _store_usage(self) -> None:
        """Adds the provider usage counted since the last store to the session's counters."""
        counts = {
            provider: db_usage.UsageCounts(u.tokens_in, u.tokens_out, u.tts_characters, u.stt_audio_s)
            for provider, u in self.providers.meter.take().items()
        }
        try:
            await db_usage.add_usage(self._pool, self.session_id, counts)
        except (OSError, asyncpg.PostgresError):
            logger.warning("usage counters not stored", extra={"session_id": str(self.session_id)})

    def _on_piper(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Blocking Piper work that a reply soon waits on, on the voice's spoken lane."""
        return asyncio.get_running_loop().run_in_executor(self._piper.executor, fn, *args)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _event(self, event: WireEvent) -> None:
        self._spawn(self._room.broadcast(event))

    # -- interviewer side -------------------------------------------------

    def _on_utterance(self, utterance: Utterance) -> None:
        """A reply was generated; it counts once it has played past the yield window."""
        self._captions.said(utterance)
        self._held_captions = []
        self._voices.cue(speaker_cues(utterance))
        # The candidate went on before this reply was even made; any later reply is to a new turn.
        stale = self._withdraw_for_turn == self.turns.turns_ended
        self._withdraw_for_turn = None
        if stale:
            self._spawn(self._withdraw_reply(utterance))
            return
        self._pending = utterance

    def _confirm(self, utterance: Utterance) -> None:
        """The reply stands: its question is asked, and the answer before it is closed."""
        if self._pending is not utterance:
            return  # yielded, or superseded by a newer reply
        self._pending = None
        self._asking = True
        logger.info(
            "reply stands",
            extra={"session_id": str(self.session_id), "kind": utterance.kind, "closing": utterance.closing,
                   "seq": utterance.question.seq if utterance.question else None},
        )  # fmt: skip
        self.turns.confirm_reply()
        self._planner.reply_stands()
        if self._answer is not None and (utterance.kind in ASIDE_KINDS or is_mic_check(self._answer.transcript)):
            # "Can you hear me?", "Nice to meet you.": no answer to the question. Nor is a mic
            # check's tail heard just as the greeting began, which the greeting, not a reply to
            # it, closes.
            self._writer.submit(ResponseDelete(id=self._answer.response_id, session_id=self.session_id))
        elif self._answer is not None:
            self._hear_whole(self._answer)
        self._answer = None
        self._record_latency()
        self._spawn(self._store_usage())
        if utterance.closing:
            self._closing = True
        q = utterance.question
        if q is None:
            return
        self._current_seq = q.seq
        self._on_question_asked(q.text)
        # A question asked again (a repeat, or the one left unanswered before a restart) keeps
        # its stored row: only a new seq is written.
        if q.seq not in self._question_ids:
            self._write_question(q)
        self._event(
            QuestionAsked(
                seq=q.seq,
                text=q.text,
                source=q.source,
                from_cv=q.text == self.script.tailored_opener,
                number=sum(1 for a in self.script.asked if a.source == "bank"),
                total=self.script.questions_total,
                persona=q.persona,
                persona_name=_persona_name(q.persona),
            )
        )

    async def _confirm_after(self, utterance: Utterance, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        self._confirm(utterance)

    def _interrupting_under_db(self) -> float:
        """How far under the candidate's level speech may be and still stop the interviewer's
        audio: while the reply may be yielded, as far as it may be and still make the turn
        taker yield (a start softer than that yields only once it proves theirs)."""
        return AFTER_TURN_DB if self.turns.awaiting_reply else BACKGROUND_DB

    def _yield(self) -> None:
        """The candidate went on just as the reply started: stop it, and forget it was said."""
        self._room.silence()  # now; the session's own interrupt follows
        utterance, self._pending = self._pending, None
        self._reply_audio_at, self._reply_speech = None, None
        self._withdraw_for_turn = self.turns.turns_ended if utterance is None else None
        if self._held_captions is not None:
            self._held_captions = []  # never shown: nothing to take back
        elif utterance is not None:  # its captions were shown: take them back
            self._event(InterviewerYielded())
        logger.info("reply withdrawn: the candidate went on", extra={"session_id": str(self.session_id)})
        self._withdrawal = self._spawn(self._withdraw_reply(utterance))

    def _reply_again(self) -> None:
        """What stopped the reply was no words (a throat clear, a chair), and the turn has ended
        again: the reply is made again, to the same answer, once the withdrawn one is gone."""

        async def again() -> None:
            if self._withdrawal is not None:
                await asyncio.wait({self._withdrawal})
            try:
                self.agent_session.generate_reply()
            except RuntimeError:
                pass  # the session is closing

        self._spawn(again())

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

    def _hear_whole(self, answer: OpenAnswer) -> None:
        """The answer is over: hear it again whole, and store that transcript (agent/whole_answer.py)."""
        if self._whole_ears is None or not answer.audio.complete or not answer.audio.pieces:
            return
        task = self._spawn(self._whole_pass(answer, self._whole_ears))
        self._whole_passes.add(task)
        task.add_done_callback(self._whole_passes.discard)

    async def _whole_pass(self, answer: OpenAnswer, ears: BackgroundWhisper) -> None:
        samples, spans = answer.audio.joined()
        answer.audio = AnswerAudio(complete=False)  # the audio is not kept past this
        try:
            heard = await ears.transcribe(samples, beam_size=BEAM_SIZE)
        except Exception:  # the live transcript is stored already: nothing is lost
            logger.exception("hearing an answer whole failed", extra={"session_id": str(self.session_id)})
            return
        transcript, words, replaced, started_at = stitched(heard.words, spans, answer.started_at)
        logger.info(
            "answer heard whole",
            extra={
                "session_id": str(self.session_id), "audio_s": round(heard.audio_s, 1), "compute_ms": round(heard.compute_ms),
                "utterances": len(spans), "sounds": sum(s.sound for s in spans), "replaced": replaced, "live_words": len(answer.words), "words": len(words),
            },
        )  # fmt: skip
        if replaced:
            self._writer.submit(answer.write(self.session_id, transcript, words, started_at))

    def _gentle_prompt(self, offer_more: bool) -> None:
        """A long silence in the middle of an answer: encourage, never move on."""
        logger.info(
            "gentle prompt: a long silence in the answer", extra={"session_id": str(self.session_id), "offer_more": offer_more}
        )
        if offer_more:
            text = MORE_PROMPT
        else:
            text = TIME_PROMPTS[self._prompts_said % len(TIME_PROMPTS)]
            self._prompts_said += 1
        self._held_captions = []
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
        opening = reply.spoken[0]
        first = split_sentences(opening.text)[:1]
        if first:
            voice = PERSONAS[opening.persona].voice
            self._spawn(self._on_piper(self._piper.prewarm, first, voice))

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
        captions = self._captions.final() if final else self._captions.delta(delta)
        if self._held_captions is not None:  # the text comes ahead of the voice: shown when it is heard
            self._held_captions.extend(captions)
            return
        for caption in captions:
            self._event(caption)

    def _on_voice_started(self, at: float) -> None:
        self.turns.heard_interviewer(at)
        held, self._held_captions = self._held_captions or [], None
        for caption in held:
            self._event(caption)
        speech = self.agent_session.current_speech
        if speech is not None and not speech.allow_interruptions and not speech.interrupted:
            speech.allow_interruptions = True  # the opening, heard: the candidate may now talk over it
        pending = self._pending
        if pending is None:
            return  # a gentle prompt: it neither asks nor closes anything
        self._reply_audio_at = at
        self._reply_speech = speech
        if not self.turns.awaiting_reply:  # the opening, or a reply nobody can talk over
            self._confirm(pending)
            return
        self.turns.on_reply_started(at)
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
        self._event(AgentStateChanged(state=ev.new_state))
        stopped = ev.old_state == "speaking" and ev.new_state != "speaking"
        if stopped:
            self.turns.interviewer_stopped(time.time())
        if stopped and self._pending is not None and self._reply_audio_at is not None:
            speech, self._reply_speech = self._reply_speech, None
            # Cut by the session's own interruption (speech over it that the turn taker held
            # back as too soft to be sure of): a yield, not a question asked. Otherwise a reply
            # shorter than the yield window, played out.
            if not (speech is not None and speech.interrupted and self.turns.talked_over()):
                self._confirm(self._pending)
        if self.signals is not None and (ev.new_state == "speaking") != (ev.old_state == "speaking"):
            self.signals.on_interviewer_speaking(ev.new_state == "speaking")
            if stopped and self._asking:  # prompts and withdrawn replies end no question
                self.signals.on_question_end(time.time())
        if stopped:
            self._asking = False
        self._interviewer_speaking = ev.new_state == "speaking"
        if self._interviewer_speaking:
            self._sounds_before.clear()
        if self._closing and stopped:
            if self._finish_task is None:
                self._finish_task = asyncio.create_task(self._on_finished(self), name="interview-finish")

    # -- candidate side ---------------------------------------------------

    def _on_user_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        self._event(Caption(speaker="candidate", text=ev.transcript, final=ev.is_final))

    def _on_candidate_sound(self, u: RecognizedUtterance) -> None:
        """An utterance left without words: a sound (a cough, or a hoarse voice Whisper was unsure
        of) or a decode that wrote nothing. Kept for the answer's whole pass if the candidate goes
        on (OpenAnswer.add)."""
        if self.signals is not None:
            self.signals.on_sound(u)
        if self._answer is not None:
            self._answer.sounds.append(u)
        elif not self._interviewer_speaking:  # not the question's own echo or a sound over it
            self._sounds_before.heard(u)

    def _on_candidate_utterance(self, u: RecognizedUtterance) -> None:
        self._speech_end_at = u.speech_end_at
        if self.signals is not None:
            self.signals.on_utterance(u)
        self._last_stt_ms = u.final_compute_ms
        answer = self._answer
        if answer is None:
            qid = self._question_ids.get(self._current_seq) if self._current_seq is not None else None
            answer = self._answer = OpenAnswer(started_at=u.speech_start_at, question_id=qid)
            answer.sounds = self._sounds_before.take(u.speech_start_at)
        answer.add(u)
        # The whole answer so far, under its id: writes are applied in order (after its
        # question's), and each replaces the one before.
        self._writer.submit(answer.write(self.session_id, answer.transcript, list(answer.words)))
