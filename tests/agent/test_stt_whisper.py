"""faster-whisper STT with the bundled tiny.en model: batch recognition and VAD-driven turns."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import av
import numpy as np
import pytest
from livekit import rtc
from livekit.agents import stt
from livekit.agents.vad import VADEvent, VADEventType
from livekit.plugins import silero

from agent.stt_whisper import (
    WHISPER_SAMPLE_RATE,
    RecognizedUtterance,
    StreamClock,
    Transcript,
    WhisperEngine,
    WhisperSTT,
    Word,
    is_spoken,
    resolve_model,
)
from agent.turn_taking import PauseDecision, TurnTaker, TurnTakingSettings, read_answer
from bench import room_sounds
from tests.words import word_error_rate

ESPEAK = Path("/usr/bin/espeak-ng")
QUESTION = "Tell me about a time you solved a difficult problem at work."
THANKS = "Thank you for having me today."
MAX_WER = 0.4
PIECE_SAMPLES = WHISPER_SAMPLE_RATE // 50  # 20 ms, as the room input delivers it

START = stt.SpeechEventType.START_OF_SPEECH
FINAL = stt.SpeechEventType.FINAL_TRANSCRIPT
END = stt.SpeechEventType.END_OF_SPEECH
INTERIM = stt.SpeechEventType.INTERIM_TRANSCRIPT


def speak(text: str) -> np.ndarray:
    """`text` spoken by espeak-ng as 16 kHz mono int16, leading and trailing silence trimmed."""
    if not ESPEAK.exists():
        pytest.fail(
            f"{ESPEAK} is needed to synthesise test speech; install it (apt-get install espeak-ng)",
            pytrace=False,
        )
    wav = subprocess.run(
        [str(ESPEAK), "--stdout", "-s", "140", text], capture_output=True, check=True
    ).stdout
    resampler = av.AudioResampler(format="s16", layout="mono", rate=WHISPER_SAMPLE_RATE)
    parts: list[np.ndarray] = []
    with av.open(io.BytesIO(wav)) as container:
        for frame in container.decode(audio=0):
            parts += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
    parts += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    pcm = np.concatenate(parts)
    voiced = np.flatnonzero(np.abs(pcm) > 300)
    return pcm[voiced[0] : voiced[-1] + 1]


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * WHISPER_SAMPLE_RATE), dtype=np.int16)


def as_float(pcm: np.ndarray) -> np.ndarray:
    return pcm.astype(np.float32) / 32768.0



def assert_word_times_plausible(words: Sequence[Word], audio_s: float) -> None:
    assert words
    for word in words:
        assert 0.0 <= word.start <= word.end <= audio_s + 0.05, word
    starts = [w.start for w in words]
    assert starts == sorted(starts)


class RecordingWhisperEngine(WhisperEngine):
    """The real engine, noting the length and prompt of every transcription it is asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str | None]] = []
        super().__init__()
        self.calls.clear()  # the warm-up is not a request

    def transcribe_sync(
        self, samples: np.ndarray, *, prompt: str | None = None, short_context: bool | None = None
    ) -> Transcript:
        self.calls.append((len(samples) / WHISPER_SAMPLE_RATE, prompt))
        return super().transcribe_sync(samples, prompt=prompt, short_context=short_context)


class GatedEngine(WhisperEngine):
    """Holds every transcription until the test opens the gate; answers "part N" for the Nth call."""

    def __init__(self) -> None:  # no model: the text is scripted
        self.gate = asyncio.Event()
        self.calls = 0

    async def transcribe(
        self, samples: np.ndarray, *, prompt: str | None = None, short_context: bool | None = None
    ) -> Transcript:
        self.calls += 1
        text = f"part {self.calls}"
        await self.gate.wait()
        audio_s = len(samples) / WHISPER_SAMPLE_RATE
        return Transcript(text, (Word(text, 0.0, audio_s, 0.9),), audio_s, compute_ms=1.0)


