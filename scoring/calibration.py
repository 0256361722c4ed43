"""The score scale: bands, the monotone map from raw rubric features to 0–100, and its error.

Every evaluator reports on one scale, the one the calibration set (bench/data/calibration.json)
is graded on: strong 80–100, adequate 55–79, weak 20–54, off-topic or empty 0–19.

The offline evaluator's rubric functions give raw values in 0..1. `to_scale` turns them into
points with a piecewise-linear, strictly increasing map whose knots are an isotonic
(pool-adjacent-violators) regression of the graded scores on the raw overall of the tuning
part of the calibration set (`fit_knots`; `python bench/evaluator.py --fit` prints them, and a
test checks the knots below are that fit). The tuning residuals give the map's typical error,
which the confidence band starts from.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from typing import Literal

Band = Literal["strong", "adequate", "weak", "off_topic"]

# The lowest score of each band, best first.
BAND_FLOORS: tuple[tuple[Band, int], ...] = (
    ("strong", 80),
    ("adequate", 55),
    ("weak", 20),
    ("off_topic", 0),
)
BAND_LABELS: dict[Band, str] = {
    "strong": "strong",
    "adequate": "adequate",
    "weak": "weak",
    "off_topic": "off-topic or empty",
}

# Fitted on the tuning part of bench/data/calibration.json; regenerate with
# `python bench/evaluator.py --fit` after changing the rubric functions or the set.
# (raw overall 0..1, score 0..100), raw strictly increasing, score strictly increasing.
CALIBRATION_KNOTS: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.0105, 4.5),
    (0.0224, 5.0),
    (0.0368, 8.5),
    (0.0446, 11.2),
    (0.0544, 14.86),
    (0.0728, 16.17),
    (0.0863, 18.6),
    (0.1017, 18.88),
    (0.1314, 19.14),
    (0.137, 25.25),
    (0.1497, 28.09),
    (0.1948, 31.25),
    (0.229, 32.47),
    (0.2481, 35.8),
    (0.2548, 36.0),
    (0.2709, 42.33),
    (0.2881, 43.5),
    (0.3087, 44.42),
    (0.3266, 44.67),
    (0.3311, 50.0),
    (0.3505, 50.57),
    (0.3938, 58.24),
    (0.4369, 62.2),
    (0.4565, 66.73),
    (0.4644, 69.5),
    (0.4665, 74.5),
    (0.4771, 76.21),
    (0.4987, 80.43),
    (0.5131, 84.0),
    (0.515, 84.67),
    (0.5487, 84.82),
    (0.5817, 86.0),
    (0.6013, 87.27),
    (0.6177, 88.0),
    (0.6309, 88.39),
    (0.664, 88.57),
    (0.7052, 89.67),
    (1.0, 100.0),
)
# Root-mean-square error of the fitted map on the tuning answers, in points.
CALIBRATION_RMSE: float = 15.03
# The band is the score ± this many RMSEs (about 80% of answers for normal errors),
# widened by how little the evaluator had to go on (see `half_width`).
BAND_Z = 1.28


def band_of(score: float) -> Band:
    """The band a 0–100 score falls in."""
    for band, floor in BAND_FLOORS:
        if score >= floor:
            return band
    return "off_topic"


def to_scale(raw: float, knots: Sequence[tuple[float, float]] = CALIBRATION_KNOTS) -> float:
    """The raw value (0..1) on the 0–100 scale: linear between the fitted knots, clamped."""
    xs = [x for x, _ in knots]
    if raw <= xs[0]:
        return knots[0][1]
    if raw >= xs[-1]:
        return knots[-1][1]
    i = bisect.bisect_right(xs, raw)
    (x0, y0), (x1, y1) = knots[i - 1], knots[i]
    return y0 + (y1 - y0) * (raw - x0) / (x1 - x0)


def fit_knots(points: Iterable[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """A strictly increasing piecewise-linear map from (raw, graded score) points.

    Pool-adjacent-violators gives the isotonic least-squares fit as blocks of equal value; each
    block becomes one knot at its mean raw value and mean score, so the map is strictly
    increasing between knots (a flat map would tie answers the grades tell apart). The ends are
    pinned at (0, 0) and (1, 100).
    """
    ordered = sorted(points)
    blocks: list[list[float]] = []  # [sum of raw, sum of score, count]
    for raw, score in ordered:
        blocks.append([raw, score, 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            for k in range(3):
                blocks[-1][k] += last[k]
    knots = [(0.0, 0.0)]
    for raw_sum, score_sum, count in blocks:
        x, y = raw_sum / count, score_sum / count
        if x > knots[-1][0] and y > knots[-1][1]:
            knots.append((round(x, 4), round(y, 2)))
    if knots[-1][0] < 1.0:
        knots.append((1.0, 100.0 if knots[-1][1] < 100.0 else knots[-1][1] + 0.01))
    return tuple(knots)


def rmse(pairs: Iterable[tuple[float, float]]) -> float:
    """Root-mean-square difference of (predicted, graded) pairs."""
    errors = [(p - g) ** 2 for p, g in pairs]
    return math.sqrt(sum(errors) / len(errors)) if errors else 0.0


def half_width(uncertainty: float) -> float:
    """Half the confidence band, in points, for an answer `uncertainty` times as hard as usual."""
    return BAND_Z * CALIBRATION_RMSE * uncertainty


def confidence_label(half: float) -> str:
    """high, medium or low, by the band's half-width (the words delivery scores use)."""
    if half <= 10:
        return "high"
    if half <= 18:
        return "medium"
    return "low"
