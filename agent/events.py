"""The interview's events for the browser: one small frozen dataclass each, turned to JSON on the wire.

Producers build these; whoever puts one on the wire (the room's broadcast, the live signal
feed) sends `to_wire()`, the dict the page reads. `WIRE_TYPE` is its `"type"`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:  # a name for a type only: the events stay free of the interviewer's imports
    from agent.interviewer import QuestionSource


@dataclass(frozen=True, slots=True)
class QuestionAsked:
    """The interviewer put a question to the candidate (its reply played past the yield window)."""

    WIRE_TYPE: ClassVar[str] = "question"

    seq: int
    text: str
    source: QuestionSource
    from_cv: bool  # the opener tailored to the candidate's CV
    number: int  # bank questions asked so far, this one included
    total: int  # bank questions the interview plans
    persona: str = ""  # who asked it: a persona id
    persona_name: str = ""

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": self.WIRE_TYPE,
            "seq": self.seq,
            "text": self.text,
            "source": self.source,
            "from_cv": self.from_cv,
            "number": self.number,
            "total": self.total,
            "persona": self.persona,
            "persona_name": self.persona_name,
        }


@dataclass(frozen=True, slots=True)
class InterviewerYielded:
    """The candidate went on as the reply started: the interviewer stopped and withdrew it."""

    WIRE_TYPE: ClassVar[str] = "interviewer_yielded"

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.WIRE_TYPE}


@dataclass(frozen=True, slots=True)
class Caption:
    """Live captions: a piece of what is being said (final=False) or the whole line (final=True)."""

    WIRE_TYPE: ClassVar[str] = "caption"

    speaker: Literal["interviewer", "candidate"]
    text: str
    final: bool
    persona: str | None = None  # which interviewer speaks (None: the candidate)
    persona_name: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": self.WIRE_TYPE,
            "speaker": self.speaker,
            "text": self.text,
            "final": self.final,
            "persona": self.persona,
            "persona_name": self.persona_name,
        }


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """The interviewer's new state (livekit-agents' AgentState: listening, thinking, speaking, …)."""

    WIRE_TYPE: ClassVar[str] = "agent_state"

    state: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.WIRE_TYPE, "state": self.state}


@dataclass(frozen=True, slots=True)
class CandidateNudged:
    """A hint shown to the candidate (media/nudges.py); `value` is the figure that triggered it."""

    WIRE_TYPE: ClassVar[str] = "nudge"

    kind: str  # silence | pace | face_missing
    message: str
    value: float

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.WIRE_TYPE, "kind": self.kind, "message": self.message, "value": self.value}


@dataclass(frozen=True, slots=True)
class SignalSummary:
    """The live view of the candidate's delivery, a few times a second, at t_ms on the signal clock."""

    WIRE_TYPE: ClassVar[str] = "summary"

    t_ms: int
    # The newest face, voice and pace readings (face_present, gaze_on_camera, loudness_dbfs,
    # wpm, …): only those measured so far are present, and a present one may be None.
    readings: Mapping[str, Any]
    fillers: int
    fillers_per_100_words: float | None
    frames_dropped: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": self.WIRE_TYPE,
            "t_ms": self.t_ms,
            **self.readings,
            "fillers": self.fillers,
            "fillers_per_100_words": self.fillers_per_100_words,
            "frames_dropped": self.frames_dropped,
        }


@dataclass(frozen=True, slots=True)
class RoomClosed:
    """The room was closed (completed, abandoned, ended, deleted, server_shutdown, …)."""

    WIRE_TYPE: ClassVar[str] = "room_closed"

    reason: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.WIRE_TYPE, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class InterviewEnded:
    """The session's live signal feed ends: its room closed, for `reason`."""

    WIRE_TYPE: ClassVar[str] = "ended"

    reason: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.WIRE_TYPE, "reason": self.reason}


WireEvent = (
    QuestionAsked
    | InterviewerYielded
    | Caption
    | AgentStateChanged
    | CandidateNudged
    | SignalSummary
    | RoomClosed
    | InterviewEnded
)
"""Any event the interview sends to the browser."""
