"""ElevenLabs streaming text-to-speech as a livekit-agents TTS plugin (cloud, when keyed).

Speaks ElevenLabs' HTTP wire protocol directly with httpx (the `elevenlabs` SDK's
text_to_speech.stream uses the same call): POST /v1/text-to-speech/{voice_id}/stream with
output_format=pcm_<rate>, the raw little-endian 16-bit mono PCM arriving as it is made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
from livekit.agents import APIConnectionError, APIStatusError, APITimeoutError, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from pydantic import SecretStr

from agent.catalog import Voice
from agent.provider_errors import waited_to_retry

logger = logging.getLogger(__name__)

PCM_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
CHUNK_BYTES = 4096


class ElevenLabsTTS(tts.TTS):
    """One voice of ElevenLabs, sentence by sentence, streamed as PCM.

    If the stream breaks after some of a sentence was heard and `resume_with` (the local voice,
    at the same sample rate) is given, that sentence is said again by it, so no line is lost;
    a failure before any audio raises, for tts.FallbackAdapter to hand the sentence on.
    """

    def __init__(
        self,
        *,
        api_key: SecretStr,
        voice_id: str,
        model: str = "eleven_flash_v2_5",
        base_url: str = "https://api.elevenlabs.io",
        sample_rate: int = 22050,
        timeout_s: float = 0.8,
        retry_after_max_s: float = 0.5,
        resume_with: tts.TTS | None = None,
        http: httpx.AsyncClient | None = None,
        voice_for: Callable[[str], Voice | None] | None = None,
    ) -> None:
        if sample_rate not in PCM_RATES:
            raise ValueError(f"ElevenLabs streams PCM at {PCM_RATES}; got {sample_rate}")
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=sample_rate, num_channels=1)
        self._api_key = api_key
        self._voice_id = voice_id
        self._model = model
        self._base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._retry_after_max_s = retry_after_max_s
        self._resume_with = resume_with if resume_with is not None and resume_with.sample_rate == sample_rate else None
        # Which persona says a sentence (a panel's SpeakerVoices): their own ElevenLabs voice.
        self._voice_for = voice_for
        self._http = http or httpx.AsyncClient()
        self._owns_http = http is None

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return "elevenlabs"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _ElevenLabsStream(tts=self, input_text=text, conn_options=conn_options)

    def voice_id(self, text: str) -> str:
        """The ElevenLabs voice that says this text: its persona's, else the configured one."""
        voice = self._voice_for(text) if self._voice_for is not None else None
        return (voice.elevenlabs_voice_id if voice is not None else None) or self._voice_id

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()


class _ElevenLabsStream(tts.ChunkedStream):
    def __init__(self, *, tts: ElevenLabsTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._el = tts
        self._voice_id = tts.voice_id(input_text)  # read now: the next reply may be cued soon
        self._pushed_any = False  # some of this sentence was heard from ElevenLabs

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        el = self._el
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=el.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
            frame_size_ms=20,
        )
        try:
            await self._stream(output_emitter)
        except (APIConnectionError, APIStatusError):
            if not self._pushed_any or el._resume_with is None:
                raise
            logger.warning("ElevenLabs stream broke mid-sentence: the local voice says it again")
            async with el._resume_with.synthesize(self._input_text) as local:
                async for audio in local:
                    output_emitter.push(audio.frame.data.tobytes())
        output_emitter.flush()

    async def _stream(self, output_emitter: tts.AudioEmitter) -> None:
        el = self._el
        url = f"{el._base_url}/v1/text-to-speech/{self._voice_id}/stream"
        timeout = httpx.Timeout(el._timeout_s)
        headers = {"xi-api-key": el._api_key.get_secret_value(), "accept": "audio/pcm"}
        body = {"text": self._input_text, "model_id": el._model}
        params = {"output_format": f"pcm_{el.sample_rate}"}
        for attempt in range(2):  # a second attempt only after a short Retry-After
            try:
                async with el._http.stream("POST", url, params=params, json=body, headers=headers, timeout=timeout) as r:
                    if r.status_code == 429:
                        if await waited_to_retry(r.headers, attempt, el._retry_after_max_s):
                            continue
                    if r.status_code >= 400:
                        raise APIStatusError("ElevenLabs refused the request", status_code=r.status_code, retryable=False)
                    pushed = 0
                    odd = b""
                    async for data in r.aiter_bytes(CHUNK_BYTES):
                        data = odd + data
                        cut = len(data) - len(data) % 2  # whole 16-bit samples only
                        data, odd = data[:cut], data[cut:]
                        if data:
                            output_emitter.push(data)
                            pushed += len(data)
                            self._pushed_any = True
                    if pushed == 0:
                        raise APIConnectionError("ElevenLabs sent no audio", retryable=False)
                    return
            except httpx.TimeoutException:
                raise APITimeoutError("ElevenLabs timed out", retryable=False) from None
            except httpx.HTTPError:
                raise APIConnectionError("ElevenLabs stream broke", retryable=False) from None
        raise APIStatusError("ElevenLabs rate-limited", status_code=429, retryable=False)
