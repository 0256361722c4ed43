"""Piper TTS behind livekit's TTS interface, with the bundled voice."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest
from livekit import rtc

from agent.stt_whisper import WHISPER_SAMPLE_RATE, WhisperEngine
from agent.tts_piper import PiperEngine, PiperTTS
from tests.words import word_error_rate

QUESTION = "Tell me about a project you are proud of."
TWO_SENTENCES = "Thanks for coming in today. Tell me about a project you are proud of."


class CountingPiperEngine(PiperEngine):
    """The real voice, counting the audio chunks (one per sentence) it hands back."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks = 0

    def synthesize_sync(self, text: str, on_chunk: Callable[[bytes], None]) -> None:
        def counted(data: bytes) -> None:
            self.chunks += 1
            on_chunk(data)

        super().synthesize_sync(text, counted)


@pytest.fixture(scope="module")
def engine() -> CountingPiperEngine:
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
    hits = engine.cache_hits
    started = time.perf_counter()
    frames = await synthesize(piper, line)
    assert engine.cache_hits == hits + 1
    assert samples_of(frames).size > engine.sample_rate * 0.5
    assert time.perf_counter() - started < 0.5  # no synthesis, only framing
