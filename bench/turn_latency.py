"""Turn latency over the real WebRTC path: spoken answers in, the interviewer's first audio back.

Starts the whole product on loopback, schedules a 30-minute interview over HTTP, joins it as the
candidate and, for each turn, waits for the interviewer to finish speaking, plays a spoken answer
(espeak-ng) as the candidate's microphone, then silence, and times the reply. The candidate also
publishes a 640x480 15 fps camera of the synthetic astronaut face (bench/face_media.py; --no-video
to leave it out), so with --signals on the delivery-signal consumer analyses a real face at
face_sample_fps beside the interview; with --signals off the server still receives and decodes
that video, so the two runs differ only by the signal work.

Two transports (--transport), the same answers, camera and turns on each:

  embedded   the app in this process (API, embedded room server, interviewer with the offline
             voice models); the candidate is an aiortc client (bench/rtc_client.py).
  livekit    a real livekit-server (built by `make livekit`), the API in this process in LiveKit
             mode, and the interviewer in one `greenroom agent dev` worker process (its own
             agent name; it loads its models before it registers); the candidate is a
             livekit.rtc participant (bench/livekit_client.py).
  both       embedded, then livekit, back to back in one run, on one database.

Two interviewer brains (--brain), the same turns on each:

  scripted   the offline interviewer (the default): the script chooses each move and words it.
  llm        the LLM interviewer (GREENROOM_INTERVIEWER_BRAIN=llm): the script chooses each move,
             an OpenAI-compatible model words it, streamed sentence by sentence into TTS. The
             model is bench/fake_openai.py on loopback in this process: each reply's first word
             goes out --first-token-ms after its request arrives, the rest follow 5 ms a word; it
             acknowledges the answer in a sentence the script never says (so no synthesis was
             done ahead for it), then asks the question the script chose. Embedded transport only.

Figures, in milliseconds:

  p50_ms, p95_ms            client-measured: end of the candidate's speech (the sample-accurate
                            time the client's microphone sent the last speech sample) to the first
                            non-silent interviewer audio frame the client received. Includes the
                            media path both ways (Opus, RTP on loopback, jitter buffers; through
                            livekit-server with the livekit transport).
  server_p50_ms, server_p95_ms
                            the product's metric, from the turn_latency table (written by the
                            embedded server or by the worker): end of candidate speech (as the
                            interviewer's VAD places it, so after the way in) to the first
                            interviewer audio frame it sends.
  spread_ms                 how much the client figure varies from turn to turn: p95 - p5.
  server_stt_p50_ms         of the server figure, the recognition left to do after speech end.
  overhead_p50_ms, overhead_p95_ms
                            --brain llm only: the pipeline's own time on top of the model's first
                            token. Per turn, from the moment the model's request arrived (the
                            fake's wall clock) to the reply's first audio frame leaving the server
                            (turn_latency.first_audio_at), minus --first-token-ms: the HTTP round
                            trip, the wait for the first whole sentence, its synthesis and the
                            audio output, plus any event-loop lag in the fake itself (the same
                            process). It leaves out what comes before the request (recognition,
                            the turn-taking hold), which is the same for either brain and is in
                            p50_ms. Over model_turns: the turns whose reply the model worded (a
                            verbatim move, or the script's fallback, is not counted).

CPU per live interview, in cores (CPU seconds of a process, all its threads, over the wall
seconds from the first question to the end of the last reply; from /proc, so Linux only):

  process_cores             embedded: this bench process, which holds the server (API, room,
                            interviewer, signals) and the aiortc client alike.
  api_cores                 livekit: this bench process, the API and the livekit.rtc client.
  livekit_server_cores      livekit: the livekit-server process.
  worker_cores              livekit: the worker process and any processes under it (its jobs
                            run as threads, so normally none).
  cpu_window_s              the wall seconds measured.

With --signals on, face_frames_analysed and face_frames_dropped count the consumer's face work
over the session (livekit: as of the worker's first stored counters after the last turn).

Progress goes to stderr; the last line of stdout is one JSON object with these figures, flat for
one transport, {"embedded": {...}, "livekit": {...}} for both. The database is
GREENROOM_TEST_DATABASE_URL or DATABASE_URL when set (the bench deletes its sessions afterwards),
else an embedded PostgreSQL in a temporary directory.

Run: .venv/bin/python -m bench.turn_latency [--quick | --turns N] [--transport embedded|livekit|both]
                                            [--signals on|off] [--no-video]
                                            [--brain scripted|llm] [--first-token-ms MS]
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before anything imports ONNX Runtime

import argparse
import asyncio
import json
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
from pydantic import SecretStr

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.worker import VoiceModels  # noqa: E402
from api.consent import CONSENT_VERSION  # noqa: E402
from bench.face_media import camera_frames  # noqa: E402
from bench.fake_openai import FakeOpenAI, StreamTiming, served  # noqa: E402
from bench.live_server import serve, sign_up  # noqa: E402
from bench.livekit_client import LiveKitCandidate  # noqa: E402
from bench.livekit_server import LiveKitServer, LiveKitStartError, run_livekit, server_binary  # noqa: E402
from bench.rtc_client import Camera, ClientError, Microphone, RoomClient, Speech, VoiceLevels, espeak  # noqa: E402
from bench.signals import face_counts  # noqa: E402
from db.delivery import load_signal_stats  # noqa: E402
from greenroom.server import build_app  # noqa: E402
from greenroom.settings import Settings  # noqa: E402

TRANSPORTS = ("embedded", "livekit")
BRAINS = ("scripted", "llm")
FIRST_TOKEN_MS = 400.0
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
WORKER_READY_TIMEOUT_S = 180.0  # the worker loads its models before it registers
WORKER_STOP_TIMEOUT_S = 20.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Indices into _stat(), which starts at field 3 of /proc/<pid>/stat (proc(5) numbers from 1).
STAT_PPID, STAT_UTIME, STAT_STIME, STAT_CSTIME, STAT_NUM_THREADS = 1, 11, 12, 14, 17


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
        "--transport", choices=(*TRANSPORTS, "both"), default="embedded",
        help="the room server: embedded (in this process), livekit (livekit-server and a worker), or both in turn",
    )
    parser.add_argument(
        "--signals", choices=("on", "off"), default="on", help="the delivery-signal consumer (Settings.signals_enabled)"
    )
    parser.add_argument(
        "--video", action=argparse.BooleanOptionalAction, default=True, help="publish the synthetic face camera"
    )
    parser.add_argument(
        "--brain", choices=BRAINS, default="scripted",
        help="the interviewer: scripted (offline), or llm (worded by a local OpenAI-compatible model; embedded only)",
    )
    parser.add_argument(
        "--first-token-ms", type=float, default=FIRST_TOKEN_MS,
        help=f"with --brain llm, the model's delay before its first token (default {FIRST_TOKEN_MS:.0f})",
    )
    args = parser.parse_args(argv)
    args.turns = args.turns or (QUICK_TURNS if args.quick else FULL_TURNS)
    if args.turns < 1:
        parser.error("--turns must be at least 1")
    if args.brain == "llm" and args.transport != "embedded":
        parser.error("--brain llm runs on the embedded transport only (--transport embedded)")
    if args.first_token_ms < 0:
        parser.error("--first-token-ms must not be negative")
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


# -- CPU ------------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat from its third field (state) on; the name before it may hold spaces."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    """The live processes whose parent is pid."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[STAT_PPID]) == pid:
                    children.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    return children


