"""A spoken interview in real headless Chromium, end to end, through `greenroom serve`."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest

from tests.e2e.conftest import SCREENSHOTS, FakeMedia, Server
from tests.words import word_error_rate

WER_LIMIT = 0.35


async def _wait_for(page, expression: str, timeout_s: float, what: str) -> None:
    try:
        await page.wait_for_function(expression, timeout=timeout_s * 1000)
    except Exception:
        state = await page.evaluate("JSON.stringify({state: greenroom.state, events: greenroom.events.slice(-8)})")
        pytest.fail(f"timed out waiting for {what}; page state: {state}")


async def test_spoken_interview_end_to_end(
    greenroom_server: Server, fake_media: FakeMedia, browser_factory
) -> None:
    browser = await browser_factory(fake_media)
    page = await browser.new_page(viewport={"width": 1280, "height": 860})
    await page.goto(greenroom_server.url + "/")
    await page.select_option("select[name=round_type]", "behavioral")
    await page.select_option("select[name=duration_min]", "10")
    await page.check("input[name=consent]")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "setup.png"))
    await page.click("#start")

    # The interviewer's first question arrives as an event and as audible sound in the page.
    await _wait_for(page, "greenroom.state === 'live'", 30, "the room to connect")
    await _wait_for(page, "greenroom.questions.length >= 1", 30, "the first question")
    await _wait_for(page, "greenroom.audio.loudFrames > 30", 30, "the interviewer's voice in the page")
    assert await page.evaluate("greenroom.audio.maxRms") > 0.02
    first_question = await page.evaluate("greenroom.questions[0].text")
    assert first_question.endswith("?") or len(first_question.split()) > 4
    await page.screenshot(path=str(SCREENSHOTS / "room.png"))

    # The fake microphone answers; the interviewer then asks another question.
    await _wait_for(page, "greenroom.questions.length >= 2", 90, "the interviewer's next question")
    session_id = await page.evaluate("greenroom.sessionId")

    conn = await asyncpg.connect(greenroom_server.database_url)
    try:
        deadline = time.monotonic() + 20
        transcript = ""
        while time.monotonic() < deadline:
            rows = await conn.fetch(
                "SELECT transcript, words FROM responses WHERE session_id = $1 ORDER BY started_at", session_id
            )
            transcript = " ".join(r["transcript"] for r in rows)
            if rows:
                break
            await asyncio.sleep(0.5)
        assert transcript, "the candidate's answer was not stored"
        wer = word_error_rate(fake_media.answer_text, transcript)
        print(f"\nWER tiny.en on the synthetic answer: {wer:.3f} ({transcript!r})")
        assert wer <= WER_LIMIT, f"word error rate {wer:.2f} above {WER_LIMIT}: {transcript!r}"
        questions = await conn.fetch("SELECT seq, source FROM questions WHERE session_id = $1 ORDER BY seq", session_id)
        assert [q["seq"] for q in questions][:2] == [1, 2]
        # The turn's latency is written when the reply's first audio frame leaves the server.
        latency = []
        while not latency and time.monotonic() < deadline + 10:
            latency = await conn.fetch("SELECT latency_ms FROM turn_latency WHERE session_id = $1", session_id)
            await asyncio.sleep(0.3)
        assert latency and all(0 < r["latency_ms"] < 5000 for r in latency)

        await page.screenshot(path=str(SCREENSHOTS / "room-answered.png"))
        await page.click("#end")
        await _wait_for(page, "greenroom.state === 'ended'", 10, "the session to end")
        status = await conn.fetchval("SELECT status FROM sessions WHERE id = $1", session_id)
        assert status == "completed"
        await page.screenshot(path=str(SCREENSHOTS / "ended.png"))

        # The ended interview has a report: the spoken answer scored on its rubric, with reasons.
        async with httpx.AsyncClient(base_url=greenroom_server.url, timeout=30) as http:
            report = (await http.get(f"/v1/sessions/{session_id}/report")).json()
        assert report["partial"] is False and report["status"] == "completed"
        answered = [a for a in report["answers"] if a["words"] > 0]
        assert answered, f"no answered question in the report: {report['answers']}"
        rubric = answered[0]["rubric"]
        assert rubric["evaluator"] == "offline" and 0 <= rubric["overall"] <= 100
        assert all(d["reason"] for d in rubric["dimensions"])
        assert report["scorecard"]["overall"] is not None
    finally:
        await conn.close()


async def test_camera_denied_gives_clear_message_and_captures_nothing(
    greenroom_server: Server, browser_factory
) -> None:
    browser = await browser_factory(None, deny_media=True)
    page = await browser.new_page()
    await page.goto(greenroom_server.url + "/")
    await page.check("input[name=consent]")
    await page.click("#start")
    await _wait_for(page, "greenroom.state === 'media_denied'", 10, "the media error")
    message = await page.inner_text("#error")
    assert "camera and microphone" in message
    assert await page.evaluate("greenroom.sessionId") is None
    await page.screenshot(path=str(SCREENSHOTS / "camera-denied.png"))