class StreamRun:
    """Feeds a WhisperSTT stream in 20 ms frames and collects the events it sends back."""

    def __init__(self, stream: stt.RecognizeStream) -> None:
        self.stream = stream
        self.events: list[stt.SpeechEvent] = []
        self._changed = asyncio.Event()
        self._consumer = asyncio.create_task(self._consume())

    async def _consume(self) -> None:
        async for ev in self.stream:
            self.events.append(ev)
            self._changed.set()

    async def push(self, pcm: np.ndarray) -> None:
        for i in range(0, len(pcm), PIECE_SAMPLES):
            piece = pcm[i : i + PIECE_SAMPLES]
            self.stream.push_frame(
                rtc.AudioFrame(piece.tobytes(), WHISPER_SAMPLE_RATE, 1, len(piece))
            )
            await asyncio.sleep(0)

    async def wait_for(
        self, kind: stt.SpeechEventType, count: int = 1, timeout_s: float = 20.0
    ) -> None:
        async def seen() -> None:
            while sum(ev.type == kind for ev in self.events) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(seen(), timeout_s)

    async def finish(self, timeout_s: float = 30.0) -> list[stt.SpeechEvent]:
        self.stream.end_input()
        await asyncio.wait_for(self._consumer, timeout_s)
        return self.events

    @property
    def turn_events(self) -> list[stt.SpeechEventType]:
        return [ev.type for ev in self.events if ev.type in (START, FINAL, END)]

    def finals(self) -> list[str]:
        return [ev.alternatives[0].text for ev in self.events if ev.type == FINAL]


@pytest.fixture(scope="module")
def engine() -> RecordingWhisperEngine:
    return RecordingWhisperEngine()


@pytest.fixture(scope="module")
def vad() -> silero.VAD:
    return silero.VAD.load(min_silence_duration=0.3)  # as the product runs it


@pytest.fixture(scope="module")
def question() -> np.ndarray:
    return speak(QUESTION)


@pytest.fixture(scope="module")
def thanks() -> np.ndarray:
    return speak(THANKS)


@pytest.fixture
async def stream_run(
    engine: RecordingWhisperEngine, vad: silero.VAD
) -> AsyncIterator[tuple[StreamRun, list[tuple[RecognizedUtterance, float]]]]:
    utterances: list[tuple[RecognizedUtterance, float]] = []
    whisper = WhisperSTT(engine, vad, on_utterance=lambda u: utterances.append((u, time.time())))
    stream = whisper.stream()
    engine.calls.clear()
    run = StreamRun(stream)
    try:
        yield run, utterances
    finally:
        await stream.aclose()
        await whisper.aclose()


def test_transcribe_sync_recognises_a_known_sentence(
    engine: RecordingWhisperEngine, question: np.ndarray
) -> None:
    result = engine.transcribe_sync(as_float(question))

    assert word_error_rate(QUESTION, result.text) < MAX_WER, result.text
    assert result.audio_s == pytest.approx(len(question) / WHISPER_SAMPLE_RATE)
    assert_word_times_plausible(result.words, result.audio_s)
    assert word_error_rate(QUESTION, " ".join(w.text for w in result.words)) < MAX_WER
    # The speech fills the clip, so the words should too.
    assert result.words[-1].end > 0.7 * result.audio_s


