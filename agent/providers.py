"""One session's providers: the interviewer's brain, voice and ears, cloud first when configured
and the local ones last (script wording, Piper, faster-whisper), with the session's usage meter."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import openai
from livekit.agents import llm, tts

from agent.brain import InterviewerBrain
from agent.llm_openai import OpenAIInterviewerLLM, load_prompt
from agent.scripted_llm import ScriptedInterviewerLLM
from agent.stt_openai import FallbackTranscriber, OpenAITranscriber, Transcriber
from agent.tts_elevenlabs import PCM_RATES, ElevenLabsTTS
from agent.tts_piper import SpeakerVoices
from agent.usage import UsageMeter
from greenroom.settings import Settings


@dataclass(slots=True)
class SessionProviders:
    """What an interview speaks, words and hears with; built per session, closed with it."""

    llm: llm.LLM
    tts: tts.TTS
    transcriber: Transcriber
    meter: UsageMeter
    _clients: list[openai.AsyncOpenAI | httpx.AsyncClient] = field(default_factory=list)

    async def aclose(self) -> None:
        await self.llm.aclose()  # stops the fallback adapters' recovery probes
        await self.tts.aclose()
        for client in self._clients:
            await client.close() if isinstance(client, openai.AsyncOpenAI) else await client.aclose()


def build_providers(
    settings: Settings,
    *,
    planner: ScriptedInterviewerLLM,
    local_tts: tts.TTS,
    local_transcriber: Transcriber,
    voices: SpeakerVoices | None = None,
) -> SessionProviders:
    """The session's providers from the settings: each cloud one that is configured, behind a
    fallback to its local one. With nothing configured, these are the local ones alone."""
    meter = UsageMeter()
    clients: list[openai.AsyncOpenAI | httpx.AsyncClient] = []
    retry_max = settings.provider_retry_after_max_s

    brain: llm.LLM = planner
    if settings.interviewer_brain == "llm":
        key = settings.interviewer_llm_api_key or settings.llm_api_key
        client = openai.AsyncOpenAI(
            base_url=settings.interviewer_llm_base_url or settings.llm_base_url,
            api_key=key.get_secret_value() if key else "unused",
            max_retries=0,  # retries are bounded here: one, after a short Retry-After
        )
        clients.append(client)
        wording = OpenAIInterviewerLLM(
            client=client,
            model=settings.interviewer_llm_model or settings.llm_model,
            prompt=load_prompt(settings.interviewer_prompt_version),
            retry_after_max_s=retry_max,
        )
        brain = InterviewerBrain(planner, [wording], attempt_timeout_s=settings.interviewer_llm_timeout_s)
    meter.watch(brain)

    voice: tts.TTS = local_tts
    if settings.elevenlabs_api_key is not None:
        http = httpx.AsyncClient()
        clients.append(http)
        rate = local_tts.sample_rate if local_tts.sample_rate in PCM_RATES else 24000
        cloud_voice = ElevenLabsTTS(
            api_key=settings.elevenlabs_api_key,
            voice_id=settings.elevenlabs_voice_id,
            model=settings.elevenlabs_model,
            base_url=settings.elevenlabs_base_url,
            sample_rate=rate,
            timeout_s=settings.elevenlabs_timeout_s,
            retry_after_max_s=retry_max,
            resume_with=local_tts,
            http=http,
            # the persona a sentence was cued with (a panel's voices) speaks it in their cloud voice
            voice_for=None if voices is None else (lambda text: next((v for _t, v in voices.runs(text)), None)),
        )
        voice = tts.FallbackAdapter([cloud_voice, local_tts], max_retry_per_tts=0)
    meter.watch(voice)

    transcriber: Transcriber
    if settings.stt_openai_api_key is not None:
        stt_client = openai.AsyncOpenAI(
            base_url=settings.stt_openai_base_url,
            api_key=settings.stt_openai_api_key.get_secret_value(),
            max_retries=0,
        )
        clients.append(stt_client)
        cloud_ears = OpenAITranscriber(
            client=stt_client,
            model=settings.stt_openai_model,
            timeout_s=settings.stt_openai_timeout_s,
            retry_after_max_s=retry_max,
        )
        transcriber = FallbackTranscriber(cloud_ears, local_transcriber, meter=meter)
    else:
        transcriber = FallbackTranscriber(local_transcriber, local_transcriber, meter=meter, primary_name="faster-whisper")
    return SessionProviders(llm=brain, tts=voice, transcriber=transcriber, meter=meter, _clients=clients)
