"""Live nudges the candidate sees: long silence, sustained fast pace, face out of frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NudgeKind = Literal["silence", "pace", "face_missing"]

MESSAGES: dict[NudgeKind, str] = {
    "silence": "Take your time. If you're stuck, say what you're thinking or ask to hear the question again.",
    "pace": "You're speaking quickly. Slow down a little and pause between points.",
    "face_missing": "We can't see your face. Move back into the camera's view.",
}


@dataclass(frozen=True, slots=True)
class Nudge:
    """A hint shown to the candidate; `value` is the measured figure that triggered it."""

    kind: NudgeKind
    at: float
    value: float
    message: str


class _Stretch:
    """Tracks how long a condition has held; fires once per stretch."""

    __slots__ = ("since", "fired")

    def __init__(self) -> None:
        self.since: float | None = None
        self.fired = False

    def update(self, holds: bool, t: float, threshold_s: float) -> float | None:
        """Returns the stretch's length the first time it reaches the threshold."""
        if not holds:
            self.since, self.fired = None, False
            return None
        if self.since is None:
            self.since = t
        held = t - self.since
        if held >= threshold_s and not self.fired:
            self.fired = True
            return held
        return None


class NudgeRules:
    """Turns the live signal stream into nudges; all times are the caller's clock (seconds)."""

    def __init__(
        self, *, silence_s: float, pace_wpm: float, pace_sustain_s: float, face_missing_s: float
    ) -> None:
        self._silence_s = silence_s
        self._pace_wpm = pace_wpm
        self._pace_sustain_s = pace_sustain_s
        self._face_missing_s = face_missing_s
        self._silence = _Stretch()
        self._pace = _Stretch()
        self._face = _Stretch()
        self._candidate_speaking = False
        self._interviewer_speaking = True  # the interviewer opens; silence counts after it

    def _nudge(self, kind: NudgeKind, t: float, value: float) -> Nudge:
        return Nudge(kind=kind, at=t, value=round(value, 1), message=MESSAGES[kind])

    def on_face(self, t: float, present: bool) -> Nudge | None:
        held = self._face.update(not present, t, self._face_missing_s)
        return self._nudge("face_missing", t, held) if held is not None else None

    def on_voice(self, t: float, *, candidate_speaking: bool) -> Nudge | None:
        self._candidate_speaking = candidate_speaking
        return self._check_silence(t)

    def on_interviewer(self, t: float, *, speaking: bool) -> Nudge | None:
        self._interviewer_speaking = speaking
        return self._check_silence(t)

    def on_wpm(self, t: float, wpm: float) -> Nudge | None:
        held = self._pace.update(wpm > self._pace_wpm, t, self._pace_sustain_s)
        return self._nudge("pace", t, wpm) if held is not None else None

    def tick(self, t: float) -> list[Nudge]:
        """Re-check the time-based rules (call a few times a second)."""
        nudge = self._check_silence(t)
        return [nudge] if nudge is not None else []

    def _check_silence(self, t: float) -> Nudge | None:
        quiet = not self._candidate_speaking and not self._interviewer_speaking
        held = self._silence.update(quiet, t, self._silence_s)
        return self._nudge("silence", t, held) if held is not None else None
