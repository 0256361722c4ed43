"""The turn-taking bench notices stored pauses that sit on another clock than the truth's."""

from __future__ import annotations

import pytest

from bench.turn_taking import pause_shift_s

# pauses of one answer as (start, end) on its clip clock: uneven, as real ones are
TRUE = [(3.6, 5.9), (8.2, 10.1), (10.6, 11.6), (14.7, 15.7), (20.5, 23.0), (26.1, 28.8)]


@pytest.mark.parametrize("shift", [0.0, 0.3, -1.3, 9.45])
def test_the_shift_that_lines_stored_pauses_up_with_the_truth_is_found(shift: float) -> None:
    # stored pauses a little shorter than the truth (recognisers stretch words into them), one
    # missed and one spurious
    stored = [(a + shift + 0.1, b + shift - 0.1) for a, b in TRUE[1:]] + [(30.0 + shift, 30.3 + shift)]
    assert pause_shift_s(TRUE, stored) == pytest.approx(shift, abs=0.06)


def test_no_shift_without_enough_pauses_to_line_up() -> None:
    assert pause_shift_s(TRUE, []) is None
    assert pause_shift_s(TRUE, [(3.6, 3.9), (8.2, 8.5)]) is None  # only pauses shorter than any true one
    # With three true pauses and many short stored ones, some shift always fits: none is claimed.
    assert pause_shift_s(TRUE[:3], [(t, t + 0.6) for t in range(0, 30, 2)]) is None
