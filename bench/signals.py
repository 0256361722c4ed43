"""Delivery-signal benchmarks: face and pitch cost, ingest rate, and how many live candidates one machine carries.

The first figures come from the single-purpose benches (bench/signals_face.py,
bench/signals_speech.py, bench/signals_ingest.py). `max_live_sessions` is measured for real:
the whole app runs on loopback (API, embedded room server, interviewers with the offline voice
models loaded once, signal consumer with face sampling at 10 fps), and for N = 1, 2, 3, ...
N sessions are scheduled and N aiortc candidates join them, each publishing a microphone
(espeak-ng answers, waiting for the interviewer's reply between them; `--silence` for none)
and a 640x480 15 fps camera playing the synthetic astronaut face (bench/face_media.py).
After every candidate's first face sample and a short settling time, the face counters of
each session are read over a window (20 s; 10 s with --quick):

    dropped_pct = dropped / (analysed + dropped)   over all N sessions

A sample is dropped when it falls due while the session's face worker is still busy with
the previous one. That counter cannot see samples that never fall due because the video
itself arrives late: on a saturated machine frames reach the consumer at a few fps, nothing is
"dropped", and each candidate is sampled at half the rate. So N is sustained when
dropped_pct <= 5 % AND every session was sampled at >= 90 % of face_sample_fps;
`max_live_sessions` is the largest N sustained with every smaller N sustained too, and
`max_live_sessions_drops_only` the same by dropped_pct alone. The search stops at the first N
above 5 % dropped (or at --max-sessions).

The candidates run in a separate process, as browsers would, but on this same machine: their
VP8 encoding (and Opus both ways) takes CPU from the server, so the figure is a lower bound
for a server whose candidates are elsewhere. Each round reports both processes' CPU.

The database is GREENROOM_TEST_DATABASE_URL or DATABASE_URL when set (the bench deletes its
sessions), else an embedded PostgreSQL in a temporary directory.

Usage: python bench/signals.py [--quick] [--max-sessions N] [--silence]; the last stdout line is JSON.
"""

from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before anything imports ONNX Runtime

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
MAX_DROPPED_PCT = 5.0
FACE_SAMPLE_FPS = 10.0
MIN_SAMPLE_RATE = 0.9  # of FACE_SAMPLE_FPS, in every session
DEFAULT_MAX_SESSIONS = 6
CAMERA_LOOP_FRAMES = 60  # 4 s of camera at 15 fps, played in a loop
SETTLE_S = 3.0  # after every session's first face sample, before the window opens
JOIN_TIMEOUT_S = 90.0
FIRST_SAMPLE_TIMEOUT_S = 30.0
WORKER_EXIT_TIMEOUT_S = 30.0
# Candidate answers (espeak-ng words, speed): a few seconds each, so the interviewer's STT,
# endpointing and TTS run during the window as in a real interview.
CLIENT_ANSWERS: tuple[tuple[str, int], ...] = (
    ("At my last job our checkout kept timing out, so I profiled it, added a missing index, "
     "and pages loaded much faster.", 190),
    ("Two teammates disagreed about a release date, so I set up a short meeting and we agreed "
     "on a phased launch.", 185),
    ("I stay calm under pressure and keep people informed about what is happening.", 175),
)  # fmt: skip


def say(message: str) -> None:
    print(f"[signals] {message}", file=sys.stderr, flush=True)


# -- machine measurements -------------------------------------------------------


def _process_cpu_s(pid: int | str = "self") -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _load_1m() -> float:
    return round(os.getloadavg()[0], 2)


# -- the candidates' process ----------------------------------------------------


async def _converse(microphone: Any, voice: Any, answers: list[Any], first: int) -> None:
    """One candidate: wait for the question to end, answer, wait for the reply to end, again."""
    from bench.rtc_client import ClientError

    with contextlib.suppress(ClientError):
        await voice.first_voice_after(0.0, timeout=30)
        await voice.quiet_for(1.0, timeout=60)
    turn = first
    while True:
        speech_end = await microphone.say(answers[turn % len(answers)])
        turn += 1
        with contextlib.suppress(ClientError):
            await voice.first_voice_after(speech_end, timeout=15)
            await voice.quiet_for(1.0, timeout=60)
        await asyncio.sleep(0.5)


