"""A candidate who speaks as the room opens ("Hello? Can you hear me?") or over the greeting
does not make the interviewer start again: the greeting and the first question are said, and
captioned, once. A mic check the interviewer hears is answered as one, and is not stored as an
answer to the first question; nor is a word said under the greeting (the "three" that ends a
count)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from bench.rtc_client import espeak
from tests.media.test_signalling import (  # noqa: F401  (fixtures used by name)
    GREETING_TIMEOUT_S,
    Greenroom,
    greenroom,
    start_greenroom,
    voice_models,
)
from agent.catalog import PERSONAS
from agent.worker import GENTLE_PROMPTS
from agent.interviewer import MIC_CHECK_TEXT

HELLO = "Hello? Can you hear me?"
COUNT_TAIL = "Three."  # the end of "Testing, one, two, three." said as the greeting plays
LISTEN_AFTER_S = 15.0  # the greeting, a reply to the hello if any, and a little more


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("opening-speech")


async def stored_transcripts(greenroom: Greenroom, session_id: str) -> list[str]:
    rows = await greenroom.app.state.pool.fetch(
        "SELECT transcript FROM responses WHERE session_id = $1", uuid.UUID(session_id)
    )
    return [r["transcript"] for r in rows]


async def settled_transcripts(greenroom: Greenroom, session_id: str, gone: str) -> list[str]:
    """The stored responses once none holds `gone` ("": once there are none), or after 10 s
    (the writer applies writes in order, so the row of an aside can stand for a moment before it
    goes)."""
    deadline = time.monotonic() + 10.0
    while True:
        stored = await stored_transcripts(greenroom, session_id)
        if not any(gone in t.lower() for t in stored) or time.monotonic() > deadline:
            return stored
        await asyncio.sleep(0.2)


@pytest.mark.parametrize(
    ("words", "after_voice_s"),
    [(HELLO, None), (HELLO, 0.8), (COUNT_TAIL, 1.8)],
    ids=["as-the-room-opens", "over-the-greeting", "a-word-under-the-greeting"],
)
async def test_the_opening_is_said_once_when_the_candidate_speaks_over_it(
    greenroom: Greenroom, speech_dir: Path, words: str, after_voice_s: float | None
) -> None:
    speech = espeak(words, speech_dir, speed=160)
    body = await greenroom.new_session()
    candidate, _ = await greenroom.join_as_candidate(body["session"]["id"], body["room"]["token"])
    if after_voice_s is not None:
        await candidate.voice.first_voice_after(0.0, timeout=GREETING_TIMEOUT_S)
        await asyncio.sleep(after_voice_s)
    await asyncio.wait_for(candidate.microphone.say(speech), timeout=30)
    await candidate.voice.first_voice_after(0.0, timeout=GREETING_TIMEOUT_S)
    await asyncio.sleep(LISTEN_AFTER_S)

    events = candidate.client.events
    said = [e["text"] for e in events if e.get("type") == "caption" and e["speaker"] == "interviewer" and e["final"]]
    greeting = PERSONAS["alex"].greeting
    assert sum(greeting in line for line in said) == 1, said
    questions = [e for e in events if e.get("type") == "question"]
    assert [q["seq"] for q in questions].count(1) == 1, questions
    if words == HELLO and after_voice_s is not None:  # heard over the greeting: answered as a mic check
        assert any(line.startswith(MIC_CHECK_TEXT) for line in said), said
    # No prompt to go on, as if the candidate had begun an answer: the question was not yet asked.
    assert not any(line.strip() in GENTLE_PROMPTS or "repeat the question" in line for line in said), said
    # Either way, "can you hear me" is no answer, nor is a fragment of it heard as the opening
    # began ("There, I mean..."), nor a word under the greeting: no response is stored.
    stored = await settled_transcripts(greenroom, body["session"]["id"], "")
    assert stored == [], stored

