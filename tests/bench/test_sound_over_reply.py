"""bench/sound_over_reply.py's figures from what each sound led to."""

from __future__ import annotations

from bench.sound_over_reply import SAID, SYNTHETIC, Result, figures, parse_args


def test_figures_count_yields_silences_prompts_and_the_wait_a_sound_added() -> None:
    results = [
        Result("throat", 1000.0, True, 1.5, "reply", 1),
        Result("hum", 900.0, True, 5.2, "prompt", 1),
        Result("uh", 1100.0, True, None, "none", 2),  # the interviewer fell silent, and asked twice
        Result("cough", 950.0, False, None, "", 1),  # not stopped: the reply played whole
    ]
    f = figures(results)
    assert f["sounds"] == 4 and f["yielded"] == 3 and f["silent"] == 1
    assert f["back_after_s_p50"] == 3.35 and f["back_after_s_max"] == 5.2
    assert f["extra_s_p50"] == 2.4 and f["extra_s_max"] == 4.3
    assert f["replies_again"] == 1 and f["prompts"] == 1 and f["questions_twice"] == 1


def test_every_sound_is_played_each_round() -> None:
    assert len(set(SYNTHETIC) | set(SAID)) == 8
    assert parse_args(["--quick"]).quick and parse_args([]).rounds == 3
