"""OpenAI transcription against a local server, with the local engine standing in."""

from __future__ import annotations

import logging

import numpy as np
import openai
import pytest

from agent.stt_openai import FallbackTranscriber, OpenAITranscriber
from agent.stt_whisper import Transcript, Word
from agent.usage import UsageMeter
from tests.providers.conftest import SECRET
from tests.scoring.fake_openai import TRANSCRIPT_TEXT, FakeOpenAI

LOCAL_TEXT = "the local engine heard this"
AUDIO = np.zeros(16000 * 2, dtype=np.float32)  # two seconds


class LocalEngine:
    """Stands in for faster-whisper: answers at once with a fixed transcript."""

    def __init__(self) -> None:
        self.calls = 0

    async def transcribe(self, samples: np.ndarray, *, prompt: str | None = None) -> Transcript:
        self.calls += 1
        return Transcript(text=LOCAL_TEXT, words=(Word("the", 0.0, 0.2, 0.9),), audio_s=len(samples) / 16000, compute_ms=1.0)


def ears(fake: FakeOpenAI, meter: UsageMeter) -> tuple[FallbackTranscriber, LocalEngine]:
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=SECRET, max_retries=0)
    local = LocalEngine()
    cloud = OpenAITranscriber(client=client, model="whisper-1", timeout_s=2.0, retry_after_max_s=0.5)
    return FallbackTranscriber(cloud, local, meter=meter), local


async def test_transcribes_with_word_times(fake_openai: FakeOpenAI) -> None:
    meter = UsageMeter()
    transcriber, local = ears(fake_openai, meter)
    result = await transcriber.transcribe(AUDIO)
    assert result.text == TRANSCRIPT_TEXT and result.words[1].text == "led" and result.words[1].start == pytest.approx(0.3)
    assert local.calls == 0 and meter.totals["openai"].stt_audio_s == pytest.approx(2.0)
    assert fake_openai.headers_seen[-1]["content-type"].startswith("multipart/form-data")


@pytest.mark.parametrize("failure", ["http_500", "malformed", "hang"])
async def test_a_failure_is_transcribed_locally(fake_openai: FakeOpenAI, failure: str) -> None:
    fake_openai.transcription_script.append(failure)  # type: ignore[arg-type]
    meter = UsageMeter()
    transcriber, local = ears(fake_openai, meter)
    result = await transcriber.transcribe(AUDIO)
    assert result.text == LOCAL_TEXT and local.calls == 1
    assert meter.totals["faster-whisper"].stt_audio_s == pytest.approx(2.0) and "openai" not in meter.totals


async def test_retry_after_is_waited_once_when_short(fake_openai: FakeOpenAI) -> None:
    fake_openai.transcription_script.extend(["http_429", "http_429", "http_429"])
    transcriber, local = ears(fake_openai, UsageMeter())
    fake_openai.retry_after_s = "0.1"
    assert (await transcriber.transcribe(AUDIO)).text == LOCAL_TEXT  # 429 twice: local
    assert fake_openai.transcriptions == 2
    fake_openai.retry_after_s = "10"
    await transcriber.transcribe(AUDIO)  # a long wait: local at once
    assert fake_openai.transcriptions == 3 and local.calls == 2
    assert (await transcriber.transcribe(AUDIO)).text == TRANSCRIPT_TEXT


async def test_keys_never_reach_the_logs(fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake_openai.transcription_script.extend(["http_500", "malformed"])
    transcriber, _ = ears(fake_openai, UsageMeter())
    await transcriber.transcribe(AUDIO)
    await transcriber.transcribe(AUDIO)
    assert fake_openai.headers_seen[0]["authorization"] == f"Bearer {SECRET}"
    assert caplog.records and SECRET not in caplog.text
    assert all(SECRET not in str(r.__dict__) for r in caplog.records)
