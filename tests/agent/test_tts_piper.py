"""Piper TTS behind livekit's TTS interface, with the bundled voice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import numpy as np
import onnxruntime
import pytest
from livekit import rtc

from agent.catalog import PERSONAS, Voice
from agent.stt_whisper import WHISPER_SAMPLE_RATE, WhisperEngine
from agent.tts_piper import (
    ONSET_AMPLITUDE,
    ONSET_KEEP_S,
    PiperEngine,
    PiperTTS,
    SentencesAsTheyEnd,
    SpeakerVoices,
    trim_leading_silence,
)
from tests.words import word_error_rate

QUESTION = "Tell me about a project you are proud of."
TWO_SENTENCES = "Thanks for coming in today. Tell me about a project you are proud of."


class CountingPiperEngine(PiperEngine):
    """The real voice, counting the audio chunks (one per sentence) it hands back and the
    sentences it synthesizes (those not taken from its cache)."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks = 0
        self.synthesized = 0
        synthesize = self.voice.phoneme_ids_to_audio

        def counted(*args, **kwargs):
            self.synthesized += 1
            return synthesize(*args, **kwargs)

        self.voice.phoneme_ids_to_audio = counted

    def synthesize_sync(
        self, text: str, on_chunk: Callable[[bytes], None], voice: Voice | None = None
    ) -> None:
        def counted(data: bytes) -> None:
            self.chunks += 1
            on_chunk(data)

        super().synthesize_sync(text, counted, voice)


# Piper's VITS model draws noise (onnxruntime's RandomNormal) from a seed taken when its session is
# made, so an unseeded process says each sentence a little differently. About 2 renderings of
# QUESTION in 100 are heard by Whisper tiny.en as "...a project to your product." (measured over
# 100), which failed CI once. Seeded, every run of this module hears the same rendering.
PIPER_NOISE_SEED = 1


@pytest.fixture(scope="module")
def engine() -> CountingPiperEngine:
    onnxruntime.set_seed(PIPER_NOISE_SEED)
    return CountingPiperEngine()


@pytest.fixture(scope="module")
def whisper() -> WhisperEngine:
    return WhisperEngine()


@pytest.fixture
async def piper(engine: CountingPiperEngine) -> AsyncIterator[PiperTTS]:
    tts = PiperTTS(engine)
    engine.chunks = 0
    yield tts
    await tts.aclose()


async def synthesize(tts: PiperTTS, text: str) -> list[rtc.AudioFrame]:
    frames: list[rtc.AudioFrame] = []
    async with tts.synthesize(text) as stream:
        async for ev in stream:
            frames.append(ev.frame)
    return frames


def samples_of(frames: list[rtc.AudioFrame]) -> np.ndarray:
    return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])


def to_whisper_input(pcm: np.ndarray, sample_rate: int) -> np.ndarray:
    duration_s = len(pcm) / sample_rate
    target = np.linspace(0, len(pcm) - 1, int(duration_s * WHISPER_SAMPLE_RATE))
    return (np.interp(target, np.arange(len(pcm)), pcm) / 32768.0).astype(np.float32)


async def test_a_sentence_comes_out_as_speech_at_the_voice_rate(
    piper: PiperTTS, engine: CountingPiperEngine
) -> None:
    frames = await synthesize(piper, QUESTION)

    assert frames
    assert {(f.sample_rate, f.num_channels) for f in frames} == {(engine.sample_rate, 1)}
    assert piper.sample_rate == engine.sample_rate
    pcm = samples_of(frames)
    duration_s = len(pcm) / engine.sample_rate
    assert 0.5 <= duration_s <= 10.0
    assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 300  # speech, not silence


async def test_the_speech_says_the_text(
    piper: PiperTTS, engine: CountingPiperEngine, whisper: WhisperEngine
) -> None:
    pcm = samples_of(await synthesize(piper, QUESTION))

    heard = whisper.transcribe_sync(to_whisper_input(pcm, engine.sample_rate)).text

    assert word_error_rate(QUESTION, heard) < 0.3, heard


