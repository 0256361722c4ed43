"""Evaluator calibration: do scores land in the band a human grader gave, on answers never tuned on?

The calibration set (bench/data/calibration.json) holds answers to bank questions in all five
categories, each graded by hand on the 0–100 scale into bands: strong 80–100, adequate 55–79,
weak 20–54, off-topic or empty 0–19. It is split by question: the tuning part (`fitting_answers`;
each held-out part joins it once scored and seen) fits the offline evaluator's calibration
(`--fit`); the held-out part is scored only here, and is the default.

Printed, for the evaluator and beside it for "answer length alone" (a monotone map from word
count to score fitted on the tuning part, the baseline the evaluator has to beat):
- band_accuracy: the share of answers scored inside their graded band (adjacent bands miss);
- pair_accuracy: answers to the same question in different bands, ranked strictly right;
- strong_median, weak_median: the median score of the answers graded strong, and weak;
- example_answer_min: the lowest score of any bank example answer (the "stronger answer" the
  review page shows), each scored on its own question;
- band_coverage: the share of graded scores inside the evaluator's own confidence band.

With `--llm-base-url` (any OpenAI-compatible endpoint), or `--llm` to use the configured
`GREENROOM_LLM_BASE_URL`, the LLM evaluator is held to the same set and printed beside them.

With `--cv`, the offline evaluator is cross-validated on the answers the map is fitted on
(`fitting_answers`): five folds by question (questions sorted by id, every fifth in a fold),
the map (`fit_knots`) refitted on four folds and the fifth scored.

Usage: python bench/evaluator.py [--quick] [--split holdout|tune|all] [--fit] [--cv] [--terms] [--verbose]
       [--llm | --llm-base-url URL [--llm-model M] [--llm-api-key K]]
Details on stderr; the last stdout line is JSON.
"""

from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402
import hashlib  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

from agent.question_bank import QuestionBank  # noqa: E402
from scoring.base import RUBRICS, AnswerInput, AnswerScore, Evaluator  # noqa: E402
from scoring.calibration import BAND_FLOORS, band_of, fit_knots, rmse, to_scale  # noqa: E402
from scoring.offline import OfflineEvaluator, term_counts  # noqa: E402
from scoring.question_terms import TERMS_PATH, format_terms  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
CALIBRATION_PATH = DATA / "calibration.json"
PAIRS_PATH = DATA / "answer_pairs.json"
SPLITS = ("tune", "holdout")
TARGETS: dict[str, tuple[str, float]] = {
    "band_accuracy": (">=", 0.75),
    "pair_accuracy": (">=", 0.95),
    "strong_median": (">=", 80),
    "weak_median": ("<=", 40),
    "example_answer_min": (">=", 80),
}
TIMING_REPEATS = 5
LENGTH_CAP_WORDS = 400  # the length baseline's map is flat beyond this many words
CV_FOLDS = 5
CV_IN_SAMPLE = ("band_accuracy", "pair_accuracy", "strong_median", "weak_median", "mean_abs_error")
LLM_CONCURRENCY = 4
LLM_QUICK_EXAMPLES_PER_CATEGORY = 5


@dataclass(frozen=True, slots=True)
class GradedAnswer:
    """One answer of the calibration set, with the grade and band a person gave it."""

    id: str
    category: str
    question_id: str
    question: str
    time_limit_s: float
    split: str
    grade: int
    band: str
    kind: str
    answer: str

    def item(self) -> AnswerInput:
        return AnswerInput(
            question=self.question,
            answer=self.answer,
            category=self.category,
            question_id=self.question_id,
            time_limit_s=self.time_limit_s,
        )

    @property
    def words(self) -> int:
        return len(self.answer.split())


def load_calibration(path: Path = CALIBRATION_PATH) -> list[GradedAnswer]:
    """The graded answers, checked: known category and split, a band that matches the grade."""
    answers = []
    for row in json.loads(path.read_text(encoding="utf-8"))["answers"]:
        answer = GradedAnswer(**row)
        if answer.category not in RUBRICS:
            raise ValueError(f"answer {answer.id}: unknown category {answer.category!r}")
        if answer.split not in SPLITS:
            raise ValueError(f"answer {answer.id}: split must be one of {', '.join(SPLITS)}")
        if band_of(answer.grade) != answer.band:
            raise ValueError(f"answer {answer.id}: grade {answer.grade} is not in band {answer.band}")
        answers.append(answer)
    if len({a.id for a in answers}) != len(answers):
        raise ValueError("answer ids must be unique")
    return answers


