"""The calibrated scale: the calibration set, the fitted monotone map, and the bank's examples."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest

from agent.question_bank import QuestionBank
from bench.evaluator import (
    CALIBRATION_PATH,
    fit,
    fitting_answers,
    holdout_digest,
    load_calibration,
    load_pairs,
    question_terms_document,
)
from scoring.base import RUBRICS, AnswerInput
from scoring.calibration import (
    BAND_FLOORS,
    CALIBRATION_KNOTS,
    CALIBRATION_RMSE,
    band_of,
    fit_knots,
    to_scale,
)
from scoring.offline import OfflineEvaluator
from scoring.question_terms import TERMS_PATH

STRONG = BAND_FLOORS[0][1]


def test_bands_cover_the_scale() -> None:
    assert [band_of(s) for s in (100, 80, 79, 55, 54, 20, 19, 0)] == [
        "strong", "strong", "adequate", "adequate", "weak", "weak", "off_topic", "off_topic",
    ]  # fmt: skip


def test_the_calibration_set_is_what_the_issue_asks_for() -> None:
    document = json.loads(CALIBRATION_PATH.read_text(encoding="utf-8"))
    answers = load_calibration()
    per_category = Counter(a.category for a in answers)
    assert set(per_category) == set(RUBRICS) and min(per_category.values()) >= 20
    # At least 90 held out (an eighth, now that seven seen rounds are tuning), split by question so no
    # held-out question was ever tuned on.
    holdout = [a for a in answers if a.split == "holdout"]
    assert len(holdout) >= 90 and len(holdout) / len(answers) >= 1 / 8
    assert not {a.question_id for a in holdout} & {a.question_id for a in answers if a.split == "tune"}
    assert set(document["split"]["holdout"]) == {a.question_id for a in holdout}
    assert "before" in document["rule"] and "holdout" in document["rule"]
    # Every band in both parts, and the hard kinds of answer the issue names.
    for split in ("tune", "holdout"):
        assert {a.band for a in answers if a.split == split} == {b for b, _ in BAND_FLOORS}
    kinds = Counter(a.kind for a in answers)
    for kind in ("long_but_vague", "short_but_complete", "right_content_bad_structure"):
        assert kinds[kind] >= 3, kind
    assert sum(a.kind == "both_sides_no_decision" and a.category == "mmi" for a in answers) >= 3
    bank = QuestionBank.load()
    for a in answers:
        assert bank.get(a.question_id).text == a.question
    # The held-out questions are used nowhere else: not in tuning, not in the team's older pairs.
    pair_questions = {p["question"] for p in load_pairs()}
    assert not {a.question for a in holdout} & pair_questions


def test_the_set_records_which_part_is_held_out_and_what_was_seen() -> None:
    document = json.loads(CALIBRATION_PATH.read_text(encoding="utf-8"))
    history = " ".join(document["history"])
    # Each earlier held-out third was scored once, then folded into tuning: not held out now.
    assert history.count("folded into 'tune'") == 7
    for question_id in (
        "beh-decision-without-information", "sd-news-comments", "mmi-sj-logbook-sign-off",  # round 1
        "sd-concert-ticketing", "tech-swe-database-index", "mmi-pol-opt-out-donation",  # round 2
        "beh-disagreed-with-peer", "sd-feature-flags", "mmi-sj-lost-patient-list",  # round 3
        "beh-mentored-someone", "sd-polite-web-crawler", "tech-gen-explain-to-a-child",  # round 4
        "beh-pm-said-no", "sd-social-home-feed", "mmi-eth-treating-family",  # round 5
        "beh-data-pressure-to-flatter", "sd-exchange-matching-engine", "mmi-eth-last-icu-bed",  # round 6
        "beh-bet-others-doubted", "sd-multi-region-kv-store", "mmi-pol-free-prescriptions",  # round 7
    ):  # fmt: skip
        assert question_id in history and question_id in document["split"]["tune"]
    assert len(document["split"]["holdout"]) == 23


# SHA-256 of each round's held-out answers, recorded in docs/benchmarks.md before tuning began.
ROUND_2_HOLDOUT_SHA256 = "5bd414a20268e09cfcf60c8806c088fefc5147be0ce6aebe27786f5258b53f2c"
ROUND_3_HOLDOUT_SHA256 = "f8d5b4cbf940a8a0794a10329331c53fb57eae0cd923a6083dd6b79276688aa2"
ROUND_4_HOLDOUT_SHA256 = "9c1b9b486746e235530edf4970e82a9b5c3143a3efb49785e60a58e4faf8414c"
ROUND_5_HOLDOUT_SHA256 = "286bc007e9d6281b835870e5171921112d205d4ff6b9b16c4d2f2714df3b08a6"
ROUND_6_HOLDOUT_SHA256 = "4abd154bd8e8025ddae5bce9ca18932b70749d0c5836b78eb371605320a78e6f"
ROUND_7_HOLDOUT_SHA256 = "1df814a7f70577b4188d324b1439535912d32e52859289ca1e8ac837828f366a"
ROUND_8_HOLDOUT_SHA256 = "057535437a4d304125842f7989fd859365ba4a033f4baca582a0ab28124b61b1"


def test_no_held_out_answer_or_grade_changed_after_it_was_frozen() -> None:
    answers = load_calibration()
    assert holdout_digest(answers) == ROUND_8_HOLDOUT_SHA256
    # Earlier rounds' held-out answers (now tuning) are as they were frozen too.
    document = json.loads(CALIBRATION_PATH.read_text(encoding="utf-8"))
    folded_in = [h.split("after that one look: ")[1].rstrip(".").split(", ") for h in document["history"]
                 if "after that one look: " in h]  # fmt: skip
    for folded, size, digest in (
        (folded_in[1], 60, ROUND_2_HOLDOUT_SHA256),
        (folded_in[2], 90, ROUND_3_HOLDOUT_SHA256),
        (folded_in[3], 90, ROUND_4_HOLDOUT_SHA256),
        (folded_in[4], 90, ROUND_5_HOLDOUT_SHA256),
        (folded_in[5], 90, ROUND_6_HOLDOUT_SHA256),
        (folded_in[6], 90, ROUND_7_HOLDOUT_SHA256),
    ):
        as_frozen = [replace(a, split="holdout") for a in answers if a.question_id in folded]
        assert len(as_frozen) == size and holdout_digest(as_frozen) == digest


def test_the_question_vocabularies_are_the_banks() -> None:
    """scoring/question_terms.json is what `bench/evaluator.py --terms` writes from the bank."""
    stored = json.loads(TERMS_PATH.read_text(encoding="utf-8"))
    assert stored == question_terms_document(), "the bank changed: run `python bench/evaluator.py --terms`"


def test_an_answer_in_a_neighbouring_questions_words_does_not_reach_adequate() -> None:
    """A full, concrete answer to another question of the same category (the bank's example for
    it) scores far below the same category's own example on its own question."""
    bank = QuestionBank.load()
    evaluator = OfflineEvaluator()
    for asked, answered in (
        ("sd-game-leaderboard", "sd-link-shortener"),
        ("tech-data-median-vs-mean", "tech-swe-process-vs-thread"),
        ("case-city-coffee-shops", "case-hotel-occupancy-decline"),
    ):
        q, other = bank.get(asked), bank.get(answered)
        item = AnswerInput(q.text, other.example_answer, q.category, q.id, float(q.time_limit_s))
        assert evaluator.score(item).overall < BAND_FLOORS[1][1], (asked, answered)