async def test_two_sentences_both_come_out(piper: PiperTTS, engine: CountingPiperEngine) -> None:
    _, second = TWO_SENTENCES.split(". ", 1)
    one = samples_of(await synthesize(piper, second))
    engine.chunks = 0

    both = samples_of(await synthesize(piper, TWO_SENTENCES))

    assert engine.chunks == 2
    assert len(both) > len(one) + 0.4 * engine.sample_rate  # the first sentence is there too
    assert len(both) / engine.sample_rate <= 10.0


async def test_an_empty_text_gives_no_speech(piper: PiperTTS) -> None:
    frames = await synthesize(piper, "")

    pcm = samples_of(frames) if frames else np.zeros(0, dtype=np.int16)
    assert len(pcm) < 0.3 * piper.sample_rate


async def test_prewarmed_sentences_come_from_the_cache(engine: CountingPiperEngine, piper: PiperTTS) -> None:
    line = "Tell me about a project that changed how you work."
    engine.prewarm([line])
    hits, synthesized = engine.cache_hits, engine.synthesized
    frames = await synthesize(piper, line)
    assert engine.cache_hits == hits + 1
    assert engine.synthesized == synthesized  # no synthesis, only framing
    assert samples_of(frames).size > engine.sample_rate * 0.5


async def test_speech_is_not_queued_behind_lines_synthesised_ahead(
    engine: CountingPiperEngine, piper: PiperTTS
) -> None:
    """Three interviews starting together once queued all their planned questions ahead of their
    greetings (a 25 s wait for the third). Lines synthesised ahead have a lane of their own."""
    numbers = "two three four five six seven eight nine ten eleven twelve thirteen".split()
    ahead_lines = [f"For question {n}, tell me about a time you led a project under real pressure." for n in numbers]
    loop = asyncio.get_running_loop()
    ahead = [loop.run_in_executor(engine.ahead_executor, engine.prewarm, [line]) for line in ahead_lines]
    await asyncio.sleep(0.05)  # the first of them is being synthesised
    frames = await synthesize(piper, "Hello, I am the interviewer who speaks while the others wait.")
    pending = sum(not job.done() for job in ahead)
    await asyncio.gather(*ahead)
    assert samples_of(frames).size > engine.sample_rate * 0.5
    assert pending >= len(ahead_lines) // 2, f"the greeting waited for {len(ahead_lines) - pending} lines ahead"


# -- persona voices ------------------------------------------------------------------

# Two sentences: Piper's output varies a little from one synthesis to the next, and the
# pitch of a longer stretch of speech varies less.
PANEL_LINE = (
    "Tell me about a time you had to explain a difficult decision to your team. "
    "Design a distributed cache that several services share."
)
PITCH_APART = 0.15  # any two persona voices' mean pitch differs by at least this share


def mean_pitch_hz(pcm: np.ndarray, sample_rate: int) -> float:
    """Praat's mean pitch over the voiced frames."""
    import parselmouth

    sound = parselmouth.Sound(pcm.astype(np.float64) / 32768.0, sampling_frequency=sample_rate)
    frequencies = sound.to_pitch(pitch_floor=60.0, pitch_ceiling=400.0).selected_array["frequency"]
    return float(np.mean(frequencies[frequencies > 0]))


def trimmed(engine: PiperEngine, pcm: np.ndarray) -> np.ndarray:
    return np.frombuffer(trim_leading_silence(pcm.tobytes(), engine.sample_rate), dtype=np.int16)


def voiced(engine: PiperEngine, text: str, voice: Voice | None) -> np.ndarray:
    chunks: list[bytes] = []
    engine.synthesize_sync(text, chunks.append, voice)
    return np.frombuffer(b"".join(chunks), dtype=np.int16)


@pytest.fixture(scope="module")
def persona_pitches(engine: CountingPiperEngine) -> dict[str, float]:
    return {
        p.id: mean_pitch_hz(voiced(engine, PANEL_LINE, p.voice), engine.sample_rate)
        for p in PERSONAS.values()
    }


