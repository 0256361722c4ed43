"""Turn latency over the real WebRTC path: spoken answers in, the interviewer's first audio back.

Starts the whole app (API, embedded room server, interviewer with the offline voice models)
on loopback, schedules a 30-minute interview over HTTP, joins it with an aiortc client and,
for each turn, waits for the interviewer to finish speaking, plays a spoken answer (espeak-ng)
as the client's microphone, then silence, and times the reply. The client also publishes a
640x480 15 fps camera of the synthetic astronaut face (bench/face_media.py; --no-video to
leave it out), so with --signals on the delivery-signal consumer analyses a real face at
face_sample_fps beside the interview; with --signals off the server still receives and
decodes that video, so the two runs differ only by the signal work.

Figures, in milliseconds:

  p50_ms, p95_ms            client-measured: end of the candidate's speech (the sample-accurate
                            time the client's microphone sent the last speech sample) to the first
                            non-silent interviewer audio frame the client received. Includes the
                            media path both ways (Opus, RTP on loopback, jitter buffers).
  server_p50_ms, server_p95_ms
                            the product's metric, from the turn_latency table: end of candidate
                            speech (as the server's VAD places it, so after the way in) to the
                            first interviewer audio frame leaving the server.
  spread_ms                 how much the client figure varies from turn to turn: p95 - p5.
  server_stt_p50_ms         of the server figure, the recognition left to do after speech end.

Progress goes to stderr; the last line of stdout is one JSON object with these figures.
The database is GREENROOM_TEST_DATABASE_URL or DATABASE_URL when set (the bench deletes its
session afterwards), else an embedded PostgreSQL in a temporary directory.

Run: .venv/bin/python -m bench.turn_latency [--quick | --turns N] [--signals on|off] [--no-video]
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before anything imports ONNX Runtime

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.worker import VoiceModels  # noqa: E402
from api.consent import CONSENT_VERSION  # noqa: E402
from bench.live_server import serve, sign_up  # noqa: E402
from bench.signals import face_counts  # noqa: E402
from bench.face_media import camera_frames  # noqa: E402
from bench.rtc_client import Camera, ClientError, Microphone, RoomClient, Speech, espeak  # noqa: E402
from greenroom.server import build_app  # noqa: E402
from greenroom.settings import Settings  # noqa: E402

QUICK_TURNS = 5
FULL_TURNS = 20
SESSION = {
    "role_track": "software_engineer",
    "round_type": "behavioral",
    "difficulty": "medium",
    "duration_min": 30,  # far longer than the bench, so the interviewer never closes
    "consent_version": CONSENT_VERSION,
}
# (words, espeak-ng speed): substantive answers with an example and a result, so the
# interviewer mostly moves on, and a few thin ones that draw a follow-up.
ANSWERS: tuple[tuple[str, int], ...] = (
    ("At my last job our checkout kept timing out, so I profiled it, added a missing index, "
     "and as a result pages loaded sixty percent faster.", 195),
    ("In my previous role two teammates disagreed about a release date. I set up a short "
     "meeting, we agreed on a phased launch, and it shipped on time.", 190),
    ("Last year I broke some customer reports during a data migration, so I told my manager "
     "right away, fixed it that night, and we added checks afterwards.", 195),
    ("I would say I stay calm under pressure and keep people informed.", 170),
    ("When I joined my current team the onboarding docs were stale, so I rewrote them over "
     "two weeks, and the next three hires were productive within days.", 195),
    ("During my internship I led a project to automate our test runs, and as a result we cut "
     "the time to release from a day to two hours.", 190),
    ("Mostly by listening first, then asking questions.", 165),
    ("One time a customer escalated a billing error to our director. I took ownership, fixed "
     "the root cause in our invoicing code, and we kept the account.", 190),
    ("At my last company I learned Kubernetes quickly for a migration by pairing with an "
     "expert, and we moved twelve services with no downtime at all.", 195),
    ("I think the result was that the team trusted each other more.", 175),
)
MIN_ANSWER_S, MAX_ANSWER_S = 2.0, 8.0
QUIET_S = 1.0  # silence after voice that means the interviewer has finished speaking
CONNECT_TIMEOUT_S = 20.0
FIRST_QUESTION_TIMEOUT_S = 60.0
REPLY_TIMEOUT_S = 20.0
SPEAKING_TIMEOUT_S = 90.0
SERVER_ROWS_TIMEOUT_S = 10.0
CAMERA_LOOP_FRAMES = 60  # 4 s of camera at 15 fps, played in a loop


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.turn_latency",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1].rstrip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_TURNS} turns instead of {FULL_TURNS}")
    parser.add_argument("--turns", type=int, help="number of spoken turns (overrides --quick)")
    parser.add_argument(
        "--signals", choices=("on", "off"), default="on", help="the delivery-signal consumer (Settings.signals_enabled)"
    )
    parser.add_argument(
        "--video", action=argparse.BooleanOptionalAction, default=True, help="publish the synthetic face camera"
    )
    args = parser.parse_args(argv)
    args.turns = args.turns or (QUICK_TURNS if args.quick else FULL_TURNS)
    if args.turns < 1:
        parser.error("--turns must be at least 1")
    return args


@asynccontextmanager
async def database(workdir: Path) -> AsyncIterator[str]:
    """The database to use: from the environment, else an embedded PostgreSQL in workdir."""
    url = os.environ.get("GREENROOM_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        say("using the database from the environment")
        yield url
        return
    from db.embedded import EmbeddedPostgres

    say("starting embedded PostgreSQL")
    pg = EmbeddedPostgres(workdir)
    try:
        yield await asyncio.to_thread(pg.start)
    finally:
        await asyncio.to_thread(pg.stop)


def synthesize_answers(workdir: Path) -> list[Speech]:
    answers = [espeak(text, workdir, speed=speed) for text, speed in ANSWERS]
    for speech in answers:
        if not MIN_ANSWER_S <= speech.duration_s <= MAX_ANSWER_S:
            raise SystemExit(f"answer of {speech.duration_s:.1f} s is outside {MIN_ANSWER_S}-{MAX_ANSWER_S} s")
    return answers


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1)


async def run_turns(
    ws_url: str, token: str, answers: list[Speech], turns: int, camera: Camera | None = None
) -> tuple[list[float], int]:
    """Joins the session's room and plays the turns; returns (client latencies in ms, overlaps)."""
    client = await RoomClient.connect(ws_url)
    latencies: list[float] = []
    overlaps = 0  # turns where the interviewer spoke before the answer was over
    try:
        await client.join(token)
        microphone = Microphone()
        voice = await client.publish(microphone, camera=camera, timeout=CONNECT_TIMEOUT_S)
        question = await client.next_event("question", timeout=FIRST_QUESTION_TIMEOUT_S)
        say(f"joined; interviewer asks question {question['seq']}")
        await voice.first_voice_after(0.0, timeout=FIRST_QUESTION_TIMEOUT_S)
        await voice.quiet_for(QUIET_S, timeout=SPEAKING_TIMEOUT_S)

        for turn in range(1, turns + 1):
            speech = answers[(turn - 1) % len(answers)]
            started_at = time.monotonic()
            speech_end = await asyncio.wait_for(microphone.say(speech), speech.duration_s + 10)
            if any(started_at <= t < speech_end for t in voice.voiced_at):
                overlaps += 1
                say(f"turn {turn}: the interviewer spoke during the answer")
            reply_at = await voice.first_voice_after(speech_end, timeout=REPLY_TIMEOUT_S)
            latencies.append((reply_at - speech_end) * 1000.0)
            if any(e["type"] == "room_closed" for e in client.events):
                raise ClientError("the room closed during the bench")
            await voice.quiet_for(QUIET_S, timeout=SPEAKING_TIMEOUT_S)
            asked = [e for e in client.events if e["type"] == "question"][-1]
            say(
                f"turn {turn}/{turns}: answer {speech.duration_s:.1f} s, "
                f"first interviewer audio after {latencies[-1]:.0f} ms "
                f"(now on question {asked['seq']}, {asked['source']})"
            )
    finally:
        await client.close()
    return latencies, overlaps


