"""How many full interviews (voice and delivery signals) this machine holds at once, at target.

The server runs as a user runs it, one `greenroom serve` process (API, embedded room server,
interviewer with the offline voice models, signals on). This process plays the candidates: for
N = 1, 2, 3, … it runs N interviews at the same time, each an aiortc client with a camera
answering from the corpus (bench/answer_corpus.py: thinking pauses of 0.5-4 s, fillers,
espeak-ng and Piper voices), and measures each answer as turn_taking.py does. A candidate's
browser encodes its camera on its own machine, so the clients send a clip encoded once
(VP8, 640x480, 15 fps); the 2 cores are the server's, less the clients' light RTP work.
By default the N interviews start together, and as their answers are of similar length their
turns end within a second or two of each other: the worst case for the reply's latency (three
final transcriptions, second listens and first sentences at once). --stagger S starts
interview i S*i seconds after the first, as people who do not share a clock would.
N meets the targets when, over its answers:

  false cut-offs (pauses of 3 s or less) <= 3%     talk-over p95 <= 300 ms
  end of answer -> first interviewer audio p50 <= 1200 ms and p95 <= 2500 ms
  replies missed = 0                                 one response per answer (stored)
  answers left = 0 (an interview that ended before all its answers were played, such as a
  connection lost when the clients' ICE consent checks go unanswered for 30 s, counts as a miss)

A few dozen pauses cannot show a rate of 3%: one cut-off in 20 reads as 5%. So the cut-off
target counts as missed only when the data rule it out, when the 95% Wilson interval of the
rate lies wholly above 3% (the rate and its interval are printed either way).

Prints, per N, those figures, how long the slowest candidate waited for the greeting once
connected (opening_ms_max, not a target), and the CPU the server and the clients used, and on the last
line one JSON object:
{"max_sessions": the largest N that met every target (0: none did), "by_n": {...}}. It stops
at the first N that misses, or at --max.

Run: .venv/bin/python -m bench.capacity [--quick] [--start N] [--max N] [--answers-per-session K]
     [--stagger S] [--server-log FILE] [--details FILE]
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before anything imports ONNX Runtime

import argparse
import asyncio
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402

from bench.answer_corpus import build_corpus  # noqa: E402
from bench.face_media import camera_frames  # noqa: E402
from bench.live_server import serve_process, sign_up  # noqa: E402
from bench.rtc_client import vp8_packets  # noqa: E402
from bench.turn_latency import database  # noqa: E402
from bench.turn_taking import (  # noqa: E402
    CAMERA_LOOP_FRAMES,
    AnswerResult,
    compare,
    details,
    fetch_stored,
    play_session,
    say,
    stored_figures,
    turn_figures,
)

CUTOFF_TARGET = 0.03
TARGETS = {
    "talk_over_ms_p95": 300.0,
    "end_to_first_audio_p50_ms": 1200.0,
    "end_to_first_audio_p95_ms": 2500.0,
}


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a rate of k in n (95% by default)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def meets(figures: dict[str, Any]) -> list[str]:
    """The targets these figures miss (empty: all met)."""
    missed = [k for k, limit in TARGETS.items() if figures.get(k) is None or figures[k] > limit]
    low, _high = wilson_interval(figures["cutoffs_le3s"], figures["pauses_le3s"])
    if low > CUTOFF_TARGET:
        missed.append("false_cutoff_rate_le3s")
    if figures.get("replies_missed"):
        missed.append("replies_missed")
    if figures.get("one_response_fraction") != 1.0:
        missed.append("one_response_fraction")
    if figures.get("answers_left"):
        missed.append("answers_left")
    return missed


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_n(
    n: int,
    per_session: int,
    http: httpx.AsyncClient,
    base_url: str,
    server_pid: int,
    pool: asyncpg.Pool,
    corpus: dict,
    frames: list,
    packets: list[bytes],
    stagger_s: float = 0.0,
) -> tuple[dict[str, Any], list[AnswerResult]]:
    """N interviews at once, each playing `per_session` answers; the combined figures and the answers."""
    pools = {kind: [a for a in corpus.values() if a.category == kind] for kind in ("behavioral", "mmi")}
    groups = []
    for i in range(n):
        kind = "mmi" if i % 3 == 2 else "behavioral"  # a mix like the corpus's
        pool_ = pools[kind]
        groups.append((kind, [pool_[(i * per_session + k) % len(pool_)] for k in range(per_session)]))

    async def session_after(delay_s: float, kind: str, answers: list) -> tuple:
        await asyncio.sleep(delay_s)
        return await play_session(http, base_url, kind, answers, frames, packets)

    wall_offset = time.time() - time.monotonic()
    load_before = os.getloadavg()[0]
    server_before, clients_before = process_cpu_s(server_pid), time.process_time()
    began = time.monotonic()
    outcomes = await asyncio.gather(
        *(session_after(i * stagger_s, kind, answers) for i, (kind, answers) in enumerate(groups))
    )
    wall_s = time.monotonic() - began
    server_cores = (process_cpu_s(server_pid) - server_before) / wall_s
    clients_cores = (time.process_time() - clients_before) / wall_s
    results: list[AnswerResult] = []
    for session in outcomes:
        stored = await fetch_stored(pool, http, session.session_id)
        for r in session.results:
            r.stored = compare(r.played, stored, wall_offset)
        results += session.results
        await http.delete(f"/v1/sessions/{session.session_id}")
    figures = {**turn_figures(results), **stored_figures(results)}
    figures["answers_left"] = sum(len(session.left) for session in outcomes)
    keep = (
        "answers", "pauses", "pauses_le3s", "cutoffs_le3s", "false_cutoff_rate_le3s", "talk_over_ms_p95",
        "end_to_first_audio_p50_ms",
        "end_to_first_audio_p95_ms", "replies_missed", "responses_per_answer", "one_response_fraction",
        "answers_left",
    )
    out = {k: figures.get(k) for k in keep}
    out["false_cutoff_rate_le3s_ci95"] = [
        round(x, 3) for x in wilson_interval(figures["cutoffs_le3s"], figures["pauses_le3s"])
    ]
    # How long each candidate waited for the greeting once connected (the interviews start
    # together: their openings and their prewarming fall in the same seconds).
    out["opening_ms_max"] = round(max(session.opening_ms for session in outcomes))
    out["server_cpu_cores"], out["clients_cpu_cores"] = round(server_cores, 2), round(clients_cores, 2)
    out["load_1m"] = round(max(load_before, os.getloadavg()[0]), 2)
    out["missed"] = meets(figures)
    return out, results


async def main(args: argparse.Namespace) -> dict[str, Any]:
    corpus = {a.name: a for a in build_corpus()}
    frames = camera_frames(CAMERA_LOOP_FRAMES)
    by_n: dict[int, dict[str, Any]] = {}
    answers_by_n: dict[int, list[dict[str, Any]]] = {}
    best = 0
    packets = vp8_packets(frames)
    with tempfile.TemporaryDirectory(prefix="greenroom-capacity-") as tmp:
        workdir = Path(tmp)
        async with database(workdir) as url:
            say("starting greenroom serve (it loads the voice models)")
            # The bench schedules many sessions from one address: no throttle.
            with serve_process(url, workdir / "data", start_timeout_s=180.0, throttle_enabled="false") as server:
                pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
                try:
                    async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
                        await sign_up(http)
                        for n in range(args.start, args.max + 1):
                            say(f"{n} interview(s) at once, {args.answers_per_session} answers each")
                            figures, results = await run_n(
                                n, args.answers_per_session, http, server.url, server.process.pid,
                                pool, corpus, frames, packets, args.stagger,
                            )
                            by_n[n] = figures
                            answers_by_n[n] = details(results)
                            say(f"N={n}: {json.dumps(figures)}")
                            if figures["missed"]:
                                break
                            best = n
                finally:
                    await pool.close()
                    if args.server_log:
                        shutil.copyfile(server.log, args.server_log)
                    if args.details:
                        args.details.write_text(json.dumps(answers_by_n, indent=1))
    return {
        "max_sessions": best, "answers_per_session": args.answers_per_session, "stagger_s": args.stagger,
        "by_n": by_n,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 answers a session, up to 3 interviews")
    parser.add_argument("--max", type=int, help="the most interviews at once to try (default 6; 3 with --quick)")
    parser.add_argument("--start", type=int, default=1, help="the fewest interviews at once to try (default 1)")
    parser.add_argument("--server-log", type=Path, help="keep the server's log in this file")
    parser.add_argument(
        "--stagger", type=float, default=0.0, metavar="S",
        help="start interview i S*i seconds after the first (default 0: all at once, so turns end together)",
    )
    parser.add_argument("--details", type=Path, help="write each N's per-answer results here as JSON")
    parser.add_argument("--answers-per-session", type=int, help="answers each interview plays (default 4; 2 with --quick)")
    args = parser.parse_args(argv)
    args.max = args.max or (3 if args.quick else 6)
    args.answers_per_session = args.answers_per_session or (2 if args.quick else 4)
    return args


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args()))))
