"""Key moments of a session: long pauses, look-away streaks, filler bursts, pace spikes, recoveries.

Only moments inside an answer count (what happens while the interviewer talks is not the
candidate's delivery). Each is anchored to the transcript: the question's seq and id, the
response, the offset into that response and the nearest word.

- long_pause: a pause of LONG_PAUSE_MS or more.
- look_away: LOOK_AWAY_MIN_MS or more with no face, or eyes away from the camera.
- filler_burst: FILLER_BURST_COUNT fillers or more within FILLER_BURST_WINDOW_MS.
- pace_spike: a live pace reading of max(PACE_SPIKE_MIN_WPM, 1.25 × the session's median).
- recovery: after one of the above, RECOVERY_WINDOW_MS of the same answer with speech and none
  of the above: steady again.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from reports.model import AnswerReport, KeyMoment
from scoring.speech import HEDGES

LONG_PAUSE_MS = 3000
LOOK_AWAY_MIN_MS = 4000
FILLER_BURST_COUNT = 3
FILLER_BURST_WINDOW_MS = 10_000
PACE_SPIKE_MIN_WPM = 180.0
PACE_SPIKE_RATIO = 1.25
RECOVERY_WINDOW_MS = 15_000
MAX_MOMENTS = 100


@dataclass(frozen=True, slots=True)
class LookAway:
    """A run of face samples with no face, or eyes off the camera."""

    start_ms: int
    end_ms: int
    samples: int
    no_face_samples: int


@dataclass(frozen=True, slots=True)
class EventRow:
    """The part of a speech event that moments need."""

    t_ms: int
    kind: str
    duration_ms: int | None
    value: float | None
    label: str | None


class TranscriptAnchors:
    """Finds the answer, response and word at a point of the session's signal clock."""

    def __init__(self, answers: Sequence[AnswerReport]) -> None:
        self._answers = [a for a in answers if a.t_from_ms is not None and a.t_to_ms is not None]
        self._answers.sort(key=lambda a: a.t_from_ms)
        self._starts = [a.t_from_ms for a in self._answers]

    def answer_at(self, t_ms: int, slack_ms: int = 0) -> AnswerReport | None:
        i = bisect.bisect_right(self._starts, t_ms + slack_ms) - 1
        if i < 0:
            return None
        a = self._answers[i]
        return a if t_ms <= a.t_to_ms + slack_ms else None

    def anchor(self, kind: str, t_ms: int, duration_ms: int, title: str, detail: str) -> KeyMoment:
        answer = self.answer_at(t_ms, slack_ms=500)
        response_id = offset_s = word_index = None
        if answer is not None and answer.responses:
            starts = [r.start_ms for r in answer.responses]
            response = answer.responses[max(0, bisect.bisect_right(starts, t_ms) - 1)]
            response_id = response.id
            offset_s = round(max(0.0, (t_ms - response.start_ms) / 1000.0), 2)
            if response.words:
                word_index = min(
                    range(len(response.words)),
                    key=lambda i: abs((response.words[i][1] + response.words[i][2]) / 2 - offset_s),
                )
        return KeyMoment(
            kind=kind,
            t_ms=t_ms,
            duration_ms=duration_ms,
            title=title,
            detail=detail,
            question_seq=None if answer is None else answer.seq,
            question_id=None if answer is None else answer.question_id,
            response_id=response_id,
            offset_s=offset_s,
            word_index=word_index,
        )


def _mmss(t_ms: int) -> str:
    s = max(0, t_ms) // 1000
    return f"{s // 60}:{s % 60:02d}"