async def server_latencies(
    pool: asyncpg.Pool, session_id: str, expected: int
) -> tuple[list[float], list[float]]:
    """The turn_latency rows of the session: (latency_ms, stt_ms), waiting a little for the last ones."""
    deadline = time.monotonic() + SERVER_ROWS_TIMEOUT_S
    while True:
        rows = await pool.fetch(
            "SELECT latency_ms, stt_ms FROM turn_latency WHERE session_id = $1 ORDER BY turn_seq",
            uuid.UUID(session_id),
        )
        if len(rows) >= expected or time.monotonic() > deadline:
            return (
                [float(r["latency_ms"]) for r in rows],
                [float(r["stt_ms"]) for r in rows if r["stt_ms"] is not None],
            )
        await asyncio.sleep(0.2)


async def main(turns: int, signals: bool = True, video: bool = True) -> dict[str, float | int | str | None]:
    with tempfile.TemporaryDirectory(prefix="greenroom-bench-") as tmp:
        workdir = Path(tmp)
        answers = synthesize_answers(workdir / "speech")
        camera = Camera(camera_frames(CAMERA_LOOP_FRAMES)) if video else None
        say(f"{len(answers)} answers of {min(a.duration_s for a in answers):.1f}-{max(a.duration_s for a in answers):.1f} s")
        async with database(workdir) as url:
            settings = Settings(
                _env_file=None,
                database_url=url,
                data_dir=workdir / "data",
                ice_bind_addresses=["127.0.0.1"],
                signals_enabled=signals,
            )
            say("loading voice models")
            models = await asyncio.to_thread(VoiceModels.load, settings, say)
            app = build_app(settings, models=models)
            async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=15) as http:
                say(f"serving on {base_url}; {turns} turns; signals {'on' if signals else 'off'}; video {'on' if video else 'off'}")
                await sign_up(http)
                response = await http.post("/v1/sessions", json=SESSION)
                response.raise_for_status()
                session_id, room = response.json()["session"]["id"], response.json()["room"]
                ws_url = base_url.replace("http://", "ws://", 1) + room["signal_url"]
                try:
                    client_ms, overlaps = await run_turns(ws_url, room["token"], answers, turns, camera)
                    server_ms, stt_ms = await server_latencies(app.state.pool, session_id, len(client_ms))
                    face = face_counts(app.state.interviews, session_id)
                finally:
                    await http.delete(f"/v1/sessions/{session_id}")
    say(f"client figures (ms): {[round(v) for v in client_ms]}")
    say(f"server figures (ms, {len(server_ms)} rows): {[round(v) for v in server_ms]}; stt after speech end: {[round(v) for v in stt_ms]}")
    if overlaps:
        say(f"{overlaps} turn(s) had the interviewer speaking before the answer ended")
    return {
        "signals": "on" if signals else "off",
        "video": video,
        "turns": len(client_ms),
        "p50_ms": percentile(client_ms, 50),
        "p95_ms": percentile(client_ms, 95),
        "server_p50_ms": percentile(server_ms, 50) if server_ms else None,
        "server_p95_ms": percentile(server_ms, 95) if server_ms else None,
        "spread_ms": round(percentile(client_ms, 95) - percentile(client_ms, 5), 1),
        # recognition left after the candidate stopped (part of the server figure)
        "server_stt_p50_ms": percentile(stt_ms, 50) if stt_ms else None,
        # the signal consumer's face work over the whole session (None with signals off)
        "face_frames_analysed": face.analysed if face else None,
        "face_frames_dropped": face.dropped if face else None,
    }


if __name__ == "__main__":
    args = parse_args()
    result = asyncio.run(main(args.turns, signals=args.signals == "on", video=args.video))
    print(json.dumps(result))
