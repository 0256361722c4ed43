"""Turn-taking with answers shaped like real candidates': does the interviewer wait through thinking pauses?

Starts the whole app in-process (API, embedded room server, interviewer with the offline voice
models, delivery signals on) as bench/turn_latency.py does, and plays the answers of
bench/answer_corpus.py (espeak-ng and Piper voices, 20-60 s, pauses of 0.5-4 s between
sentences, mid-phrase, after "um" and after a trailing "and"/"so"/"because") into interview
sessions over real WebRTC: behavioral answers to software-engineer behavioral rounds, MMI
answers to medical-school MMI rounds, at most 8 answers a session, camera published. For each
answer it waits until the interviewer has finished speaking (1 s of quiet), plays the whole
answer (to its end, whatever the interviewer does, as a candidate would), then waits up to 20 s
for the reply and for the reply to finish.

All turn-taking times are the client's (monotonic): candidate times are when the microphone sent
the sample (sample-accurate, from its send timeline), interviewer times are when a voiced frame
(RMS above bench/rtc_client.py's VOICED_RMS) was received, so they include the media path.

  false_cutoff_rate     cut-offs / pauses. A pause is cut off when the interviewer's voice
                        begins (a voiced frame after ONSET_GAP_S of quiet) after the pause
                        started and before the answer's last speech sample; a start during the
                        speech after pause k counts for pause k; a pause counts once.
                        Also for pauses of 3 s or less (false_cutoff_rate_le3s; target <= 3%),
                        by pause length bucket (0.5-1, 1-2, 2-3, 3-4 s), by pause kind
                        (sentence, inside, filler, conjunction) and by voice family.
  early_interjections   interviewer starts during an answer's first stretch, before any pause.
  talk_over_ms_p95      per cut-off, how long the interviewer's voiced frames (20 ms each) overlap
                        the candidate's speech, from the cut-off until the interviewer goes quiet
                        (ONSET_GAP_S without voice); p95 (and p50) over cut-offs, 0 with none.
  end_to_first_audio_p50_ms, _p95_ms
                        the answer's last speech sample sent -> the first voiced interviewer frame
                        received at or after it; replies_missed: none within 20 s.
                        interviewer_talking_at_end: answers where the interviewer was voiced in
                        the ONSET_GAP_S before the end (its "reply" was already under way);
                        end_to_first_audio_clean_*: the figure without those.
  responses_per_answer  stored `responses` rows whose [started_at, ended_at] overlaps the answer's
                        span (client times to wall clock by one offset taken at start; the span's
                        end widened by SPAN_SLACK_S for the media path); mean, and
                        one_response_fraction (target: 1.0).
  questions_mid_answer  'question' events the client received between an answer's start and end.

Report vs truth (after each session: POST /end, then GET /report, plus the speech_events rows,
whose t_ms counts from sessions.started_at on the wall clock):

  pause_err_ms_mean, _p90   each true pause (all are >= 0.5 s) matched to the stored 'pause'
                        event overlapping it most; |stored - true duration|. pause_recall: the
                        share matched (a gap in which the interviewer ended a question is stored
                        as a response latency, not a pause, so cut-offs lower it);
                        spurious_pauses: stored pauses in answers overlapping no true pause.
                        answers_pauses_shifted: answers (of 4 true pauses or more) whose stored
                        pauses line up best with the true ones more than 0.5 s off (a clock
                        wrong, not a pause; details: pause_shift_s, + for stored late).
  wpm_err_pct_mean      |pace - true wpm| / true wpm per answer, where pace is the report's pace
                        value when exactly one report answer holds exactly this answer's
                        responses, else the same definition (reports.delivery.word_timing) over
                        the answer's stored responses; wpm_within_10pct: share within 10%.
  fillers_exact_fraction  answers whose stored 'filler' events (hedges left out) number exactly
                        the true fillers (vocal and discourse); fillers_abs_error_total.
  wer                   word error rate of the answer's stored transcripts (joined in time order)
                        against the truth, case, punctuation, numbers and vocal fillers aside
                        (fillers are scored above); inserted_words: jiwer's insertions.
  negative_response_latencies  stored 'response_latency' events below 0 in answers.

Progress goes to stderr; the last stdout line is one JSON object. --details FILE writes the
per-answer results as JSON. The database is GREENROOM_TEST_DATABASE_URL or DATABASE_URL when set
(sessions are deleted afterwards), else an embedded PostgreSQL in a temporary directory.

Recorded answers (people, not synthesisers) play the same way with --recordings truth.json:
`python -m bench.answer_corpus --truth-for DIR [--category mmi]` writes that file for each
NAME.wav in DIR with its words in NAME.txt, timing the speech from the audio's energy.

Run: .venv/bin/python -m bench.turn_taking [--quick | --answers N | --recordings TRUTH_JSON] [--label TEXT]
     [--details FILE]
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before anything imports ONNX Runtime

import argparse
import asyncio
import bisect
import contextlib
import json
import logging
import re
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jiwer
import numpy as np
from scipy.signal import resample_poly

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.voice_level import speech_level  # noqa: E402
from agent.worker import VoiceModels  # noqa: E402
from api.consent import CONSENT_VERSION  # noqa: E402
from bench.answer_corpus import CorpusAnswer, build_corpus, load_recordings, pause_bucket, plan, read_wav  # noqa: E402
from bench.face_media import camera_frames  # noqa: E402
from bench.live_server import serve, sign_up  # noqa: E402
from bench.room_sounds import ROOM_DBFS, add_room  # noqa: E402
from bench.rtc_client import FRAME_S, Camera, ClientError, Microphone, RoomClient, Speech, VoiceListener  # noqa: E402
from bench.rtc_client import SAMPLE_RATE as MIC_RATE  # noqa: E402
from bench.speech_media import SAMPLE_RATE as CLIP_RATE  # noqa: E402
from bench.turn_latency import database  # noqa: E402
from greenroom.log_privacy import log_to  # noqa: E402
from greenroom.server import build_app  # noqa: E402
from greenroom.settings import Settings  # noqa: E402
from reports.delivery import HEDGES, is_vocal_filler, word_timing  # noqa: E402
from tests.words import normalise  # noqa: E402

SESSION_KINDS: dict[str, dict[str, Any]] = {
    "behavioral": {"role_track": "software_engineer", "round_type": "behavioral"},
    "mmi": {"role_track": "medical_school_mmi", "round_type": "mmi"},
    # recordings may be answers to any round's questions
    "technical": {"role_track": "software_engineer", "round_type": "technical"},
    "system_design": {"role_track": "software_engineer", "round_type": "system_design"},
    "case": {"role_track": "general", "round_type": "case"},
}
SESSION_COMMON = {"difficulty": "medium", "duration_min": 30, "consent_version": CONSENT_VERSION}
MAX_ANSWERS_PER_SESSION = 8
# --quick: both voice families, short answers and STAR stories, one session of each kind.
QUICK_ANSWERS = (
    "strength@espeak", "release-process@piper", "feedback@piper", "outage@espeak", "why-company@piper",
    "transfusion@espeak", "icu-bed@piper", "colleague-alcohol@espeak",
)  # fmt: skip
ORDER_SEED = 7
QUIET_S = 1.0  # silence after voice that means the interviewer has finished speaking
ONSET_GAP_S = 1.0  # interviewer voice after this much quiet is a new start (a cut-off, a reply)
CONNECT_TIMEOUT_S = 20.0
FIRST_QUESTION_TIMEOUT_S = 60.0
REPLY_TIMEOUT_S = 20.0
SPEAKING_TIMEOUT_S = 90.0
SPAN_SLACK_S = 0.3  # server-side times of candidate speech lag the client's send times
LAST_WRITE_S = 2.0  # after the last reply, before ending: the last response row lands
STORED_TIMEOUT_S = 60.0  # for the session's signal rows to be flushed after it ends
CAMERA_LOOP_FRAMES = 60  # 4 s of camera at 15 fps, played in a loop
SETTING_WORDS = ("vad", "endpoint", "interrupt", "turn", "aec", "eot", "stt_", "preemptive", "speculat")


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class RoomClosed(Exception):
    """The interview ended (the interviewer closed it) before the session's answers were played."""