def find_moments(
    answers: Sequence[AnswerReport],
    events: Sequence[EventRow],
    look_aways: Sequence[LookAway],
) -> tuple[KeyMoment, ...]:
    """The session's key moments in time order (at most MAX_MOMENTS, the earliest kept)."""
    anchors = TranscriptAnchors(answers)
    negatives: list[KeyMoment] = []

    for e in events:
        if e.kind == "pause" and (e.duration_ms or 0) >= LONG_PAUSE_MS and anchors.answer_at(e.t_ms):
            seconds = e.duration_ms / 1000
            negatives.append(
                anchors.anchor(
                    "long_pause", e.t_ms, e.duration_ms,
                    f"Long pause ({seconds:.1f} s)",
                    f"A {seconds:.1f} s silence mid-answer at {_mmss(e.t_ms)}.",
                )
            )  # fmt: skip

    for run in look_aways:
        answer = anchors.answer_at(run.start_ms) or anchors.answer_at(run.end_ms)
        if answer is None:
            continue
        start, end = max(run.start_ms, answer.t_from_ms), min(run.end_ms, answer.t_to_ms)
        if end - start < LOOK_AWAY_MIN_MS:
            continue
        what = "out of the frame" if run.no_face_samples * 2 > run.samples else "looking away from the camera"
        negatives.append(
            anchors.anchor(
                "look_away", start, end - start,
                f"{(end - start) / 1000:.0f} s {what}",
                f"From {_mmss(start)} for {(end - start) / 1000:.0f} s the camera saw you {what}.",
            )
        )  # fmt: skip

    fillers = [e for e in events if e.kind == "filler" and (e.label or "").lower() not in HEDGES]
    fillers = [e for e in fillers if anchors.answer_at(e.t_ms)]
    i = 0
    while i < len(fillers):
        j = i
        while j + 1 < len(fillers) and fillers[j + 1].t_ms - fillers[i].t_ms <= FILLER_BURST_WINDOW_MS:
            j += 1
        if j - i + 1 >= FILLER_BURST_COUNT:
            burst = fillers[i : j + 1]
            words = sorted({(e.label or "filler").lower() for e in burst})
            negatives.append(
                anchors.anchor(
                    "filler_burst", burst[0].t_ms, burst[-1].t_ms - burst[0].t_ms,
                    f"{len(burst)} fillers in {max(1, (burst[-1].t_ms - burst[0].t_ms) // 1000)} s",
                    f"Fillers close together ({', '.join(words)}) at {_mmss(burst[0].t_ms)}.",
                )
            )  # fmt: skip
            i = j + 1
        else:
            i += 1

    paces = [e for e in events if e.kind == "wpm" and e.value is not None]
    if paces:
        median = statistics.median(e.value for e in paces)
        threshold = max(PACE_SPIKE_MIN_WPM, PACE_SPIKE_RATIO * median)
        in_spike = False
        for e in paces:
            if e.value >= threshold and not in_spike and anchors.answer_at(e.t_ms):
                negatives.append(
                    anchors.anchor(
                        "pace_spike", e.t_ms, 0,
                        f"Pace spike ({e.value:.0f} wpm)",
                        f"Speeding up to {e.value:.0f} wpm at {_mmss(e.t_ms)} (your median: {median:.0f}).",
                    )
                )  # fmt: skip
            in_spike = e.value >= threshold

    negatives.sort(key=lambda m: m.t_ms)
    moments = list(negatives) + _recoveries(negatives, anchors)
    moments.sort(key=lambda m: (m.t_ms, m.kind))
    return tuple(moments[:MAX_MOMENTS])


def _recoveries(negatives: Sequence[KeyMoment], anchors: TranscriptAnchors) -> list[KeyMoment]:
    """After a rough patch: the first clear RECOVERY_WINDOW_MS of speech in the same answer."""
    out: list[KeyMoment] = []
    for k, m in enumerate(negatives):
        end = m.t_ms + m.duration_ms
        answer = anchors.answer_at(m.t_ms, slack_ms=500)
        if answer is None or end + RECOVERY_WINDOW_MS > answer.t_to_ms:
            continue
        later = [n for n in negatives[k + 1 :] if n.t_ms < end + RECOVERY_WINDOW_MS]
        if later or any(n.t_ms <= end < n.t_ms + n.duration_ms for n in negatives if n is not m):
            continue
        spoke = any(
            r.start_ms + w_end * 1000 > end and r.start_ms + w_start * 1000 < end + RECOVERY_WINDOW_MS
            for r in answer.responses
            for _, w_start, w_end in r.words
        )
        if not spoke:
            continue
        after = {"long_pause": "the long pause", "look_away": "looking away", "filler_burst": "the fillers",
                 "pace_spike": "speeding up"}[m.kind]  # fmt: skip
        out.append(
            anchors.anchor(
                "recovery", end, RECOVERY_WINDOW_MS,
                "Back on track",
                f"{RECOVERY_WINDOW_MS // 1000} s of steady delivery after {after}, from {_mmss(end)}.",
            )
        )  # fmt: skip
    return out
