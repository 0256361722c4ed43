"""A candidate who stops to think: Chromium's microphone says "Thank you.", thinks for 3.5 s, then answers with pauses of 1.5 s and 2.5 s,
and the interviewer waits for the whole answer, stores it as one response, then moves on."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import pytest

from agent.worker import GENTLE_PROMPTS
from tests.e2e.conftest import NEXT_QUESTION, FakeMedia, Server, join_interview, make_fake_media, open_page, sign_up, wait_for
from tests.words import word_error_rate

# A story told the way people tell them: a thank-you and a moment to think before it starts,
# a pause after "and", then one after a sentence while the result is still to come.
ANSWER = (
    "Thank you.",
    3.5,
    "In my last job our team kept missing deadlines, and",
    1.5,
    "I decided to set up a short planning meeting every morning with the whole team.",
    2.5,
    "As a result, we delivered every release on time for the rest of the year.",
)
MERGE_GAP_MS = 400  # microphone dips shorter than this are gaps between words, not pauses
# What the interviewer said from the answer's first words on: final captions after the first
# candidate caption that holds "deadlines" (the mic check's "testing, one, two, three" before
# the answer may draw a prompt of its own, which is not the answer's).
INTERVIEWER_LINES_IN_ANSWER = """(() => {
  const start = greenroom.events.findIndex(e => e.type === 'caption' && e.speaker === 'candidate'
    && /deadline/i.test(e.text));
  return start < 0 ? null : greenroom.events.slice(start)
    .filter(e => e.type === 'caption' && e.speaker === 'interviewer' && e.final).map(e => e.text);
})()"""


@pytest.fixture(scope="module")
def pausing_media(tmp_path_factory: pytest.TempPathFactory) -> FakeMedia:
    return make_fake_media(tmp_path_factory.mktemp("pausing-media"), ANSWER)


def merged(spans: list[list[float | None]], gap_ms: float) -> list[tuple[float, float]]:
    """Sound spans with short gaps closed; an open span ends now (infinity)."""
    out: list[list[float]] = []
    for start, end in spans:
        end = float("inf") if end is None else end
        if out and start - out[-1][1] < gap_ms:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


async def test_the_interviewer_waits_through_thinking_pauses(
    greenroom_server: Server, pausing_media: FakeMedia, browser_factory, tmp_path: Path
) -> None:
    browser = await browser_factory(pausing_media)
    page = await open_page(browser)
    await sign_up(page, greenroom_server)
    session_id = await join_interview(page, capture_signals=True)
    await wait_for(page, "greenroom.questions.length >= 1", 30, "the first question")
    first_question = await page.evaluate("greenroom.questions[0].seq")

    # The answer plays (mic spans), the interviewer replies with its next question.
    await wait_for(page, f"!!{NEXT_QUESTION}", 120, "the interviewer's next question")
    voice = merged(await page.evaluate("greenroom.audio.spans"), 150)
    mic = merged(await page.evaluate("greenroom.mic.spans"), MERGE_GAP_MS)
    # The answer's four parts: the last four stretches of microphone sound before the reply.
    reply_start = next(s for s, _e in voice if s > mic[-1][0])
    parts = [span for span in mic if span[0] < reply_start][-4:]
    if len(parts) != 4:  # the interviewer moved on before the answer: say what it took for one
        captions = await page.evaluate(
            "greenroom.events.filter(e => e.type === 'caption' && e.final).map(e => e.speaker + ': ' + e.text)"
        )
        turns = [line for line in greenroom_server.log.read_text(errors="replace").splitlines() if " agent." in line]
        pytest.fail(
            f"expected the answer's four spoken parts before the reply, heard {mic}; captions: {captions}; "
            f"the server's turn-taking log: {turns[-20:]}"
        )
    pauses_ms = [parts[i + 1][0] - parts[i][1] for i in range(3)]
    assert pauses_ms[0] > 3000 and pauses_ms[1] > 1000 and pauses_ms[2] > 2000, f"the pauses played were {pauses_ms} ms"
    answer_start, answer_end = parts[0][0], parts[-1][1]
    time_origin_s = await page.evaluate("performance.timeOrigin") / 1000
    talked_over = [(s, e) for s, e in voice if answer_start <= s < answer_end]
    assert not talked_over, (
        f"the interviewer spoke during the answer at {[round(s - answer_start) for s, _ in talked_over]} ms "
        f"(answer {round(answer_end - answer_start)} ms long, pauses {[round(p) for p in pauses_ms]} ms)"
    )
    latency_ms = reply_start - answer_end
    print(f"\nreply began {latency_ms:.0f} ms after the answer ended; pauses {[round(p) for p in pauses_ms]} ms")
    # The answer was taken as over, not waited on until a gentle prompt to go on (said after 5 s
    # of silence in an unfinished answer, and only then). How soon the reply came depends on the
    # machine; 10 s is only a gross bound.
    said = await page.evaluate(INTERVIEWER_LINES_IN_ANSWER)
    assert said is not None, "no candidate caption of the answer reached the page"
    prompts = [line for line in said if line.strip() in GENTLE_PROMPTS]
    assert not prompts, f"the interviewer prompted the candidate to go on: {prompts} (reply after {latency_ms:.0f} ms)"
    assert latency_ms < 10_000
    assert await page.locator("#captions .caption.interviewer").count() >= 2
    # The page shows the answer as it was given: one paragraph, its pauses and all.
    lines = await page.locator("#captions .caption.candidate span").all_text_contents()
    answer_line = next((line for line in lines if "deadline" in line.lower()), None)
    assert answer_line and any(w in answer_line.lower() for w in ("result", "release", "on time")), (
        f"the answer's captions were split: {lines}"
    )

    # One answer, one stored response, with all four parts in it; the next question follows.
    conn = await asyncpg.connect(greenroom_server.database_url)
    try:
        deadline = time.monotonic() + 20
        while True:
            # What was said from a little before the answer (the mic check's words before it
            # are a response of their own, to the greeting).
            rows = await conn.fetch(
                "SELECT r.transcript, q.seq FROM responses r JOIN questions q ON q.id = r.question_id"
                " WHERE r.session_id = $1 AND r.ended_at > to_timestamp($2) ORDER BY r.started_at",
                session_id,
                time_origin_s + answer_start / 1000 - 1.0,
            )
            # the session's writer stores rows after the page hears of them: wait for both
            questions = await conn.fetch("SELECT seq FROM questions WHERE session_id = $1 ORDER BY seq", session_id)
            if (rows and len(questions) >= 2) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.3)
    finally:
        await conn.close()
    answers = [r for r in rows if r["seq"] == first_question]
    assert len(answers) == 1, f"the answer was stored as {len(answers)} responses: {[r['transcript'] for r in rows]}"
    wer = word_error_rate(pausing_media.answer_text, answers[0]["transcript"])
    assert wer <= 0.35, f"word error rate {wer:.2f}: {answers[0]['transcript']!r}"
    assert [q["seq"] for q in questions][:2] == [first_question, first_question + 1]