# -- what was played and heard -------------------------------------------------------------


@dataclass(slots=True)
class Played:
    """One answer as the client played it and heard the interviewer around it (client monotonic s)."""

    answer: CorpusAnswer
    session_id: str
    start: float  # the first speech sample was sent
    end: float  # just after the last speech sample was sent
    voiced: tuple[float, ...]  # receive times of voiced interviewer frames, from before start to the reply's end
    reply_at: float | None  # first voiced frame at or after end; None: no reply within REPLY_TIMEOUT_S
    questions_mid_answer: int

    def at(self, clip_s: float) -> float:
        """The client time of a moment of the answer's clip."""
        return self.start + clip_s - round(self.answer.speech_start_s * CLIP_RATE) / CLIP_RATE

    @property
    def stretches(self) -> list[tuple[float, float]]:
        return [(self.at(a), self.at(b)) for a, b in self.answer.stretches]


@dataclass(slots=True)
class TurnTaking:
    """How the interviewer took turns around one answer."""

    cutoffs: dict[int, float]  # pause index -> talk-over s
    early_interjections: int
    end_to_first_audio_ms: float | None
    talking_at_end: bool


@dataclass(slots=True)
class Stored:
    """What the session stored about one answer, against the truth."""

    responses: int
    transcript: str
    wer: float | None
    ref_words: int
    errors: int  # substitutions + deletions + insertions
    insertions: int
    pause_errors_ms: list[float]
    pauses_matched: int
    spurious_pauses: int
    fillers_true: int
    fillers_stored: int
    wpm_true: float
    wpm_stored: float | None
    wpm_source: str  # report | words | none
    live_wpm: float | None
    negative_latencies: int
    stored_pauses: list[tuple[float, float]]  # (start, duration) in s on the answer's clip clock
    pause_shift_s: float | None  # the shift that best lines the stored pauses up with the true ones
    response_at_s: float | None  # the first response's start on the clip clock (the truth: speech_start_s)
    stored_fillers: list[tuple[float, str]]  # (at, label) on the answer's clip clock


@dataclass(slots=True)
class AnswerResult:
    played: Played
    turns: TurnTaking
    stored: Stored | None = None


# -- the corpus, in sessions ------------------------------------------------------------------


def bench_order() -> list[str]:
    """All answers in the order the bench plays them: shuffled (seeded) within each interview
    kind, then three behavioral answers to one MMI answer, so any prefix has both."""
    rng = np.random.default_rng(ORDER_SEED)
    by_kind: dict[str, list[str]] = defaultdict(list)
    for r in plan():
        by_kind[r.script.category].append(r.name)
    behavioral, mmi = (list(rng.permutation(by_kind[k])) for k in ("behavioral", "mmi"))
    order: list[str] = []
    while behavioral or mmi:
        order += [behavioral.pop(0) for _ in range(min(3, len(behavioral)))]
        order += [mmi.pop(0)] if mmi else []
    return [str(n) for n in order]