def process_tree(pid: int) -> list[int]:
    """The process and every live process under it."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(_children(current))
    return tree


def cpu_seconds(pid: int, *, with_children: bool) -> float:
    """CPU seconds (user + system, every thread) a process has used; with_children adds its live
    descendants' and those its processes have reaped, so a child ending between two readings
    still counts."""
    if not with_children:
        fields = _stat(pid)
        return (int(fields[STAT_UTIME]) + int(fields[STAT_STIME])) / CLOCK_TICKS
    ticks = 0
    for member in process_tree(pid):
        try:
            fields = _stat(member)
        except OSError:
            continue
        ticks += sum(int(f) for f in fields[STAT_UTIME : STAT_CSTIME + 1])  # utime, stime, cutime, cstime
    return ticks / CLOCK_TICKS


@dataclass(frozen=True, slots=True)
class Metered:
    """A process whose CPU a bench reports, under `name` (a figure's key)."""

    name: str
    pid: int
    with_children: bool = False


class CpuMeter:
    """Cores used by some processes over a window: CPU seconds per wall second, each."""

    def __init__(self, processes: list[Metered]) -> None:
        self._processes = processes
        self._started_at: float | None = None
        self._started_cpu: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        return {p.name: cpu_seconds(p.pid, with_children=p.with_children) for p in self._processes}

    def start(self) -> None:
        self._started_cpu, self._started_at = self._read(), time.monotonic()

    def stop(self) -> dict[str, float]:
        """The figures: each process's cores, and cpu_window_s."""
        assert self._started_at is not None, "the meter was not started"
        cpu, wall_s = self._read(), time.monotonic() - self._started_at
        figures = {name: round((cpu[name] - self._started_cpu[name]) / wall_s, 3) for name in cpu}
        return {**figures, "cpu_window_s": round(wall_s, 1)}


# -- the turns, on either transport -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the turns need of a joined candidate, on either transport: the interviewer's voice,
    a microphone (the future gives the time the speech's last sample went out) and room events."""

    voice: VoiceLevels
    say: Callable[[Speech], asyncio.Future[float]]
    next_event: Callable[[str, float], Awaitable[dict[str, Any]]]
    events: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Turns:
    """What the candidate measured, and the CPU the meter saw over the turns."""

    client_ms: list[float]
    overlaps: int  # turns where the interviewer spoke before the answer was over
    cpu: dict[str, float]


async def play_turns(candidate: Candidate, answers: list[Speech], turns: int, meter: CpuMeter) -> Turns:
    """Waits for the first question, then plays the turns; the meter runs from that question to
    the end of the last reply."""
    voice = candidate.voice
    latencies: list[float] = []
    overlaps = 0
    question = await candidate.next_event("question", FIRST_QUESTION_TIMEOUT_S)
    meter.start()
    say(f"joined; interviewer asks question {question['seq']}")
    await voice.first_voice_after(0.0, timeout=FIRST_QUESTION_TIMEOUT_S)
    await voice.quiet_for(QUIET_S, timeout=SPEAKING_TIMEOUT_S)

    for turn in range(1, turns + 1):
        speech = answers[(turn - 1) % len(answers)]
        started_at = time.monotonic()
        speech_end = await asyncio.wait_for(candidate.say(speech), speech.duration_s + 10)
        if any(started_at <= t < speech_end for t in voice.voiced_at):
            overlaps += 1
            say(f"turn {turn}: the interviewer spoke during the answer")
        reply_at = await voice.first_voice_after(speech_end, timeout=REPLY_TIMEOUT_S)
        latencies.append((reply_at - speech_end) * 1000.0)
        if any(e.get("type") == "room_closed" for e in candidate.events):
            raise ClientError("the room closed during the bench")
        await voice.quiet_for(QUIET_S, timeout=SPEAKING_TIMEOUT_S)
        asked = [e for e in candidate.events if e.get("type") == "question"][-1]
        say(
            f"turn {turn}/{turns}: answer {speech.duration_s:.1f} s, "
            f"first interviewer audio after {latencies[-1]:.0f} ms "
            f"(now on question {asked['seq']}, {asked['source']})"
        )
    return Turns(latencies, overlaps, meter.stop())


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


@dataclass(frozen=True, slots=True)
class Bench:
    """One transport's run: the transport, the configuration and the measurements."""

    transport: str
    signals: bool
    video: bool
    turns: Turns
    server_ms: list[float]
    stt_ms: list[float]
    face_analysed: int | None
    face_dropped: int | None
    model: ModelTurns | None = None  # with the llm brain: the turns the model worded

    def say_turns(self) -> None:
        """Each turn's figures, to stderr."""
        say(f"{self.transport}: client figures (ms): {[round(v) for v in self.turns.client_ms]}")
        say(
            f"{self.transport}: server figures (ms, {len(self.server_ms)} rows): {[round(v) for v in self.server_ms]}; "
            f"stt after speech end: {[round(v) for v in self.stt_ms]}"
        )
        if self.turns.overlaps:
            say(f"{self.turns.overlaps} turn(s) had the interviewer speaking before the answer ended")
        if self.model is not None:
            say(
                f"{self.transport}: model overhead (ms, {len(self.model.overhead_ms)} turns worded by the model, "
                f"{self.model.script_worded} by the script): {[round(v) for v in self.model.overhead_ms]}; "
                f"of which the fake's first word late: {[round(v) for v in self.model.fake_lag_ms]}, "
                f"first word -> first audio: {[round(v) for v in self.model.after_first_word_ms]}"
            )

    def figures(self) -> dict[str, Any]:
        client_ms, server_ms, stt_ms = self.turns.client_ms, self.server_ms, self.stt_ms
        overhead_ms = self.model.overhead_ms if self.model is not None else []
        model_figures = {} if self.model is None else {
            "first_token_ms": self.model.first_token_ms,
            "model_turns": len(overhead_ms),
            "overhead_p50_ms": percentile(overhead_ms, 50) if overhead_ms else None,
            "overhead_p95_ms": percentile(overhead_ms, 95) if overhead_ms else None,
        }
        return {
            "transport": self.transport,
            "brain": "scripted" if self.model is None else "llm",
            "signals": "on" if self.signals else "off",
            "video": self.video,
            "turns": len(client_ms),
            "p50_ms": percentile(client_ms, 50),
            "p95_ms": percentile(client_ms, 95),
            "server_p50_ms": percentile(server_ms, 50) if server_ms else None,
            "server_p95_ms": percentile(server_ms, 95) if server_ms else None,
            "spread_ms": round(percentile(client_ms, 95) - percentile(client_ms, 5), 1),
            # recognition left after the candidate stopped (part of the server figure)
            "server_stt_p50_ms": percentile(stt_ms, 50) if stt_ms else None,
            # the signal consumer's face work over the whole session (None with signals off)
            "face_frames_analysed": self.face_analysed,
            "face_frames_dropped": self.face_dropped,
            **model_figures,
            **self.turns.cpu,
        }


async def schedule(http: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    """Signs up and schedules the bench's session: (its id, how to join its room)."""
    await sign_up(http)
    response = await http.post("/v1/sessions", json=SESSION)
    response.raise_for_status()
    return response.json()["session"]["id"], response.json()["room"]


# -- the LLM interviewer's model ----------------------------------------------------------

# The model's replies open with one of these acknowledgements (opener x remark: a different
# sentence every turn), none of which the script says, so none was synthesised ahead.
OPENERS = ("Thank you,", "Right,", "Okay,", "I see,", "Got it,")
REMARKS = (
    "that gives me a clear picture of it.",
    "that was a helpful bit of context.",
    "that is a useful example to hear.",
    "I appreciate the detail you gave there.",
    "that makes sense given the situation.",
    "it sounds like you handled it carefully.",
)


class InterviewerWording:
    """The bench model's reply to an interviewer move: an acknowledgement, then the question the
    script chose (agent/llm_openai.move_prompt); for a move without one, the script's own line."""

    def __init__(self) -> None:
        self._replies = 0

    def __call__(self, body: dict[str, Any]) -> str:
        prompt = body["messages"][-1]["content"]
        sections = dict(part.split(":\n", 1) for part in prompt.split("\n\n") if ":\n" in part)
        question = next((text for head, text in sections.items() if head.startswith("The question to ask")), None)
        if question is None:
            return next(text for head, text in sections.items() if head.startswith("The script's own wording"))
        if "Move: open the interview" in prompt:
            return f"Hello, and thanks for making the time today. {question.strip()}"
        index, self._replies = self._replies, self._replies + 1
        acknowledgement = f"{OPENERS[index % len(OPENERS)]} {REMARKS[index // len(OPENERS) % len(REMARKS)]}"
        return f"{acknowledgement} {question.strip()}"


@asynccontextmanager
async def interviewer_model(brain: str, first_token_ms: float) -> AsyncIterator[FakeOpenAI | None]:
    """With the llm brain, the interviewer's OpenAI-compatible model served on loopback; else None."""
    if brain != "llm":
        yield None
        return
    fake = FakeOpenAI()
    fake.first_token_delay_s = first_token_ms / 1000.0
    fake.stream_wording = InterviewerWording()
    async with served(fake):
        yield fake


def llm_settings(model: FakeOpenAI | None) -> dict[str, Any]:
    """The Settings fields that point the interviewer at the bench's model (none for the script)."""
    if model is None:
        return {}
    return {
        "interviewer_brain": "llm",
        "interviewer_llm_base_url": model.base_url,
        "interviewer_llm_api_key": SecretStr("bench-not-a-key"),
        "interviewer_llm_model": "bench-interviewer",
    }


@dataclass(frozen=True, slots=True)
class ModelTurns:
    """The turns whose reply the model worded: per turn, the pipeline's time on top of the
    model's first token, and how it splits at the first word the fake sent."""

    first_token_ms: float
    overhead_ms: list[float]
    fake_lag_ms: list[float]  # request arrival + first-token delay -> the first word sent
    after_first_word_ms: list[float]  # the first word sent -> first audio leaving the server
    script_worded: int  # turns whose reply the model did not word (a verbatim move, the fallback)


async def model_turns(
    pool: asyncpg.Pool, session_id: str, timings: list[StreamTiming], first_token_ms: float
) -> ModelTurns:
    """Each stored turn matched to the last model request made between its speech end and its
    first audio; a turn with none, or whose audio began before the model's first word, was not
    worded by the model."""
    rows = await pool.fetch(
        "SELECT speech_end_at, first_audio_at FROM turn_latency WHERE session_id = $1 ORDER BY turn_seq",
        uuid.UUID(session_id),
    )
    overhead_ms, fake_lag_ms, after_first_word_ms, script_worded = [], [], [], 0
    for row in rows:
        speech_end_at, first_audio_at = row["speech_end_at"].timestamp(), row["first_audio_at"].timestamp()
        asked = [t for t in timings if speech_end_at <= t.received_at < first_audio_at]
        first_word_at = asked[-1].first_token_at if asked else None
        if first_word_at is None or first_word_at > first_audio_at:
            script_worded += 1
            continue
        expected_first_word_at = asked[-1].received_at + first_token_ms / 1000.0
        overhead_ms.append((first_audio_at - expected_first_word_at) * 1000.0)
        fake_lag_ms.append((first_word_at - expected_first_word_at) * 1000.0)
        after_first_word_ms.append((first_audio_at - first_word_at) * 1000.0)
    return ModelTurns(first_token_ms, overhead_ms, fake_lag_ms, after_first_word_ms, script_worded)


# -- embedded -------------------------------------------------------------------


async def run_embedded(
    workdir: Path,
    url: str,
    answers: list[Speech],
    turns: int,
    *,
    signals: bool,
    video: bool,
    brain: str = "scripted",
    first_token_ms: float = FIRST_TOKEN_MS,
) -> Bench:
    async with interviewer_model(brain, first_token_ms) as model:
        return await _on_embedded(workdir, url, answers, turns, signals=signals, video=video, model=model)


async def _on_embedded(
    workdir: Path, url: str, answers: list[Speech], turns: int, *, signals: bool, video: bool, model: FakeOpenAI | None
) -> Bench:
    settings = Settings(
        _env_file=None,
        database_url=url,
        data_dir=workdir / "data",
        ice_bind_addresses=["127.0.0.1"],
        signals_enabled=signals,
        **llm_settings(model),
    )
    say("embedded: loading voice models")
    models = await asyncio.to_thread(VoiceModels.load, settings, say)
    app = build_app(settings, models=models)
    meter = CpuMeter([Metered("process_cores", os.getpid())])
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=15) as http:
        say(
            f"embedded: serving on {base_url}; {turns} turns; brain {settings.interviewer_brain}; "
            f"signals {'on' if signals else 'off'}; video {'on' if video else 'off'}"
        )
        session_id, room = await schedule(http)
        try:
            client = await RoomClient.connect(base_url.replace("http://", "ws://", 1) + room["signal_url"])
            try:
                await client.join(room["token"])
                microphone = Microphone()
                camera = Camera(camera_frames(CAMERA_LOOP_FRAMES)) if video else None
                voice = await client.publish(microphone, camera=camera, timeout=CONNECT_TIMEOUT_S)
                candidate = Candidate(
                    voice=voice,
                    say=microphone.say,
                    next_event=lambda kind, timeout: client.next_event(kind, timeout=timeout),
                    events=client.events,
                )
                played = await play_turns(candidate, answers, turns, meter)
            finally:
                await client.close()
            server_ms, stt_ms = await server_latencies(app.state.pool, session_id, len(played.client_ms))
            worded = (
                await model_turns(app.state.pool, session_id, model.stream_timings, model.first_token_delay_s * 1000.0)
                if model is not None
                else None
            )
            face = face_counts(app.state.interviews, session_id)
        finally:
            await http.delete(f"/v1/sessions/{session_id}")
    return Bench(
        "embedded", signals, video, played, server_ms, stt_ms,
        face.analysed if face else None, face.dropped if face else None, worded,
    )


# -- LiveKit ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Worker:
    """A `greenroom agent dev` process and its log."""

    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    async def registered(self) -> None:
        deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
        while "registered worker" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None:
                raise SystemExit(f"the worker exited ({self.process.returncode}):\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise SystemExit(f"the worker did not register within {WORKER_READY_TIMEOUT_S:.0f} s:\n{self.log_tail()}")
            await asyncio.sleep(0.5)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=WORKER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@asynccontextmanager
async def run_worker(workdir: Path, settings: Settings) -> AsyncIterator[Worker]:
    """One interviewer worker pointed at the settings' LiveKit server and database, registered."""
    assert settings.livekit_api_secret is not None and settings.database_url
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GREENROOM_", "LIVEKIT_"))},
        "DATABASE_URL": settings.database_url,
        "GREENROOM_DATA_DIR": str(workdir / "data"),
        "GREENROOM_LIVEKIT_AGENT_NAME": settings.livekit_agent_name,
        "GREENROOM_SIGNALS_ENABLED": "true" if settings.signals_enabled else "false",
        "LIVEKIT_URL": settings.livekit_url or "",
        "LIVEKIT_API_KEY": settings.livekit_api_key or "",
        "LIVEKIT_API_SECRET": settings.livekit_api_secret.get_secret_value(),
        "ORT_DISABLE_TELEMETRY": "1",
    }
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "greenroom.cli", "agent", "dev", "--log-level", "INFO"],
            cwd=workdir,  # not the repository: no .env of a developer's reaches it
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(process, log)
    try:
        await worker.registered()
        yield worker
    finally:
        await asyncio.to_thread(worker.stop)


async def face_stats_after(pool: asyncpg.Pool, session_id: str, wait_s: float) -> tuple[int | None, int | None]:
    """The worker's stored face counters: the first snapshot that differs from the current one
    (the worker stores them every session_heartbeat_s), else the current one after wait_s."""
    sid = uuid.UUID(session_id)
    first = await load_signal_stats(pool, sid)
    stats, deadline = first, time.monotonic() + wait_s
    while stats == first and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        stats = await load_signal_stats(pool, sid)
    return (stats.frames_analysed, stats.frames_dropped) if stats else (None, None)


async def run_livekit_transport(
    workdir: Path, url: str, answers: list[Speech], turns: int, *, signals: bool, video: bool
) -> Bench:
    with run_livekit(
        workdir / "livekit", api_key=f"bench-{secrets.token_hex(4)}", api_secret=secrets.token_urlsafe(32)
    ) as server:
        return await _on_livekit(server, workdir, url, answers, turns, signals=signals, video=video)


async def _on_livekit(
    server: LiveKitServer, workdir: Path, url: str, answers: list[Speech], turns: int, *, signals: bool, video: bool
) -> Bench:
    settings = Settings(
        _env_file=None,
        database_url=url,
        data_dir=workdir / "api-data",
        transport="livekit",
        livekit_url=server.ws_url,
        livekit_api_key=server.api_key,
        livekit_api_secret=SecretStr(server.api_secret),
        livekit_agent_name=f"greenroom-bench-{secrets.token_hex(4)}",
        signals_enabled=signals,
    )
    say(f"livekit: livekit-server on {server.ws_url}; starting worker {settings.livekit_agent_name!r} (loads its models)")
    async with run_worker(workdir / "worker", settings) as worker:
        app = build_app(settings)
        meter = CpuMeter([
            Metered("api_cores", os.getpid()),
            Metered("livekit_server_cores", server.process.pid),
            Metered("worker_cores", worker.process.pid, with_children=True),
        ])
        async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=15) as http:
            say(f"livekit: API on {base_url}; {turns} turns; signals {'on' if signals else 'off'}; video {'on' if video else 'off'}")
            session_id, room = await schedule(http)
            try:
                lk = await asyncio.wait_for(
                    LiveKitCandidate.join(
                        room["url"], room["token"], camera_frames=camera_frames(CAMERA_LOOP_FRAMES) if video else None
                    ),
                    CONNECT_TIMEOUT_S,
                )
                try:
                    assert lk.microphone is not None
                    candidate = Candidate(
                        voice=lk.voice,
                        say=lk.microphone.say,
                        next_event=lambda kind, timeout: lk.next_event(kind, timeout=timeout),
                        events=lk.events,
                    )
                    played = await play_turns(candidate, answers, turns, meter)
                    tree = process_tree(worker.process.pid)
                    threads = sum(int(_stat(pid)[STAT_NUM_THREADS]) for pid in tree)
                    say(f"livekit: the worker runs as {len(tree)} process(es), {threads} threads in all")
                finally:
                    await lk.aclose()
                server_ms, stt_ms = await server_latencies(app.state.pool, session_id, len(played.client_ms))
                face_analysed, face_dropped = (
                    await face_stats_after(app.state.pool, session_id, settings.session_heartbeat_s + 2)
                    if signals
                    else (None, None)
                )
            finally:
                await http.delete(f"/v1/sessions/{session_id}")
    return Bench("livekit", signals, video, played, server_ms, stt_ms, face_analysed, face_dropped)


