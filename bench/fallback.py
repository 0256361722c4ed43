"""Provider failure bench: the longest silence a candidate hears when cloud providers fail.

What it measures, plainly: the interviewer's reply pipeline as agent/worker.py builds it
(agent/providers.build_providers: the LLM interviewer brain behind llm.FallbackAdapter with the
script's wording last; ElevenLabs behind tts.FallbackAdapter with the real Piper voice last),
driven turn by turn the way AgentSession's llm and tts nodes drive it: the reply's text streams
into livekit's sentence-by-sentence tts.StreamAdapter and the audio is "played" on a real-time
playout clock. It does not go through AgentSession, the room or WebRTC (no VAD, STT or media
path): it measures the silence providers cause, not turn-taking or network time.

The cloud side is local servers speaking the wire protocols (bench/fake_openai.py, an
OpenAI-compatible chat stream with a fixed first-token delay; bench/fake_elevenlabs.py,
ElevenLabs' streaming PCM). Across the interview: the LLM stops streaming mid-reply, the cloud
TTS dies mid-sentence and stays dead, and the LLM hangs before its first token.

Silence: from the moment a reply is asked for (the candidate's turn ended) to its first audio,
and every gap in the reply's audio after that. Prints one JSON line last:
{"max_silence_ms": …, "turns": […]} — target max_silence_ms <= 2000.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import tts
from livekit.agents.llm import ChatContext
from pydantic import SecretStr

from agent.interviewer import InterviewPlan, InterviewScript
from agent.providers import build_providers
from agent.question_bank import QuestionBank
from agent.scripted_llm import ScriptedInterviewerLLM
from agent.tts_piper import PiperEngine, PiperTTS
from bench.live_server import serve
from greenroom.settings import Settings
from bench.fake_elevenlabs import FakeElevenLabs
from bench.fake_openai import FakeOpenAI

FIRST_TOKEN_DELAY_S = 0.3
ANSWER = (
    "Last year I led the migration of our billing service to a new queue. I planned the cut-over, "
    "wrote the rollback plan, and we finished two weeks early, which cut failed payments by 40 percent."
)


@dataclass(slots=True)
class TurnResult:
    """One reply: what failed in it, its silence before the first audio, and its longest gap."""

    turn: int
    failure: str
    first_audio_ms: float
    max_gap_ms: float
    audio_s: float
    text: str = field(repr=False, default="")

    @property
    def max_silence_ms(self) -> float:
        return max(self.first_audio_ms, self.max_gap_ms)


async def play_reply(brain: Any, voice: tts.TTS, ctx: ChatContext) -> tuple[float, float, float, str]:
    """Streams one reply through the brain and the voice; returns silence before the first audio,
    the longest gap while it played, seconds of audio, and the text, all on a real-time playout."""
    asked_at = time.monotonic()
    synth = tts.StreamAdapter(tts=voice).stream()
    said: list[str] = []

    async def feed() -> None:
        async with brain.chat(chat_ctx=ctx) as stream:
            async for chunk in stream:
                if chunk.delta and chunk.delta.content:
                    said.append(chunk.delta.content)
                    synth.push_text(chunk.delta.content)
        synth.end_input()

    feeder = asyncio.create_task(feed())
    first_ms: float | None = None
    max_gap_s = 0.0
    played_until = asked_at
    audio_s = 0.0
    async for audio in synth:
        now = time.monotonic()
        if first_ms is None:
            first_ms = (now - asked_at) * 1000.0
            played_until = now
        elif now > played_until:
            max_gap_s = max(max_gap_s, now - played_until)
            played_until = now
        played_until += audio.frame.duration
        audio_s += audio.frame.duration
    await feeder
    await synth.aclose()
    return first_ms or 0.0, max_gap_s * 1000.0, audio_s, "".join(said)


async def run(turns: int) -> dict[str, Any]:
    llm_fake, voice_fake = FakeOpenAI(), FakeElevenLabs()
    llm_fake.first_token_delay_s = FIRST_TOKEN_DELAY_S
    voice_fake.chunk_delay_s = 0.05
    piper = await asyncio.to_thread(PiperEngine)
    # failures by turn (1-based): which provider misbehaves in that reply
    plan_failures = {2: "llm stops mid-reply", 3: "tts dies mid-sentence", 4: "llm hangs before its first token"}
    results: list[TurnResult] = []
    async with serve(llm_fake.app) as llm_url, serve(voice_fake.app) as voice_url:
        settings = Settings(
            _env_file=None,
            interviewer_brain="llm",
            interviewer_llm_base_url=f"{llm_url}/v1",
            interviewer_llm_api_key=SecretStr("sk-bench"),
            elevenlabs_api_key=SecretStr("xi-bench"),
            elevenlabs_base_url=voice_url,
        )
        plan = InterviewPlan(role_track="software_engineer", round_type="behavioral", difficulty="medium", duration_s=1800)
        script = InterviewScript(plan, QuestionBank.load())
        providers = build_providers(
            settings,
            planner=ScriptedInterviewerLLM(script),
            local_tts=PiperTTS(piper),
            local_transcriber=None,  # type: ignore[arg-type]  # no candidate audio in this bench
        )
        # As the worker does at the start of an interview: the script's sure lines, synthesised ahead.
        await asyncio.to_thread(piper.prewarm, script.prepared_lines)
        ctx = ChatContext.empty()
        try:
            for turn in range(1, turns + 1):
                failure = plan_failures.get(turn, "none")
                if failure == "llm stops mid-reply":
                    llm_fake.stream_text = "That's a clear example of ownership, thank you. I'd like to go a level deeper."
                    llm_fake.stream_script.append("stream_stall")
                elif failure == "tts dies mid-sentence":
                    voice_fake.script.append("cut")
                    voice_fake.default = "http_500"  # and stays dead for the rest of the interview
                elif failure == "llm hangs before its first token":
                    llm_fake.stream_script.append("hang")
                first_ms, gap_ms, audio_s, text = await play_reply(providers.llm, providers.tts, ctx)
                results.append(TurnResult(turn, failure, round(first_ms, 1), round(gap_ms, 1), round(audio_s, 2), text))
                print(
                    f"turn {turn} ({failure}): first audio {first_ms:.0f} ms, longest gap {gap_ms:.0f} ms",
                    file=sys.stderr,
                )
                ctx.add_message(role="assistant", content=text)
                ctx.add_message(role="user", content=ANSWER)
                if script.finished:
                    break
        finally:
            llm_fake.release()
            voice_fake.release()
            await providers.aclose()
    return {
        "max_silence_ms": round(max(r.max_silence_ms for r in results), 1),
        "target_ms": 2000,
        "turns": [
            {"turn": r.turn, "failure": r.failure, "first_audio_ms": r.first_audio_ms, "max_gap_ms": r.max_gap_ms}
            for r in results
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="five turns instead of eight")
    args = parser.parse_args(argv)
    result = asyncio.run(run(5 if args.quick else 8))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
