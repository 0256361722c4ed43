"""The interview's events on the wire: the exact dicts the page reads (frontend/)."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from agent.events import (
    AgentStateChanged,
    CandidateNudged,
    Caption,
    InterviewEnded,
    InterviewerYielded,
    QuestionAsked,
    RoomClosed,
    SignalSummary,
    WireEvent,
)

EXAMPLES: list[tuple[WireEvent, dict[str, typing.Any]]] = [
    (
        QuestionAsked(
            seq=3, text="Tell me about a deadline.", source="bank", from_cv=False, number=2, total=5,
            persona="jordan", persona_name="Jordan",
        ),
        {
            "type": "question",
            "seq": 3,
            "text": "Tell me about a deadline.",
            "source": "bank",
            "from_cv": False,
            "number": 2,
            "total": 5,
            "persona": "jordan",
            "persona_name": "Jordan",
        },
    ),
    (InterviewerYielded(), {"type": "interviewer_yielded"}),
    (
        Caption(speaker="interviewer", text="Thanks.", final=True, persona="sam", persona_name="Sam"),
        {
            "type": "caption",
            "speaker": "interviewer",
            "text": "Thanks.",
            "final": True,
            "persona": "sam",
            "persona_name": "Sam",
        },
    ),
    (
        Caption(speaker="candidate", text="I led", final=False),
        {
            "type": "caption",
            "speaker": "candidate",
            "text": "I led",
            "final": False,
            "persona": None,
            "persona_name": None,
        },
    ),
    (AgentStateChanged(state="speaking"), {"type": "agent_state", "state": "speaking"}),
    (
        CandidateNudged(kind="pace", message="You're speaking quickly.", value=212.0),
        {"type": "nudge", "kind": "pace", "message": "You're speaking quickly.", "value": 212.0},
    ),
    (
        SignalSummary(
            t_ms=1250,
            readings={"face_present": True, "gaze_on_camera": None, "wpm": 140},
            fillers=2,
            fillers_per_100_words=3.1,
            frames_dropped=0,
        ),
        {
            "type": "summary",
            "t_ms": 1250,
            "face_present": True,
            "gaze_on_camera": None,
            "wpm": 140,
            "fillers": 2,
            "fillers_per_100_words": 3.1,
            "frames_dropped": 0,
        },
    ),
    (RoomClosed(reason="completed"), {"type": "room_closed", "reason": "completed"}),
    (InterviewEnded(reason="abandoned"), {"type": "ended", "reason": "abandoned"}),
]


@pytest.mark.parametrize(("event", "wire"), EXAMPLES, ids=lambda v: type(v).__name__)
def test_each_event_goes_on_the_wire_as_the_page_reads_it(event: WireEvent, wire: dict[str, typing.Any]) -> None:
    assert event.to_wire() == wire
    assert event.to_wire()["type"] == type(event).WIRE_TYPE


def test_a_summary_before_any_reading_has_only_its_counters() -> None:
    summary = SignalSummary(t_ms=0, readings={}, fillers=0, fillers_per_100_words=None, frames_dropped=0)

    assert summary.to_wire() == {
        "type": "summary",
        "t_ms": 0,
        "fillers": 0,
        "fillers_per_100_words": None,
        "frames_dropped": 0,
    }


def test_every_event_has_an_example_and_is_a_frozen_slotted_dataclass() -> None:
    assert {type(event) for event, _ in EXAMPLES} == set(typing.get_args(WireEvent))
    for event, _ in EXAMPLES:
        assert dataclasses.is_dataclass(event) and hasattr(type(event), "__slots__")
        for f in dataclasses.fields(event):
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(event, f.name, None)
