"""The capacity bench's verdict: an interview cut short is a miss, however good its answers."""

from __future__ import annotations

from bench.capacity import meets

AT_TARGET = {
    "talk_over_ms_p95": 250.0,
    "end_to_first_audio_p50_ms": 1100.0,
    "end_to_first_audio_p95_ms": 1500.0,
    "cutoffs_le3s": 1,
    "pauses_le3s": 40,
    "replies_missed": 0,
    "one_response_fraction": 1.0,
    "answers_left": 0,
}


def test_figures_at_target_miss_nothing() -> None:
    assert meets(AT_TARGET) == []


def test_an_interview_that_ended_before_its_answers_were_played_is_a_miss() -> None:
    # A lost connection (ICE consent unanswered for 30 s) ends an interview early: the answers
    # it did play can all be at target, and N must still not count as met.
    assert meets({**AT_TARGET, "answers_left": 2}) == ["answers_left"]


def test_cutoffs_miss_only_when_their_interval_lies_above_the_target() -> None:
    assert meets({**AT_TARGET, "cutoffs_le3s": 2, "pauses_le3s": 40}) == []  # 5%, but 1.4-16.5%
    assert meets({**AT_TARGET, "cutoffs_le3s": 12, "pauses_le3s": 100}) == ["false_cutoff_rate_le3s"]
