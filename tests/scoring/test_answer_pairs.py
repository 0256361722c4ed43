"""The labelled answer pairs the evaluator bench uses, and the offline evaluator's accuracy on them."""

from __future__ import annotations

from collections import Counter

from bench.evaluator import load_pairs
from scoring.base import RUBRICS, AnswerInput
from scoring.offline import OfflineEvaluator

TARGET_PAIR_ACCURACY = 0.85


def test_the_pair_set_covers_every_category_with_a_holdout() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 60
    assert len({p["id"] for p in pairs}) == len(pairs)
    per_category = Counter(p["category"] for p in pairs)
    assert set(per_category) == set(RUBRICS) and min(per_category.values()) >= 10
    holdout = sum(p["split"] == "holdout" for p in pairs)
    assert 0.25 <= holdout / len(pairs) <= 0.4
    assert all(p["split"] in ("dev", "holdout") for p in pairs)
    assert all(
        p["stronger"].strip() and p["weaker"].strip() and p["stronger"] != p["weaker"] for p in pairs
    )


def test_offline_evaluator_ranks_the_pairs() -> None:
    evaluator = OfflineEvaluator()
    pairs = load_pairs()
    correct = 0
    for pair in pairs:
        stronger, weaker = (
            evaluator.score(AnswerInput(pair["question"], pair[side], pair["category"])).overall
            for side in ("stronger", "weaker")
        )
        correct += stronger > weaker
    assert correct / len(pairs) >= TARGET_PAIR_ACCURACY