def test_every_two_persona_voices_differ_in_pitch_by_at_least_15_percent(
    persona_pitches: dict[str, float],
) -> None:
    ids = sorted(persona_pitches, key=persona_pitches.get)
    for lower, higher in zip(ids, ids[1:]):  # the closest pairs are neighbours by pitch
        low, high = persona_pitches[lower], persona_pitches[higher]
        assert (high - low) / high >= PITCH_APART, persona_pitches


def test_each_persona_voice_is_near_its_target_pitch(persona_pitches: dict[str, float]) -> None:
    for persona in PERSONAS.values():
        target = persona.voice.pitch_hz
        assert target is not None
        assert abs(persona_pitches[persona.id] - target) / target < 0.1, (persona.id, persona_pitches)


def test_a_persona_voice_still_says_the_text_at_its_pace(
    engine: CountingPiperEngine, whisper: WhisperEngine
) -> None:
    # Piper's timing varies a little from one synthesis to the next: two sentences even it out.
    natural = voiced(engine, PANEL_LINE, None)
    for persona in PERSONAS.values():
        pcm = voiced(engine, PANEL_LINE, persona.voice)
        heard = whisper.transcribe_sync(to_whisper_input(pcm, engine.sample_rate)).text
        assert word_error_rate(PANEL_LINE, heard) < 0.35, (persona.id, heard)
        assert len(pcm) / len(natural) == pytest.approx(persona.voice.pace, rel=0.15)


async def test_the_cued_voices_say_a_reply_in_turn(engine: CountingPiperEngine) -> None:
    jordan, sam = PERSONAS["jordan"].voice, PERSONAS["sam"].voice
    tts = PiperTTS(engine, SpeakerVoices())
    handover, question = "Thanks. I'll hand you to Sam for this one.", "Why do you want this job?"
    tts.voices.cue([("Thanks.", jordan), ("I'll hand you to Sam for this one.", jordan), (question, sam)])
    try:
        both = samples_of(await synthesize(tts, f"{handover} {question}"))
        said_by_sam = samples_of(await synthesize(tts, question))
        prompt = samples_of(await synthesize(tts, "Take your time."))  # not cued: the last speaker
    finally:
        await tts.aclose()

    # A reply starts at its first audible sample (the lead-in of its first sentence is trimmed);
    # framing pads the end with silence.
    by_jordan, by_sam = trimmed(engine, voiced(engine, handover, jordan)), voiced(engine, question, sam)
    assert np.array_equal(both[: len(by_jordan) + len(by_sam)], np.concatenate([by_jordan, by_sam]))
    sam_alone = trimmed(engine, by_sam)
    assert np.array_equal(said_by_sam[: len(sam_alone)], sam_alone)
    said_by_sam_again = trimmed(engine, voiced(engine, "Take your time.", sam))
    assert np.array_equal(prompt[: len(said_by_sam_again)], said_by_sam_again)


def test_a_sentence_two_personas_say_in_one_reply_is_each_one_s() -> None:
    """Sentences are looked up in the order said: an LLM's words that repeat an earlier speaker's
    sentence are the asker's, and a text looked up again (a provider's fallback) finds the same."""
    alex, jordan = PERSONAS["alex"].voice, PERSONAS["jordan"].voice
    voices = SpeakerVoices()
    voices.cue([("Thank you.", alex), ("I'll hand you to Jordan.", alex), ("Why this job?", jordan)])
    assert voices.runs("Thank you. I'll hand you to Jordan.") == [("Thank you. I'll hand you to Jordan.", alex)]
    assert voices.voice_for("Thank you.") == alex  # the same text again
    assert voices.voice_for("I'll hand you to Jordan.") == alex
    assert voices.runs("Thank you. How would you scale it?") == [("Thank you. How would you scale it?", jordan)]
    assert voices.voice_for("Take your time.") == jordan  # not cued: whoever spoke last
    voices.cue([("Thank you.", alex)])  # the next reply starts over
    assert voices.voice_for("Thank you.") == alex


