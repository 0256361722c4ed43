"""Time what a user waits for in the web app: dashboard, interview review and question bank in Chromium.

A real `greenroom serve` runs on loopback against a scratch database (bench/scratch_db.py: an
embedded PostgreSQL, or a scratch database on GREENROOM_TEST_DATABASE_URL or DATABASE_URL).
An account is made through `POST /v1/auth/signup`; its history is loaded into the database:
30 completed sessions over the last 30 days (four answered questions each, with speech
events), plus yesterday's 30-minute session with every signal at full rate (bench/report.py's
builders). Every report is requested once so the scores exist and the server is warm.

Debian's Chromium (Playwright, headless), signed in with the account's cookie, then loads each
page from a blank tab (a full page load, browser cache warm) and the time is read in the page
(performance.now(), i.e. since navigation start) once the page shows what the user came for:
- dashboard_ms: `#/` until the progress chart holds a Chart.js instance with data and the
  recent-sessions list has its rows;
- review_ms: `#/sessions/{id}` of the 30-minute session until the scorecard is shown and the
  timeline chart holds its data;
- questions_ms: `#/questions` until the first page of questions is listed.
The API's own latency is timed with httpx and the same cookie: progress_api_ms, report_api_ms,
timeline_api_ms (the timeline as the review page asks for it). timeline_points is how many
points the timeline chart holds (all datasets); timeline_bytes is the timeline JSON's size on
the wire.

Targets (p50, warm server): dashboard_ms <= 1500, review_ms <= 2500.

Usage: python -m bench.web [--quick]; the last stdout line is JSON (p50 and p95 in ms, and
every sample).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import asyncpg  # noqa: E402
import numpy as np  # noqa: E402
import httpx  # noqa: E402

from bench.live_server import serve_process, sign_up  # noqa: E402
from bench.report import _QUESTIONS, _answer_words, _bank_ids, load_session, synthetic_session  # noqa: E402
from bench.scratch_db import scratch_database  # noqa: E402
from db import sessions as repo  # noqa: E402

TARGET_DASHBOARD_MS = 1500
TARGET_REVIEW_MS = 2500
CHROMIUM = os.environ.get("GREENROOM_CHROMIUM", "/usr/bin/chromium")
SERVER_START_TIMEOUT_S = 120.0
PAGE_TIMEOUT_MS = 30_000
HISTORY_DAYS = 30
HISTORY_QUESTIONS = 4
VIEWPORT = {"width": 1280, "height": 800}

# Each predicate returns performance.now() (ms since the navigation started) once the page is
# ready, else false.
DASHBOARD_READY = """() => {
  const canvas = document.getElementById("progress-chart");
  const chart = canvas && window.Chart && Chart.getChart(canvas);
  const rows = document.querySelectorAll("#recent-sessions li.session-row").length;
  return chart && chart.data.datasets.length && chart.data.datasets[0].data.length && rows
    ? performance.now() : false;
}"""
REVIEW_READY = """() => {
  const canvas = document.getElementById("timeline-chart");
  const chart = canvas && window.Chart && Chart.getChart(canvas);
  const scored = document.querySelectorAll("#scorecard #dimensions li").length;
  return chart && chart.data.datasets.some((d) => d.data.length) && scored
    ? performance.now() : false;
}"""
QUESTIONS_READY = """() => {
  const items = document.querySelectorAll("#question-list li.question-item").length;
  const count = document.getElementById("result-count");
  return items && count && !count.textContent.startsWith("Searching") ? performance.now() : false;
}"""
# The end of the last /v1/ response that arrived before the page was ready.
API_DONE = """(readyMs) => Math.max(0, ...performance.getEntriesByType("resource")
  .filter((e) => new URL(e.name).pathname.startsWith("/v1/") && e.responseEnd > 0 && e.responseEnd <= readyMs)
  .map((e) => e.responseEnd))"""
TIMELINE_POINTS = """() => Chart.getChart(document.getElementById("timeline-chart"))
  .data.datasets.reduce((n, d) => n + d.data.length, 0)"""


# -- the data ------------------------------------------------------------------------------


async def load_history(conn: asyncpg.Connection, user_id: UUID, sessions: int, now: datetime) -> list[UUID]:
    """Completed 10-minute sessions, one a day up to yesterday, each with four answers and
    their pauses, fillers and pace readings (no face or prosody rows)."""
    rng = random.Random(20251122)
    ids = []
    for n in range(sessions):
        started = now - timedelta(days=sessions - n, hours=rng.uniform(0, 6))
        session = await repo.create_session(
            conn, user_id=user_id, role_track="software_engineer",
            round_type=("behavioral", "mixed", "technical")[n % 3],
            difficulty=("easy", "medium", "hard")[n % 3], duration_min=10, persona="alex",
        )  # fmt: skip
        sid = session.id
        await conn.execute("UPDATE sessions SET created_at = $2 WHERE id = $1", sid, started)
        await repo.mark_live(conn, sid, started)
        events = []
        for seq in range(1, HISTORY_QUESTIONS + 1):
            asked_s = (seq - 1) * 140.0 + 1.0
            question_id = await repo.add_question(
                conn, sid, seq, _QUESTIONS[(n + seq) % len(_QUESTIONS)], "bank", None, "alex",
                started + timedelta(seconds=asked_s),
            )  # fmt: skip
            start_s = asked_s + 8.0 + rng.uniform(0.8, 4.0)
            words, pauses, fillers = _answer_words(rng, start_s, rng.uniform(50, 110))
            await repo.add_response(
                conn, sid, question_id, " ".join(w["w"] for w in words),
                started + timedelta(seconds=start_s), started + timedelta(seconds=start_s + words[-1]["end"]), words,
            )  # fmt: skip
            events.append((sid, round(start_s * 1000), "response_latency", None, start_s - asked_s - 8.0, None))
            events += [(sid, round(at * 1000), "pause", round(gap * 1000), gap, None) for at, gap in pauses[:-1]]
            events += [(sid, round(at * 1000), "filler", None, None, label) for at, label in fillers]
            events += [
                (sid, round((start_s + t) * 1000), "wpm", None, rng.gauss(150, 20), None)
                for t in range(5, int(words[-1]["end"]), 10)
            ]
        unique = {(e[1], e[2], e[5] or ""): e for e in events}
        await conn.copy_records_to_table(
            "speech_events", records=list(unique.values()),
            columns=["session_id", "t_ms", "kind", "duration_ms", "value", "label"],
        )  # fmt: skip
        await repo.mark_ended(conn, sid, "completed", started + timedelta(minutes=10), "interview_finished")
        ids.append(sid)
    return ids


async def move_session(conn: asyncpg.Connection, session_id: UUID, started: datetime) -> None:
    """Moves a session's wall-clock times so that it started at `started` (offsets unchanged)."""
    async with conn.transaction():
        delta = started - await conn.fetchval("SELECT started_at FROM sessions WHERE id = $1", session_id)
        await conn.execute(
            "UPDATE sessions SET created_at = started_at + $2, started_at = started_at + $2,"
            " ended_at = ended_at + $2 WHERE id = $1", session_id, delta,
        )  # fmt: skip
        await conn.execute("UPDATE questions SET asked_at = asked_at + $2 WHERE session_id = $1", session_id, delta)
        await conn.execute(
            "UPDATE responses SET started_at = started_at + $2, ended_at = ended_at + $2 WHERE session_id = $1",
            session_id, delta,
        )  # fmt: skip


