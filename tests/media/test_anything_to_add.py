"""An answer whose last words read unfinished, then silence: the interviewer asks whether there is
anything to add (not the next question, and not "Take your time." to someone who has finished),
and "Not really." ends the answer. It stays one response, and the next question follows."""

from __future__ import annotations

import asyncio
import time

import pytest

from agent.worker import MORE_PROMPT
from bench.rtc_client import ClientError, Speech, espeak
from tests.media.test_signalling import (  # noqa: F401  (fixtures used by name)
    REPLY_TIMEOUT_S,
    Greenroom,
    greenroom,
    joined_after_the_greeting,
    start_greenroom,
    stored_answers,
    voice_models,
)

# Over thirty words of substance, ending on a word that goes on: "more is coming".
ANSWER = (
    "At my last job our checkout kept timing out during the holiday sales. I found a missing "
    "index on the orders table and added it, and pages loaded sixty percent faster, and the "
    "reason we had missed it was because"
)
DECLINE = "Not really."


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> tuple[Speech, Speech]:
    folder = tmp_path_factory.mktemp("anything-to-add")
    return espeak(ANSWER, folder, speed=160), espeak(DECLINE, folder, speed=160)


async def _interviewer_says(client, words: str, timeout: float) -> list[str]:
    """The interviewer's final captions up to the one holding `words`."""
    said: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            caption = await client.next_event("caption", timeout=left)
        except ClientError:  # none within the time left
            break
        if caption["speaker"] == "interviewer" and caption.get("final"):
            said.append(caption["text"])
            if words.lower() in caption["text"].lower():
                return said
    pytest.fail(f"the interviewer did not say {words!r} within {timeout:.0f} s; it said {said}")


async def test_a_long_silence_after_an_answer_asks_for_more_and_not_really_ends_it(
    greenroom: Greenroom, speech: tuple[Speech, Speech]
) -> None:
    answer, decline = speech
    session_id, candidate, first = await joined_after_the_greeting(greenroom)
    voice = candidate.voice

    await asyncio.wait_for(candidate.microphone.say(answer), timeout=answer.duration_s + 10)
    ended = time.monotonic()
    said = await _interviewer_says(candidate.client, MORE_PROMPT, timeout=REPLY_TIMEOUT_S + 15)
    asked_after_s = time.monotonic() - ended
    assert said[-1].strip() == MORE_PROMPT, said
    assert asked_after_s >= 4.0, f"asked {asked_after_s:.1f} s after the answer: the pause was not waited out"
    await voice.first_voice_after(ended + 1.0, timeout=10)
    await voice.quiet_for(1.0, timeout=15)

    await asyncio.wait_for(candidate.microphone.say(decline), timeout=decline.duration_s + 10)
    reply = await candidate.client.next_event("question", timeout=REPLY_TIMEOUT_S)
    assert reply["seq"] == first["seq"] + 1
    [transcript] = [t.lower() for t in await stored_answers(greenroom, session_id)]
    assert all(word in transcript for word in ("holiday", "index", "really")), transcript