def load_pairs(path: Path = PAIRS_PATH) -> list[dict]:
    """The team's older stronger/weaker pairs (bench/data/answer_pairs.json), checked."""
    pairs = json.loads(path.read_text(encoding="utf-8"))["pairs"]
    for pair in pairs:
        missing = {"id", "question", "category", "stronger", "weaker", "split"} - pair.keys()
        if missing:
            raise ValueError(f"pair {pair.get('id', '?')}: missing {', '.join(sorted(missing))}")
        if pair["category"] not in RUBRICS:
            raise ValueError(f"pair {pair['id']}: unknown category {pair['category']!r}")
    return pairs


def holdout_digest(answers: Sequence[GradedAnswer]) -> str:
    """SHA-256 of the held-out answers as the file holds them: recorded before any tuning, so a
    later run can show that not one held-out answer or grade was changed after."""
    rows = [{f: getattr(a, f) for f in GradedAnswer.__slots__} for a in answers if a.split == "holdout"]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def question_terms_document(bank: QuestionBank | None = None) -> dict:
    """Every bank question's vocabulary (text twice, hints, example answer), stemmed and counted:
    what scoring/question_terms.json holds."""
    bank = bank or QuestionBank.load()
    questions = {}
    for q in bank.questions:
        counts = term_counts(q.text)
        counts.update(counts)  # the question's own words count double
        counts.update(term_counts(" ".join(q.hints)))
        counts.update(term_counts(q.example_answer))
        questions[q.id] = {"category": q.category, "question": q.text, "terms": format_terms(counts)}
    return {
        "about": "Written by `python bench/evaluator.py --terms` from the question bank: each "
        "question's stemmed content words with their counts (text twice, hints, example answer).",
        "questions": questions,
    }


def bank_examples(bank: QuestionBank | None = None) -> list[AnswerInput]:
    """Every bank question's example answer, to be scored on its own question."""
    bank = bank or QuestionBank.load()
    return [
        AnswerInput(
            question=q.text,
            answer=q.example_answer,
            category=q.category,
            question_id=q.id,
            time_limit_s=float(q.time_limit_s),
            rubric=q.rubric,
        )
        for q in bank.questions
    ]


def graded_pairs(answers: Sequence[GradedAnswer]) -> list[tuple[GradedAnswer, GradedAnswer]]:
    """(better, worse): answers to the same question whose graded bands differ."""
    by_question: dict[str, list[GradedAnswer]] = defaultdict(list)
    for a in answers:
        by_question[a.question_id].append(a)
    band_rank = {band: i for i, (band, _) in enumerate(BAND_FLOORS)}  # 0 = strong
    pairs = []
    for group in by_question.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if band_rank[a.band] != band_rank[b.band]:
                    pairs.append((a, b) if band_rank[a.band] < band_rank[b.band] else (b, a))
    return pairs


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _share(hits: Sequence[bool]) -> float | None:
    return round(sum(hits) / len(hits), 3) if hits else None


def metrics(
    answers: Sequence[GradedAnswer],
    scores: dict[str, float],
    example_scores: Sequence[float],
    bands: dict[str, tuple[int, int]] | None = None,
) -> dict:
    """The bench's figures for one way of scoring the answers."""
    by_band: dict[str, list[float]] = defaultdict(list)
    by_category: dict[str, list[bool]] = defaultdict(list)
    hits = []
    for a in answers:
        score = scores[a.id]
        by_band[a.band].append(score)
        hit = band_of(score) == a.band
        hits.append(hit)
        by_category[a.category].append(hit)
    pairs = graded_pairs(answers)
    result = {
        "band_accuracy": _share(hits),
        "pair_accuracy": _share([scores[better.id] > scores[worse.id] for better, worse in pairs]),
        "strong_median": _median(by_band["strong"]),
        "adequate_median": _median(by_band["adequate"]),
        "weak_median": _median(by_band["weak"]),
        "off_topic_median": _median(by_band["off_topic"]),
        "example_answer_min": round(min(example_scores), 1) if example_scores else None,
        "example_answer_median": _median(example_scores),
        "examples_below_strong": sum(1 for s in example_scores if s < BAND_FLOORS[0][1]),
        "mean_abs_error": round(statistics.fmean(abs(scores[a.id] - a.grade) for a in answers), 1)
        if answers
        else None,
        "by_category": {c: _share(by_category[c]) for c in RUBRICS if by_category[c]},
    }
    if bands:
        result["band_coverage"] = _share(
            [bands[a.id][0] <= a.grade <= bands[a.id][1] for a in answers if a.id in bands]
        )
    return result