# -- the run ----------------------------------------------------------------------


async def main(
    turns: int,
    signals: bool = True,
    video: bool = True,
    transport: str = "embedded",
    brain: str = "scripted",
    first_token_ms: float = FIRST_TOKEN_MS,
) -> dict[str, Any]:
    """One transport's figures (flat), or, for "both", {"embedded": ..., "livekit": ...}."""
    transports = TRANSPORTS if transport == "both" else (transport,)
    if brain == "llm" and transports != ("embedded",):
        raise SystemExit("--brain llm runs on the embedded transport only")
    if "livekit" in transports:
        try:
            server_binary()  # before anything else runs: say at once that it is not built
        except LiveKitStartError as exc:
            raise SystemExit(str(exc)) from None
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="greenroom-bench-") as tmp:
        workdir = Path(tmp)
        answers = synthesize_answers(workdir / "speech")
        say(f"{len(answers)} answers of {min(a.duration_s for a in answers):.1f}-{max(a.duration_s for a in answers):.1f} s")
        async with database(workdir) as url:
            for name in transports:
                if name == "embedded":
                    bench = await run_embedded(
                        workdir / name, url, answers, turns, signals=signals, video=video,
                        brain=brain, first_token_ms=first_token_ms,
                    )
                else:
                    bench = await run_livekit_transport(workdir / name, url, answers, turns, signals=signals, video=video)
                bench.say_turns()
                results[name] = bench.figures()
    return results if transport == "both" else results[transport]


if __name__ == "__main__":
    args = parse_args()
    result = asyncio.run(
        main(
            args.turns, signals=args.signals == "on", video=args.video, transport=args.transport,
            brain=args.brain, first_token_ms=args.first_token_ms,
        )
    )
    print(json.dumps(result))