def test_reshaping_keeps_the_length_and_reports_its_cost(engine: CountingPiperEngine) -> None:
    """The cost is printed, not judged (the machine may be busy); reshaped audio is cached."""
    import time

    from agent.tts_piper import reshape_voice

    audio = voiced(engine, PANEL_LINE, None).astype(np.float32) / 32768.0
    costs_ms = {}
    for persona in PERSONAS.values():
        started = time.perf_counter()
        reshaped = reshape_voice(audio, engine.sample_rate, persona.voice)
        costs_ms[persona.id] = round((time.perf_counter() - started) * 1000, 1)
        assert len(reshaped) == pytest.approx(len(audio), rel=0.01)  # the pace is Piper's alone
    print(f"reshape cost per {len(audio) / engine.sample_rate:.1f} s of speech (ms): {costs_ms}")


async def test_a_sentence_goes_to_speech_as_soon_as_it_ends() -> None:
    """A streamed reply's first sentence is not held back until its second one begins."""
    stream = SentencesAsTheyEnd().stream()
    stream.push_text("Thank you, that gives me a clear picture of it.")
    first = await asyncio.wait_for(stream.__anext__(), timeout=1.0)
    assert first.token.strip() == "Thank you, that gives me a clear picture of it."
    stream.push_text(" The figure was 3.5")  # not a sentence end: held until it is one
    stream.push_text(" percent in the end.")
    second = await asyncio.wait_for(stream.__anext__(), timeout=1.0)
    assert second.token.strip() == "The figure was 3.5 percent in the end."
    stream.end_input()
    await stream.aclose()


async def test_a_replys_opening_clause_pushed_alone_is_spoken_alone_and_later_commas_wait() -> None:
    stream = SentencesAsTheyEnd().stream()
    stream.push_text("Thank you, ")
    first = await asyncio.wait_for(stream.__anext__(), timeout=1.0)
    assert first.token.strip() == "Thank you,"
    stream.push_text("that gives me a clear picture of it.")
    second = await asyncio.wait_for(stream.__anext__(), timeout=1.0)
    assert second.token.strip() == "that gives me a clear picture of it."
    stream.push_text(" Looking back, ")  # not the reply's opening: held until the sentence ends
    stream.push_text("what would you change?")
    third = await asyncio.wait_for(stream.__anext__(), timeout=1.0)
    assert third.token.strip() == "Looking back, what would you change?"
    stream.end_input()
    await stream.aclose()


async def test_a_reply_starts_at_its_first_audible_sample(engine: CountingPiperEngine, piper: PiperTTS) -> None:
    raw: list[bytes] = []
    engine.synthesize_sync(QUESTION, raw.append)
    untrimmed = np.frombuffer(b"".join(raw), dtype=np.int16)
    # Piper's own lead-in (its length varies from one synthesis to the next: 2-60 ms seen).
    lead = int(np.flatnonzero(np.abs(untrimmed.astype(np.int32)) > ONSET_AMPLITUDE)[0])

    pcm = samples_of(await synthesize(piper, QUESTION))
    onset = int(np.flatnonzero(np.abs(pcm.astype(np.int32)) > ONSET_AMPLITUDE)[0])
    assert onset / engine.sample_rate <= ONSET_KEEP_S + 0.001
    kept = untrimmed[lead - onset :]  # only the lead-in went (framing pads the end)
    assert np.array_equal(pcm[: len(kept)], kept), (lead, onset, len(untrimmed), len(pcm))


def test_trimming_silence_keeps_the_audio_from_just_before_its_onset() -> None:
    rate = 1000
    audio = np.zeros(100, dtype=np.int16)
    audio[50:60] = 5000
    trimmed = np.frombuffer(trim_leading_silence(audio.tobytes(), rate), dtype=np.int16)
    assert len(trimmed) == 100 - 50 + int(ONSET_KEEP_S * rate) and trimmed[int(ONSET_KEEP_S * rate)] == 5000
    assert trim_leading_silence(np.zeros(100, dtype=np.int16).tobytes(), rate) == b""