def length_baseline(tuning: Sequence[GradedAnswer]) -> Callable[[str], float]:
    """Score = a monotone map of word count alone, fitted on the tuning answers."""
    knots = fit_knots((min(a.words, LENGTH_CAP_WORDS) / LENGTH_CAP_WORDS, a.grade) for a in tuning)

    def score(text: str) -> float:
        return round(to_scale(min(len(text.split()), LENGTH_CAP_WORDS) / LENGTH_CAP_WORDS, knots))

    return score


async def _score_async(evaluator: Evaluator, items: Sequence[AnswerInput]) -> list[AnswerScore]:
    gate = asyncio.Semaphore(LLM_CONCURRENCY)

    async def one(item: AnswerInput) -> AnswerScore:
        async with gate:
            return await evaluator.evaluate(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


def _band_pair(score: AnswerScore) -> tuple[int, int] | None:
    low, high = getattr(score, "band_low", None), getattr(score, "band_high", None)
    return None if low is None or high is None else (low, high)


def _evaluator_metrics(
    answers: Sequence[GradedAnswer], scored: Sequence[AnswerScore], example_scored: Sequence[AnswerScore]
) -> dict:
    scores = {a.id: float(s.overall) for a, s in zip(answers, scored, strict=True)}
    bands = {a.id: b for a, s in zip(answers, scored, strict=True) if (b := _band_pair(s))}
    return metrics(answers, scores, [float(s.overall) for s in example_scored], bands or None)


async def llm_metrics(
    answers: Sequence[GradedAnswer],
    examples: Sequence[AnswerInput],
    *,
    base_url: str,
    api_key: str | None,
    model: str,
    timeout_s: float,
    quick: bool,
) -> dict:
    """The same figures for the LLM evaluator (offline fallback, whose uses are counted)."""
    from scoring.llm import LLMEvaluator

    if quick:  # a few examples per category: a real model is slow and may cost money
        taken: dict[str, int] = defaultdict(int)
        sample = []
        for item in examples:
            if taken[item.category] < LLM_QUICK_EXAMPLES_PER_CATEGORY:
                taken[item.category] += 1
                sample.append(item)
        examples = sample
    evaluator = LLMEvaluator(
        base_url=base_url, api_key=api_key, model=model, timeout_s=timeout_s, fallback=OfflineEvaluator()
    )
    try:
        started = time.perf_counter()
        scored = await _score_async(evaluator, [a.item() for a in answers])
        example_scored = await _score_async(evaluator, examples)
        elapsed = time.perf_counter() - started
    finally:
        await evaluator.aclose()
    result = _evaluator_metrics(answers, scored, example_scored)
    every = [*scored, *example_scored]
    result["evaluator"] = evaluator.name
    result["fallbacks"] = sum(1 for s in every if s.fallback_reason)
    result["examples_scored"] = len(example_scored)
    result["ms_per_answer"] = round(1000.0 * elapsed / max(len(every), 1), 1)
    return result


def _llm_endpoint(args: argparse.Namespace) -> dict:
    """The endpoint from the command line, else (with --llm) from the configured settings."""
    if args.llm_base_url:
        return {
            "base_url": args.llm_base_url,
            "api_key": args.llm_api_key,
            "model": args.llm_model or "default",
            "timeout_s": 60.0,
        }
    from greenroom.settings import Settings

    settings = Settings()
    if not settings.llm_base_url:
        raise SystemExit("--llm: no LLM endpoint is configured (GREENROOM_LLM_BASE_URL)")
    return {
        "base_url": settings.llm_base_url,
        "api_key": settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        "model": settings.llm_model,
        "timeout_s": settings.llm_timeout_s,
    }


def _team_pairs_accuracy(evaluator: OfflineEvaluator) -> float | None:
    """Ranking accuracy on the held-out half of the team's older stronger/weaker pairs."""
    hits = []
    for pair in load_pairs():
        if pair["split"] != "holdout":
            continue
        stronger, weaker = (
            evaluator.score(AnswerInput(pair["question"], pair[side], pair["category"])).overall
            for side in ("stronger", "weaker")
        )
        hits.append(stronger > weaker)
    return _share(hits)


def fitting_answers(answers: Sequence[GradedAnswer]) -> list[GradedAnswer]:
    """The answers the map is fitted (and cross-validated) on: the tuning part. A held-out part,
    once scored and seen, is folded into it (bench/data/calibration.json's history)."""
    return [a for a in answers if a.split == "tune"]


def fit(answers: Sequence[GradedAnswer]) -> dict:
    """The calibration knots and their error, fitted on the fitting answers' raw overall."""
    evaluator = OfflineEvaluator()
    tuning = fitting_answers(answers)
    raw = [(evaluator.score(a.item()).factors["raw_overall"], a.grade) for a in tuning]
    knots = fit_knots(raw)
    error = rmse((to_scale(x, knots), g) for x, g in raw)
    return {"answers": len(tuning), "knots": [list(k) for k in knots], "rmse": round(error, 2)}


def question_folds(answers: Sequence[GradedAnswer], k: int = CV_FOLDS) -> dict[str, int]:
    """Each question's fold: questions sorted by id, every k-th in the same fold, so no question
    is both fitted on and scored."""
    return {q: i % k for i, q in enumerate(sorted({a.question_id for a in answers}))}


def cross_validate(
    answers: Sequence[GradedAnswer],
    raw: dict[str, float],
    fit_map: Callable[[list[tuple[float, float]]], Sequence[tuple[float, float]]] = fit_knots,
    k: int = CV_FOLDS,
) -> dict:
    """The bench's figures with every answer scored by a map fitted on the other folds'
    questions only (the raw overall is fixed; only the map is refitted)."""
    folds = question_folds(answers, k)
    scores: dict[str, float] = {}
    per_fold = []
    for fold in range(k):
        knots = fit_map([(raw[a.id], a.grade) for a in answers if folds[a.question_id] != fold])
        held = [a for a in answers if folds[a.question_id] == fold]
        for a in held:
            scores[a.id] = round(to_scale(raw[a.id], knots))
        per_fold.append(_share([band_of(scores[a.id]) == a.band for a in held]))
    result = metrics(answers, scores, [])
    for unused in ("example_answer_min", "example_answer_median", "examples_below_strong"):
        result.pop(unused)
    result["mean_abs_error"] = round(statistics.fmean(abs(scores[a.id] - a.grade) for a in answers), 2)
    result["folds"] = per_fold
    return result


def cv_report(answers: Sequence[GradedAnswer]) -> dict:
    """Cross-validation of the calibration map on the tuning part, and the map in sample."""
    evaluator = OfflineEvaluator()
    tuning = fitting_answers(answers)
    raw = {a.id: evaluator.score(a.item()).factors["raw_overall"] for a in tuning}
    knots = fit_knots([(raw[a.id], a.grade) for a in tuning])
    in_sample = metrics(tuning, {a.id: round(to_scale(raw[a.id], knots)) for a in tuning}, [])
    return {
        "answers": len(tuning),
        "pairs": len(graded_pairs(tuning)),
        "cv": cross_validate(tuning, raw),
        "in_sample": {m: in_sample[m] for m in CV_IN_SAMPLE},
    }


def _print_table(result: dict, columns: dict[str, dict]) -> None:
    names = list(columns)
    print(f"[evaluator] {result['split']}: {result['answers']} answers", file=sys.stderr)
    print(f"[evaluator] {'metric':<22}" + "".join(f"{n:>16}" for n in names) + "   target", file=sys.stderr)
    for metric in (*TARGETS, "adequate_median", "off_topic_median", "band_coverage", "mean_abs_error"):
        target = " ".join(map(str, TARGETS[metric])) if metric in TARGETS else ""
        cells = "".join(f"{str(columns[n].get(metric, '-')):>16}" for n in names)
        print(f"[evaluator] {metric:<22}{cells}   {target}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="time each answer once")
    parser.add_argument("--split", choices=("holdout", "tune", "all"), default="holdout")
    parser.add_argument("--calibration", type=Path, default=CALIBRATION_PATH, help="graded answers JSON")
    parser.add_argument("--fit", action="store_true", help="fit the calibration on the tuning answers")
    parser.add_argument("--cv", action="store_true", help="cross-validate the calibration map by question")
    parser.add_argument("--terms", action="store_true", help="rewrite scoring/question_terms.json from the bank")
    parser.add_argument("--verbose", action="store_true", help="print every answer's score to stderr")
    parser.add_argument("--llm", action="store_true", help="also score with the configured LLM")
    parser.add_argument("--llm-base-url", help="also score with the LLM at this OpenAI-compatible URL")
    parser.add_argument("--llm-model", default=None, help="model name for --llm-base-url")
    parser.add_argument("--llm-api-key", default=None, help="API key for --llm-base-url")
    args = parser.parse_args()

    if args.terms:
        document = question_terms_document()
        TERMS_PATH.write_text(json.dumps(document, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
        print(json.dumps({"questions": len(document["questions"]), "path": str(TERMS_PATH)}))
        return
    every = load_calibration(args.calibration)
    if args.cv:
        report = cv_report(every)
        for name in ("cv", "in_sample"):
            print(f"[evaluator] {name:<12} {json.dumps(report[name])}", file=sys.stderr)
        print(json.dumps(report))
        return
    if args.fit:
        fitted = fit(every)
        print("CALIBRATION_KNOTS: tuple[tuple[float, float], ...] = (", file=sys.stderr)
        for x, y in fitted["knots"]:
            print(f"    ({x}, {y}),", file=sys.stderr)
        print(f")\nCALIBRATION_RMSE: float = {fitted['rmse']}", file=sys.stderr)
        print(json.dumps(fitted))
        return

    answers = [a for a in every if args.split == "all" or a.split == args.split]
    examples = bank_examples()
    evaluator = OfflineEvaluator()
    repeats = 1 if args.quick else TIMING_REPEATS
    started = time.perf_counter()
    for _ in range(repeats):
        scored = [evaluator.score(a.item()) for a in answers]
    elapsed = time.perf_counter() - started
    example_scored = [evaluator.score(item) for item in examples]
    offline = _evaluator_metrics(answers, scored, example_scored)
    offline["ms_per_answer"] = round(1000.0 * elapsed / max(repeats * len(answers), 1), 3)

    length = length_baseline(fitting_answers(every))
    length_only = metrics(
        answers, {a.id: length(a.answer) for a in answers}, [length(item.answer) for item in examples]
    )
    if args.verbose:
        for a, s in zip(answers, scored, strict=True):
            mark = "ok  " if band_of(s.overall) == a.band else "MISS"
            print(
                f"[evaluator] {mark} {a.id:<18} {a.kind:<28} graded {a.grade:>3} {a.band:<9} "
                f"scored {s.overall:>3} [{s.band_low}-{s.band_high}]  length {length(a.answer):>3}",
                file=sys.stderr,
            )
        for item, s in zip(examples, example_scored, strict=True):
            if s.overall < BAND_FLOORS[0][1]:
                print(f"[evaluator] example below strong: {item.question_id} {s.overall}", file=sys.stderr)

    result = {
        "split": args.split,
        "answers": len(answers),
        "pairs": len(graded_pairs(answers)),
        "examples": len(examples),
        **offline,
        "length_only": length_only,
        "team_pairs_holdout_accuracy": _team_pairs_accuracy(evaluator),
    }
    columns = {"offline": offline, "length alone": length_only}
    if args.llm or args.llm_base_url:
        result["llm"] = asyncio.run(llm_metrics(answers, examples, quick=args.quick, **_llm_endpoint(args)))
        columns["llm"] = result["llm"]
    _print_table(result, columns)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
