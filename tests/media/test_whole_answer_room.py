"""In the room: once the reply to an answer stands, the answer is heard again whole and that
transcript is stored, its "um" kept and its words on the answer's clock across a thinking pause."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid

import numpy as np
import pytest

from bench.rtc_client import SAMPLE_RATE, Speech, espeak
from reports.builder import SETTLE_LIMIT_S, SETTLING_NOTE
from tests.media.test_signalling import (  # noqa: F401  (fixtures used by name)
    REPLY_TIMEOUT_S,
    Greenroom,
    _answer,
    _hear_first_question,
    eventually,
    greenroom,
    start_greenroom,
    voice_models,
)

PAUSE_S = 2.5  # a thinking pause after a trailing "and": the answer goes on
FIRST = "So, um, at my last job our checkout kept timing out during the holiday sales, and"
SECOND = "I found a missing index, and as a result pages loaded sixty percent faster."


@pytest.fixture(scope="module")
def answer(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    workdir = tmp_path_factory.mktemp("answer")
    first, second = (espeak(text, workdir, speed=150) for text in (FIRST, SECOND))
    pause = np.zeros(int(PAUSE_S * SAMPLE_RATE), dtype=np.int16)
    return Speech(f"{FIRST} {SECOND}", np.concatenate([first.samples, pause, second.samples]))


async def test_the_stored_answer_is_the_one_heard_whole(
    greenroom: Greenroom, answer: Speech, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agent.worker")
    caplog.set_level(logging.INFO, logger="agent.whole_answer")
    body = await greenroom.new_session()
    session_id = body["session"]["id"]
    candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    await _hear_first_question(candidate)
    await _answer(candidate, answer)
    await candidate.client.next_event("question", timeout=REPLY_TIMEOUT_S)  # the reply stands

    async def records() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage() == "answer heard whole"]

    [record] = await eventually(records, bool, timeout=30.0)
    assert record.utterances >= 2 and record.replaced >= 1, (record.replaced, record.utterances)
    # An utterance the pass heard too little of keeps its live words, by design (its last words
    # cut short at the audio's end, say), and says why: the stored answer must still hold the
    # pass's words (the "um" below), and every utterance not replaced must be accounted for.
    kept_live = [
        (r.utterance, r.live_words, r.whole_words, r.first_start_s, r.last_start_s)
        for r in caplog.records
        if r.getMessage().startswith("an utterance keeps its live words")
    ]
    assert len(kept_live) == record.utterances - record.replaced, kept_live
    print(f"utterances that kept their live words (index, live, whole, first starts, last starts): {kept_live}")

    async def stored() -> list:
        return await greenroom.app.state.pool.fetch(
            "SELECT transcript, words FROM responses WHERE session_id = $1", uuid.UUID(session_id)
        )

    # The whole pass's filler-prompted transcript keeps the "um" the live one need not.
    rows = await eventually(
        stored,
        lambda rows: len(rows) == 1 and re.search(r"\bum\b", rows[0]["transcript"].lower()),
        timeout=10.0,
    )
    transcript, words = rows[0]["transcript"], rows[0]["words"]
    assert "index" in transcript.lower(), transcript
    words = json.loads(words) if isinstance(words, str) else words
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    # the thinking pause is where it was said: after "and", before "I found"
    gaps = [b["start"] - a["end"] for a, b in zip(words, words[1:])]
    assert max(gaps) >= PAUSE_S - 0.6, (gaps, words)


async def test_the_report_is_final_only_once_the_last_answer_is_stored(greenroom: Greenroom, answer: Speech) -> None:
    # Ended mid-answer: the open answer is heard whole as the room closes, after the session is
    # marked ended. Until it is stored the report says it is not final; the first final report
    # is the one that stays (its score and delivery read the stored transcript).
    body = await greenroom.new_session()
    session_id = body["session"]["id"]
    candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    await _hear_first_question(candidate)
    await _answer(candidate, answer)
    ending = asyncio.ensure_future(greenroom.http.post(f"/v1/sessions/{session_id}/end"))
    await candidate.client.next_event("room_closed", timeout=10.0)

    async def report() -> dict:
        response = await greenroom.http.get(f"/v1/sessions/{session_id}/report")
        assert response.status_code == 200, response.text
        return response.json()

    settling = await report()
    assert settling["status"] == "completed" and settling["partial"], "final before the last answer was stored"
    assert settling["notes"][0] == SETTLING_NOTE
    first_final = await eventually(report, lambda r: not r["partial"], timeout=SETTLE_LIMIT_S)
    assert (await ending).status_code == 200
    pool = greenroom.app.state.pool
    assert await pool.fetchval("SELECT transcript_open_at FROM sessions WHERE id = $1", uuid.UUID(session_id)) is None
    transcript = await pool.fetchval("SELECT transcript FROM responses WHERE session_id = $1", uuid.UUID(session_id))
    assert re.search(r"\bum\b", transcript.lower()), f"the final report came before the whole pass: {transcript!r}"

    later = await report()
    assert later["scorecard"] == first_final["scorecard"]
    assert [(a["words"], a["rubric"]) for a in later["answers"]] == [(a["words"], a["rubric"]) for a in first_final["answers"]]
    [answered] = [a for a in later["answers"] if a["words"] > 0]
    assert answered["rubric"] is not None and answered["final"]
