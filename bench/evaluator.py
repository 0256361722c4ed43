"""Evaluator ranking accuracy: does the stronger answer of each labelled pair score higher?

The pairs (bench/data/answer_pairs.json) are a stronger and a weaker answer to the same
question, written by the team across all five categories; about a third are marked "holdout"
and were never looked at while the offline evaluator's weights were set. A pair counts as
ranked correctly only when the stronger answer's overall score is strictly higher.
`length_baseline_accuracy` is what "the longer answer wins" would get, for comparison.

Usage: python bench/evaluator.py [--quick] [--pairs PATH] [--verbose]; details on stderr,
the last stdout line is JSON.
"""

from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

from scoring.base import RUBRICS, AnswerInput  # noqa: E402
from scoring.offline import OfflineEvaluator  # noqa: E402

PAIRS_PATH = Path(__file__).resolve().parent / "data" / "answer_pairs.json"
TIMING_REPEATS = 20


def load_pairs(path: Path = PAIRS_PATH) -> list[dict]:
    """The labelled pairs, checked for the fields the bench needs."""
    pairs = json.loads(path.read_text(encoding="utf-8"))["pairs"]
    for pair in pairs:
        missing = {"id", "question", "category", "stronger", "weaker", "split"} - pair.keys()
        if missing:
            raise ValueError(f"pair {pair.get('id', '?')}: missing {', '.join(sorted(missing))}")
        if pair["category"] not in RUBRICS:
            raise ValueError(f"pair {pair['id']}: unknown category {pair['category']!r}")
    return pairs


def _accuracy(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 3) if hits else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="time each answer once instead of repeatedly"
    )
    parser.add_argument("--pairs", type=Path, default=PAIRS_PATH, help="labelled pairs JSON")
    parser.add_argument("--verbose", action="store_true", help="print every pair's scores to stderr")
    args = parser.parse_args()

    pairs = load_pairs(args.pairs)
    evaluator = OfflineEvaluator()
    repeats = 1 if args.quick else TIMING_REPEATS
    by_split: dict[str, list[bool]] = defaultdict(list)
    by_category: dict[str, list[bool]] = defaultdict(list)
    length_hits: list[bool] = []
    answers_scored = 0
    elapsed = 0.0
    for pair in pairs:
        overall: dict[str, int] = {}
        for side in ("stronger", "weaker"):
            item = AnswerInput(
                question=pair["question"],
                answer=pair[side],
                category=pair["category"],
                time_limit_s=pair.get("time_limit_s"),
            )
            started = time.perf_counter()
            for _ in range(repeats):
                score = evaluator.score(item)
            elapsed += time.perf_counter() - started
            answers_scored += repeats
            overall[side] = score.overall
        correct = overall["stronger"] > overall["weaker"]
        by_split[pair["split"]].append(correct)
        by_category[pair["category"]].append(correct)
        length_hits.append(len(pair["stronger"].split()) > len(pair["weaker"].split()))
        if args.verbose or not correct:
            mark = "ok  " if correct else "MISS"
            print(
                f"[evaluator] {mark} {pair['id']:<18} {pair['split']:<7} "
                f"stronger {overall['stronger']:>3}  weaker {overall['weaker']:>3}",
                file=sys.stderr,
            )
    every = [hit for hits in by_split.values() for hit in hits]
    result = {
        "pairs": len(every),
        "pair_accuracy": _accuracy(every),
        "dev_accuracy": _accuracy(by_split.get("dev", [])),
        "holdout_accuracy": _accuracy(by_split.get("holdout", [])),
        "by_category": {c: _accuracy(by_category[c]) for c in RUBRICS if by_category[c]},
        "length_baseline_accuracy": _accuracy(length_hits),
        "ms_per_answer": round(1000.0 * elapsed / max(answers_scored, 1), 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
