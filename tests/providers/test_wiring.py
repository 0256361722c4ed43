"""The settings choose each session's providers: local by default, cloud first when configured."""

from __future__ import annotations

import numpy as np
import pytest
from livekit.agents import tts
from pydantic import SecretStr

from agent.brain import InterviewerBrain
from agent.interviewer import InterviewScript
from agent.providers import build_providers
from agent.scripted_llm import ScriptedInterviewerLLM
from agent.stt_openai import FallbackTranscriber
from greenroom.settings import Settings, SettingsError
from tests.providers.test_stt_openai import LocalEngine
from tests.providers.test_tts_elevenlabs import LocalVoice


def test_the_llm_brain_needs_an_endpoint() -> None:
    with pytest.raises(SettingsError, match="GREENROOM_INTERVIEWER_LLM_BASE_URL"):
        Settings(_env_file=None, interviewer_brain="llm")
    shared = Settings(_env_file=None, interviewer_brain="llm", llm_base_url="http://127.0.0.1:9/v1")
    assert shared.interviewer_llm_base_url is None  # the evaluator's endpoint serves both


async def test_local_providers_by_default(script: InterviewScript) -> None:
    planner = ScriptedInterviewerLLM(script)
    local = LocalVoice()
    providers = build_providers(Settings(_env_file=None), planner=planner, local_tts=local, local_transcriber=LocalEngine())
    assert providers.llm is planner and providers.tts is local
    await providers.transcriber.transcribe(np.zeros(16000, dtype=np.float32))
    assert providers.meter.totals["faster-whisper"].stt_audio_s == 1.0
    await providers.aclose()


async def test_cloud_providers_first_when_configured(script: InterviewScript, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEVENLABS_API_KEY", "xi-secret")
    settings = Settings(
        _env_file=None,
        interviewer_brain="llm",
        interviewer_llm_base_url="http://127.0.0.1:9/v1",
        stt_openai_api_key=SecretStr("sk-secret"),
    )
    assert settings.elevenlabs_api_key is not None and "xi-secret" not in repr(settings)
    providers = build_providers(
        settings, planner=ScriptedInterviewerLLM(script), local_tts=LocalVoice(), local_transcriber=LocalEngine()
    )
    assert isinstance(providers.llm, InterviewerBrain)
    assert isinstance(providers.tts, tts.FallbackAdapter) and providers.tts.provider == "elevenlabs"
    assert isinstance(providers.transcriber, FallbackTranscriber)
    await providers.aclose()
