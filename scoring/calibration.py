"""The score scale: bands, the monotone map from raw rubric features to 0–100, and its error.

Every evaluator reports on one scale, the one the calibration set (bench/data/calibration.json)
is graded on: strong 80–100, adequate 55–79, weak 20–54, off-topic or empty 0–19.

The offline evaluator's rubric functions give raw values in 0..1. `to_scale` turns them into
points with a piecewise-linear, strictly increasing map. Its knots put each band floor at the
raw value where an ordinal logistic fit of the graded bands places the boundary, and each
band's median answer at its median grade (`fit_band_knots`, fitted on the answers
`bench.evaluator.fitting_answers` names; `python bench/evaluator.py --fit` prints them, and a
test checks the knots below are that fit). Until round 6 the knots were an isotonic regression
of the grades (`fit_knots`, kept for comparison: `python bench/evaluator.py --cv` prints both).
The fitting residuals give the map's typical error, which the confidence band starts from.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import numpy as np

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

# Fitted on the 450 answers of bench/data/calibration.json (the tuning part and round 5's seen
# held-out part; `bench.evaluator.fitting_answers`) by `fit_band_knots`; regenerate with
# `python bench/evaluator.py --fit` after changing the rubric functions or the set.
# (raw overall 0..1, score 0..100), raw strictly increasing, score strictly increasing.
CALIBRATION_KNOTS: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.0941, 12.0),
    (0.1235, 20.0),
    (0.2194, 32.0),
    (0.3065, 55.0),
    (0.3617, 62.0),
    (0.4433, 80.0),
    (0.5444, 86.0),
    (1.0, 100.0),
)
# Root-mean-square error of the fitted map on those answers, in points.
CALIBRATION_RMSE: float = 14.87
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


def _newton(loss: Callable[[np.ndarray], float], v: np.ndarray, steps: int = 200) -> np.ndarray:
    """Minimise a smooth function of a few parameters: Newton steps from central differences,
    halved until the loss falls (a gradient step when the Hessian points uphill)."""
    h = 1e-5
    eye = np.eye(len(v))
    for _ in range(steps):
        grad = np.array([(loss(v + h * e) - loss(v - h * e)) / (2 * h) for e in eye])
        hess = np.array(
            [
                [
                    (loss(v + h * (a + b)) - loss(v + h * (a - b)) - loss(v - h * (a - b)) + loss(v - h * (a + b)))
                    / (4 * h * h)
                    for b in eye
                ]
                for a in eye
            ]
        )
        try:
            move = np.linalg.solve(hess + 1e-6 * eye, grad)
        except np.linalg.LinAlgError:
            move = grad
        if not np.all(np.isfinite(move)) or grad @ move <= 0:
            move = 1e-4 * grad
        t, before = 1.0, loss(v)
        while loss(v - t * move) > before and t > 1e-8:
            t /= 2
        v = v - t * move
        if np.max(np.abs(t * move)) < 1e-9:
            break
    return v


def band_cuts(points: Iterable[tuple[float, float]]) -> tuple[float, float, float]:
    """The raw values at which the off-topic/weak, weak/adequate and adequate/strong bands meet.

    A proportional-odds (ordinal logistic) fit of the graded band on the raw value:
    P(band at or below k) = sigmoid(slope * (cut_k - raw)). Each cut is where an answer is as
    likely to be graded above the band floor as below it. The isotonic least-squares fit puts a
    band floor where the *mean* grade crosses it, which a few far-off answers (a strong answer
    the features miss, an off-topic one they overrate) drag about; the band each answer was
    graded in, weighed by likelihood, moves the cuts only as far as the overlap of the bands
    warrants. Fitted by Newton's method on (log slope, first cut, log gaps between cuts).
    """
    xs, ys = [], []
    for raw, score in points:
        xs.append(raw)
        ys.append(len(BAND_FLOORS) - 1 - [b for b, _ in BAND_FLOORS].index(band_of(score)))
    x, y = np.asarray(xs, dtype=float), np.asarray(ys)  # y: 0 off-topic .. 3 strong
    if len(set(ys)) < len(BAND_FLOORS):
        raise ValueError("every band needs graded answers to place the cuts between them")

    def unpack(v: np.ndarray) -> tuple[float, np.ndarray]:
        return math.exp(v[0]), v[1] + np.concatenate(([0.0], np.cumsum(np.exp(v[2:]))))

    def loss(v: np.ndarray) -> float:
        slope, cuts = unpack(v)
        below = 1.0 / (1.0 + np.exp(-slope * (cuts[None, :] - x[:, None])))  # P(band <= k)
        cdf = np.hstack([np.zeros((len(x), 1)), below, np.ones((len(x), 1))])
        p = cdf[np.arange(len(x)), y + 1] - cdf[np.arange(len(x)), y]
        return float(-np.sum(np.log(np.maximum(p, 1e-300))))

    # Start from the raw value's quantiles at the bands' shares, with a moderate slope.
    shares = np.cumsum(np.bincount(y, minlength=4))[:3] / len(y)
    start = np.quantile(x, shares)
    v = np.array([math.log(20.0), start[0], *np.log(np.maximum(np.diff(start), 1e-3))])
    v = _newton(loss, v)
    return tuple(float(c) for c in unpack(v)[1])  # type: ignore[return-value]


def fit_band_knots(points: Iterable[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """A strictly increasing piecewise-linear map whose band floors sit at the fitted cuts.

    The knots are (0, 0), each band floor (20, 55, 80) at its cut (`band_cuts`), each band's
    median raw value at that band's median grade (when it falls between the band's cuts), and
    (1, 100). Cross-validated by question on the 450 graded answers (`python bench/evaluator.py
    --cv`), this puts 0.676 of answers in their graded band against 0.642 for the isotonic fit
    (`fit_knots`), ranks pairs as well or better (0.964 against 0.958), and has few knots, so
    answers a little apart in raw value stay apart in points (no flat steps that tie them).
    """
    pts = sorted(points)
    cuts = band_cuts(pts)
    edges = (0.0, *cuts, 1.0)
    knots = {0.0: 0.0, 1.0: 100.0}
    floors = [floor for _, floor in reversed(BAND_FLOORS)]  # 0, 20, 55, 80
    for cut, floor in zip(cuts, floors[1:], strict=True):
        knots[round(cut, 4)] = float(floor)
    for k, floor in enumerate(floors):
        ceiling = floors[k + 1] if k + 1 < len(floors) else 100
        inside = [(raw, score) for raw, score in pts if floor <= score < ceiling or (k == 3 and score == 100)]
        if len(inside) < 5:
            continue
        raw = statistics.median(r for r, _ in inside)
        score = statistics.median(s for _, s in inside)
        if edges[k] < raw < edges[k + 1] and floor < score < ceiling:
            knots[round(raw, 4)] = round(float(score), 2)
    ordered = sorted(knots.items())
    if any(b[0] <= a[0] or b[1] <= a[1] for a, b in zip(ordered, ordered[1:])):
        raise ValueError(f"band knots are not strictly increasing: {ordered}")
    return tuple(ordered)


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
