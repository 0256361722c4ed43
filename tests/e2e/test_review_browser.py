"""A candidate with several scored interviews on different days sees their progress in real
headless Chromium: the dashboard's score chart, skill radar, streak and weakest areas, and the
latest review's comparison with the interview before, per-answer feedback and key moments.

The history is written straight to the database (no live interviews: too slow); the account
is made through the API and its sign-in cookie handed to the browser. Every check reads the
page against what the API answers for the same account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from agent.question_bank import QuestionBank
from db.usage import UsageCounts, add_usage
from tests.e2e.conftest import PASSWORD, Server, new_email, open_page, snap, wait_for
from tests.reports.seeding import ANSWER, seed_session

WEAK_ANSWER = "I guess it was fine. I do not really remember, we just did the work and it was okay I think."
MIDDLING_ANSWER = (
    "At my last job a colleague and I disagreed about a deadline. "
    "I talked to him and we found a plan that worked for both of us."
)
SESSION_COOKIE = "greenroom_session"

PROGRESS_CHART = "Chart.getChart(document.getElementById('progress-chart'))"
SKILLS_CHART = "Chart.getChart(document.getElementById('skills-chart'))"
TIMELINE_CHART = "Chart.getChart(document.getElementById('timeline-chart'))"
COMPARISON_ROWS = """[...document.querySelectorAll('#comparison table.compare-table tbody tr')].map((tr) =>
  [tr.querySelector('th').textContent.trim(), ...[...tr.querySelectorAll('td')].map((td) => td.textContent.trim())])"""
ANSWERS_IN_PAGE = """[...document.querySelectorAll('#answers details.answer')].map((d) => ({
  id: d.id,
  scores: [...d.querySelectorAll('.rubric-list > li')].map((li) => li.querySelector('.dimension-score').textContent.trim()),
  reasons: [...d.querySelectorAll('.rubric-list > li .reason')].map((p) => p.textContent.trim()),
  example: (d.querySelector('.example-answer blockquote') || {textContent: null}).textContent,
}))"""


def _signed(delta: float | None) -> str:
    """As the page writes a change (ui.js `signed`): +3, −3 (a minus sign), 0, or – for none."""
    if delta is None:
        return "–"
    rounded = round(delta)
    return f"+{rounded}" if rounded > 0 else f"−{abs(rounded)}" if rounded < 0 else "0"


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


async def _seed_history(database_url: str, user_id: UUID, now: datetime) -> list[UUID]:
    """Three completed sessions with signals, oldest (and weakest) first: three days ago,
    yesterday and just now, so the streak is two days."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    # Bank questions, as an interview asks them, so each answer has the bank's example answer.
    bank_ids = [q.id for q in QuestionBank.load().questions if q.category == "behavioral" and q.example_answer][:3]
    plan = (
        (now - timedelta(days=3), WEAK_ANSWER),
        (now - timedelta(days=1), MIDDLING_ANSWER),
        (max(today, now - timedelta(minutes=5)), ANSWER),  # today in UTC even just after midnight
    )
    conn = await asyncpg.connect(database_url)
    try:
        ids = [
            (await seed_session(conn, user_id, started_at=at, answer=answer, bank_ids=bank_ids)).session_id
            for at, answer in plan
        ]
        # The latest used a cloud voice and the local ears (the usage the interviewer stores).
        await add_usage(conn, ids[-1], {
            "elevenlabs": UsageCounts(tts_characters=1234),
            "faster-whisper": UsageCounts(stt_audio_s=95.4),
        })
        # Made when they started, as the app would have (the list shows when each was made).
        await conn.execute("UPDATE sessions SET created_at = started_at WHERE id = ANY($1::uuid[])", ids)
        return ids
    finally:
        await conn.close()


async def _account_with_history(server: Server) -> tuple[httpx.AsyncClient, list[UUID]]:
    """A new account (signed in: its cookie is in the client's jar) with the seeded history,
    every report built once."""
    http = httpx.AsyncClient(base_url=server.url, timeout=60.0)
    try:
        account = {"email": new_email(), "password": PASSWORD, "display_name": "Robin"}
        signup = await http.post("/v1/auth/signup", json=account)
        assert signup.status_code in (200, 201), signup.text
        user_id = UUID((await http.get("/v1/auth/me")).json()["user"]["id"])
        session_ids = await _seed_history(server.database_url, user_id, datetime.now(UTC))
        for sid in session_ids:
            response = await http.get(f"/v1/sessions/{sid}/report")
            assert response.status_code == 200, response.text
    except BaseException:
        await http.aclose()
        raise
    return http, session_ids