def test_fillers_of_speech_barely_move_a_score() -> None:
    """Transcripts carry fillers and restarts; the content scores must not hang on them. Every
    tuning answer, with a filler every dozen words, scores within a few points of itself."""
    fillers = ("um,", "uh,", "you know,", "like,", "I mean,", "um")
    evaluator = OfflineEvaluator()
    drifts = []
    for a in load_calibration():
        if a.split != "tune":
            continue
        words = a.answer.split()
        spoken = " ".join(
            f"{fillers[i // 12 % len(fillers)]} {w}" if i and i % 12 == 0 else w for i, w in enumerate(words)
        )
        item = a.item()
        said = evaluator.score(
            AnswerInput(item.question, spoken, item.category, item.question_id, item.time_limit_s)
        )
        drifts.append(abs(said.overall - evaluator.score(item).overall))
    # At most 11: with the inserted fillers two MMI answers (89 and 144 words) cross the 8 per
    # 100 words at which communication pays for them, on the map's steepest step (66 to 78
    # points in 0.017 of raw, refitted on 360 tuning answers in round 5; 10 on round 4's map).
    assert max(drifts) <= 11 and sorted(drifts)[len(drifts) // 2] <= 1


def test_fit_knots_is_isotonic_and_strictly_increasing() -> None:
    points = [(0.1, 10), (0.2, 30), (0.3, 20), (0.5, 60), (0.6, 85), (0.7, 80)]
    knots = fit_knots(points)
    assert knots[0] == (0.0, 0.0) and knots[-1] == (1.0, 100.0)
    # The 30/20 and 85/80 violations are pooled into their means.
    assert (0.25, 25.0) in knots and (0.65, 82.5) in knots
    xs, ys = zip(*knots, strict=True)
    assert all(a < b for a, b in zip(xs, xs[1:])) and all(a < b for a, b in zip(ys, ys[1:]))


def test_the_scale_map_is_monotone_and_pinned() -> None:
    grid = [i / 200 for i in range(201)]
    values = [to_scale(x) for x in grid]
    assert values[0] == 0.0 and values[-1] == 100.0
    assert all(a < b for a, b in zip(values, values[1:]))


def test_the_knots_in_the_code_are_the_fit_on_the_tuning_part() -> None:
    fitted = fit(load_calibration())
    # The tuning part only (rounds 1-7); the held-out part is never fitted on.
    assert fitted["answers"] == len(fitting_answers(load_calibration())) == 630
    assert [tuple(k) for k in fitted["knots"]] == list(CALIBRATION_KNOTS), (
        "the rubric functions changed: run `python bench/evaluator.py --fit` and paste the knots"
    )
    assert fitted["rmse"] == pytest.approx(CALIBRATION_RMSE, abs=0.01)


def test_every_bank_example_answer_scores_in_the_strong_band() -> None:
    evaluator = OfflineEvaluator()
    below = {}
    bank = QuestionBank.load()
    for q in bank.questions:
        item = AnswerInput(q.text, q.example_answer, q.category, q.id, float(q.time_limit_s), rubric=q.rubric)
        score = evaluator.score(item)
        if score.overall < STRONG:
            below[q.id] = score.overall
    assert len(bank) >= 300
    assert below == {}, f"{len(below)} bank example answers score under {STRONG}: {below}"


def test_dimension_scores_use_the_same_scale_as_the_overall() -> None:
    evaluator = OfflineEvaluator()
    for a in load_calibration():
        if a.split != "tune":
            continue
        score = evaluator.score(a.item())
        raw_mean = score.factors["raw_overall"]
        assert score.overall == round(to_scale(raw_mean))
        # Each dimension is the same map of its own raw value, so they stay near the overall.
        mean = sum(d.score for d in score.dimensions) / len(score.dimensions)
        assert abs(mean - score.overall) <= 12, a.id
