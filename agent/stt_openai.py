"""OpenAI transcription (POST /v1/audio/transcriptions) as the live STT's engine, with the
local faster-whisper engine standing in for any call that fails or is late.

The candidate's turn-taking lives in WhisperSTT's stream (VAD, pauses, end of turn), which only
needs an engine's `transcribe(samples, prompt=...)`; livekit's stt.FallbackAdapter would swap
the whole stream and lose it, so the fallback sits at the engine instead.
"""

from __future__ import annotations

import io
import logging
import time
import wave
from typing import Protocol

import httpx
import numpy as np
import openai

from agent.provider_errors import waited_to_retry
from agent.stt_whisper import WHISPER_SAMPLE_RATE, Transcript, Word
from agent.usage import UsageMeter

logger = logging.getLogger(__name__)


class Transcriber(Protocol):
    """Float32 mono 16 kHz samples in, a transcript with word times out."""

    async def transcribe(self, samples: np.ndarray, *, prompt: str | None = None) -> Transcript: ...


def wav_bytes(samples: np.ndarray) -> bytes:
    """16-bit mono WAV of float32 16 kHz samples."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(WHISPER_SAMPLE_RATE)
        w.writeframes(pcm)
    return out.getvalue()


class TranscriptionFailed(RuntimeError):
    """The cloud transcription did not answer in time or in shape (the message holds no audio)."""


class OpenAITranscriber:
    """Transcribes with an OpenAI-compatible /audio/transcriptions endpoint, words timed."""

    def __init__(
        self,
        *,
        client: openai.AsyncOpenAI,
        model: str = "whisper-1",
        timeout_s: float = 1.5,
        retry_after_max_s: float = 0.5,
    ) -> None:
        self._client = client
        self._model = model
        self._timeout_s = timeout_s
        self._retry_after_max_s = retry_after_max_s

    async def transcribe(self, samples: np.ndarray, *, prompt: str | None = None) -> Transcript:
        started = time.perf_counter()
        audio = wav_bytes(samples)
        for attempt in range(2):  # a second attempt only after a short Retry-After
            try:
                result = await self._client.audio.transcriptions.create(
                    model=self._model,
                    file=("answer.wav", audio, "audio/wav"),
                    response_format="verbose_json",
                    timestamp_granularities=["word"],
                    language="en",
                    prompt=prompt or openai.NOT_GIVEN,
                    timeout=httpx.Timeout(self._timeout_s),
                )
                break
            except openai.RateLimitError as e:
                if await waited_to_retry(e.response.headers, attempt, self._retry_after_max_s):
                    continue
                raise TranscriptionFailed("transcription rate-limited") from None
            except openai.APIError as e:
                raise TranscriptionFailed(f"transcription failed: {type(e).__name__}") from None
            except (ValueError, TypeError):
                raise TranscriptionFailed("transcription answer was malformed") from None
        else:  # pragma: no cover - the loop always breaks or raises
            raise TranscriptionFailed("transcription rate-limited")
        words = tuple(
            Word(str(w.word).strip(), float(w.start), float(w.end), 1.0) for w in (getattr(result, "words", None) or ())
        )
        return Transcript(
            text=str(result.text).strip(),
            words=words,
            audio_s=len(samples) / WHISPER_SAMPLE_RATE,
            compute_ms=(time.perf_counter() - started) * 1000.0,
        )


class FallbackTranscriber:
    """The cloud transcriber first, the local engine when it fails; counts audio seconds."""

    def __init__(
        self,
        primary: Transcriber,
        local: Transcriber,
        *,
        meter: UsageMeter | None = None,
        primary_name: str = "openai",
        local_name: str = "faster-whisper",
    ) -> None:
        self._primary = primary
        self._local = local
        self._meter = meter
        self._names = (primary_name, local_name)

    async def transcribe(self, samples: np.ndarray, *, prompt: str | None = None) -> Transcript:
        audio_s = len(samples) / WHISPER_SAMPLE_RATE
        try:
            result = await self._primary.transcribe(samples, prompt=prompt)
            name = self._names[0]
        except TranscriptionFailed as e:
            logger.warning("cloud transcription failed: the local engine transcribes", extra={"error": str(e)})
            result = await self._local.transcribe(samples, prompt=prompt)
            name = self._names[1]
        if self._meter is not None:
            self._meter.add_stt(name, audio_s)
        return result
