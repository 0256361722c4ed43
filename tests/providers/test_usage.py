"""Cost counters: counted per provider, stored per session, returned by the session's API."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import httpx
from livekit.agents.metrics import LLMMetrics, TTSMetrics
from livekit.agents.metrics.base import Metadata

from agent.usage import UsageMeter
from api.consent import CONSENT_VERSION
from db import usage as usage_repo


def test_the_meter_counts_metrics_by_provider() -> None:
    meter = UsageMeter()
    llm_metrics = LLMMetrics(
        label="l", request_id="r", timestamp=0, duration=1, ttft=0.1, cancelled=False, completion_tokens=7,
        prompt_tokens=90, prompt_cached_tokens=0, total_tokens=97, tokens_per_second=7,
        metadata=Metadata(model_provider="openai-compatible"),
    )
    tts_metrics = TTSMetrics(
        label="t", request_id="r", timestamp=0, ttfb=0.1, duration=1, audio_duration=2, cancelled=False,
        characters_count=42, streamed=False, metadata=Metadata(model_provider="elevenlabs"),
    )
    meter.on_metrics(llm_metrics)
    meter.on_metrics(llm_metrics)
    meter.on_metrics(tts_metrics)
    meter.add_stt("openai", 1.5)
    taken = meter.take()
    assert (taken["openai-compatible"].tokens_in, taken["openai-compatible"].tokens_out) == (180, 14)
    assert taken["elevenlabs"].tts_characters == 42 and taken["openai"].stt_audio_s == 1.5
    assert meter.take() == {}  # handed over once
    assert meter.totals["elevenlabs"].tts_characters == 42


async def test_the_session_detail_returns_its_usage(app_client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    created = await app_client.post(
        "/v1/sessions",
        json={"role_track": "software_engineer", "round_type": "behavioral", "difficulty": "medium",
              "duration_min": 20, "consent_version": CONSENT_VERSION},
    )
    assert created.status_code == 201, created.text
    session_id = UUID(created.json()["session"]["id"])
    detail = (await app_client.get(f"/v1/sessions/{session_id}")).json()
    assert detail["usage"] == {"tokens_in": 0, "tokens_out": 0, "tts_characters": 0, "stt_audio_s": 0.0, "by_provider": {}}

    await usage_repo.add_usage(pool, session_id, {"elevenlabs": usage_repo.UsageCounts(tts_characters=120)})
    await usage_repo.add_usage(
        pool,
        session_id,
        {
            "elevenlabs": usage_repo.UsageCounts(tts_characters=30),
            "openai-compatible": usage_repo.UsageCounts(tokens_in=300, tokens_out=40),
            "openai": usage_repo.UsageCounts(stt_audio_s=12.5),
        },
    )
    usage = (await app_client.get(f"/v1/sessions/{session_id}")).json()["usage"]
    assert (usage["tokens_in"], usage["tokens_out"], usage["tts_characters"], usage["stt_audio_s"]) == (300, 40, 150, 12.5)
    assert usage["by_provider"]["elevenlabs"]["tts_characters"] == 150
