"""A panel interview in the embedded room: each member introduces themselves in their own
caption line, and every question says, and is stored with, the persona who asked it; with the
LLM brain too (the model words each reply's last part, as the persona who says it)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from agent.catalog import PERSONAS
from bench.fake_openai import persona_wording, served
from bench.rtc_client import Speech
from tests.media.test_signalling import (  # noqa: F401  (fixtures used by name)
    GREETING_TIMEOUT_S,
    REPLY_TIMEOUT_S,
    StartGreenroom,
    _answer,
    _hear_first_question,
    answer_speech,
    eventually,
    start_greenroom,
    voice_models,
)

PANEL = ["alex", "jordan", "sam"]


def _interviewer_lines(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("type") == "caption" and e["speaker"] == "interviewer" and e["final"]]


async def _stored_personas(pool: asyncpg.Pool, session_id: str) -> list[tuple[int, str]]:
    rows = await pool.fetch(
        "SELECT seq, persona FROM questions WHERE session_id = $1 ORDER BY seq", uuid.UUID(session_id)
    )
    return [(r["seq"], r["persona"]) for r in rows]


async def test_a_panel_introduces_itself_and_names_who_asks(
    start_greenroom: StartGreenroom, pool: asyncpg.Pool, answer_speech: Speech
) -> None:
    greenroom = await start_greenroom()
    body = await greenroom.new_session(round_type="mixed", persona="alex", panel=PANEL)
    session_id = body["session"]["id"]
    assert body["session"]["panel"] == PANEL
    candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])

    first = await _hear_first_question(candidate)
    await candidate.voice.quiet_for(1.0, timeout=GREETING_TIMEOUT_S)
    lines = _interviewer_lines(candidate.client.events)
    assert [line["persona"] for line in lines[:3]] == PANEL  # each introduces themselves
    for line in lines[:3]:
        assert line["persona_name"] == PERSONAS[line["persona"]].name
        assert PERSONAS[line["persona"]].introduction in line["text"]
    assert first["persona"] in PANEL and first["persona_name"] == PERSONAS[first["persona"]].name
    assert lines[-1]["persona"] == first["persona"] and lines[-1]["text"].endswith(first["text"])

    await _answer(candidate, answer_speech)
    second = await candidate.client.next_event("question", timeout=REPLY_TIMEOUT_S)
    assert second["persona"] in PANEL

    stored = await eventually(lambda: _stored_personas(pool, session_id), lambda s: len(s) >= 2)
    assert stored[:2] == [(first["seq"], first["persona"]), (second["seq"], second["persona"])]


async def test_an_llm_panel_words_each_reply_as_the_persona_who_says_it(
    start_greenroom: StartGreenroom, pool: asyncpg.Pool, answer_speech: Speech
) -> None:
    async with served() as model:
        model.stream_wording = persona_wording  # "This is <the system prompt's persona> speaking. <question>"
        greenroom = await start_greenroom(interviewer_brain="llm", interviewer_llm_base_url=model.base_url)
        body = await greenroom.new_session(round_type="mixed", persona="alex", panel=PANEL)
        session_id = body["session"]["id"]
        candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])

        first = await _hear_first_question(candidate)
        await candidate.voice.quiet_for(1.0, timeout=GREETING_TIMEOUT_S)
        opening = _interviewer_lines(candidate.client.events)
        # The introductions are the script's, word for word, each in its speaker's line.
        assert [line["persona"] for line in opening[:3]] == PANEL
        for line in opening[:3]:
            assert PERSONAS[line["persona"]].introduction in line["text"]
        asker = PERSONAS[first["persona"]]
        assert opening[-1]["persona"] == asker.id and f"This is {asker.name} speaking." in opening[-1]["text"]

        await _answer(candidate, answer_speech)
        second = await candidate.client.next_event("question", timeout=REPLY_TIMEOUT_S)
        await candidate.voice.quiet_for(1.0, timeout=REPLY_TIMEOUT_S)
        lines = _interviewer_lines(candidate.client.events)
        worded = [line for line in lines if " speaking." in line["text"]]
        assert len(worded) >= 2 and worded[-1]["persona"] == second["persona"]
        for line in worded:  # every line the model worded is captioned as the persona it spoke as
            assert f"This is {PERSONAS[line['persona']].name} speaking." in line["text"], line
        system_prompts = [r["messages"][0]["content"] for r in model.requests if r.get("stream")]
        assert system_prompts[0].startswith(f"You are {asker.name},")
        assert system_prompts[-1].startswith(f"You are {PERSONAS[second['persona']].name},")

        stored = await eventually(lambda: _stored_personas(pool, session_id), lambda s: len(s) >= 2)
        assert stored[:2] == [(first["seq"], first["persona"]), (second["seq"], second["persona"])]
