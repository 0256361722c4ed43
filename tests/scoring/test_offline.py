"""The offline evaluator: rubric shape per category, what moves each score, determinism, speed."""

from __future__ import annotations

import time

import pytest

from scoring.base import RUBRICS, AnswerInput, AnswerScore
from scoring.offline import OfflineEvaluator, extract_features

QUESTION = "Tell me about a time you had to meet a tight deadline."
STRONG_STAR = (
    "Last year I was a data analyst at a regional grocery chain, and our quarterly board report "
    "was due in five days when the finance system migration broke our sales feed. My task was to "
    "deliver an accurate report on time. I rebuilt the extract from the raw point-of-sale files, "
    "I wrote checks that compared each store's totals with the bank deposits, and I asked the "
    "finance lead, Maria, to sign off each region as it was done. As a result we delivered the "
    "report a day early, the totals matched the audited figures within 0.2%, and the checks cut "
    "our monthly close from 6 days to 4. I learned to build verification in from the start."
)
VAGUE = (
    "I think deadlines are really important and I always try to manage my time well. Usually I "
    "make a list of things and prioritise them, and I stay calm under pressure. Things generally "
    "work out fine because I'm a hard-working person and I communicate with the team a lot."
)
OFF_TOPIC_FOR_HASHING = (
    "My favourite hobby is baking sourdough on Sunday mornings. I feed the starter on Friday, "
    "shape the loaves on Saturday evening and bake them in a cast iron pot. My family loves the "
    "crust, and I often give a loaf to our neighbours, who grow tomatoes in their garden."
)
ON_TOPIC_FOR_HASHING = (
    "A hash table keeps entries in an array of buckets: the hash function turns a key into an "
    "integer and the table takes it modulo the array size to pick a bucket, so lookups are O(1) "
    "on average. Collisions are handled by chaining, a small list per bucket, or by open "
    "addressing, which probes for the next free slot; when the load factor passes about 0.75 the "
    "table doubles and rehashes, which is amortised O(1) per insert."
)
SAMPLE_ANSWERS = {
    "behavioral": STRONG_STAR,
    "technical": ON_TOPIC_FOR_HASHING,
    "system_design": (
        "Requirements first: 10 million users, 5,000 requests per second at peak, p99 under 100 ms. "
        "A load balancer sends requests to stateless API services that read from a Redis cache in "
        "front of a PostgreSQL database sharded by user id; writes go through a Kafka queue to "
        "workers. The trade-off is eventual consistency for cheaper, faster writes."
    ),
    "case": (
        "Profit is revenue minus costs, so I'd split the problem into revenue and cost branches. "
        "If 50 stores each sell 1,000 cups a day at 3 euros, that's 150,000 euros a day. Because "
        "bean prices rose 30%, I'd check cost per cup first. My recommendation is a 3% price rise, "
        "piloted in 5 stores and measured monthly."
    ),
    "mmi": (
        "The main tension is between the patient's autonomy and their safety. I would first speak to "
        "the patient privately to understand their reasons, explain the risks honestly, and respect "
        "confidentiality. If I had concerns about capacity I would involve my senior and document "
        "the conversation, because patient safety comes first."
    ),
}


def _score(answer: str, category: str = "behavioral", question: str = QUESTION, **extra) -> AnswerScore:
    return OfflineEvaluator().score(
        AnswerInput(question=question, answer=answer, category=category, **extra)
    )


def _dimension(score: AnswerScore, name: str) -> int:
    return next(d.score for d in score.dimensions if d.dimension == name)


@pytest.mark.parametrize("category", list(RUBRICS))
async def test_each_category_scores_exactly_its_rubric(category: str) -> None:
    item = AnswerInput(
        question="Walk me through your approach.", answer=SAMPLE_ANSWERS[category], category=category
    )
    score = await OfflineEvaluator().evaluate(item)

    assert score.category == category
    assert score.evaluator == "offline"
    assert score.fallback_reason is None
    assert tuple(d.dimension for d in score.dimensions) == RUBRICS[category]
    for d in score.dimensions:
        assert 0 <= d.score <= 100
        assert d.reason.strip() and d.reason.endswith(".")
    assert 0 <= score.overall <= 100
    assert len(score.strengths) <= 2 and len(score.improvements) <= 2
    assert {"word_count", "numbers", "relevance", "specificity", "overall_raw"} <= score.factors.keys()


def test_a_strong_star_answer_beats_a_vague_one_on_action_and_result() -> None:
    strong, vague = _score(STRONG_STAR), _score(VAGUE)

    assert _dimension(strong, "action") >= _dimension(vague, "action") + 30
    assert _dimension(strong, "result") >= _dimension(vague, "result") + 30
    assert strong.overall >= 60 > 35 >= vague.overall
    vague_result = next(d for d in vague.dimensions if d.dimension == "result")
    assert "result" in vague_result.reason.lower()
    assert any(i.startswith("Result:") or i.startswith("Action:") for i in vague.improvements)
    assert strong.factors["result_numbers"] >= 2 and vague.factors["result_numbers"] == 0
    assert strong.factors["i_actions"] >= 3 and vague.factors["i_actions"] == 0