async def _signed_in_page(browser, server: Server, http: httpx.AsyncClient):
    page = await open_page(browser)
    cookie = http.cookies.get(SESSION_COOKIE)
    assert cookie, f"sign-up set no {SESSION_COOKIE} cookie"
    await page.context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": server.url}])
    return page


async def test_dashboard_and_review_show_progress_across_sessions(greenroom_server: Server, browser_factory) -> None:
    http, (oldest, middle, latest) = await _account_with_history(greenroom_server)
    try:
        progress: dict[str, Any] = (await http.get("/v1/users/me/progress")).json()
        reports = {sid: (await http.get(f"/v1/sessions/{sid}/report")).json() for sid in (middle, latest)}
    finally:
        await http.aclose()
    history = progress["history"]  # newest first
    scored = [e for e in reversed(history) if e["overall"] is not None]
    labels = {t["dimension"]: t["label"] for t in progress["trends"]}
    # The seeded answers differ enough in quality for the scores to move.
    assert [e["session_id"] for e in scored] == [str(oldest), str(middle), str(latest)], history
    assert scored[0]["overall"] < scored[-1]["overall"], [e["overall"] for e in scored]
    assert progress["streak_days"] == 2, progress["practice_days"]
    assert progress["focus"], "the API names no weakest areas"

    browser = await browser_factory(None)
    page = await _signed_in_page(browser, greenroom_server, http)

    # -- the dashboard --------------------------------------------------------------------
    await page.goto(greenroom_server.url + "/#/")
    await wait_for(
        page, f"window.Chart && {PROGRESS_CHART} && {SKILLS_CHART} && document.querySelector('#recent-sessions')",
        20, "the dashboard's charts",
    )  # fmt: skip
    # One point per scored session, oldest first, each the API's overall score.
    points = await page.evaluate(f"{PROGRESS_CHART}.data.datasets[0].data")
    assert points == [e["overall"] for e in scored]
    # The radar: every rubric dimension of the latest session, then the one before it.
    newest, before = scored[-1], scored[-2]
    dims = list(newest["dimensions"])
    radar = await page.evaluate(
        f"(() => {{ const c = {SKILLS_CHART}; return {{labels: c.data.labels,"
        " data: c.data.datasets.map((d) => [d.label, d.data])}; })()"
    )
    assert len(dims) >= 3, dims
    assert radar["labels"] == [labels.get(d, d) for d in dims]
    assert radar["data"] == [
        ["Latest", [newest["dimensions"][d] for d in dims]],
        ["Previous", [before["dimensions"][d] for d in dims]],
    ]
    streak = (await page.locator("#streak .stat-value").text_content() or "").strip()
    assert streak == str(progress["streak_days"])
    weakest = [t.strip() for t in await page.locator("#weakest li").all_text_contents()]
    assert weakest == [labels[d] for d in progress["focus"]]
    if progress["weekly_plan"]:
        next_practice = await page.locator("#focus .next-practice .next-title strong").text_content()
        assert next_practice == progress["weekly_plan"][0]["title"]
    # The recent sessions list, newest first: each with its overall score and a link to its review.
    rows = page.locator("#recent-sessions li.session-row")
    assert await rows.evaluate_all("rows => rows.map((r) => r.dataset.sessionId)") == [e["session_id"] for e in history]
    for entry in history:
        row = page.locator(f"#recent-sessions li.session-row[data-session-id='{entry['session_id']}']")
        assert await row.locator(".score-pill-value").text_content() == str(entry["overall"])
        assert await row.locator("a.session-link").get_attribute("href") == f"#/sessions/{entry['session_id']}"
    await snap(page, "dashboard")

    # -- the latest review, from the recent sessions list ----------------------------------
    await page.locator(f"#recent-sessions li.session-row[data-session-id='{latest}'] a.session-link").click()
    await wait_for(page, f"location.hash === '#/sessions/{latest}'", 30, "the latest review's address")
    await wait_for(page, "document.querySelector('#comparison') && document.querySelector('#answers')", 20, "the review")

    # Compared with the session before: the link to it and, per score, before / now / change
    # as the API's comparison gives them (which must agree with the two reports).
    comparison = progress["comparison"]
    assert comparison and comparison["latest_session_id"] == str(latest) and comparison["previous_session_id"] == str(middle)
    report_scores = {
        sid: {"Overall": r["scorecard"]["overall"]} | {d["label"]: d["score"] for d in r["scorecard"]["dimensions"]}
        for sid, r in reports.items()
    }
    expected = [["Overall", _cell(comparison["overall"]["previous"]), _cell(comparison["overall"]["latest"]),
                 _signed(comparison["overall"]["delta"])]]  # fmt: skip
    for change in comparison["dimensions"]:
        expected.append([change["label"], _cell(change["previous"]), _cell(change["latest"]), _signed(change["delta"])])
        assert change["previous"] == report_scores[middle][change["label"]], change
        assert change["latest"] == report_scores[latest][change["label"]], change
    assert await page.evaluate(COMPARISON_ROWS) == expected
    assert any(row[3] not in ("0", "–") for row in expected), "the seeded sessions scored the same"
    previous_link = page.locator("#comparison a").first
    assert await previous_link.get_attribute("href") == f"#/sessions/{middle}"
    for line in comparison["summary"]:
        assert await page.locator("#comparison li", has_text=line).count() == 1, line

    # Each answer with its rubric scores, their reasons and a stronger example answer.
    answers = reports[latest]["answers"]
    shown = await page.evaluate(ANSWERS_IN_PAGE)
    assert [a["id"] for a in shown] == [f"answer-{a['seq']}" for a in answers]
    for answer, in_page in zip(answers, shown, strict=True):
        assert answer["rubric"], f"answer {answer['seq']} was not scored"
        assert in_page["scores"] == [str(d["score"]) for d in answer["rubric"]["dimensions"]]
        assert in_page["reasons"] == [d["reason"] for d in answer["rubric"]["dimensions"]]
        assert all(in_page["reasons"]), in_page
        assert answer["example_answer"] and in_page["example"] == answer["example_answer"]

    # What the interview used, each provider named as cloud or local.
    usage = await page.locator("#usage li").all_inner_texts()
    assert usage == [
        "elevenlabs (cloud): 1,234 characters spoken",
        "faster-whisper (on this server): 95 s of your audio transcribed",
    ], usage

    # The timeline chart holds the session's signals; a key moment highlights its line.
    has_data = f"{TIMELINE_CHART} && {TIMELINE_CHART}.data.datasets.some((d) => d.data.length)"
    await wait_for(page, has_data, 10, "the timeline chart")
    pace = await page.evaluate(f"{TIMELINE_CHART}.data.datasets[0].data.filter((p) => p.y !== null).length")
    assert pace > 0
    moment = page.locator("#moments button.moment:not([disabled])").first
    assert await moment.count() == 1, "the seeded pauses, fillers and look-away made no linked key moment"
    line = await moment.get_attribute("data-line")
    await moment.click()
    highlighted = f"document.getElementById('line-{line}').classList.contains('highlight')"
    await wait_for(page, highlighted, 5, "the moment's transcript line")
    assert await page.locator(".transcript-line.highlight").count() == 1
    assert await page.locator(f"#line-{line}").evaluate("el => el.classList.contains('candidate')")
    await page.evaluate("window.scrollTo(0, 0)")
    await snap(page, "review-comparison", "#comparison")


