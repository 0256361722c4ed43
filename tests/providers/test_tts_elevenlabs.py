"""ElevenLabs streaming TTS against a local server, behind livekit's tts.FallbackAdapter."""

from __future__ import annotations

import logging
import time

import pytest
from livekit.agents import tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from pydantic import SecretStr

from agent.catalog import PERSONAS
from agent.tts_elevenlabs import ElevenLabsTTS
from agent.tts_piper import SpeakerVoices
from agent.usage import UsageMeter
from bench.fake_elevenlabs import MS_PER_CHARACTER, FakeElevenLabs, tone
from tests.providers.conftest import SECRET

RATE = 22050
TIMEOUT_S = 2.0  # generous: a loaded CI machine can be slow to the first byte
SENTENCE = "Tell me about a time you changed a team's mind."


class LocalVoice(tts.TTS):
    """The local voice in these tests: a tone a little longer than the cloud's for each text."""

    def __init__(self) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=RATE, num_channels=1)
        self.texts: list[str] = []

    @property
    def provider(self) -> str:
        return "local"

    def synthesize(self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> tts.ChunkedStream:
        self.texts.append(text)
        return _LocalStream(tts=self, input_text=text, conn_options=conn_options)


class _LocalStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(request_id=utils.shortuuid(), sample_rate=RATE, num_channels=1, mime_type="audio/pcm")
        output_emitter.push(tone(len(self._input_text) * 0.07, RATE, hz=330.0))
        output_emitter.flush()


def voices(fake: FakeElevenLabs) -> tuple[tts.FallbackAdapter, ElevenLabsTTS, LocalVoice]:
    local = LocalVoice()
    cloud = ElevenLabsTTS(
        api_key=SecretStr(SECRET),
        voice_id="voice-1",
        base_url=fake.base_url,
        sample_rate=RATE,
        timeout_s=TIMEOUT_S,
        resume_with=local,
    )
    return tts.FallbackAdapter([cloud, local], max_retry_per_tts=0), cloud, local


async def speak(voice: tts.TTS, text: str = SENTENCE) -> tuple[float, float]:
    """Seconds of audio, and seconds until its first frame."""
    started = time.monotonic()
    first_at = None
    seconds = 0.0
    async with voice.synthesize(text) as stream:
        async for audio in stream:
            first_at = first_at or time.monotonic()
            seconds += audio.frame.duration
    return seconds, (first_at or time.monotonic()) - started


async def test_streams_pcm_from_elevenlabs(fake_elevenlabs: FakeElevenLabs) -> None:
    voice, cloud, local = voices(fake_elevenlabs)
    meter = UsageMeter()
    meter.watch(voice)
    seconds, _ = await speak(voice)
    assert seconds == pytest.approx(len(SENTENCE) * MS_PER_CHARACTER / 1000.0, abs=0.03)
    request = fake_elevenlabs.requests[-1]
    assert request["voice_id"] == "voice-1" and request["params"]["output_format"] == "pcm_22050"
    assert request["headers"]["xi-api-key"] == SECRET and request["body"]["text"] == SENTENCE
    assert not local.texts
    assert meter.totals["elevenlabs"].tts_characters == len(SENTENCE)
    await cloud.aclose()


async def test_each_panel_member_speaks_in_their_own_elevenlabs_voice(fake_elevenlabs: FakeElevenLabs) -> None:
    alex, sam = PERSONAS["alex"], PERSONAS["sam"]
    cued = SpeakerVoices()
    handover = "I'll hand you to Sam for the next part."
    cued.cue([(handover, alex.voice), (SENTENCE, sam.voice)])
    cloud = ElevenLabsTTS(
        api_key=SecretStr(SECRET), voice_id="deployment-voice", base_url=fake_elevenlabs.base_url,
        sample_rate=RATE, timeout_s=TIMEOUT_S,
        voice_for=lambda text: cued.voice_for(text),
    )
    await speak(cloud, handover)
    await speak(cloud, SENTENCE)
    said_by = [r["voice_id"] for r in fake_elevenlabs.requests[-2:]]
    assert said_by == [alex.voice.elevenlabs_voice_id, sam.voice.elevenlabs_voice_id]
    assert len({p.voice.elevenlabs_voice_id for p in PERSONAS.values()}) == len(PERSONAS)  # all distinct
    # Without a persona's voice, the deployment's configured one.
    cued.cue([(SENTENCE, None)])
    await speak(cloud, SENTENCE)
    assert fake_elevenlabs.requests[-1]["voice_id"] == "deployment-voice"
    await cloud.aclose()


@pytest.mark.parametrize("failure", ["http_500", "http_401", "hang"])
async def test_a_failed_sentence_is_said_by_the_local_voice(fake_elevenlabs: FakeElevenLabs, failure: str) -> None:
    fake_elevenlabs.script.append(failure)  # type: ignore[arg-type]
    voice, cloud, local = voices(fake_elevenlabs)
    seconds, first_s = await speak(voice)
    assert local.texts == [SENTENCE] and seconds == pytest.approx(len(SENTENCE) * 0.07, abs=0.03)
    assert first_s < TIMEOUT_S + 0.5
    await cloud.aclose()


async def test_a_short_retry_after_is_waited_once(fake_elevenlabs: FakeElevenLabs) -> None:
    fake_elevenlabs.script.append("http_429")
    voice, cloud, local = voices(fake_elevenlabs)
    await speak(voice)
    assert len(fake_elevenlabs.requests) == 2 and not local.texts
    await cloud.aclose()


async def test_a_long_retry_after_falls_back_at_once(fake_elevenlabs: FakeElevenLabs) -> None:
    fake_elevenlabs.script.extend(["http_429", "http_429"])
    fake_elevenlabs.retry_after_s = "20"
    voice, cloud, local = voices(fake_elevenlabs)
    _, first_s = await speak(voice)
    assert local.texts == [SENTENCE] and first_s < 0.5
    await cloud.aclose()


@pytest.mark.parametrize("failure", ["cut", "stall"])
async def test_a_sentence_cut_midway_is_said_again_locally(fake_elevenlabs: FakeElevenLabs, failure: str) -> None:
    fake_elevenlabs.script.append(failure)  # type: ignore[arg-type]
    voice, cloud, local = voices(fake_elevenlabs)
    seconds, _ = await speak(voice)
    assert local.texts == [SENTENCE]
    assert seconds > len(SENTENCE) * 0.07  # a part from the cloud, then the whole line locally
    # The turn goes on: the next sentence is the cloud's again.
    await speak(voice, "And what happened next?")
    assert local.texts == [SENTENCE] and fake_elevenlabs.requests[-1]["body"]["text"] == "And what happened next?"
    await voice.aclose()
    await cloud.aclose()


async def test_keys_never_reach_the_logs(fake_elevenlabs: FakeElevenLabs, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake_elevenlabs.script.extend(["http_401", "cut"])
    voice, cloud, _ = voices(fake_elevenlabs)
    await speak(voice)
    await speak(voice)
    assert caplog.records and SECRET not in caplog.text
    assert all(SECRET not in str(r.__dict__) for r in caplog.records)
    assert SECRET not in repr(cloud.__dict__)
    await voice.aclose()
    await cloud.aclose()
