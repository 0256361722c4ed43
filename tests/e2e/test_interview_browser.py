"""A spoken interview in real headless Chromium through the web app, end to end: sign up, set up,
mirror check and consent, the live room, the review with its timeline and PDF, the dashboard."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
from tests.e2e.conftest import NEXT_QUESTION, FakeMedia, Server, api_json, open_page, sign_up, snap, wait_for
from tests.words import inserted_words, word_error_rate

WER_LIMIT = 0.35
MAX_INSERTED = 4  # tiny.en splits a word now and then ("in voice"); a made-up sentence is 10 or more


async def _stored_answers(database_url: str, session_id: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT transcript FROM responses WHERE session_id = $1 ORDER BY started_at", session_id)
    finally:
        await conn.close()
    return " ".join(r["transcript"] for r in rows)


async def _answer_rows(database_url: str, session_id: str, expected: str) -> tuple[str, float, list, list]:
    """The stored transcript of the candidate's answers (waiting while the answer may still be
    arriving in several responses), its word error rate, the questions, and turn latencies."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + 40
        transcript, wer = "", 1.0
        while time.monotonic() < deadline:
            rows = await conn.fetch("SELECT transcript FROM responses WHERE session_id = $1 ORDER BY started_at", session_id)
            transcript = " ".join(r["transcript"] for r in rows)
            wer = word_error_rate(expected, transcript) if transcript else 1.0
            if wer <= WER_LIMIT:
                break
            await asyncio.sleep(0.5)
        questions: list = []  # the page shows a question as it is asked; its row follows
        while len(questions) < 2 and time.monotonic() < deadline + 10:
            questions = await conn.fetch("SELECT seq, source FROM questions WHERE session_id = $1 ORDER BY seq", session_id)
            await asyncio.sleep(0.3)
        latency: list = []
        while not latency and time.monotonic() < deadline + 10:
            latency = await conn.fetch("SELECT latency_ms FROM turn_latency WHERE session_id = $1", session_id)
            await asyncio.sleep(0.3)
        return transcript, wer, questions, latency
    finally:
        await conn.close()