async def test_a_review_opened_while_the_last_answer_is_stored_waits_for_the_final_report(
    greenroom_server: Server, browser_factory
) -> None:
    # Just after an interview ends its process may still be storing the last answer (heard
    # again whole): the review says so and shows no scores until the report is final.
    http = httpx.AsyncClient(base_url=greenroom_server.url, timeout=60.0)
    try:
        account = {"email": new_email(), "password": PASSWORD, "display_name": "Sam"}
        assert (await http.post("/v1/auth/signup", json=account)).status_code in (200, 201)
        user_id = UUID((await http.get("/v1/auth/me")).json()["user"]["id"])
        conn = await asyncpg.connect(greenroom_server.database_url)
        try:
            sid = (await seed_session(conn, user_id, status="live", started_at=datetime.now(UTC) - timedelta(minutes=5))).session_id
            await conn.execute(
                "UPDATE sessions SET status = 'completed', ended_at = now(), transcript_open_at = now() WHERE id = $1", sid
            )
            browser = await browser_factory(None)
            page = await _signed_in_page(browser, greenroom_server, http)
            await page.goto(f"{greenroom_server.url}/#/sessions/{sid}")
            await page.wait_for_selector("#report-settling", timeout=20_000)
            assert "Finishing your report" in await page.inner_text("#report-settling")
            await page.wait_for_timeout(2_000)  # a poll or more: still waiting, nothing scored shown
            assert await page.locator("#overall-score").count() == 0
            await snap(page, "review-finishing")

            await conn.execute("UPDATE sessions SET transcript_open_at = NULL WHERE id = $1", sid)  # all stored
        finally:
            await conn.close()
        await page.wait_for_selector("#overall-score", timeout=20_000)
        report = (await http.get(f"/v1/sessions/{sid}/report")).json()
        assert report["partial"] is False
        assert await page.get_attribute("#overall-score", "aria-label") == f"Overall score {report['scorecard']['overall']} out of 100"
        assert await page.locator("#partial-banner").count() == 0
        assert await page.locator("#report-settling").count() == 0
    finally:
        await http.aclose()