async def _client_worker() -> None:
    """Reads a JSON line of peers from stdin, joins them all, reports `ready`, runs until `stop`."""
    from bench.rtc_client import Camera, Microphone, RoomClient, espeak

    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    config = json.loads(await stdin.readline())
    frames = np.load(config["frames"])
    workdir = Path(config["workdir"])
    answers = [espeak(text, workdir, speed=speed) for text, speed in CLIENT_ANSWERS] if config["speech"] else []

    def send(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    clients: list[Any] = []
    cameras: list[Any] = []
    talkers: list[asyncio.Task[None]] = []

    async def join(peer: dict[str, str]) -> tuple[Any, Any]:
        client = await RoomClient.connect(peer["ws_url"])
        clients.append(client)
        await client.join(peer["token"])
        microphone, camera = Microphone(), Camera(frames)
        cameras.append(camera)
        voice = await client.publish(microphone, camera=camera, timeout=30)
        return microphone, voice

    try:
        joined = await asyncio.wait_for(
            asyncio.gather(*(join(peer) for peer in config["peers"])), JOIN_TIMEOUT_S - 10
        )
        if answers:
            talkers = [
                asyncio.create_task(_converse(mic, voice, answers, i), name="converse")
                for i, (mic, voice) in enumerate(joined)
            ]
        send({"type": "ready"})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stdin.readline(), config["max_s"])  # "stop", or EOF
        now = time.monotonic()
        send(
            {
                "type": "done",
                "camera_fps": [
                    round(c.frames_sent / (now - c.started_at), 1) for c in cameras if c.started_at is not None
                ],
            }
        )
    except Exception as exc:
        send({"type": "error", "error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        for task in talkers:
            task.cancel()
        await asyncio.gather(*talkers, return_exceptions=True)
        for client in clients:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 10)


class _Worker:
    """The candidates' process, seen from the server side."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, config: dict[str, Any]) -> _Worker:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.signals", "--client-worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=REPO,
        )  # fmt: skip
        proc.stdin.write(json.dumps(config).encode() + b"\n")
        await proc.stdin.drain()
        return cls(proc)

    async def message(self, kind: str, timeout: float) -> dict[str, Any]:
        """The next protocol message of this type (other stdout lines are skipped)."""
        async with asyncio.timeout(timeout):
            while line := await self.proc.stdout.readline():
                with contextlib.suppress(ValueError):
                    message = json.loads(line)
                    if isinstance(message, dict) and message.get("type") == "error":
                        raise RuntimeError(f"the candidates' process failed: {message['error']}")
                    if isinstance(message, dict) and message.get("type") == kind:
                        return message
        raise RuntimeError(f"the candidates' process exited (rc {await self.proc.wait()}) before {kind!r}")

    async def stop(self) -> dict[str, Any] | None:
        """Ask it to leave; returns its `done` report (None if it had to be killed)."""
        done = None
        try:
            if self.proc.returncode is None and self.proc.stdin is not None:
                self.proc.stdin.write(b"stop\n")
                await self.proc.stdin.drain()
                self.proc.stdin.close()
            done = await self.message("done", WORKER_EXIT_TIMEOUT_S)
            await asyncio.wait_for(self.proc.wait(), WORKER_EXIT_TIMEOUT_S)
        except (TimeoutError, RuntimeError, ConnectionError) as exc:
            say(f"candidates' process did not stop cleanly ({type(exc).__name__}); killing it")
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        return done


# -- the server side ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FaceCounts:
    """One session's face counters at one moment (every track it has had)."""

    received: int
    analysed: int
    dropped: int


def face_counts(interviews: Any, session_id: str) -> FaceCounts | None:
    """The session's counters: those of its current FaceConsumer plus those of earlier tracks."""
    signals = interviews.signals.get(session_id)
    if signals is None:
        return None
    # DeliveryConsumer folds a consumer's counters into its own fields only when the track is
    # replaced or the session closes; until then they live on the current consumer.
    consumer = getattr(signals, "_face_consumer", None)
    return FaceCounts(
        received=signals.frames_received + (consumer.frames_received if consumer else 0),
        analysed=signals.frames_analysed + (consumer.frames_analysed if consumer else 0),
        dropped=signals.frames_dropped + (consumer.frames_dropped if consumer else 0),
    )


def _dropped_pct(dropped: int, analysed: int) -> float | None:
    return round(100.0 * dropped / (analysed + dropped), 2) if analysed + dropped else None


async def _wait_first_samples(interviews: Any, session_ids: list[str]) -> None:
    async with asyncio.timeout(FIRST_SAMPLE_TIMEOUT_S):
        while True:
            counts = [face_counts(interviews, sid) for sid in session_ids]
            if all(c is not None and c.analysed > 0 for c in counts):
                return
            await asyncio.sleep(0.1)


async def _round(
    app: Any, http: Any, base_url: str, n: int, window_s: float, speech: bool, workdir: Path, frames_path: Path
) -> dict[str, Any]:
    """N candidates at once: the face counters over the window, and what the session rows say."""
    from bench.turn_latency import SESSION

    interviews = app.state.interviews
    ws_base = base_url.replace("http://", "ws://", 1)
    session_ids: list[str] = []
    peers: list[dict[str, str]] = []
    for _ in range(n):
        response = await http.post("/v1/sessions", json=SESSION)
        response.raise_for_status()
        body = response.json()
        session_ids.append(body["session"]["id"])
        peers.append({"ws_url": ws_base + body["room"]["signal_url"], "token": body["room"]["token"]})
    load_before = _load_1m()
    worker = await _Worker.start(
        {
            "peers": peers,
            "speech": speech,
            "frames": str(frames_path),
            "workdir": str(workdir / "speech"),
            "max_s": JOIN_TIMEOUT_S + FIRST_SAMPLE_TIMEOUT_S + SETTLE_S + window_s + 30,
        }
    )
    done = None
    try:
        await worker.message("ready", JOIN_TIMEOUT_S)
        await _wait_first_samples(interviews, session_ids)
        await asyncio.sleep(SETTLE_S)
        before = {sid: face_counts(interviews, sid) for sid in session_ids}
        server_cpu, client_cpu = _process_cpu_s(), _process_cpu_s(worker.proc.pid)
        machine_busy, machine_total = _machine_ticks()
        began = time.monotonic()
        await asyncio.sleep(window_s)
        elapsed = time.monotonic() - began
        after = {sid: face_counts(interviews, sid) for sid in session_ids}
        server_cpu = _process_cpu_s() - server_cpu
        client_cpu = _process_cpu_s(worker.proc.pid) - client_cpu
        busy, total = _machine_ticks()
        # in percent of one core, like the process figures (200 = both cores of this machine)
        machine_busy_pct = 100.0 * os.cpu_count() * (busy - machine_busy) / max(1, total - machine_total)
    finally:
        done = await worker.stop()
        session_rows = await _end_sessions(app, http, session_ids)

    windows = []
    for sid in session_ids:
        if before[sid] is None or after[sid] is None:
            raise RuntimeError("a session's signal consumer went away during the window")
        windows.append(
            FaceCounts(
                received=after[sid].received - before[sid].received,
                analysed=after[sid].analysed - before[sid].analysed,
                dropped=after[sid].dropped - before[sid].dropped,
            )
        )
    analysed = sum(w.analysed for w in windows)
    dropped = sum(w.dropped for w in windows)
    whole_analysed = sum(r["frames_analysed"] for r in session_rows)
    whole_dropped = sum(r["frames_dropped"] for r in session_rows)
    result = {
        "sessions": n,
        "dropped_pct": _dropped_pct(dropped, analysed),
        "dropped_pct_worst_session": max(_dropped_pct(w.dropped, w.analysed) or 0.0 for w in windows),
        # face samples due per second in the least served session (FACE_SAMPLE_FPS when keeping up)
        "samples_per_s_min": round(min(w.analysed + w.dropped for w in windows) / elapsed, 1),
        "video_fps_min": round(min(w.received for w in windows) / elapsed, 1),
        "server_cpu_pct": round(100.0 * server_cpu / elapsed, 1),  # of one core
        "clients_cpu_pct": round(100.0 * client_cpu / elapsed, 1),
        "machine_busy_pct": round(machine_busy_pct, 1),
        # everything else on the machine (the embedded PostgreSQL included): other work skews the figure
        "other_cpu_pct": round(machine_busy_pct - 100.0 * (server_cpu + client_cpu) / elapsed, 1),
        "load_1m": [load_before, _load_1m()],
        # signal_stats rows of the ended sessions: the whole session, joining included
        "session_rows_dropped_pct": _dropped_pct(whole_dropped, whole_analysed),
    }
    if done is None:
        result["clients"] = "killed at the end"
    elif done["camera_fps"]:
        # what the candidates managed to encode and send, over the whole round (15 when keeping up)
        result["camera_fps_min"] = min(done["camera_fps"])
    say(f"{n} session(s): {json.dumps(result)}")
    return result


async def _end_sessions(app: Any, http: Any, session_ids: list[str]) -> list[dict[str, int]]:
    """End the sessions (which stores their signal_stats), read those rows, delete the sessions."""
    for sid in session_ids:
        with contextlib.suppress(Exception):
            await http.post(f"/v1/sessions/{sid}/end")
    rows = await app.state.pool.fetch(
        "SELECT frames_received, frames_analysed, frames_dropped FROM signal_stats WHERE session_id = ANY($1::uuid[])",
        [uuid.UUID(sid) for sid in session_ids],
    )
    for sid in session_ids:
        with contextlib.suppress(Exception):
            await http.delete(f"/v1/sessions/{sid}")
    leftover = [sid for sid in session_ids if sid in app.state.interviews.signals or sid in app.state.interviews.runners]
    if leftover:
        raise RuntimeError(f"{len(leftover)} session(s) still running after being ended")
    return [dict(r) for r in rows]


async def _capacity(max_sessions: int, window_s: float, speech: bool) -> dict[str, Any]:
    import httpx

    from agent.worker import VoiceModels
    from bench.face_media import camera_frames
    from bench.live_server import serve, sign_up
    from bench.turn_latency import database
    from bench.turn_taking import bench_settings
    from greenroom.server import build_app

    with tempfile.TemporaryDirectory(prefix="greenroom-bench-") as tmp:
        workdir = Path(tmp)
        frames_path = workdir / "camera.npy"
        np.save(frames_path, np.stack(camera_frames(CAMERA_LOOP_FRAMES)))
        async with database(workdir) as url:
            settings = bench_settings(workdir, url, face_sample_fps=FACE_SAMPLE_FPS, signals_enabled=True)
            say("loading voice models")
            models = await asyncio.to_thread(VoiceModels.load, settings, say)
            app = build_app(settings, models=models)
            rounds: list[dict[str, Any]] = []
            async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as http:
                await sign_up(http)
                for n in range(1, max_sessions + 1):
                    try:
                        result = await _round(app, http, base_url, n, window_s, speech, workdir, frames_path)
                    except (RuntimeError, TimeoutError) as exc:
                        say(f"{n} session(s) failed: {type(exc).__name__}: {exc}")
                        rounds.append({"sessions": n, "error": f"{type(exc).__name__}: {exc}"})
                        break
                    rounds.append(result)
                    if not _few_drops(result):
                        break
    sustained = _leading(rounds, lambda r: _few_drops(r) and _rate_held(r))
    few_drops = _leading(rounds, _few_drops)
    return {
        "max_live_sessions": sustained["sessions"] if sustained else 0,
        "frames_dropped_pct_at_max": sustained["dropped_pct"] if sustained else None,
        "max_live_sessions_drops_only": few_drops["sessions"] if few_drops else 0,
        "max_dropped_pct": MAX_DROPPED_PCT,
        "min_samples_per_s": MIN_SAMPLE_RATE * FACE_SAMPLE_FPS,
        "face_sample_fps": FACE_SAMPLE_FPS,
        "window_s": window_s,
        "client_speech": speech,
        "capped": few_drops is not None and few_drops["sessions"] == max_sessions,
        "rounds": rounds,
        "note": (
            "candidates (aiortc peers: VP8 640x480 15 fps encoding, Opus) run in a second process "
            "on this same 2-core machine, so they take CPU from the server: a lower bound for a "
            "server whose candidates are elsewhere. max_live_sessions also needs every session "
            "sampled at >= 90% of face_sample_fps (on a saturated machine video arrives late and is "
            "never counted as dropped); max_live_sessions_drops_only is by dropped_pct alone"
        ),
    }


def _few_drops(result: dict[str, Any]) -> bool:
    return result.get("dropped_pct") is not None and result["dropped_pct"] <= MAX_DROPPED_PCT


def _rate_held(result: dict[str, Any]) -> bool:
    return result["samples_per_s_min"] >= MIN_SAMPLE_RATE * FACE_SAMPLE_FPS


def _leading(rounds: list[dict[str, Any]], ok: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The last round of the leading run of rounds that are ok (N = 1, 2, ... in order)."""
    last = None
    for result in rounds:
        if not ok(result):
            break
        last = result
    return last


def max_live_sessions(max_sessions: int, window_s: float, speech: bool = True) -> dict[str, Any]:
    """How many candidates at once keep dropped face samples at or under MAX_DROPPED_PCT."""
    return asyncio.run(_capacity(max_sessions, window_s, speech))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter windows and fewer rows (about 2-3 min)")
    parser.add_argument("--max-sessions", type=int, default=DEFAULT_MAX_SESSIONS, help="stop the search here")
    parser.add_argument("--silence", action="store_true", help="candidates publish silence instead of answers")
    parser.add_argument("--client-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client_worker:
        asyncio.run(_client_worker())
        return

    from bench.signals_face import face_timing
    from bench.signals_ingest import ingest_rows_per_s
    from bench.signals_speech import pitch_cost

    started = time.monotonic()
    load_start = _load_1m()
    say("face timing")
    results: dict[str, Any] = dict(face_timing(60 if args.quick else 300))
    say("pitch cost")
    results["pitch_ms_per_s"] = pitch_cost(10.0 if args.quick else 20.0)["pitch_ms_per_s"]
    say("signal ingest")
    results["ingest_rows_per_s"] = ingest_rows_per_s(50_000 if args.quick else 300_000)
    say("live sessions")
    results |= max_live_sessions(args.max_sessions, 10.0 if args.quick else 20.0, speech=not args.silence)
    results["load_1m"] = [load_start, _load_1m()]
    results["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