async def test_recognize_takes_48khz_stereo_frames(
    engine: RecordingWhisperEngine, vad: silero.VAD, question: np.ndarray
) -> None:
    whisper = WhisperSTT(engine, vad)
    src_t = np.arange(len(question)) / WHISPER_SAMPLE_RATE
    dst_t = np.arange(len(question) * 3) / 48_000
    upsampled = np.interp(dst_t, src_t, question).astype(np.int16)
    stereo = np.repeat(upsampled, 2)
    pieces = [stereo[i : i + 960 * 2] for i in range(0, len(stereo), 960 * 2)]
    frames = [rtc.AudioFrame(p.tobytes(), 48_000, 2, len(p) // 2) for p in pieces]

    event = await whisper.recognize(frames)

    assert event.type == FINAL
    assert word_error_rate(QUESTION, event.alternatives[0].text) < MAX_WER
    audio_s = len(question) / WHISPER_SAMPLE_RATE
    assert event.alternatives[0].end_time == pytest.approx(audio_s, abs=0.01)
    assert len(event.alternatives[0].words) >= 8


async def test_stream_reports_start_final_end_and_the_utterance(
    stream_run: tuple[StreamRun, list[tuple[RecognizedUtterance, float]]], question: np.ndarray
) -> None:
    run, utterances = stream_run

    pushed_at = time.time()
    await run.push(np.concatenate([silence(0.5), question, silence(1.0)]))
    await run.finish()

    assert run.turn_events == [START, FINAL, END]
    [final] = run.finals()
    assert word_error_rate(QUESTION, final) < MAX_WER, final
    [(utterance, received_at)] = utterances
    assert utterance.text == final
    assert utterance.speech_start_at < utterance.speech_end_at <= received_at
    # On this run's wall clock, however long Whisper took: the end is placed back from when the
    # VAD noticed it by the silence heard since (at most the 1 s pushed after the speech).
    assert utterance.speech_end_at > pushed_at - 1.5, utterance.speech_end_at - pushed_at
    assert_word_times_plausible(utterance.words, len(question) / WHISPER_SAMPLE_RATE + 0.5)
    end = run.events[-1]
    assert end.type == END and end.speech_end_time == pytest.approx(utterance.speech_end_at)


async def test_two_sentences_a_long_pause_apart_are_two_turns(
    stream_run: tuple[StreamRun, list[tuple[RecognizedUtterance, float]]],
    question: np.ndarray,
    thanks: np.ndarray,
) -> None:
    run, utterances = stream_run

    await run.push(np.concatenate([silence(0.3), question, silence(1.5)]))
    # 1.5 s of silence is ample time for the first transcript in real time; let it finish here too.
    await run.wait_for(END)
    await run.push(np.concatenate([thanks, silence(1.0)]))
    await run.finish()

    assert run.turn_events == [START, FINAL, END, START, FINAL, END]
    first, second = run.finals()
    assert word_error_rate(QUESTION, first) < MAX_WER, first
    assert word_error_rate(THANKS, second) < MAX_WER, second
    assert [u.text for u, _ in utterances] == [first, second]


async def test_a_short_pause_inside_speech_does_not_end_the_turn(
    stream_run: tuple[StreamRun, list[tuple[RecognizedUtterance, float]]],
    question: np.ndarray,
    thanks: np.ndarray,
) -> None:
    run, utterances = stream_run
    speech = np.concatenate([question, silence(0.2), thanks])

    await run.push(np.concatenate([silence(0.3), speech, silence(1.0)]))
    await run.finish()

    # One turn: an END_OF_SPEECH at the pause would have opened a second one.
    assert run.turn_events == [START, FINAL, END]
    [final] = run.finals()
    assert word_error_rate(f"{QUESTION} {THANKS}", final) < MAX_WER, final
    [(utterance, _)] = utterances
    assert utterance.text == final
    assert_word_times_plausible(utterance.words, len(speech) / WHISPER_SAMPLE_RATE + 0.5)


async def test_a_pause_mid_turn_starts_transcribing_early(
    stream_run: tuple[StreamRun, list[tuple[RecognizedUtterance, float]]],
    engine: RecordingWhisperEngine,
    question: np.ndarray,
    thanks: np.ndarray,
) -> None:
    run, utterances = stream_run
    speech = np.concatenate([question, silence(0.25), thanks])

    await run.push(np.concatenate([silence(0.3), speech, silence(1.0)]))
    await run.finish()

    assert run.turn_events == [START, FINAL, END]
    # The first part went to Whisper at the pause; the rest was prompted with its text.
    assert len(engine.calls) == 2
    (first_s, first_prompt), (_, second_prompt) = engine.calls
    assert first_s < len(speech) / WHISPER_SAMPLE_RATE
    assert first_prompt is None
    assert second_prompt is not None and word_error_rate(QUESTION, second_prompt) < MAX_WER
    [final] = run.finals()
    assert word_error_rate(f"{QUESTION} {THANKS}", final) < MAX_WER, final
    # Word times of the second part are shifted to where that part starts.
    [(utterance, _)] = utterances
    assert_word_times_plausible(utterance.words, len(speech) / WHISPER_SAMPLE_RATE + 0.5)
    thanks_word = next(w for w in utterance.words if w.text.lower().startswith("thank"))
    question_s = len(question) / WHISPER_SAMPLE_RATE
    assert thanks_word.start == pytest.approx(question_s + 0.25, abs=0.5)


async def resume_before_the_transcript(run: StreamRun, engine: GatedEngine, question: np.ndarray, thanks: np.ndarray) -> None:
    """The candidate says `question`, pauses long enough for the VAD to end the speech but too
    short for recognition, and says `thanks`; then recognition is let go on."""
    await run.push(np.concatenate([silence(0.3), question, silence(0.6), thanks]))
    await run.wait_for(START, count=2)
    engine.gate.set()


async def test_speech_resuming_before_the_transcript_is_ready_keeps_the_turn_open(
    vad: silero.VAD, question: np.ndarray, thanks: np.ndarray
) -> None:
    engine = GatedEngine()
    utterances: list[RecognizedUtterance] = []
    whisper = WhisperSTT(engine, vad, on_utterance=utterances.append)
    stream = whisper.stream()
    run = StreamRun(stream)
    try:
        await resume_before_the_transcript(run, engine, question, thanks)
        await run.push(silence(1.0))
        await run.finish()
    finally:
        await stream.aclose()
        await whisper.aclose()

    assert run.turn_events[:2] == [START, START]
    assert Counter(run.turn_events) == {START: 2, FINAL: 2, END: 1}
    assert run.turn_events[-1] == END
    assert len(utterances) == 2


async def test_a_chunk_finished_as_its_utterance_ends_sends_no_caption_after_the_final(vad: silero.VAD) -> None:
    """A chunk transcribed at a pause inside speech sends an interim caption when it is done. If
    the utterance ends just then, its final can go out first (the final finds every chunk done
    and does not wait); the late interim would show its words a second time in the captions."""
    whisper = WhisperSTT(GatedEngine(), vad)
    stream = whisper.stream()
    run = StreamRun(stream)
    try:
        async def transcribed() -> Transcript:
            return Transcript("And that should be all.", (Word("And that should be all.", 0.0, 1.5, 0.9),), 1.5, compute_ms=1.0)

        chunk = asyncio.create_task(transcribed())
        await chunk
        ended = VADEvent(VADEventType.END_OF_SPEECH, samples_index=0, timestamp=2.0, speech_duration=1.5, silence_duration=0.3)
        await stream._finalize(ended, [chunk], [0.0], 2.0, 0, silence(2.0).astype(np.float32), silence(2.0).astype(np.float32))
        stream._send_interim([chunk], time.time() - 2.0)  # the chunk's own callback, running late
        await run.finish()
    finally:
        await stream.aclose()
        await whisper.aclose()
    kinds = [ev.type for ev in run.events]
    assert FINAL in kinds and INTERIM not in kinds[kinds.index(FINAL) :], kinds


async def test_words_the_candidate_spoke_on_from_still_join_the_answer_the_turn_taker_reads(
    vad: silero.VAD, question: np.ndarray, thanks: np.ndarray
) -> None:
    """A breath long enough for the VAD to end speech, and the candidate resumes before the
    transcript is ready: no pause is decided for it, but its words are part of the answer that the
    next pause is read on (else a long answer reads as its last few words: "just started")."""
    engine = GatedEngine()
    turns = TurnTaker(TurnTakingSettings(), question=lambda: None)
    opened(turns, time.time() - 60)  # pushed faster than spoken: its times run back
    whisper = WhisperSTT(engine, vad, on_utterance=lambda _u: None, turns=turns)
    stream = whisper.stream()
    run = StreamRun(stream)
    try:
        await resume_before_the_transcript(run, engine, question, thanks)
        await push_in_real_time(run, silence(1.0))
        await run.wait_for(FINAL, count=2)
    finally:
        await stream.aclose()
        await whisper.aclose()
    assert turns.answer == "part 1 part 2"


def test_only_the_bundled_model_is_available_offline() -> None:
    assert Path(resolve_model("tiny.en")).is_dir()
    with pytest.raises(ValueError, match="not available offline"):
        resolve_model("base.en")


def test_short_context_pads_to_the_audio_plus_a_margin_not_30_seconds() -> None:
    from agent.stt_whisper import _pad_to_short_context

    def frames(n: int) -> int:
        return _pad_to_short_context(np.zeros((80, n), dtype=np.float32)).shape[-1]

    assert frames(300) == 1000  # 3 s of speech: a 10 s window
    assert frames(950) == 1500  # 9.5 s + margin: the next 5 s step
    assert frames(2950) == 3000  # never more than Whisper's 30 s
    assert frames(4000) == 3000  # longer input is cut, as before


def test_segments_of_punctuation_or_subtitle_phrases_are_not_speech() -> None:
    # ". . ." is what Whisper decoded from near-silence on a loaded machine; kept, it opened
    # an answer and stored dots in front of the candidate's words.
    assert not is_spoken(" . . . ")
    assert not is_spoken("...")
    assert not is_spoken(" Thanks for watching!")
    assert is_spoken(" Um.")
    assert is_spoken(" 42")
    assert is_spoken(" Thanks for asking, I led the team.")


async def test_speech_before_the_interviewers_first_words_is_let_go(
    engine: RecordingWhisperEngine, vad: silero.VAD, question: np.ndarray, thanks: np.ndarray
) -> None:
    # "Hello? Can you hear me?" as the candidate joins, before the opening plays: no caption,
    # no answer, no turn to reply to. What they say once the interviewer has spoken is heard.
    utterances: list[RecognizedUtterance] = []
    turns = TurnTaker(TurnTakingSettings(), question=lambda: None)
    whisper = WhisperSTT(engine, vad, on_utterance=utterances.append, turns=turns)
    stream = whisper.stream()
    run = StreamRun(stream)
    try:
        await run.push(np.concatenate([silence(0.3), thanks, silence(1.0)]))
        await asyncio.sleep(1.0)  # its transcription is done and dropped
        assert run.turn_events == [START] and utterances == [] and turns.before_the_interviewer(time.time())

        opened(turns, time.time())
        # In real time: a speech's start is placed back from when it is heard by its length.
        said = np.concatenate([silence(0.3), question, silence(0.5)])
        for i in range(0, len(said), 10 * PIECE_SAMPLES):
            await run.push(said[i : i + 10 * PIECE_SAMPLES])
            await asyncio.sleep(0.2)
        await run.wait_for(FINAL)
    finally:
        await stream.aclose()
        await whisper.aclose()
    assert run.turn_events == [START, START, FINAL]
    [heard] = utterances
    assert word_error_rate(QUESTION, heard.text) < MAX_WER, heard.text
    assert turns.answer == heard.text


async def test_speech_heard_from_its_middle_as_the_opening_begins_is_let_go_unless_a_mic_check_or_an_answer(
    engine: RecordingWhisperEngine, vad: silero.VAD, question: np.ndarray, thanks: np.ndarray
) -> None:
    # The session gives the recogniser silence until the opening's first sound and for the echo
    # canceller's warm-up after it. A candidate talking across that hears nothing of their start:
    # the short rest of a sentence cut mid-word is no answer (the question is not asked yet),
    # but a mic check heard so is answered as one, and an answer begun over the opening is kept.
    utterances: list[RecognizedUtterance] = []
    whisper = WhisperSTT(engine, vad, on_utterance=utterances.append)
    stream = whisper.stream()
    run = StreamRun(stream)

    async def heard_from_its_middle(pcm: np.ndarray) -> TurnTaker:
        whisper.turns = turns = TurnTaker(TurnTakingSettings(), question=lambda: None)
        turns.heard_interviewer(time.time() - TurnTakingSettings().unheard_after_first_voice_s)
        await push_in_real_time(run, np.concatenate([pcm, silence(0.8)]))
        return turns

    cut = int(0.45 * WHISPER_SAMPLE_RATE)
    try:
        turns = await heard_from_its_middle(thanks[cut:])  # "…you for having me today."
        await asyncio.sleep(1.0)  # its transcription is done and dropped
        assert utterances == [] and not [e for e in run.events if e.type in (FINAL, INTERIM)], run.events
        assert turns.answer == ""

        await heard_from_its_middle(speak("Can you hear me?"))
        await run.wait_for(FINAL)
        [check] = utterances
        assert "hear me" in check.text.lower(), check.text

        await heard_from_its_middle(np.concatenate([question[cut:], silence(0.2), thanks]))
        await run.wait_for(FINAL, count=2)
    finally:
        await stream.aclose()
        await whisper.aclose()
    assert len(utterances) == 2, utterances
    assert "problem" in utterances[1].text.lower() and "having me" in utterances[1].text.lower(), utterances[1].text


def opened(turns: TurnTaker, at: float) -> None:
    """The interviewer said its opening from `at` and stopped: speech after is an answer's (a few
    words said under the opening would be let go, TurnTaker.lets_go)."""
    turns.heard_interviewer(at)
    turns.interviewer_stopped(at)


async def push_in_real_time(run: StreamRun, pcm: np.ndarray) -> None:
    """Pushes 20 ms frames as a microphone would: each once its audio has been spoken."""
    began = time.monotonic()
    for i in range(0, len(pcm), PIECE_SAMPLES):
        await run.push(pcm[i : i + PIECE_SAMPLES])
        await asyncio.sleep(max(0.0, began + (i + PIECE_SAMPLES) / WHISPER_SAMPLE_RATE - time.monotonic()))


async def test_a_speech_start_is_placed_when_it_was_said_though_the_vad_reads_late(
    engine: RecordingWhisperEngine, vad: silero.VAD, question: np.ndarray
) -> None:
    # On a busy machine the VAD reads behind real time. A candidate who resumes 2.9 s into the
    # interviewer's reply must not read as resuming after the 3 s yield window because the VAD
    # got to their audio late: their start is when its audio arrived, not when it was read.
    turns = TurnTaker(TurnTakingSettings(), question=lambda: None)
    opened(turns, time.time())
    starts: list[tuple[float, float]] = []  # (placed at, noticed at)
    on_speech_start = turns.on_speech_start
    turns.on_speech_start = lambda at, **kw: starts.append((at, time.time())) or on_speech_start(at, **kw)  # type: ignore[method-assign]
    whisper = WhisperSTT(engine, vad, on_utterance=lambda _u: None, turns=turns)
    stream = whisper.stream()
    run = StreamRun(stream)
    loop = asyncio.get_running_loop()
    try:
        await push_in_real_time(run, silence(1.0))
        said_at = time.time()
        # The VAD's inference runs in the loop's default executor: keep all its threads busy.
        busy = [loop.run_in_executor(None, time.sleep, 0.6) for _ in range(min(32, (os.cpu_count() or 1) + 4))]
        await push_in_real_time(run, np.concatenate([question, silence(0.5)]))
        await asyncio.gather(*busy)
        await run.wait_for(START)
    finally:
        await stream.aclose()
        await whisper.aclose()
    [(placed_at, noticed_at)] = starts
    assert noticed_at - said_at > 0.5, "the VAD was not held up: the test shows nothing"
    assert abs(placed_at - said_at) < 0.2, placed_at - said_at


def test_the_stream_clock_maps_stream_time_to_arrival() -> None:
    clock = StreamClock()
    for i in range(100):  # 10 ms frames, arriving 10 ms apart from t = 1000 s
        clock.pushed(0.01, 1000.01 + i * 0.01)
    assert clock.wall_at(0.5) == pytest.approx(1000.5)
    assert clock.wall_at(0.005) == pytest.approx(1000.005)
    assert clock.wall_at(1.5) is None  # not pushed yet
    clock.reset()
    assert clock.wall_at(0.5) is None
    for i in range(3 * StreamClock.KEEP):  # old marks are let go
        clock.pushed(0.01, 2000.01 + i * 0.01)
    assert clock.wall_at(0.0) is None
    last = 3 * StreamClock.KEEP * 0.01
    assert clock.wall_at(last - 1.0) == pytest.approx(2000.0 + last - 1.0)


def hold_up_the_default_executor(loop: asyncio.AbstractEventLoop, seconds: float) -> list[asyncio.Future[None]]:
    """Keeps every thread of the loop's default executor (where the VAD infers) busy."""
    return [loop.run_in_executor(None, time.sleep, seconds) for _ in range(min(32, (os.cpu_count() or 1) + 4))]


async def test_a_pause_ends_only_once_the_vad_has_read_it(vad: silero.VAD, question: np.ndarray, thanks: np.ndarray) -> None:
    # The VAD falls behind just as a pause is held (the machine got busy), and the candidate
    # resumes before the hold runs out. The turn must not end on the wall clock alone: the
    # resumption is in audio the VAD has not read yet.
    hold_s, pause_s, busy_s = 0.9, 0.7, 1.0
    loop = asyncio.get_running_loop()
    busy: list[asyncio.Future[None]] = []

    class FixedHold(TurnTaker):
        async def decide(self, text, speech_end_at, tail_pcm16k, ending=None):  # type: ignore[no-untyped-def]
            if not busy:  # the first pause: the machine gets busy as it is held
                busy.extend(hold_up_the_default_executor(loop, busy_s))
            self._last = PauseDecision(speech_end_at, hold_s, read_answer(text, None), None)
            return self._last

    engine = GatedEngine()
    engine.gate.set()
    turns = FixedHold(TurnTakingSettings(), question=lambda: None)
    opened(turns, time.time())
    whisper = WhisperSTT(engine, vad, on_utterance=lambda _u: None, turns=turns)
    stream = whisper.stream()
    run = StreamRun(stream)
    try:
        await push_in_real_time(run, np.concatenate([silence(0.5), question, silence(pause_s)]))
        await push_in_real_time(run, np.concatenate([thanks, silence(0.3)]))
        await asyncio.gather(*busy)
        await run.wait_for(START, count=2)
    finally:
        await stream.aclose()
        await whisper.aclose()
    assert busy, "no pause was decided: the test shows nothing"
    assert run.turn_events[: run.turn_events.index(START, 1) + 1].count(END) == 0, run.turn_events


def holding_stt(
    engine: WhisperEngine, vad: silero.VAD, hold_s: float
) -> tuple[TurnTaker, list[RecognizedUtterance], WhisperSTT]:
    """A WhisperSTT whose turn taker holds every open or likely pause `hold_s`, and what it hears."""
    turns = TurnTaker(TurnTakingSettings(open_hold_s=hold_s, likely_hold_s=hold_s), question=lambda: None)
    opened(turns, time.time())
    utterances: list[RecognizedUtterance] = []
    return turns, utterances, WhisperSTT(engine, vad, on_utterance=utterances.append, turns=turns)


async def until_the_turn_ends(whisper: WhisperSTT, pcm: np.ndarray, *, timeout_s: float) -> tuple[StreamRun, float]:
    """Pushes `pcm`, then silence, in real time until the turn ends: the run, and when it ended."""
    stream = whisper.stream()
    run = StreamRun(stream)
    try:
        await push_in_real_time(run, pcm)
        pushing = asyncio.create_task(push_in_real_time(run, silence(timeout_s)))
        await run.wait_for(END, timeout_s=timeout_s)
        ended_at = time.time()
        pushing.cancel()
    finally:
        await stream.aclose()
        await whisper.aclose()
    return run, ended_at


def test_long_voiced_speech_is_never_a_sound_however_soft_its_peak() -> None:
    from agent.stt_whisper import faint_to_the_vad

    assert faint_to_the_vad(0.06, 0.95)  # a click the VAD barely took for speech
    assert faint_to_the_vad(0.3, 0.67)  # a sigh: never clearly voiced
    assert not faint_to_the_vad(0.3, 0.92)  # a short word, clearly voiced
    # A hoarse voice through a sentence: never above 0.8, but voiced for over a second.
    assert not faint_to_the_vad(1.4, 0.75)


async def test_a_sound_in_a_pause_is_not_speech_and_the_pause_runs_on(
    engine: RecordingWhisperEngine, vad: silero.VAD, thanks: np.ndarray
) -> None:
    # A sigh in a thinking pause: the VAD takes it for speech for a moment and Whisper writes a
    # word for it ("Huh?"). It is no part of the answer, teaches nothing about the speaker's
    # pauses, and the pause it fell in ends the turn when it would have without it (not a
    # whole hold after the sigh).
    hold_s, before_sigh_s = 2.0, 0.8
    turns, utterances, whisper = holding_stt(engine, vad, hold_s)
    sounds: list[RecognizedUtterance] = []
    whisper.on_sound = sounds.append
    sigh = (room_sounds.sigh(np.random.default_rng(15)) * 32767).astype(np.int16)
    pcm = np.concatenate([silence(0.5), thanks, silence(before_sigh_s), sigh])
    run, ended_at = await until_the_turn_ends(whisper, pcm, timeout_s=hold_s + 3.0)
    assert run.turn_events.count(START) == 2, f"the sigh was not taken for speech: the test shows nothing {run.turn_events}"
    [answer] = utterances
    assert run.finals() == [answer.text] and turns.answer == answer.text
    assert not any(turns.habits.resumed.values())
    # Held for the answer's whole pass, which keeps its words only if it is sure of them.
    [sound] = sounds
    assert sound.text == "" and sound.audio is not None and sound.speech_start_at > answer.speech_end_at
    # The hold ran from the answer's end; a hold restarted after the sigh would end 1.4 s later.
    assert ended_at - answer.speech_end_at < hold_s + 0.5, ended_at - answer.speech_end_at



@pytest.mark.parametrize(("other_db", "kept"), [(-20.0, False), (-8.0, False), (-4.0, True)])
async def test_another_voice_after_the_turn_ends_neither_stops_the_reply_nor_joins_the_answer(
    engine: RecordingWhisperEngine, vad: silero.VAD, thanks: np.ndarray, other_db: float, kept: bool
) -> None:
    # A colleague's call next door reaches the microphone just after the candidate's turn has
    # ended, as the interviewer's reply is about to start. At -20 dB or -8 dB it is not the
    # candidate: no yield, its words join nothing, and the turn stays ended. At -4 dB it may be
    # the candidate going on: the interviewer yields and the words join the answer.
    hold_s, pause_s = 1.2, 0.5
    turns, utterances, whisper = holding_stt(engine, vad, hold_s)
    sounds: list[RecognizedUtterance] = []
    whisper.on_sound = sounds.append
    other = (speak("The budget meeting has moved to Thursday afternoon.") * 10 ** (other_db / 20)).astype(np.int16)
    candidate = [np.concatenate([thanks, silence(pause_s)]) for _ in range(3)]
    stream = whisper.stream()
    run = StreamRun(stream)
    try:
        await push_in_real_time(run, np.concatenate([silence(0.5), *candidate, silence(hold_s + 0.6)]))
        assert run.turn_events.count(END) == 1, f"the turn did not end before the other voice: {run.turn_events}"
        await push_in_real_time(run, np.concatenate([other, silence(hold_s + 2.5)]))
    finally:
        await stream.aclose()
        await whisper.aclose()
    heard = " ".join(run.finals()).lower()
    assert ("budget" in heard or "thursday" in heard) == kept, heard
    assert turns.yields == (1 if kept else 0)
    assert whisper.voice.dropped == (0 if kept else 1)
    assert len(utterances) == (4 if kept else 3)
    assert sounds == []  # another voice's words are not held for the whole pass either
    assert run.turn_events.count(END) == (2 if kept else 1), run.turn_events
