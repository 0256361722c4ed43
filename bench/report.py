"""Time the report, timeline and PDF export of a 30-minute session through the real HTTP app.

A synthetic completed session is loaded with COPY: face samples and prosody windows at 10 Hz
for the whole session, speech events (pauses, fillers, pace readings, response latencies,
nudges) and ten questions with multi-utterance answers carrying word timings. Then the app
(create_app, its lifespan, the offline evaluator) is driven with httpx.ASGITransport:
GET /report (the first run scores the answers and is reported apart as report_cold_ms),
GET /timeline?bucket_ms=1000, and POST /export {"format": "pdf"}.

The database is an embedded PostgreSQL (pgserver) in a temporary directory, or a scratch
database on GREENROOM_TEST_DATABASE_URL (or DATABASE_URL) when set.
Targets: report_ms <= 1000, pdf_ms <= 3000.

Usage: python bench/report.py [--quick]; the last stdout line is JSON with medians in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from api.app import create_app  # noqa: E402
from db import accounts  # noqa: E402
from db import sessions as repo  # noqa: E402
from bench.scratch_db import scratch_database  # noqa: E402
from greenroom.settings import Settings  # noqa: E402

TARGET_REPORT_MS = 1000
TARGET_PDF_MS = 3000
SESSION_MIN = 30
QUESTIONS = 10
RATE_HZ = 10
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

_QUESTIONS = (
    "Tell me about a time you disagreed with a colleague and how you resolved it.",
    "Describe a project where you had to learn a new tool quickly.",
    "How would you design a URL shortener that handles a billion requests a day?",
    "Walk me through how you would estimate the market for electric scooters in a city.",
    "Tell me about a mistake you made at work and what you learned from it.",
    "How do you prioritise when everything is urgent?",
    "Explain how a hash map works and when it performs badly.",
    "A patient refuses a treatment their family wants. What do you do?",
    "Describe a time you led a team through a difficult deadline.",
    "What would you change about a product you use every day, and why?",
)
_SENTENCES = (
    "In my last role I was the engineer responsible for our payments service",
    "the situation was that our checkout latency had doubled over two weeks",
    "my task was to find the cause and fix it before the holiday launch",
    "so I first measured every step of the request with tracing",
    "then I met with the database team and we agreed on a plan",
    "I rewrote the two slowest queries and added an index",
    "we tested the change with a canary on five percent of traffic",
    "as a result latency dropped by forty percent and conversions rose by three percent",
    "I learned to measure before I change anything",
    "the trade off was a little more write load which we accepted",
    "I kept the product manager informed every day",
    "looking back I would involve support earlier",
)


Words = list[dict[str, Any]]


def _answer_words(
    rng: random.Random, start_s: float, seconds: float
) -> tuple[Words, list[tuple[float, float]], list[tuple[float, str]]]:
    """Word timings over `seconds` at about 150 wpm; the pauses (at, s) and fillers (at, word) in them."""
    words: Words = []
    pauses: list[tuple[float, float]] = []
    fillers: list[tuple[float, str]] = []
    t = 0.0
    while t < seconds:
        sentence = rng.choice(_SENTENCES).split()
        if rng.random() < 0.25:
            sentence.insert(rng.randrange(len(sentence)), rng.choice(("um", "uh", "like")))
        for token in sentence:
            duration = rng.uniform(0.25, 0.45)
            words.append({"w": token, "start": round(t, 3), "end": round(t + duration, 3), "p": 0.9})
            if token in ("um", "uh", "like"):
                fillers.append((start_s + t, token))
            t += duration + rng.uniform(0.0, 0.08)
        gap = rng.choice((0.3, 0.5, 0.8, 1.2)) if rng.random() < 0.8 else rng.uniform(2.5, 5.0)
        pauses.append((start_s + t, gap))
        t += gap
    return words, pauses, fillers


def synthetic_session(rng: random.Random) -> dict[str, list[tuple[Any, ...]]]:
    """Rows for one 30-minute session: questions, responses, and every signal at full rate."""
    total_ms = SESSION_MIN * 60 * 1000
    slot_s = SESSION_MIN * 60 / QUESTIONS
    questions, responses, events = [], [], []
    answer_spans: list[tuple[float, float]] = []
    for i in range(QUESTIONS):
        asked_s = i * slot_s + 1.0
        question_end_s = asked_s + 8.0
        latency = rng.uniform(0.8, 4.5)
        start_s = question_end_s + latency
        length_s = slot_s - 8.0 - latency - 8.0
        questions.append((i + 1, _QUESTIONS[i], asked_s))
        events.append((round(start_s * 1000), "response_latency", None, latency, None))
        t, utterances = start_s, []
        for part in range(3):  # an answer arrives as three recognised utterances
            seconds = length_s / 3 - 1.5
            words, pauses, fillers = _answer_words(rng, t, seconds)
            utterances.append((t, t + words[-1]["end"], words))
            for at, gap in pauses[:-1]:
                events.append((round(at * 1000), "pause", round(gap * 1000), gap, None))
            for at, label in fillers:
                events.append((round(at * 1000), "filler", None, None, label))
            wpm_at = t + 5.0
            while wpm_at < t + seconds:
                events.append((round(wpm_at * 1000), "wpm", None, rng.gauss(150, 18), None))
                wpm_at += 10.0
            t += seconds + 1.5
        responses.append((i + 1, utterances))
        answer_spans.append((start_s, t))
    events.append((round(answer_spans[2][0] * 1000) + 30_000, "nudge", None, 175.0, "pace"))

    face, prosody = [], []
    look_away_until = -1
    for t_ms in range(0, total_ms, 1000 // RATE_HZ):
        if t_ms > look_away_until and rng.random() < 0.0008:
            look_away_until = t_ms + rng.randint(3000, 8000)
        away = t_ms <= look_away_until
        present = rng.random() > 0.02
        gaze = rng.uniform(0.05, 0.3) if away else rng.uniform(0.45, 0.98)
        face.append(
            (t_ms, present, rng.random() < 0.03, 1 if present else 0,
             rng.gauss(4, 6) if present else None, rng.gauss(-2, 4) if present else None,
             rng.gauss(0, 2) if present else None, gaze if present else None,
             rng.uniform(0.6, 1) if present else None, rng.uniform(0, 0.7) if present else None,
             rng.uniform(0, 0.2) if present else None, rng.uniform(0.6, 1.0) if present else None,
             rng.uniform(0.7, 1.0) if present else 0.0)
        )  # fmt: skip
        voiced = any(a <= t_ms / 1000 < b for a, b in answer_spans) and rng.random() < 0.8
        prosody.append(
            (t_ms, rng.gauss(-22, 4) if voiced else rng.gauss(-55, 3),
             rng.gauss(180, 25) if voiced else None, rng.uniform(0.6, 1) if voiced else None, voiced)
        )  # fmt: skip
    return {"questions": questions, "responses": responses, "events": events, "face": face, "prosody": prosody}


async def load_session(
    conn: asyncpg.Connection, user_id: UUID, rows: dict[str, list[Any]], bank_ids: list[str]
) -> UUID:
    """Writes a completed session with the synthetic rows (signals by COPY); returns its id."""
    session = await repo.create_session(
        conn, user_id=user_id, role_track="software_engineer", round_type="mixed",
        difficulty="medium", duration_min=SESSION_MIN, persona="alex",
    )  # fmt: skip
    sid = session.id
    await repo.mark_live(conn, sid, T0)
    question_ids = {}
    for seq, text, asked_s in rows["questions"]:
        bank_id = bank_ids[seq - 1] if seq - 1 < len(bank_ids) else None
        question_ids[seq] = await repo.add_question(
            conn, sid, seq, text, "bank", bank_id, "alex", T0 + timedelta(seconds=asked_s)
        )
    for seq, utterances in rows["responses"]:
        for start_s, end_s, words in utterances:
            text = " ".join(w["w"] for w in words)
            await repo.add_response(
                conn, sid, question_ids[seq], text,
                T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s), words,
            )  # fmt: skip
    await conn.copy_records_to_table(
        "face_samples",
        records=[(sid, *r) for r in rows["face"]],
        columns=["session_id", "t_ms", "face_present", "blink", "num_faces", "yaw", "pitch", "roll",
                 "gaze_on_camera", "eye_open", "smile", "brow_raise", "stability", "quality"],
    )  # fmt: skip
    await conn.copy_records_to_table(
        "prosody_windows",
        records=[(sid, *r) for r in rows["prosody"]],
        columns=["session_id", "t_ms", "loudness_dbfs", "f0_hz", "f0_confidence", "voiced"],
    )
    seen: set[tuple[int, str, str]] = set()
    events = []
    for e in rows["events"]:
        key = (e[0], e[1], e[4] or "")
        if key not in seen:
            seen.add(key)
            events.append((sid, *e))
    await conn.copy_records_to_table(
        "speech_events", records=events, columns=["session_id", "t_ms", "kind", "duration_ms", "value", "label"]
    )
    await repo.mark_ended(conn, sid, "completed", T0 + timedelta(minutes=SESSION_MIN), "interview_finished")
    return sid


def _bank_ids() -> list[str]:
    try:
        from agent.question_bank import QuestionBank

        bank = QuestionBank.load()
    except Exception:  # the bench still runs on a bank being edited; categories then default
        return []
    by_category: dict[str, list[str]] = {}
    for q in bank.questions:
        by_category.setdefault(q.category, []).append(q.id)
    order = ("behavioral", "behavioral", "system_design", "case", "behavioral", "behavioral",
             "technical", "mmi", "behavioral", "case")  # fmt: skip
    picked = []
    for i, category in enumerate(order):
        ids = by_category.get(category) or by_category.get("behavioral") or []
        if ids:
            picked.append(ids[i % len(ids)])
    return picked


async def _timed(call: Any) -> tuple[float, httpx.Response]:
    began = time.perf_counter()
    response = await call()
    return (time.perf_counter() - began) * 1000.0, response


async def _run(runs: int, server_url: str | None) -> dict[str, Any]:
    rng = random.Random(20250303)
    rows = synthetic_session(rng)
    with tempfile.TemporaryDirectory(prefix="greenroom-bench-") as tmp:
        async with scratch_database(server_url, Path(tmp)) as url:
            conn = await asyncpg.connect(url)
            try:
                user = await accounts.create_user(conn, "bench@example.test", secrets.token_urlsafe(16))
                token = await accounts.create_token(conn, user.id, timedelta(hours=1))
                began = time.perf_counter()
                sid = await load_session(conn, user.id, rows, _bank_ids())
                load_s = time.perf_counter() - began
            finally:
                await conn.close()
            settings = Settings(database_url=url, data_dir=Path(tmp) / "app", _env_file=None)
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                if getattr(app.state, "evaluator", None) is None:
                    from scoring.offline import OfflineEvaluator

                    app.state.evaluator = OfflineEvaluator()
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://bench", headers={"Authorization": f"Bearer {token}"}
                ) as client:
                    report_cold_ms, first = await _timed(lambda: client.get(f"/v1/sessions/{sid}/report"))
                    first.raise_for_status()
                    timings: dict[str, list[float]] = {"report": [], "timeline": [], "pdf": []}
                    for _ in range(runs):
                        ms, r = await _timed(lambda: client.get(f"/v1/sessions/{sid}/report"))
                        r.raise_for_status()
                        timings["report"].append(ms)
                        ms, r = await _timed(
                            lambda: client.get(f"/v1/sessions/{sid}/timeline", params={"bucket_ms": 1000})
                        )
                        r.raise_for_status()
                        timings["timeline"].append(ms)
                        ms, r = await _timed(lambda: client.post(f"/v1/sessions/{sid}/export", json={"format": "pdf"}))
                        r.raise_for_status()
                        timings["pdf"].append(ms)
                    pdf_bytes = r.json()["size_bytes"]
                    report = first.json()
    return {
        "server": "embedded" if server_url is None else "url",
        "face_samples": len(rows["face"]),
        "prosody_windows": len(rows["prosody"]),
        "speech_events": report["coverage"]["speech_events"],
        "answers": len(report["answers"]),
        "key_moments": len(report["key_moments"]),
        "overall": report["scorecard"]["overall"],
        "load_s": round(load_s, 2),
        "runs": runs,
        "pdf_bytes": pdf_bytes,
        "report_cold_ms": round(report_cold_ms, 1),
        "targets": {"report_ms": TARGET_REPORT_MS, "pdf_ms": TARGET_PDF_MS},
        "report_ms": round(statistics.median(timings["report"]), 1),
        "timeline_ms": round(statistics.median(timings["timeline"]), 1),
        "pdf_ms": round(statistics.median(timings["pdf"]), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 timed runs instead of 7")
    args = parser.parse_args()
    server_url = os.environ.get("GREENROOM_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    result = asyncio.run(_run(3 if args.quick else 7, server_url))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
