"""A panel interview in real headless Chromium: three personas chosen on the setup page, each
introduced in their own voice (the pitch of what the page receives, measured per caption line),
who asks each question shown and stored, a handover heard when the asker changes, and questions
stored from all three personas."""

from __future__ import annotations

import asyncio
import itertools
import time

import asyncpg
import numpy as np
import pytest

from agent.catalog import PERSONAS
from tests.e2e.conftest import (
    NEXT_QUESTION,
    FakeMedia,
    Server,
    api_json,
    make_fake_media,
    open_page,
    sign_up,
    snap,
    wait_for,
)

PANEL = ["alex", "jordan", "sam"]
# The panel's opening (three introductions and a question) lasts about 21 s: the fake
# microphone answers well after it, so that nothing cuts into it.
ANSWER_DELAY_S = 50.0
# A short answer that gives an example, a reason and a result, so no question needs a follow-up:
# each answer moves on to the next bank question, and the plan gives a panel of three one each
# in its first three. Said again after each reply (a reply with a handover lasts about 12 s).
PANEL_ANSWER = (
    "In my last job I led four engineers to rebuild our billing system. We chose a queue because "
    "it kept invoices in order, and as a result invoice errors fell by forty percent."
)
BETWEEN_ANSWERS_S = 20.0
PITCH_APART = 0.15
# Captions arrive as a reply starts, not word by word with its audio: each persona's stretch of
# the opening is placed by the share of its letters (at its pace), and only its middle is measured.
MIDDLE_SHARE = 0.5
SPEECH_LEVEL = 0.02
# Gaps between sentences, longer on a busy machine (a sentence synthesised late), are cut out
# before the audio is shared out by letters: stretched, they moved Jordan's share into Alex's.
GAP_FRAME_S = 0.02
OPENING_SAID = """(() => {
  const asked = greenroom.events.findIndex(e => e.type === 'question');
  return asked >= 0 && greenroom.events.slice(asked).some(e => e.type === 'agent_state' && e.state === 'listening');
})()"""

# Records the interviewer's audio as the page plays it, and stamps each room event on the
# same clock (performance.now(), ms). Test code only: run outside the page's CSP.
RECORD = """() => {
  const events = greenroom.events;
  const push = events.push.bind(events);
  events.push = (m) => { m._at = performance.now(); return push(m); };
  window.panelRecording = { rate: 0, chunks: [] };
  const start = () => {
    const el = document.getElementById('interviewer-audio');
    if (!el || !el.srcObject || !el.srcObject.getAudioTracks().length) { setTimeout(start, 20); return; }
    const ctx = new AudioContext();
    const source = ctx.createMediaStreamSource(el.srcObject);
    const tap = ctx.createScriptProcessor(4096, 1, 1);
    window.panelRecording.rate = ctx.sampleRate;
    tap.onaudioprocess = (ev) => {
      const data = ev.inputBuffer.getChannelData(0);
      window.panelRecording.chunks.push([performance.now() - 1000 * data.length / ctx.sampleRate, Array.from(data)]);
    };
    source.connect(tap);
    tap.connect(ctx.destination);
    window.panelRecordingContext = ctx;
  };
  start();
}"""


def _median_pitch_hz(samples: np.ndarray, rate: int) -> float:
    import parselmouth

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=rate)
    frequencies = sound.to_pitch(pitch_floor=60.0, pitch_ceiling=400.0).selected_array["frequency"]
    voiced = frequencies[frequencies > 0]
    # The median: a neighbour's few frames at a stretch's edge, or an octave jump, do not move it.
    return float(np.median(voiced)) if voiced.size else 0.0


def _opening_lines(events: list[dict]) -> list[tuple[str, str]]:
    """(persona, text) of each interviewer caption line of the opening that was said (the last
    reply made before the first question: one made earlier may have been withdrawn)."""
    lines = []
    for e in events:
        if e.get("type") == "question":
            break
        if e.get("type") == "agent_state" and e["state"] == "thinking":
            lines = []  # a reply is being made (again)
        if e.get("type") == "caption" and e.get("speaker") == "interviewer" and e["final"]:
            lines.append((e["persona"], e["text"]))
    return lines


def _timeline(events: list[dict]) -> list[tuple]:
    return [
        (e["type"], e.get("state") or e.get("speaker") or e.get("seq"), round(e.get("_at", 0)), (e.get("text") or "")[:30])
        for e in events
        if e["type"] in ("agent_state", "question", "interviewer_yielded") or (e["type"] == "caption" and e["final"])
    ]


