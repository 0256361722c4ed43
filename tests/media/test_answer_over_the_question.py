"""A candidate who starts answering before the interviewer has finished the question: the
interviewer stops, and the answer is heard from its first word, as one response."""

from __future__ import annotations

import asyncio
import time

import pytest

from bench.rtc_client import FRAME_S, Speech, espeak
from tests.media.test_signalling import (  # noqa: F401  (fixtures used by name)
    GREETING_TIMEOUT_S,
    REPLY_TIMEOUT_S,
    Greenroom,
    greenroom,
    start_greenroom,
    stored_answers,
    voice_models,
)

ANSWER = (
    "Sure. At my last job our checkout kept timing out during the holiday sales. I found a "
    "missing index on the orders table, and as a result pages loaded sixty percent faster."
)
# Into the interviewer's greeting and first question (past the reply's yield window), which run
# on for seconds: with barge-in off the interviewer speaks over 3.5 s of the answer.
SPEAK_AFTER_S = 4.5
STOP_WITHIN_S = 1.5  # the interviewer's voice heard after the candidate began, at most


@pytest.fixture(scope="module")
def answer(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    return espeak(ANSWER, tmp_path_factory.mktemp("answer"), speed=160)


async def test_an_answer_begun_over_the_question_stops_the_interviewer_and_is_heard_whole(
    greenroom: Greenroom, answer: Speech
) -> None:
    body = await greenroom.new_session()
    session_id = body["session"]["id"]
    candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    first = await candidate.client.next_event("question", timeout=GREETING_TIMEOUT_S)
    assert len(first["text"].split()) >= 10, "a question this short may end before the answer begins"
    voice = candidate.voice
    heard = await voice.first_voice_after(0.0, timeout=GREETING_TIMEOUT_S)
    await asyncio.sleep(max(0.0, heard + SPEAK_AFTER_S - time.monotonic()))
    assert voice.quiet_for_s < 0.5, "the interviewer had already finished: nothing was talked over"

    before = voice.voiced_frames
    await asyncio.wait_for(candidate.microphone.say(answer), timeout=answer.duration_s + 10)
    talked_over_s = (voice.voiced_frames - before) * FRAME_S
    assert talked_over_s <= STOP_WITHIN_S, f"the interviewer spoke on for {talked_over_s:.1f} s of the answer"

    reply = await candidate.client.next_event("question", timeout=REPLY_TIMEOUT_S)
    assert reply["seq"] == first["seq"] + 1
    [transcript] = [t.lower() for t in await stored_answers(greenroom, session_id)]
    assert all(word in transcript for word in ("sure", "holiday", "index", "faster")), transcript
