"""The speech definitions, and that the live signals and the reports apply them alike."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from media.speech_signals import Filler, Hedge, Pause, SpeechSignals
from reports.delivery import AnswerSignals, score_delivery, word_timing
from scoring.speech import (
    HEDGES,
    PAUSE_THRESHOLD_S,
    counts_as_word,
    filler_kind,
    is_token,
    is_vocal_filler,
    normalise,
    words_per_minute,
)


@dataclass(frozen=True, slots=True)
class W:
    text: str
    start: float
    end: float


@pytest.mark.parametrize(
    "word, expected",
    [("um", True), ("Uhh,", True), ("hmm", True), ("Erm...", True), ("umbrella", False), ("like", False)],
)
def test_vocal_fillers(word: str, expected: bool) -> None:
    assert is_vocal_filler(word) is expected
    assert counts_as_word(word) is not expected


@pytest.mark.parametrize(
    "token, kind",
    [("Umm,", "vocal"), ("like,", "lexical"), ("Basically", "lexical"), ("y\u2019know", "lexical"),
     ("you know", "lexical"), ("so", "lexical"), ("kind", None), ("index", None)],
)
def test_filler_kind(token: str, kind: str | None) -> None:
    assert filler_kind(token) == kind


def test_tokens_are_normalised_and_bare_punctuation_is_no_token() -> None:
    assert normalise("\u201cDon\u2019t,\u201d") == "don't"
    assert not is_token("\u2014") and not is_token("...") and is_token("a.")


def test_words_per_minute() -> None:
    assert words_per_minute(30, 12.0) == 150.0
    assert words_per_minute(30, 0.0) is None


# Every case the definitions decide: vocal fillers (with punctuation, in capitals), discourse
# fillers, a hedge, bare punctuation, gaps below, at and above the pause threshold. Times are
# multiples of 1/8 s, so the gaps are exact. Three times over, for enough words to score.
SENTENCE = [
    ("So", 0.0, 0.25), ("um,", 0.375, 0.625), ("I", 1.25, 1.375), ("was", 1.5, 1.75),
    ("like,", 1.875, 2.125), ("kind", 2.625, 2.875), ("of", 2.875, 3.0), ("stuck.", 3.125, 3.5),
    ("\u2014", 3.5, 3.5), ("Uhh", 3.75, 4.0), ("you", 5.25, 5.375), ("know,", 5.375, 5.625),
    ("we", 5.875, 6.0), ("shipped", 6.0, 6.5), ("it", 6.5, 6.625), ("anyway.", 6.75, 7.25),
]
ANSWER = [(text, start + 8.0 * k, end + 8.0 * k) for k in range(3) for text, start, end in SENTENCE]


def test_the_live_signal_and_the_report_count_the_same_words_fillers_and_pauses() -> None:
    gaps = [b[1] - a[2] for a, b in zip(ANSWER, ANSWER[1:], strict=False) if b[0] != "\u2014"]
    assert PAUSE_THRESHOLD_S in gaps  # a gap of exactly the threshold is a pause in both

    live = SpeechSignals(min_pace_speaking_s=0.0)
    events = live.on_utterance(100.0, [W(t, s, e) for t, s, e in ANSWER])
    summary = live.summary()
    stored = word_timing([{"w": t, "start": s, "end": e, "p": 0.9} for t, s, e in ANSWER])

    assert stored.words == summary.words
    assert stored.speaking_s == pytest.approx(summary.speaking_s)
    live_pauses = [p.duration_s for p in events if isinstance(p, Pause)]
    assert list(stored.gaps_s) == pytest.approx(live_pauses)
    assert len(live_pauses) == sum(1 for g in gaps if g >= PAUSE_THRESHOLD_S) > 0
    vocal = [e.text for e in events if isinstance(e, Filler) and filler_kind(e.text) == "vocal"]
    assert stored.vocal_fillers == len(vocal) == 6

    # The report scores from the stored words and the live filler events: the same counts.
    labels = tuple(e.text for e in events if isinstance(e, Filler | Hedge))
    assert {e.text for e in events if isinstance(e, Hedge)} <= HEDGES
    answer = AnswerSignals(
        answer_s=ANSWER[-1][2], words=stored.words, speaking_s=stored.speaking_s, filler_labels=labels,
        pauses_s=stored.gaps_s, speech_signals=True,
    )  # fmt: skip
    fillers = next(d for d in score_delivery(answer) if d.metric == "fillers")
    factors = {f.name: f.value for f in fillers.factors}
    assert factors["fillers"] == summary.fillers == 12
    assert factors["hedges (not counted)"] == summary.hedges == 3
    assert words_per_minute(stored.words, stored.speaking_s) == pytest.approx(summary.wpm)