async def test_sign_up_to_review_spoken_interview(
    greenroom_server: Server, fake_media: FakeMedia, browser_factory
) -> None:
    browser = await browser_factory(fake_media)
    page = await open_page(browser, accept_downloads=True)

    # A new candidate signs up and sees the empty dashboard.
    await sign_up(page, greenroom_server, name="Sam")
    await page.wait_for_selector("text=Your first mock interview")
    await snap(page, "dashboard-empty")

    # New interview: the choices come from the catalog.
    await page.get_by_role("link", name="Start your first interview").click()
    await page.wait_for_selector("#setup-form")
    _, catalog = await api_json(page, "GET", "/v1/catalog")
    options = await page.locator("#role-track option").evaluate_all("os => os.map(o => o.value)")
    assert options == [r["id"] for r in catalog["role_tracks"]]
    await page.get_by_label("Round type").select_option("behavioral")
    await page.get_by_label("10 minutes").check()
    await page.get_by_label("Alex").check()
    await snap(page, "setup")
    await page.get_by_role("button", name="Continue to mirror check").click()

    # Mirror check: the preview plays and the level meter moves with the fake microphone's
    # "testing" phrase; Join waits for consent; nothing has been created yet.
    await wait_for(page, "location.hash === '#/check'", 10, "the mirror check")
    await wait_for(page, "greenroom.mirror && greenroom.mirror.playing", 15, "the camera preview to play")
    await wait_for(page, "greenroom.mirror.maxLevel > 0.2", 15, "the microphone level meter to move")
    assert await page.evaluate("document.getElementById('preview').videoWidth") > 0
    assert await page.evaluate("document.getElementById('mic-level').value") >= 0
    assert await page.is_disabled("#join")
    _, consent = await api_json(page, "GET", "/v1/consent")
    assert consent["version"] in await page.inner_text("#consent-version")
    assert await page.locator("#camera-select option").count() >= 1
    assert await page.locator("#mic-select option").count() >= 1
    _, before = await api_json(page, "GET", "/v1/sessions")
    assert before == []
    await page.get_by_label("I have read the policy above").check()
    await page.get_by_label("Analyse my delivery").check()
    await page.get_by_label("Keep this interview for").select_option("30")
    assert await page.is_enabled("#join")
    await snap(page, "mirror-check")
    await page.click("#join")

    # The live room: the interviewer's first question arrives as an event, on screen and as
    # audible sound in the page.
    await wait_for(page, "greenroom.state === 'live'", 30, "the room to connect")
    await wait_for(page, "greenroom.questions.length >= 1", 30, "the first question")
    # Arrived and decoded (WebRTC's receive statistics), then heard by the page's level meter,
    # which samples once per painted frame and so runs slow on a loaded machine.
    await wait_for(page, "greenroom.receivedAudio().then(a => a.energy > 0.001)", 30, "the interviewer's voice to arrive")
    await wait_for(page, "greenroom.audio.loudFrames > 5", 30, "the interviewer's voice in the page")
    print(f"\ninterviewer audio: received {await page.evaluate('greenroom.receivedAudio()')}, "
          f"metered {await page.evaluate('greenroom.audio.loudFrames')} loud frames")
    assert await page.evaluate("greenroom.audio.maxRms") > 0.02
    first_question = await page.evaluate("greenroom.questions[0]")
    assert first_question["text"] in await page.inner_text("#question-text")
    if first_question["source"] == "bank":
        assert f"Question {first_question['number']} of {first_question['total']}" in await page.text_content("#question-progress")
    session_id = await page.evaluate("greenroom.sessionId")
    _, session = await api_json(page, "GET", f"/v1/sessions/{session_id}")
    assert session["consent_version"] == consent["version"]
    assert session["capture_signals"] is True and session["retention_days"] == 30
    await wait_for(page, "document.querySelectorAll('#captions .caption.interviewer').length > 0", 15, "interviewer captions")
    await snap(page, "room")

    # The fake microphone answers; the interviewer then asks another question.
    await wait_for(page, f"!!{NEXT_QUESTION}", 90, "the interviewer's next question")
    await wait_for(page, "document.querySelectorAll('#captions .caption.candidate').length > 0", 15, "the candidate's captions")
    transcript, wer, questions, latency = await _answer_rows(
        greenroom_server.database_url, session_id, fake_media.answer_text
    )
    assert transcript, "the candidate's answer was not stored"
    print(f"\nWER tiny.en on the synthetic answer: {wer:.3f} ({transcript!r})")
    assert wer <= WER_LIMIT, f"word error rate {wer:.2f} above {WER_LIMIT}: {transcript!r}"
    assert [q["seq"] for q in questions][:2] == [1, 2]
    # Never negative; the upper bound only catches a latency on the wrong clock (a reply took
    # ~4 s on a quiet machine when the answer read as unfinished, more under load).
    latencies = [r["latency_ms"] for r in latency]
    assert latencies and all(0 < ms < 15_000 for ms in latencies), latencies

    # While the interview is open, its review says the report is still being built.
    review = await page.context.new_page()
    await review.goto(f"{greenroom_server.url}/#/sessions/{session_id}")
    await review.wait_for_selector("#partial-banner", timeout=30_000)
    assert "still being built" in await review.inner_text("#partial-banner")
    await review.close()

    # End: the page moves on to the review, which shows the report's real scores.
    await page.click("#end")
    await wait_for(page, "greenroom.state === 'ended'", 15, "the session to end")
    await wait_for(page, f"location.hash === '#/sessions/{session_id}'", 15, "the review page")
    await page.wait_for_selector("#overall-score", timeout=60_000)
    status, report = await api_json(page, "GET", f"/v1/sessions/{session_id}/report")
    assert status == 200 and report["partial"] is False and report["status"] == "completed"
    answered = [a for a in report["answers"] if a["words"] > 0]
    assert answered, f"no answered question in the report: {report['answers']}"
    rubric = answered[0]["rubric"]
    assert rubric["evaluator"] == "offline" and 0 <= rubric["overall"] <= 100
    assert report["scorecard"]["overall"] is not None
    assert await page.get_attribute("#overall-score", "aria-label") == f"Overall score {report['scorecard']['overall']} out of 100"
    answers_text = await page.inner_text("#answers")
    for dimension in rubric["dimensions"]:
        assert dimension["reason"] in answers_text
    assert "over-interpret" in await page.inner_text("#delivery-note")
    assert await page.locator("#partial-banner").count() == 0, "a finished report is shown as partial"

    # The timeline chart is a Chart.js chart with the session's signals in it.
    datasets = await page.evaluate(
        """() => Chart.getChart(document.getElementById('timeline-chart')).data.datasets
                 .map(d => ({label: d.label, points: d.data.filter(p => p.y !== null).length}))"""
    )
    _, timeline = await api_json(page, "GET", f"/v1/sessions/{session_id}/timeline")
    pace_points = sum(v is not None for v in timeline["series"]["pace_wpm"])
    face_points = sum(v is not None for v in timeline["series"]["face_visible"])
    by_label = {d["label"]: d["points"] for d in datasets}
    assert by_label["Pace (words/min)"] == pace_points and by_label["Face visible (%)"] == face_points
    assert face_points > 0, "no face samples in the timeline although delivery analysis was on"
    # The fake camera shows a face throughout: the chart plots the same face and gaze series as
    # the timeline, and the report finds the face most of the time.
    chart_series = await page.evaluate(
        """() => Object.fromEntries(Chart.getChart(document.getElementById('timeline-chart')).data.datasets
                 .map(d => [d.label, d.data.map(p => p.y)]))"""
    )
    as_percent = [None if v is None else round(v * 100, 6) for v in timeline["series"]["face_visible"]]
    assert [None if v is None else round(v, 6) for v in chart_series["Face visible (%)"]] == as_percent
    assert by_label["Gaze on camera (%)"] == sum(v is not None for v in timeline["series"]["gaze_on_camera"]) > 0
    face = next(d for d in report["scorecard"]["delivery"] if d["metric"] == "face_visible")
    assert face["value"] is not None and face["value"] > 0.5, f"face visible {face['value']} in {face['summary']!r}"
    assert face["summary"] in await page.inner_text("#delivery")
    print(f"\nface visible {face['value']:.0%} over {face['samples']} samples; {face_points} face points in the timeline")
    assert await page.get_attribute("#timeline-chart", "aria-label")
    assert len(timeline["moments"]) == await page.locator("#moments li").count()
    linked = page.locator("#moments button:not([disabled])")
    if await linked.count():
        await linked.first.click()
        line = await linked.first.get_attribute("data-line")
        await page.wait_for_selector(f"#line-{line}.highlight")
    await snap(page, "review")
    # The report is final: the answer as stored last, heard again whole. Nothing is added to it
    # (an invented "Thank you so much for watching…" at its end was once 14 words).
    stored = await _stored_answers(greenroom_server.database_url, session_id)
    assert inserted_words(fake_media.answer_text, stored) <= MAX_INSERTED, f"words added to the answer: {stored!r}"
    await snap(page, "review-timeline", part="#timeline")

    # Export PDF: a real PDF downloads.
    async with page.expect_download() as download_info:
        await page.click("#export-pdf")
    download = await download_info.value
    pdf = Path(await download.path()).read_bytes()
    assert pdf.startswith(b"%PDF"), pdf[:20]
    assert download.suggested_filename.endswith(".pdf")

    # The dashboard now lists the session with its score, the charts and the streak.
    await page.get_by_role("navigation").get_by_role("link", name="Dashboard").click()
    row = page.locator(f"#recent-sessions li[data-session-id='{session_id}']")
    await row.wait_for()
    assert f"{report['scorecard']['overall']} out of 100" in (await row.locator(".score-pill").get_attribute("aria-label"))
    _, progress = await api_json(page, "GET", "/v1/users/me/progress")
    assert await page.inner_text("#streak .stat-value") == str(progress["streak_days"])
    assert progress["streak_days"] >= 1
    points = await page.evaluate("Chart.getChart(document.getElementById('progress-chart')).data.datasets[0].data")
    assert points[-1] == report["scorecard"]["overall"]
    radar = await page.evaluate("Chart.getChart(document.getElementById('skills-chart')).data.datasets[0].data")
    assert len(radar) == len(report["scorecard"]["dimensions"])
    await snap(page, "dashboard")

    # The candidate deletes the interview from its review; the dashboard is empty again.
    await row.get_by_role("link", name="Review").click()
    await page.get_by_role("button", name="Delete this interview").click()
    await page.get_by_role("button", name="Yes, delete it").click()
    await wait_for(page, "location.hash === '#/'", 10, "the dashboard after deleting")
    await page.wait_for_selector("text=Your first mock interview")
    status, _ = await api_json(page, "GET", f"/v1/sessions/{session_id}")
    assert status == 404


async def test_camera_denied_gives_clear_message_and_creates_nothing(
    greenroom_server: Server, browser_factory
) -> None:
    browser = await browser_factory(None, deny_media=True)
    page = await open_page(browser)
    await sign_up(page, greenroom_server)
    await page.get_by_role("navigation").get_by_role("link", name="New interview").click()
    await page.get_by_role("button", name="Continue to mirror check").click()
    await wait_for(page, "greenroom.state === 'media_denied'", 15, "the media error")
    message = await page.inner_text("#media-error")
    assert "camera and microphone" in message and "Allow" in message
    assert await page.is_visible("#media-retry")
    await page.get_by_label("I have read the policy above").check()
    assert await page.is_disabled("#join"), "Join is enabled without a camera"
    assert "allow your camera" in await page.inner_text("#join-hint")
    await snap(page, "mirror-camera-denied")
    status, sessions = await api_json(page, "GET", "/v1/sessions")
    assert status == 200 and sessions == []
    assert await page.evaluate("greenroom.sessionId") is None