def test_a_result_without_a_measure_is_told_to_quantify() -> None:
    answer = STRONG_STAR.split("As a result")[0] + "In the end the board was happy with the report."
    result = next(d for d in _score(answer).dimensions if d.dimension == "result")
    assert result.reason == "No measurable result: say what changed and by how much."


def test_an_irrelevant_answer_scores_low_on_relevance_driven_dimensions() -> None:
    question = "How does a hash table work, and what happens when two keys collide?"
    relevant = _score(ON_TOPIC_FOR_HASHING, "technical", question)
    irrelevant = _score(OFF_TOPIC_FOR_HASHING, "technical", question)

    assert irrelevant.factors["relevance"] < 0.25 < 0.6 < relevant.factors["relevance"]
    for dimension in ("accuracy", "depth"):
        assert _dimension(irrelevant, dimension) < 25
        assert _dimension(relevant, dimension) > _dimension(irrelevant, dimension) + 20
        reason = next(d.reason for d in irrelevant.dimensions if d.dimension == dimension)
        assert "off the question" in reason
    assert irrelevant.overall < relevant.overall - 30


def test_mmi_rewards_ethical_reasoning_and_penalises_shortcuts() -> None:
    question = "A friend asks you to sign them in to a lecture they are skipping. What do you do?"
    shortcut = _score(
        "Honestly I'd just sign them in, it's not a big deal and they'd do the same for me.",
        "mmi",
        question,
    )
    principled = _score(
        "Signing them in would be dishonest and unfair to others, so I wouldn't. I would first talk to "
        "my friend privately to understand why they're skipping, because they may need support. If it "
        "is about their wellbeing I'd suggest they speak to their tutor, and I'd offer my notes. On the "
        "other hand, if they were just skipping for convenience I'd still say no, since integrity and "
        "trust matter in a profession that relies on accurate records.",
        "mmi",
        question,
    )
    assert shortcut.factors["shortcuts"] >= 1
    assert (
        _dimension(shortcut, "ethical_reasoning") < 20 < 50 < _dimension(principled, "ethical_reasoning")
    )
    assert _dimension(shortcut, "professionalism") < _dimension(principled, "professionalism")


def test_length_is_judged_against_the_time_limit() -> None:
    short = extract_features(AnswerInput(QUESTION, "I met the deadline by working late.", "behavioral"))
    fitting = extract_features(AnswerInput(QUESTION, STRONG_STAR, "behavioral", time_limit_s=60))
    rambling = extract_features(
        AnswerInput(QUESTION, " ".join([STRONG_STAR] * 4), "behavioral", time_limit_s=60)
    )
    assert short.length_fit < 0.5
    assert fitting.length_fit == 1.0
    assert rambling.length_fit < 0.6
    spoken = extract_features(
        AnswerInput(QUESTION, STRONG_STAR, "behavioral", time_limit_s=120, answer_duration_s=300)
    )
    assert spoken.length_ratio == 2.5 and spoken.length_fit < 0.6


def test_fillers_and_hedges_cost_communication() -> None:
    question = "What is the difference between a process and a thread?"
    clean = (
        "A process has its own address space; threads share the memory of their process. First, "
        "threads are cheaper to create, but a bug in one can corrupt data the others use. So for "
        "CPU-bound Python work I'd use processes, because of the GIL, and threads for I/O-bound work."
    )
    filled = "Um, so, like, " + clean.replace("First, ", "you know, I think, um, ").replace(
        "So for", "Like, basically, for"
    )
    assert _dimension(_score(filled, "technical", question), "communication") < _dimension(
        _score(clean, "technical", question), "communication"
    )


def test_scores_are_deterministic() -> None:
    first = [_score(a, c) for c, a in SAMPLE_ANSWERS.items()]
    second = [_score(a, c) for c, a in SAMPLE_ANSWERS.items()]
    assert first == second


def test_empty_answer_scores_zero() -> None:
    score = _score("   ")
    assert score.overall == 0 and all(d.score == 0 for d in score.dimensions)


def test_unknown_category_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown category"):
        _score(STRONG_STAR, "astrology")


def test_the_bank_example_is_passed_through_as_the_stronger_answer() -> None:
    assert _score(VAGUE, example_answer="An example.").stronger_answer == "An example."


def test_fast_enough_for_live_use() -> None:
    evaluator = OfflineEvaluator()
    items = [AnswerInput(QUESTION, a, c) for c, a in SAMPLE_ANSWERS.items()]
    started = time.perf_counter()
    rounds = 40
    for _ in range(rounds):
        for item in items:
            evaluator.score(item)
    ms_per_answer = 1000 * (time.perf_counter() - started) / (rounds * len(items))
    assert ms_per_answer < 5