def sessions_for(answers: Sequence[CorpusAnswer]) -> list[tuple[str, list[CorpusAnswer]]]:
    """Answers grouped into sessions: by interview kind, at most MAX_ANSWERS_PER_SESSION each."""
    out = []
    for kind in SESSION_KINDS:
        group = [a for a in answers if a.category == kind]
        n = -(-len(group) // MAX_ANSWERS_PER_SESSION)  # sessions needed, filled evenly
        out += [(kind, group[i::n]) for i in range(n)] if n else []
    return out


def in_a_room(answer: CorpusAnswer, *, room_dbfs: float = ROOM_DBFS, voice_db: float = 0.0) -> CorpusAnswer:
    """The answer as a microphone in a real room hears it (bench/room_sounds.py); the truth is
    unchanged: none of the sounds is speech."""
    samples, placed = add_room(
        answer.samples,
        [(p.start_s, p.duration_s) for p in answer.pauses],
        seed=sum(map(ord, answer.name)),
        room_dbfs=room_dbfs,
        voice_db=voice_db,
    )
    say(f"{answer.name}: {', '.join(f'{s.kind}@{s.start_s:.1f}' for s in placed) or 'room tone only'}")
    return replace(answer, samples=samples)


BURST_S = (1.5, 3.5)  # --background-bursts: how long the other voice speaks
BURST_GAP_S = (4.0, 9.0)  # and how long it is quiet between


def in_bursts(samples: np.ndarray, seed: int = 3) -> np.ndarray:
    """The recording cut into bursts with silence between (a voice next door comes and goes)."""
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(samples))
    t = 2.0
    while t * CLIP_RATE < len(samples):
        on = rng.uniform(*BURST_S)
        keep[int(t * CLIP_RATE) : int((t + on) * CLIP_RATE)] = 1.0
        t += on + rng.uniform(*BURST_GAP_S)
    fade = CLIP_RATE // 20  # 50 ms
    keep = np.convolve(keep, np.ones(fade) / fade, mode="same")
    return (samples * keep).astype(samples.dtype)


def background_bed(path: Path, answers: Sequence[CorpusAnswer], db: float, *, bursts: bool = False) -> np.ndarray:
    """The recording at `path` (cut into bursts if asked), its speech `db` against the answers'
    median level, as 48 kHz s16."""
    samples = read_wav(path)
    if bursts:
        samples = in_bursts(samples)
    voice = float(np.median([speech_level(a.spoken_samples(), CLIP_RATE) for a in answers]))
    gain = voice * 10 ** (db / 20.0) / max(speech_level(samples, CLIP_RATE), 1e-9)
    say(f"background: {path.name}, {len(samples) / CLIP_RATE:.0f} s looped, {db:+.0f} dB against the answers")
    return as_microphone(samples * gain, CLIP_RATE)