def _speech(recording: dict) -> np.ndarray:
    """What was heard, its silent frames (the gaps between sentences) cut out."""
    audio = np.concatenate([np.asarray(data, dtype=np.float32) for _, data in recording["chunks"]])
    frame = int(GAP_FRAME_S * recording["rate"])
    frames = audio[: len(audio) // frame * frame].reshape(-1, frame)
    return frames[np.abs(frames).max(axis=1) > SPEECH_LEVEL].reshape(-1)


def _stretches(audio: np.ndarray, lines: list[tuple[str, str]]) -> list[tuple[str, np.ndarray]]:
    """The middle of each line's share of the audio, the share by letters times the speaker's pace."""
    weights = [len("".join(text.split())) * PERSONAS[persona].voice.pace for persona, text in lines]
    bounds = np.concatenate([[0.0], np.cumsum(weights) / sum(weights)]) * len(audio)
    stretches = []
    for (persona, _), start, end in zip(lines, bounds, bounds[1:]):
        margin = (end - start) * (1 - MIDDLE_SHARE) / 2
        stretches.append((persona, audio[int(start + margin) : int(end - margin)]))
    return stretches


async def _stored_personas(
    database_url: str, session_id: str, *, count: int = 0, personas: int = 0, timeout_s: float = 30.0
) -> list[tuple[int, str]]:
    """(seq, persona) of the session's stored questions, once there are `count` of them asked by
    `personas` distinct personas (or when `timeout_s` is up)."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout_s
        rows: list = []
        while time.monotonic() < deadline:
            rows = await conn.fetch("SELECT seq, persona FROM questions WHERE session_id = $1 ORDER BY seq", session_id)
            if len(rows) >= count and len({r["persona"] for r in rows}) >= personas:
                break
            await asyncio.sleep(0.3)
        return [(r["seq"], r["persona"]) for r in rows]
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def panel_media(tmp_path_factory: pytest.TempPathFactory) -> FakeMedia:
    answers = [PANEL_ANSWER, BETWEEN_ANSWERS_S, PANEL_ANSWER, BETWEEN_ANSWERS_S, PANEL_ANSWER]
    return make_fake_media(tmp_path_factory.mktemp("panel-media"), answers, answer_delay_s=ANSWER_DELAY_S)


async def test_a_panel_of_three_in_the_browser(greenroom_server: Server, panel_media: FakeMedia, browser_factory) -> None:
    browser = await browser_factory(panel_media)
    page = await open_page(browser)
    await sign_up(page, greenroom_server, name="Robin")
    await page.get_by_role("link", name="Start your first interview").click()
    await page.wait_for_selector("#setup-form")
    await page.get_by_label("Round type").select_option("mixed")
    await page.get_by_label("10 minutes").check()
    await page.locator("#persona-alex").check()
    await page.locator("#panel-choice summary").click()
    await page.get_by_role("checkbox", name="Challenging tech lead").check()
    await page.get_by_role("checkbox", name="Friendly mentor").check()
    await page.get_by_role("button", name="Continue to mirror check").click()
    await wait_for(page, "location.hash === '#/check'", 15, "the mirror check")
    # The fake microphone's mic check ("Testing, one, two, three.") is over before the room
    # opens: heard as the candidate speaking, it would cut into the introductions.
    await wait_for(page, "greenroom.mirror && greenroom.mirror.maxLevel > 0.2", 30, "the mic check to be heard")
    await asyncio.sleep(3.0)
    await page.get_by_label("I have read the policy above").check()
    await wait_for(page, "!document.getElementById('join').disabled", 30, "Join to be enabled")
    await page.click("#join")

    await wait_for(page, "document.getElementById('interviewer-audio') && window.greenroom && greenroom.events", 60, "the room")
    await page.evaluate(RECORD)
    await wait_for(page, "greenroom.state === 'live'", 60, "the room to connect")
    session_id = await page.evaluate("greenroom.sessionId")
    _, session = await api_json(page, "GET", f"/v1/sessions/{session_id}")
    assert session["panel"] == PANEL and session["persona"] == "alex"

    # The opening: three introductions, then the first question, named by who asks it.
    await wait_for(page, "greenroom.questions.length >= 1", 90, "the first question")
    await wait_for(page, OPENING_SAID, 120, "the opening to be said")
    first = await page.evaluate("greenroom.questions[0]")
    assert first["persona"] in PANEL
    assert f"{first['persona_name']} asks" in await page.text_content("#question-progress")
    names = await page.locator("#captions .caption.interviewer b").all_text_contents()
    assert [n.rstrip(": ") for n in names[:3]] == ["Alex", "Jordan", "Sam"]
    await snap(page, "room-panel")

    # Each persona's own voice, as the page heard it: the median pitch of its introduction.
    events = await page.evaluate("greenroom.events")
    recording = await page.evaluate("window.panelRecording")
    lines = _opening_lines(events)
    assert [persona for persona, _ in lines[:3]] == PANEL, lines
    audio = _speech(recording)
    pitches = {}
    for persona, stretch in _stretches(audio, lines)[:3]:
        assert len(stretch) > recording["rate"] // 2, f"too little audio heard from {persona}: {_timeline(events)}"
        pitches[persona] = _median_pitch_hz(stretch, recording["rate"])
    print(f"\nheard {len(audio) / recording['rate']:.1f} s of speech in the opening; median pitch per persona (Hz): "
          f"{ {p: round(v, 1) for p, v in pitches.items()} }")
    for a, b in itertools.combinations(PANEL, 2):
        assert abs(pitches[a] - pitches[b]) / max(pitches[a], pitches[b]) >= PITCH_APART, (
            pitches, first["persona"], [(persona, text[:40]) for persona, text in lines]
        )

    # The fake microphone answers; when the next question is someone else's, it is handed over.
    await wait_for(page, f"!!{NEXT_QUESTION}", ANSWER_DELAY_S + 120, "the next question")
    second = await page.evaluate(NEXT_QUESTION)
    assert second["persona"] in PANEL
    if second["persona"] != first["persona"] and second["source"] == "bank":
        name = second["persona_name"]
        said = await page.evaluate(
            "greenroom.events.filter(e => e.type === 'caption' && e.speaker === 'interviewer' && e.final).map(e => e.text)"
        )
        assert any(f"hand you to {name}" in line or f"Back to you, {name}" in line for line in said), said
    stored = await _stored_personas(greenroom_server.database_url, session_id, count=2)
    assert stored[:2] == [(first["seq"], first["persona"]), (second["seq"], second["persona"])]

    # The microphone answers again: by the third question, every member of the panel has asked.
    stored = await _stored_personas(
        greenroom_server.database_url, session_id, personas=3, timeout_s=2 * (BETWEEN_ANSWERS_S + 30)
    )
    print(f"stored questions (seq, persona): {stored}")
    assert {persona for _, persona in stored} == set(PANEL), (stored, _timeline(await page.evaluate("greenroom.events")))