# -- measuring -----------------------------------------------------------------------------


def _summary(samples: list[float]) -> tuple[float, float]:
    """(p50, p95) of the samples, interpolated between the closest ranks."""
    p50, p95 = np.percentile(samples, [50, 95])
    return float(p50), float(p95)


async def _page_ms(page: Any, url: str, ready: str) -> tuple[float, float]:
    """Loads `url` from a blank tab; ms from navigation start until `ready` holds, and until
    the last API response the page had received by then."""
    await page.goto("about:blank")
    await page.goto(url, wait_until="commit")
    handle = await page.wait_for_function(ready, polling=10, timeout=PAGE_TIMEOUT_MS)
    ready_ms = float(await handle.json_value())
    fetched_ms = await page.evaluate(API_DONE, ready_ms)
    return ready_ms, float(fetched_ms)


async def _api_ms(http: httpx.AsyncClient, path: str) -> tuple[float, httpx.Response]:
    began = time.perf_counter()
    response = await http.get(path)
    elapsed = (time.perf_counter() - began) * 1000.0
    response.raise_for_status()
    return elapsed, response


async def _run(runs: int, history_sessions: int, server_url: str | None) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    if not (REPO / "frontend" / "vendor" / "chart.umd.js").exists():
        raise SystemExit("frontend/vendor/chart.umd.js is missing: run `make setup`")
    full_rows = synthetic_session(random.Random(20250303))
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="greenroom-bench-") as tmp:
        async with scratch_database(server_url, Path(tmp)) as db_url:
            with serve_process(db_url, Path(tmp) / "app", start_timeout_s=SERVER_START_TIMEOUT_S) as server:
                base_url = server.url
                async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as http:
                    await sign_up(http)
                    user_id = UUID((await http.get("/v1/auth/me")).json()["user"]["id"])
                    began = time.perf_counter()
                    conn = await asyncpg.connect(db_url)
                    try:
                        history = await load_history(conn, user_id, history_sessions, now)
                        sid = await load_session(conn, user_id, full_rows, _bank_ids())
                        await move_session(conn, sid, now - timedelta(hours=20))
                    finally:
                        await conn.close()
                    load_s = time.perf_counter() - began
                    began = time.perf_counter()
                    for session_id in [*history, sid]:  # scores every answer once, as a first view would
                        (await http.get(f"/v1/sessions/{session_id}/report")).raise_for_status()
                    score_s = time.perf_counter() - began

                    api: dict[str, list[float]] = {"progress_api": [], "report_api": [], "timeline_api": []}
                    paths = {
                        "progress_api": "/v1/users/me/progress",
                        "report_api": f"/v1/sessions/{sid}/report",
                        "timeline_api": f"/v1/sessions/{sid}/timeline",
                    }
                    for name, path in paths.items():
                        await _api_ms(http, path)  # warm-up
                        for _ in range(runs):
                            ms, response = await _api_ms(http, path)
                            api[name].append(ms)
                            if name == "timeline_api":
                                timeline_bytes = response.num_bytes_downloaded
                                timeline_series_points = len(response.json()["series"]["t_ms"])
                            if name == "progress_api":
                                history_entries = len(response.json()["history"])
                    cookies = [
                        {"name": c.name, "value": c.value, "url": base_url} for c in http.cookies.jar
                    ]

                async with async_playwright() as pw:
                    browser = await pw.chromium.launch(
                        executable_path=CHROMIUM, headless=True,
                        args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                              "--disable-component-update", "--disable-sync"],
                    )  # fmt: skip
                    try:
                        context = await browser.new_context(viewport=VIEWPORT)
                        await context.add_cookies(cookies)
                        page = await context.new_page()
                        errors: list[str] = []
                        page.on("pageerror", lambda e: errors.append(str(e)))
                        pages = {
                            "dashboard": (f"{base_url}/#/", DASHBOARD_READY),
                            "review": (f"{base_url}/#/sessions/{sid}", REVIEW_READY),
                            "questions": (f"{base_url}/#/questions", QUESTIONS_READY),
                        }
                        first: dict[str, float] = {}
                        web: dict[str, list[float]] = {name: [] for name in pages}
                        after_api: dict[str, list[float]] = {name: [] for name in pages}
                        for name, (url, ready) in pages.items():
                            first[name], _ = await _page_ms(page, url, ready)  # browser cache still cold
                        for _ in range(runs):
                            for name, (url, ready) in pages.items():
                                ready_ms, fetched_ms = await _page_ms(page, url, ready)
                                web[name].append(ready_ms)
                                after_api[name].append(ready_ms - fetched_ms)
                        await _page_ms(page, pages["review"][0], REVIEW_READY)
                        timeline_points = await page.evaluate(TIMELINE_POINTS)
                        await _page_ms(page, pages["dashboard"][0], DASHBOARD_READY)
                        dashboard_rows, progress_points = await page.evaluate(
                            "[document.querySelectorAll('#recent-sessions li.session-row').length,"
                            " Chart.getChart(document.getElementById('progress-chart')).data.datasets[0].data.length]"
                        )
                    finally:
                        await browser.close()

    result: dict[str, Any] = {
        "server": "embedded" if server_url is None else "url",
        "runs": runs,
        "history_sessions": len(history),
        "history_entries": history_entries,
        "dashboard_rows": dashboard_rows,
        "progress_points": progress_points,
        "face_samples": len(full_rows["face"]),
        "prosody_windows": len(full_rows["prosody"]),
        "load_s": round(load_s, 2),
        "score_s": round(score_s, 2),
        "targets": {"dashboard_ms": TARGET_DASHBOARD_MS, "review_ms": TARGET_REVIEW_MS},
    }
    for name, samples in {**{k: web[k] for k in web}, **api}.items():
        p50, p95 = _summary(samples)
        result[f"{name}_ms"] = round(p50, 1)
        result[f"{name}_p95_ms"] = round(p95, 1)
    result |= {
        # Of each page's time, how much came after its last API response (scripts, rendering).
        "after_api_ms": {k: round(statistics.median(v), 1) for k, v in after_api.items()},
        "first_load_ms": {k: round(v, 1) for k, v in first.items()},
        "timeline_points": timeline_points,
        "timeline_series_points": timeline_series_points,
        "timeline_bytes": timeline_bytes,
        "page_errors": errors[:5],
        "samples_ms": {k: [round(v, 1) for v in s] for k, s in {**web, **api}.items()},
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 timed runs and 10 history sessions instead of 10 and 30")
    args = parser.parse_args()
    server_url = os.environ.get("GREENROOM_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    runs, history = (3, 10) if args.quick else (10, HISTORY_DAYS)
    print(json.dumps(asyncio.run(_run(runs, history, server_url))))


if __name__ == "__main__":
    main()