def as_microphone(samples: np.ndarray, rate: int) -> np.ndarray:
    """Float samples at `rate` (a divisor of 48 kHz) as the 48 kHz s16 a microphone sends."""
    up = resample_poly(samples.astype(np.float64), MIC_RATE // rate, 1)
    return (np.clip(up, -1.0, 1.0) * 32767).astype(np.int16)


def microphone_speech(answer: CorpusAnswer) -> Speech:
    """The answer from its first speech sample to its last, as the 48 kHz s16 a microphone sends."""
    return Speech(answer.transcript, as_microphone(answer.spoken_samples(), CLIP_RATE))


# -- playing a session ----------------------------------------------------------------------


def bench_settings(workdir: Path, url: str, **changes: Any) -> Settings:
    """The app's settings in a bench: the embedded room on loopback, over the bench's database."""
    return Settings(
        _env_file=None,
        database_url=url,
        data_dir=workdir / "data",
        ice_bind_addresses=["127.0.0.1"],
        throttle_enabled=False,  # the bench schedules many sessions from one address
        **changes,
    )


@dataclass(slots=True)
class JoinedSession:
    session_id: str
    client: RoomClient  # the caller closes it
    microphone: Microphone
    voice: VoiceListener
    connected: float  # monotonic time the media connected


async def join_session(
    http: httpx.AsyncClient,
    base_url: str,
    kind: str,
    frames: Sequence[np.ndarray],
    packets: Sequence[bytes] | None = None,
    bed: np.ndarray | None = None,
) -> JoinedSession:
    """Schedule a session of `kind`, join it with a microphone and camera, and wait for the
    interviewer's first question (the camera sends `packets`, the frames encoded ahead, if
    given; the microphone sends `bed` under everything, if given)."""
    response = await http.post("/v1/sessions", json={**SESSION_KINDS[kind], **SESSION_COMMON})
    response.raise_for_status()
    session_id, room = response.json()["session"]["id"], response.json()["room"]
    client = await RoomClient.connect(base_url.replace("http://", "ws://", 1) + room["signal_url"])
    try:
        await client.join(room["token"])
        microphone = Microphone(bed)
        voice = await client.publish(microphone, camera=Camera(frames, packets=packets), timeout=CONNECT_TIMEOUT_S)
        connected = time.monotonic()
        question = await client.next_event("question", timeout=FIRST_QUESTION_TIMEOUT_S)
    except BaseException:
        await client.close()
        raise
    say(f"session {session_id[:8]} ({kind}): joined; question {question['seq']}")
    return JoinedSession(session_id, client, microphone, voice, connected)


def room_closed(client: RoomClient) -> bool:
    return client.closed or any(e.get("type") == "room_closed" for e in client.events)


async def until_quiet(client: RoomClient, voice: VoiceListener) -> None:
    """Wait for QUIET_S of silence from the interviewer; RoomClosed if the room closes meanwhile
    (its voice then stops arriving at all, silence included)."""
    deadline = time.monotonic() + SPEAKING_TIMEOUT_S
    while True:
        if room_closed(client):
            raise RoomClosed
        try:
            return await voice.quiet_for(QUIET_S, timeout=1.0)
        except ClientError:
            if time.monotonic() > deadline:
                raise


async def play_answer(
    client: RoomClient, microphone: Microphone, voice: VoiceListener, answer: CorpusAnswer, session_id: str
) -> Played:
    """Wait for the interviewer to finish, play the whole answer, then take its reply."""
    await until_quiet(client, voice)
    speech = microphone_speech(answer)
    events_before = len(client.events)
    sent = microphone.say(speech)
    deadline = time.monotonic() + speech.duration_s + 15.0
    while not sent.done():
        await asyncio.wait({sent}, timeout=0.5)
        if room_closed(client) or time.monotonic() > deadline:
            raise RoomClosed
    end = sent.result()
    start = end - speech.duration_s
    questions = sum(1 for e in client.events[events_before:] if e.get("type") == "question")
    try:
        reply_at: float | None = await voice.first_voice_after(end, timeout=REPLY_TIMEOUT_S)
    except ClientError:
        reply_at = None
    if reply_at is not None:
        with contextlib.suppress(RoomClosed):  # the reply closed the interview: the answer still counts
            await until_quiet(client, voice)
    voiced = tuple(t for t in voice.voiced_at if t >= start - 3 * ONSET_GAP_S)
    return Played(answer, session_id, start, end, voiced, reply_at, questions)


@dataclass(slots=True)
class PlayedSession:
    session_id: str
    results: list[AnswerResult]
    left: list[CorpusAnswer]  # answers not played because the interview ended first
    opening_ms: float  # from the media connecting to the interviewer's first audio


async def play_session(
    http: httpx.AsyncClient,
    base_url: str,
    kind: str,
    answers: list[CorpusAnswer],
    frames: Sequence[np.ndarray],
    packets: Sequence[bytes] | None = None,
    bed: np.ndarray | None = None,
) -> PlayedSession:
    """Schedule a session, join it and play the answers (join_session)."""
    joined = await join_session(http, base_url, kind, frames, packets, bed)
    session_id, client, microphone, voice = joined.session_id, joined.client, joined.microphone, joined.voice
    results: list[AnswerResult] = []
    left = list(answers)
    try:
        first_voice = await voice.first_voice_after(0.0, timeout=FIRST_QUESTION_TIMEOUT_S)
        opening_ms = (first_voice - joined.connected) * 1000.0
        while left:
            try:
                played = await play_answer(client, microphone, voice, left[0], session_id)
            except RoomClosed:
                say(f"session {session_id[:8]}: the interview ended with {len(left)} answer(s) left")
                break
            left.pop(0)
            results.append(AnswerResult(played, turn_taking(played)))
            log_answer(results[-1], len(results))
        await asyncio.sleep(LAST_WRITE_S)
        await http.post(f"/v1/sessions/{session_id}/end")
    finally:
        await client.close()
    return PlayedSession(session_id, results, left, opening_ms)


def log_answer(result: AnswerResult, n: int) -> None:
    p, t = result.played, result.turns
    cut = sorted(round(p.answer.pauses[k].duration_s, 1) for k in t.cutoffs)
    reply = f"{t.end_to_first_audio_ms:.0f} ms" if t.end_to_first_audio_ms is not None else "none"
    say(
        f"  {n}. {p.answer.name} ({p.answer.voice}, {p.answer.answer_s:.0f} s): "
        f"{len(t.cutoffs)}/{len(p.answer.pauses)} pauses cut off {cut}, "
        f"talk-over {sum(t.cutoffs.values()):.1f} s, reply {reply}, "
        f"{p.questions_mid_answer} question(s) asked mid-answer"
    )


# -- turn-taking from the client's times ---------------------------------------------------


def onsets(voiced: Sequence[float]) -> list[int]:
    """Indices of voiced frames that start the interviewer's voice after ONSET_GAP_S of quiet."""
    return [i for i, t in enumerate(voiced) if i == 0 or t - voiced[i - 1] >= ONSET_GAP_S]


def overlap_s(a: float, b: float, spans: Iterable[tuple[float, float]]) -> float:
    return sum(max(0.0, min(b, e) - max(a, s)) for s, e in spans)


def talk_over_s(voiced: Sequence[float], first: int, stretches: Sequence[tuple[float, float]]) -> float:
    """Overlap with the candidate's speech of the interviewer's voice from frame `first` until it goes quiet."""
    total, i = 0.0, first
    while i < len(voiced) and (i == first or voiced[i] - voiced[i - 1] < ONSET_GAP_S):
        total += overlap_s(voiced[i], voiced[i] + FRAME_S, stretches)
        i += 1
    return total


def turn_taking(played: Played) -> TurnTaking:
    """Cut-offs (by pause), talk-over and reply time of one played answer."""
    voiced, stretches = played.voiced, played.stretches
    pause_starts = [played.at(p.start_s) for p in played.answer.pauses]
    cutoffs: dict[int, float] = {}
    early = 0
    for i in onsets(voiced):
        at = voiced[i]
        if not played.start <= at < played.end:
            continue
        k = bisect.bisect_right(pause_starts, at) - 1
        if k < 0:
            early += 1
            continue
        cutoffs[k] = cutoffs.get(k, 0.0) + talk_over_s(voiced, i, stretches)
    reply_ms = None if played.reply_at is None else (played.reply_at - played.end) * 1000.0
    talking = any(played.end - ONSET_GAP_S <= t < played.end for t in voiced)
    return TurnTaking(cutoffs, early, reply_ms, talking)


# -- what the session stored ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session's stored rows (wall-clock seconds) and its report."""

    responses: list[dict[str, Any]]  # id, start, end, transcript, words
    events: list[dict[str, Any]]  # at, kind, duration_s, value, label
    report: dict[str, Any] | None


async def fetch_stored(pool: asyncpg.Pool, http: httpx.AsyncClient, session_id: str) -> StoredSession:
    """The session's responses and speech events once its signal rows are flushed, and its report."""
    sid = uuid.UUID(session_id)
    deadline = time.monotonic() + STORED_TIMEOUT_S
    while not await pool.fetchval("SELECT 1 FROM signal_stats WHERE session_id = $1", sid):
        if time.monotonic() > deadline:
            say(f"session {session_id[:8]}: no signal_stats row after {STORED_TIMEOUT_S:.0f} s; reading what is there")
            break
        await asyncio.sleep(0.5)
    started = await pool.fetchval("SELECT started_at FROM sessions WHERE id = $1", sid)
    rows = await pool.fetch(
        "SELECT id, transcript, started_at, ended_at, words FROM responses WHERE session_id = $1 ORDER BY started_at",
        sid,
    )
    responses = [
        {
            "id": str(r["id"]),
            "start": r["started_at"].timestamp(),
            "end": (r["ended_at"] or r["started_at"]).timestamp(),
            "transcript": r["transcript"],
            "words": json.loads(r["words"]) if isinstance(r["words"], str) else r["words"],
        }
        for r in rows
    ]
    events = []
    if started is not None:
        origin = started.timestamp()
        for r in await pool.fetch(
            "SELECT t_ms, kind, duration_ms, value, label FROM speech_events WHERE session_id = $1 ORDER BY t_ms", sid
        ):
            events.append(
                {
                    "at": origin + r["t_ms"] / 1000.0,
                    "kind": r["kind"],
                    "duration_s": None if r["duration_ms"] is None else r["duration_ms"] / 1000.0,
                    "value": r["value"],
                    "label": r["label"],
                }
            )
    report = None
    response = await http.get(f"/v1/sessions/{session_id}/report")
    if response.status_code == 200:
        report = response.json()
    else:
        say(f"session {session_id[:8]}: report answered {response.status_code}")
    return StoredSession(responses, events, report)


def compare(played: Played, stored: StoredSession, wall_offset: float) -> Stored:
    """One answer's stored responses, events and report pace against its truth."""
    answer = played.answer
    span = (played.start + wall_offset, played.end + wall_offset + SPAN_SLACK_S)
    responses = [r for r in stored.responses if r["start"] <= span[1] and r["end"] >= span[0]]
    events = [e for e in stored.events if span[0] - SPAN_SLACK_S <= e["at"] <= span[1]]
    transcript = " ".join(r["transcript"] for r in responses)
    ref, hyp = wer_text(answer.transcript), wer_text(transcript)
    measures = jiwer.process_words(ref, hyp) if ref else None
    errors = (measures.substitutions + measures.deletions + measures.insertions) if measures else 0
    pause_errors, spurious = match_pauses(played, [e for e in events if e["kind"] == "pause"], wall_offset)
    fillers = [e for e in events if e["kind"] == "filler" and (e["label"] or "").lower() not in HEDGES]

    def clip_s(wall: float) -> float:
        return round(wall - wall_offset - played.at(0.0), 3)
    wpm, source = stored_pace(responses, stored.report)
    live = [e["value"] for e in events if e["kind"] == "wpm" and e["value"] is not None]
    return Stored(
        responses=len(responses),
        transcript=transcript,
        wer=errors / len(ref.split()) if ref else None,
        ref_words=len(ref.split()),
        errors=errors,
        insertions=measures.insertions if measures else 0,
        pause_errors_ms=pause_errors,
        pauses_matched=len(pause_errors),
        spurious_pauses=spurious,
        fillers_true=len(answer.fillers),
        fillers_stored=len(fillers),
        wpm_true=answer.wpm,
        wpm_stored=wpm,
        wpm_source=source,
        live_wpm=float(np.median(live)) if live else None,
        negative_latencies=sum(1 for e in events if e["kind"] == "response_latency" and (e["value"] or 0) < 0),
        stored_pauses=[(clip_s(e["at"]), e["duration_s"]) for e in events if e["kind"] == "pause"],
        response_at_s=clip_s(min(r["start"] for r in responses)) if responses else None,
        pause_shift_s=pause_shift_s(
            [(p.start_s, p.end_s) for p in answer.pauses],
            [(clip_s(e["at"]), clip_s(e["at"]) + e["duration_s"]) for e in events if e["kind"] == "pause" and e["duration_s"]],
        ),
        stored_fillers=[(clip_s(e["at"]), e["label"]) for e in fillers],
    )


def match_pauses(played: Played, detected: list[dict[str, Any]], wall_offset: float) -> tuple[list[float], int]:
    """|duration error| in ms of each true pause matched to the detected pause overlapping it
    most, and how many detected pauses overlapped no true pause."""
    detected_spans = [(e["at"], e["at"] + e["duration_s"]) for e in detected if e["duration_s"]]
    true_spans = [
        (played.at(p.start_s) + wall_offset, played.at(p.end_s) + wall_offset, p.duration_s)
        for p in played.answer.pauses
    ]
    errors = []
    for a, b, duration in true_spans:
        best = max(detected_spans, key=lambda d: overlap_s(a, b, [d]), default=None)
        if best is not None and overlap_s(a, b, [best]) > 0:
            errors.append(abs((best[1] - best[0]) - duration) * 1000.0)
    spurious = sum(1 for d in detected_spans if not any(overlap_s(a, b, [d]) > 0 for a, b, _ in true_spans))
    return errors, spurious


SHIFT_SEARCH_S = 15.0
SHIFTED_S = 0.5  # an answer whose stored pauses line up best this far off the truth's
MIN_SHIFT_PAUSES = 4  # true pauses an answer needs for its shift to be found
MIN_SHIFT_PAUSE_S = 0.5  # stored pauses shorter than every true one are left out of it
SHIFT_STEP_S = 0.05


def pause_shift_s(true: Sequence[tuple[float, float]], stored: Sequence[tuple[float, float]]) -> float | None:
    """The shift (s, within SHIFT_SEARCH_S) of the stored pause spans that overlaps the true ones
    most; None with fewer than MIN_SHIFT_PAUSES true pauses or no stored pause as long as the
    shortest true one can be. Stored times should sit on the truth's: a shift of more than a
    fraction of a second means a clock, not a pause, is wrong (the pause error then matches
    pauses to the wrong ones)."""
    stored = [(a, b) for a, b in stored if b - a >= MIN_SHIFT_PAUSE_S]  # as the true ones are
    if len(true) < MIN_SHIFT_PAUSES or not stored:
        return None  # too few to line up: with a few true pauses any shift fits some stored one
    steps = np.arange(-SHIFT_SEARCH_S, SHIFT_SEARCH_S + SHIFT_STEP_S / 2, SHIFT_STEP_S)
    scores = [sum(overlap_s(a + d, b + d, true) for a, b in stored) for d in steps]
    best = max(scores)
    if best <= 0:
        return None
    # The best shifts form runs (a stored pause shorter than the true one fits anywhere inside
    # it): the middle of the run nearest no shift.
    runs: list[list[float]] = []
    for i, (d, v) in enumerate(zip(steps, scores)):
        if v >= best - 1e-9:
            if runs and i > 0 and scores[i - 1] >= best - 1e-9:
                runs[-1].append(float(d))
            else:
                runs.append([float(d)])
    middles = [(run[0] + run[-1]) / 2 for run in runs]
    return round(-min(middles, key=abs), 2) + 0.0


def stored_pace(responses: list[dict[str, Any]], report: dict[str, Any] | None) -> tuple[float | None, str]:
    """The answer's pace: the report's, when one report answer is exactly these responses; else
    the report's definition over the responses' word timings."""
    ids = {r["id"] for r in responses}
    holding = [a for a in (report or {}).get("answers", []) if ids & set(a["response_ids"])]
    if len(holding) == 1 and set(holding[0]["response_ids"]) == ids:
        pace = next((d for d in holding[0]["delivery"] if d["metric"] == "pace"), None)
        if pace is not None and pace["value"] is not None:
            return float(pace["value"]), "report"
    timings = [word_timing(r["words"]) for r in responses]
    words, speaking = sum(t.words for t in timings), sum(t.speaking_s for t in timings)
    return (60.0 * words / speaking, "words") if speaking > 0 else (None, "none")


# -- text for the word error rate -----------------------------------------------------------

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def spell_number(n: int) -> str:
    """An integer below 10,000 in words, as the corpus writes numbers ("forty", "three hundred")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + spell_number(n % 100))
    if n < 10000:
        return _ONES[n // 1000] + " thousand" + ("" if n % 1000 == 0 else " " + spell_number(n % 1000))
    return str(n)


def wer_text(text: str) -> str:
    """Normalised for the word error rate: numbers spelled out, vocal fillers out, then tests/words.py's
    normalise (case, punctuation, contractions)."""
    text = re.sub(r"(\d),(\d{3})", r"\1\2", text).replace("%", " percent")
    text = re.sub(r"\d+", lambda m: f" {spell_number(int(m.group()))} ", text)
    return " ".join(w for w in normalise(text).split() if not is_vocal_filler(w))


# -- figures ------------------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if len(values) else None


def mean(values: Sequence[float], digits: int = 3) -> float | None:
    return round(float(np.mean(values)), digits) if len(values) else None


def rate_table(results: Sequence[AnswerResult], key) -> dict[str, dict[str, float | int | None]]:
    """Pauses and cut-offs grouped by key(answer, pause)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        for k, pause in enumerate(r.played.answer.pauses):
            group = counts[key(r.played.answer, pause)]
            group[0] += 1
            group[1] += k in r.turns.cutoffs
    return {
        name: {"pauses": n, "cutoffs": c, "rate": round(c / n, 3) if n else None}
        for name, (n, c) in sorted(counts.items())
    }


def turn_figures(results: Sequence[AnswerResult]) -> dict[str, Any]:
    pauses = [(r, k, p) for r in results for k, p in enumerate(r.played.answer.pauses)]
    cutoffs = [(r, k) for r, k, _ in pauses if k in r.turns.cutoffs]
    short = [(r, k) for r, k, p in pauses if p.duration_s <= 3.0]
    talk_over = [r.turns.cutoffs[k] * 1000.0 for r, k in cutoffs]
    e2fa = [r.turns.end_to_first_audio_ms for r in results if r.turns.end_to_first_audio_ms is not None]
    clean = [
        r.turns.end_to_first_audio_ms
        for r in results
        if r.turns.end_to_first_audio_ms is not None and not r.turns.talking_at_end
    ]
    return {
        "answers": len(results),
        "pauses": len(pauses),
        "cutoffs": len(cutoffs),
        "false_cutoff_rate": round(len(cutoffs) / len(pauses), 3) if pauses else None,
        "false_cutoff_rate_le3s": (
            round(sum(1 for r, k in short if k in r.turns.cutoffs) / len(short), 3) if short else None
        ),
        "pauses_le3s": len(short),
        "cutoffs_le3s": sum(1 for r, k in short if k in r.turns.cutoffs),
        "cutoffs_by_bucket": rate_table(results, lambda a, p: pause_bucket(p.duration_s)),
        "cutoffs_by_kind": rate_table(results, lambda a, p: p.kind),
        "cutoffs_by_family": rate_table(results, lambda a, p: a.family),
        "answers_cut_off": sum(1 for r in results if r.turns.cutoffs),
        "early_interjections": sum(r.turns.early_interjections for r in results),
        "talk_over_ms_p95": pct(talk_over, 95) or 0.0,
        "talk_over_ms_p50": pct(talk_over, 50) or 0.0,
        "talk_over_count": len(talk_over),
        "end_to_first_audio_p50_ms": pct(e2fa, 50),
        "end_to_first_audio_p95_ms": pct(e2fa, 95),
        "end_to_first_audio_clean_p50_ms": pct(clean, 50),
        "end_to_first_audio_clean_p95_ms": pct(clean, 95),
        "replies_missed": sum(1 for r in results if r.turns.end_to_first_audio_ms is None),
        "interviewer_talking_at_end": sum(1 for r in results if r.turns.talking_at_end),
        "questions_mid_answer": sum(r.played.questions_mid_answer for r in results),
    }


def stored_figures(results: Sequence[AnswerResult]) -> dict[str, Any]:
    stored = [r.stored for r in results if r.stored is not None]
    if not stored:
        return {}
    pause_errors = [e for s in stored for e in s.pause_errors_ms]
    true_pauses = sum(len(r.played.answer.pauses) for r in results if r.stored is not None)
    wpm_errors = [abs(s.wpm_stored - s.wpm_true) / s.wpm_true * 100.0 for s in stored if s.wpm_stored is not None]
    live_errors = [abs(s.live_wpm - s.wpm_true) / s.wpm_true * 100.0 for s in stored if s.live_wpm is not None]
    ref_words = sum(s.ref_words for s in stored)
    return {
        "responses_per_answer": mean([s.responses for s in stored], 2),
        "one_response_fraction": mean([s.responses == 1 for s in stored], 3),
        "answers_without_response": sum(1 for s in stored if s.responses == 0),
        "pause_err_ms_mean": mean(pause_errors, 1),
        "pause_err_ms_p90": pct(pause_errors, 90),
        "pause_recall": round(len(pause_errors) / true_pauses, 3) if true_pauses else None,
        "spurious_pauses": sum(s.spurious_pauses for s in stored),
        "wpm_err_pct_mean": mean(wpm_errors, 1),
        "wpm_within_10pct": mean([e <= 10.0 for e in wpm_errors], 3),
        "wpm_from_report": sum(1 for s in stored if s.wpm_source == "report"),
        "live_wpm_err_pct_mean": mean(live_errors, 1),
        "fillers_true_total": sum(s.fillers_true for s in stored),
        "fillers_stored_total": sum(s.fillers_stored for s in stored),
        "fillers_exact_fraction": mean([s.fillers_stored == s.fillers_true for s in stored], 3),
        "fillers_abs_error_total": sum(abs(s.fillers_stored - s.fillers_true) for s in stored),
        "wer": round(sum(s.errors for s in stored) / ref_words, 3) if ref_words else None,
        "inserted_words": sum(s.insertions for s in stored),
        "negative_response_latencies": sum(s.negative_latencies for s in stored),
        "answers_pauses_shifted": sum(1 for s in stored if s.pause_shift_s is not None and abs(s.pause_shift_s) > SHIFTED_S),
    }


def turn_settings(settings: Settings) -> dict[str, Any]:
    """The settings that shape turn-taking, whatever they are called in this version of the code."""
    return {
        k: v if isinstance(v, bool | int | float | str | None) else str(v)
        for k, v in settings.model_dump().items()
        if any(word in k for word in SETTING_WORDS)
    }


def details(results: Sequence[AnswerResult]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        a = r.played.answer
        out.append(
            {
                "name": a.name,
                "voice": a.voice,
                "session_id": r.played.session_id,
                "answer_s": round(a.answer_s, 2),
                "pauses": [{"start_s": round(p.start_s, 3), "s": p.duration_s, "kind": p.kind, "cut_off": k in r.turns.cutoffs} for k, p in enumerate(a.pauses)],
                "turns": asdict(r.turns),
                "questions_mid_answer": r.played.questions_mid_answer,
                "stored": asdict(r.stored) if r.stored is not None else None,
                "truth_transcript": a.transcript,
            }
        )
    return out


# -- the run ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.turn_taking",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1].rstrip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help=f"{len(QUICK_ANSWERS)} answers in two sessions")
    parser.add_argument("--answers", type=int, help="the first N answers of the bench order (overrides --quick)")
    parser.add_argument("--names", help="comma-separated answer names (e.g. outage@piper) instead")
    parser.add_argument(
        "--recordings",
        type=Path,
        metavar="TRUTH_JSON",
        help="play recorded answers instead of the synthetic corpus: a truth.json as bench.answer_corpus writes "
        "(--truth-for DIR makes one from NAME.wav and NAME.txt pairs); --names picks some of them",
    )
    parser.add_argument(
        "--background",
        type=Path,
        metavar="WAV",
        help="another voice in the room (a recording, looped) under everything the microphone sends, "
        "from the greeting on, at --background-db",
    )
    parser.add_argument(
        "--background-db",
        type=float,
        default=-20.0,
        help="with --background: its speech level against the answers' (default -20)",
    )
    parser.add_argument(
        "--background-bursts",
        action="store_true",
        help=f"with --background: cut it into {BURST_S[0]:g}-{BURST_S[1]:g} s bursts, "
        f"{BURST_GAP_S[0]:g}-{BURST_GAP_S[1]:g} s apart",
    )
    parser.add_argument("--label", default="", help="echoed in the JSON")
    parser.add_argument("--details", type=Path, help="write per-answer results here as JSON")
    parser.add_argument("--log", type=Path, help="write the interviewer's debug log here (pause decisions, yields, turns)")
    parser.add_argument(
        "--room",
        action="store_true",
        help="a real room's sounds: room tone, and breaths, coughs, sighs, clicks, keys and creaks in the pauses "
        "(bench/room_sounds.py)",
    )
    parser.add_argument(
        "--room-dbfs", type=float, default=ROOM_DBFS, help=f"with --room: the room tone's level (default {ROOM_DBFS})"
    )
    parser.add_argument(
        "--voice-db",
        type=float,
        default=0.0,
        help="with --room: the speaker this many dB louder or quieter (-15: a soft voice or a distant microphone)",
    )
    args = parser.parse_args(argv)
    if args.answers is not None and not 1 <= args.answers <= len(bench_order()):
        parser.error(f"--answers must be 1-{len(bench_order())}")
    return args


def chosen(args: argparse.Namespace) -> list[str]:
    if args.names:
        return args.names.split(",")
    if args.recordings:
        return [a["name"] for a in json.loads(args.recordings.read_text())["answers"]]
    if args.answers is not None:
        return bench_order()[: args.answers]
    return list(QUICK_ANSWERS) if args.quick else bench_order()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    import agent

    say(f"agent code: {agent.__file__}")
    if args.log:
        log_to(args.log, logging.DEBUG)
        for name in ("agent", "media"):
            logging.getLogger(name).setLevel(logging.DEBUG)
        say(f"debug log: {args.log}")
    names = chosen(args)
    say(f"synthesising {len(names)} answers")
    corpus = {a.name: a for a in (load_recordings(args.recordings) if args.recordings else build_corpus(names))}
    unknown = [n for n in names if n not in corpus]
    if unknown:
        raise SystemExit(f"no such answers: {', '.join(unknown)}")
    answers = [corpus[n] for n in names]
    if args.room:
        answers = [in_a_room(a, room_dbfs=args.room_dbfs, voice_db=args.voice_db) for a in answers]
    frames = camera_frames(CAMERA_LOOP_FRAMES)
    bed = background_bed(args.background, answers, args.background_db, bursts=args.background_bursts) if args.background else None
    began = time.monotonic()
    results: list[AnswerResult] = []
    sessions = closed_early = 0
    with tempfile.TemporaryDirectory(prefix="greenroom-bench-") as tmp:
        workdir = Path(tmp)
        async with database(workdir) as url:
            settings = bench_settings(workdir, url)
            say("loading voice models")
            models = await asyncio.to_thread(VoiceModels.load, settings, say)
            app = build_app(settings, models=models)
            async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=120) as http:
                await sign_up(http)
                wall_offset = time.time() - time.monotonic()
                queue = sessions_for(answers)
                say(f"serving on {base_url}; {len(answers)} answers in {len(queue)} sessions")
                while queue:
                    kind, group = queue.pop(0)
                    session = await play_session(http, base_url, kind, group, frames, bed=bed)
                    session_id, played, left = session.session_id, session.results, session.left
                    sessions += 1
                    if left and played:  # the interview ended early: the rest go to a new session
                        closed_early += 1
                        queue.insert(0, (kind, left))
                    elif left:
                        say(f"session {session_id[:8]}: no answer could be played; dropping {len(left)}")
                    stored = await fetch_stored(app.state.pool, http, session_id)
                    for r in played:
                        r.stored = compare(r.played, stored, wall_offset)
                    results += played
                    await http.delete(f"/v1/sessions/{session_id}")
    if args.details:
        args.details.write_text(json.dumps(details(results), indent=1))
    return {
        "label": args.label,
        "mode": "recordings" if args.recordings else "answers" if args.answers else "quick" if args.quick else "full",
        "room": {"room_dbfs": args.room_dbfs, "voice_db": args.voice_db} if args.room else False,
        "background": {"wav": args.background.name, "db": args.background_db, "bursts": args.background_bursts} if args.background else False,
        **turn_figures(results),
        **stored_figures(results),
        "sessions": sessions,
        "sessions_closed_early": closed_early,
        "bench_min": round((time.monotonic() - began) / 60, 1),
        "settings": turn_settings(settings),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args()))))
