"""A sound just as the interviewer's reply starts: does the interviewer come back with its reply?

A candidate who clears their throat, sighs, hums or says "Okay." as the interviewer starts to
speak has not gone on with the answer. The interviewer cannot tell that from more words in the
100 ms it has, so it may stop (it must, for a candidate who goes on); what matters is what comes
next: the same reply again within a few seconds, not silence (the session replies only to new
words, and a throat clear has none) and not "Take your time." for an answer that was over.

Starts the whole app in process (embedded room, offline voice models) as bench/turn_taking.py
does, and in behavioral sessions over real WebRTC plays short complete answers
(bench/turn_latency.py's, espeak-ng); SOUND_AFTER_S into each reply's audio it plays one sound:
a synthetic throat clear, sigh, chair creak or cough (bench/room_sounds.py), or espeak-ng saying
"Mm hmm", "Okay", "Uh" or "Sorry". Times are the client's: the sound's last sample sent, the
interviewer's voiced frames received.

  sounds               sounds played, each over its own reply
  yielded              replies the interviewer stopped for the sound ('interviewer_yielded')
  silent               of those, replies that did not come back within BACK_TIMEOUT_S (target 0)
  back_after_s_p50, _max  the sound's end -> the interviewer's voice again, over yields
  extra_s_p50, _max    back_after_s less the answer's own reply time (its end -> the first reply):
                       the wait the sound added (about 0 when the answer is read as before)
  replies_again        came back with the reply
  prompts              came back with a gentle prompt ("Take your time.") instead (target 0)
  questions_twice      answers after which more than one question was asked (the reply and the
                       reply made again both counted; target 0; a follow-up asks none)
  responses_per_answer stored responses / answers (target 1: the sound made no answer of its own)
  by_sound             the same per sound

Run: .venv/bin/python -m bench.sound_over_reply [--quick] [--rounds N]; the last stdout line is JSON.
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before anything imports ONNX Runtime

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.worker import GENTLE_PROMPTS, VoiceModels  # noqa: E402
from bench.face_media import camera_frames  # noqa: E402
from bench.live_server import serve, sign_up  # noqa: E402
from bench.room_sounds import MAKERS, SAMPLE_RATE as SOUND_RATE  # noqa: E402
from bench.rtc_client import ClientError, Microphone, RoomClient, Speech, espeak  # noqa: E402
from bench.turn_latency import ANSWERS, database  # noqa: E402
from bench.turn_taking import (  # noqa: E402
    CAMERA_LOOP_FRAMES,
    REPLY_TIMEOUT_S,
    as_microphone,
    bench_settings,
    join_session,
    say,
    until_quiet,
)
from greenroom.server import build_app  # noqa: E402

SYNTHETIC = ("throat", "sigh", "creak", "cough")  # bench/room_sounds.py
SAID = {"hum": "Mm hmm", "okay": "Okay", "uh": "Uh", "sorry": "Sorry"}  # espeak-ng says these
SOUNDS = (*SYNTHETIC, *SAID)
SOUND_AFTER_S = 0.4  # the sound starts this far into the reply's audio
YIELD_WITHIN_S = 3.0  # an 'interviewer_yielded' event later than this is not the sound's
BACK_TIMEOUT_S = 15.0
ANSWERS_PER_SESSION = 8
SEED = 5


@dataclass(slots=True)
class Result:
    sound: str
    reply_ms: float | None  # the answer's end -> the interviewer's voice
    yielded: bool
    back_after_s: float | None  # the sound's end -> the interviewer's voice again (yields only)
    came_back_with: str  # reply | prompt | none ("" when it did not yield)
    questions: int  # 'question' events from the reply's start to the next answer


def sound_speech(kind: str, rng: np.random.Generator, workdir: Path) -> Speech:
    if kind in SAID:
        return espeak(SAID[kind], workdir, speed=150)
    return Speech("", as_microphone(MAKERS[kind](rng), SOUND_RATE))


def final_interviewer_lines(client: RoomClient, after: int) -> list[str]:
    return [
        e["text"] for e in client.events[after:]
        if e.get("type") == "caption" and e.get("speaker") == "interviewer" and e.get("final")
    ]  # fmt: skip


async def sound_over_reply(
    client: RoomClient, microphone: Microphone, voice: Any, answer: Speech, sound: Speech, kind: str
) -> Result:
    """Play the answer, then the sound SOUND_AFTER_S into the reply; see what the interviewer does."""
    await until_quiet(client, voice)
    end = await asyncio.wait_for(microphone.say(answer), timeout=answer.duration_s + 15)
    try:
        reply_at = await voice.first_voice_after(end, timeout=REPLY_TIMEOUT_S)
    except ClientError:
        return Result(kind, None, False, None, "", 0)
    before = len(client.events)

    def questions() -> int:
        return sum(1 for e in client.events[before:] if e.get("type") == "question")

    await asyncio.sleep(max(0.0, reply_at + SOUND_AFTER_S - time.monotonic()))
    sound_end = await asyncio.wait_for(microphone.say(sound), timeout=sound.duration_s + 10)
    deadline = sound_end + YIELD_WITHIN_S
    while not any(e.get("type") == "interviewer_yielded" for e in client.events[before:]):
        if time.monotonic() > deadline:
            await until_quiet(client, voice)  # the reply plays on, whole
            return Result(kind, (reply_at - end) * 1000, False, None, "", questions())
        await asyncio.sleep(0.05)
    await voice.quiet_for(0.3, timeout=YIELD_WITHIN_S)
    stopped_at = time.monotonic()
    said_before = len(final_interviewer_lines(client, before))
    try:
        back_at: float | None = await voice.first_voice_after(stopped_at, timeout=BACK_TIMEOUT_S)
    except ClientError:
        back_at = None
    with_what = "none"
    if back_at is not None:
        with contextlib.suppress(ClientError):
            await until_quiet(client, voice)
        said = final_interviewer_lines(client, before)[said_before:]
        with_what = "prompt" if said and said[0] in GENTLE_PROMPTS else "reply"
    back_after = None if back_at is None else back_at - sound_end
    return Result(kind, (reply_at - end) * 1000, True, back_after, with_what, questions())


def figures(results: list[Result]) -> dict[str, Any]:
    yields = [r for r in results if r.yielded]
    backs = [r.back_after_s for r in yields if r.back_after_s is not None]
    extra = [r.back_after_s - r.reply_ms / 1000 for r in yields if r.back_after_s is not None and r.reply_ms is not None]
    return {
        "sounds": len(results),
        "yielded": len(yields),
        "silent": sum(r.back_after_s is None for r in yields),
        "back_after_s_p50": round(statistics.median(backs), 2) if backs else None,
        "back_after_s_max": round(max(backs), 2) if backs else None,
        # what the sound cost: back after it, against the answer's own first reply time
        "extra_s_p50": round(statistics.median(extra), 2) if extra else None,
        "extra_s_max": round(max(extra), 2) if extra else None,
        "replies_again": sum(r.came_back_with == "reply" for r in yields),
        "prompts": sum(r.came_back_with == "prompt" for r in yields),
        "questions_twice": sum(r.questions > 1 for r in results),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    rounds = 1 if args.quick else args.rounds
    kinds = [k for _ in range(rounds) for k in SOUNDS]
    rng = np.random.default_rng(SEED)
    results: list[Result] = []
    responses = answers_played = 0
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="greenroom-bench-") as tmp:
        workdir = Path(tmp)
        answers = [espeak(text, workdir, speed=speed) for text, speed in ANSWERS]
        sounds = [sound_speech(k, rng, workdir) for k in kinds]
        frames = camera_frames(CAMERA_LOOP_FRAMES)
        async with database(workdir) as url:
            settings = bench_settings(workdir, url)
            say("loading voice models")
            models = await asyncio.to_thread(VoiceModels.load, settings, say)
            app = build_app(settings, models=models)
            async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=120) as http:
                await sign_up(http)
                for start in range(0, len(kinds), ANSWERS_PER_SESSION):
                    joined = await join_session(http, base_url, "behavioral", frames)
                    session_id, client = joined.session_id, joined.client
                    try:
                        played = 0
                        for i in range(start, min(start + ANSWERS_PER_SESSION, len(kinds))):
                            r = await sound_over_reply(
                                client, joined.microphone, joined.voice, answers[i % len(answers)], sounds[i], kinds[i]
                            )
                            played += 1
                            results.append(r)
                            say(f"  {len(results)}. {r.sound}: " + (
                                f"stopped, back after {r.back_after_s:.2f} s with the {r.came_back_with}"
                                if r.back_after_s is not None else "stopped, SILENT" if r.yielded else "not stopped"
                            ))  # fmt: skip
                        await asyncio.sleep(2.0)  # the last response row lands
                        await http.post(f"/v1/sessions/{session_id}/end")
                    finally:
                        await client.close()
                    responses += await app.state.pool.fetchval(
                        "SELECT count(*) FROM responses WHERE session_id = $1", uuid.UUID(session_id)
                    )
                    answers_played += played
                    await http.delete(f"/v1/sessions/{session_id}")
    by_sound = {k: figures([r for r in results if r.sound == k]) for k in SOUNDS}
    if args.details:
        args.details.write_text(json.dumps([asdict(r) for r in results], indent=1))
    return {
        "label": args.label,
        "mode": "quick" if args.quick else "full",
        **figures(results),
        "responses_per_answer": round(responses / answers_played, 3) if answers_played else None,
        "by_sound": {k: {f: v for f, v in fig.items() if f != "sounds"} for k, fig in by_sound.items()},
        "bench_min": round((time.monotonic() - began) / 60, 1),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sound_over_reply", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"each of the {len(SOUNDS)} sounds once")
    parser.add_argument("--rounds", type=int, default=3, help="each sound this many times (default 3)")
    parser.add_argument("--label", default="", help="echoed in the JSON")
    parser.add_argument("--details", type=Path, help="write per-sound results here as JSON")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args()))))
