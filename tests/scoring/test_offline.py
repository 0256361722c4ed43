"""The offline evaluator: rubric shape per category, what moves each score, determinism, speed."""

from __future__ import annotations


import pytest

from scoring.base import RUBRICS, AnswerInput, AnswerScore
from scoring.offline import OfflineEvaluator, answer_markers, extract_features

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
    assert {"word_count", "numbers", "relevance", "specificity", "raw_overall"} <= score.factors.keys()
    assert score.band_low <= score.overall <= score.band_high


def test_a_strong_star_answer_beats_a_vague_one_on_action_and_result() -> None:
    strong, vague = _score(STRONG_STAR), _score(VAGUE)

    assert _dimension(strong, "action") >= _dimension(vague, "action") + 30
    assert _dimension(strong, "result") >= _dimension(vague, "result") + 30
    assert strong.overall >= 80 > 55 > vague.overall  # strong band, and weak at best
    vague_result = next(d for d in vague.dimensions if d.dimension == "result")
    assert "result" in vague_result.reason.lower()
    assert any(i.startswith("Result:") or i.startswith("Action:") for i in vague.improvements)
    assert strong.factors["result_numbers"] >= 2 and vague.factors["result_numbers"] == 0
    assert strong.factors["i_actions"] >= 3 and vague.factors["i_actions"] == 0


def test_a_result_without_a_measure_is_told_to_quantify() -> None:
    answer = STRONG_STAR.split("As a result")[0] + "In the end the board was happy with the report."
    result = next(d for d in _score(answer).dimensions if d.dimension == "result")
    assert result.reason == (
        "No measurable result: 'In the end the board was happy with the report' says what "
        "happened; say what changed and by how much."
    )


def test_reasons_cite_the_words_that_earned_or_lost_the_points() -> None:
    we_story = (
        "In my placement we noticed that drawing approvals took a week. We talked about it, and we "
        "decided to set up a shared tracker. We rolled it out over a month and we got the wait "
        "down to two days. I helped with the tracker. We were all pleased."
    )
    action = next(d for d in _score(we_story).dimensions if d.dimension == "action")
    assert "you said 'we' 6 times and 'I' once" in action.reason
    assert "'we noticed'" in action.reason

    strong = {d.dimension: d.reason for d in _score(STRONG_STAR).dimensions}
    assert "'I rebuilt', 'I wrote' and 'I asked'" in strong["action"]
    assert "'As a result we delivered the report a day early" in strong["result"]
    assert "'I learned'" in strong["result"]
    assert "'Last year'" in strong["situation"]

    vague = {d.dimension: d.reason for d in _score(VAGUE).dimensions}
    assert "'I always try to'" in vague["action"]  # a habit, not a step taken
    assert "'Things generally work out fine because" in vague["result"]  # it ends on that

    filled = _score("Um, so, like, a process is, um, you know, a program. " * 3, "technical")
    communication = next(d for d in filled.dimensions if d.dimension == "communication")
    assert "'um'" in communication.reason.lower() and "'you know'" in communication.reason


def test_the_band_around_the_overall_widens_when_the_evaluator_has_less_to_go_on() -> None:
    full, brief = _score(STRONG_STAR), _score("I met the deadline by working late and asking for help.")
    for score in (full, brief):
        assert score.band_low <= score.overall <= score.band_high
        assert score.confidence in ("high", "medium", "low")
    assert brief.band_high - brief.band_low > full.band_high - full.band_low
    empty = _score("")
    assert (empty.band_low, empty.band_high, empty.confidence) == (0, 0, "high")


def test_an_irrelevant_answer_scores_low_on_relevance_driven_dimensions() -> None:
    question = "How does a hash table work, and what happens when two keys collide?"
    relevant = _score(ON_TOPIC_FOR_HASHING, "technical", question)
    irrelevant = _score(OFF_TOPIC_FOR_HASHING, "technical", question)

    assert irrelevant.factors["relevance"] < 0.25 < 0.6 < relevant.factors["relevance"]
    for dimension in ("accuracy", "depth"):
        # Under 30: the map refitted on 270 tuning answers (round 4) puts this raw value at 27;
        # the off-topic answers it learned from score higher raw than round 3's did.
        assert _dimension(irrelevant, dimension) < 30
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


LONG_BUT_VAGUE = (
    "I think deadlines are a really important part of any job, and at the end of the day it's "
    "about being organised and keeping everyone in the loop. I always try to plan ahead and "
    "communicate with the team, because communication is key when things get busy. There was a "
    "time at my last job when a project deadline was getting close and there was a lot going on, "
    "and I just made sure I stayed calm and focused on what mattered most. In general I find that "
    "if you prioritise properly and stay positive, things tend to work out, and that's what "
    "happened here as well. It was a good learning experience and I think it helped me grow as a "
    "professional, and I'm definitely better at handling pressure now than I used to be."
)
SHORT_AND_COMPLETE = (
    "Last March our payroll migration broke two days before pay day. My job was to get 600 "
    "payslips out on time. I rebuilt the overtime file from the clock-in data, and I asked the "
    "finance lead to check the ten largest payslips. We paid everyone on the Friday with no "
    "corrections, and since then I test every migration against last month's payroll."
)


def test_long_but_vague_loses_to_short_but_complete() -> None:
    vague = _score(LONG_BUT_VAGUE)
    complete = _score(SHORT_AND_COMPLETE)
    assert vague.factors["word_count"] > 2 * complete.factors["word_count"]
    assert vague.factors["generic_density"] > 2 and complete.factors["generic_density"] == 0
    assert vague.factors["specific_density"] < complete.factors["specific_density"] / 3
    assert vague.overall < 55 <= complete.overall and complete.overall - vague.overall >= 25
    # The reason names the generic phrases in place of what happened.
    action = next(d.reason for d in vague.dimensions if d.dimension == "action")
    assert "'at the end of the day'" in action and "one real time" in action


def test_a_dilemma_weighed_without_a_decision_is_told_to_decide() -> None:
    question = "A grateful patient offers a junior doctor an expensive watch. Should they accept it?"
    undecided = _score(
        "On the one hand, the patient is grateful and refusing could hurt their feelings. On the "
        "other hand, an expensive gift could look like payment and create a sense of obligation. "
        "So there are good arguments on both sides, and it's a difficult one.",
        "mmi",
        question,
    )
    decided = _score(
        "On the one hand, the patient is grateful and refusing could hurt their feelings. On the "
        "other hand, an expensive gift could look like payment and create a sense of obligation. "
        "So I'd decline it kindly, thank them, and suggest a card for the ward instead.",
        "mmi",
        question,
    )
    reason = next(d.reason for d in undecided.dimensions if d.dimension == "critical_thinking")
    assert "never say what you would do" in reason and "'good arguments on both sides'" in reason
    assert undecided.factors["decision_cues"] == 0 and decided.factors["decision_cues"] >= 1
    assert _dimension(decided, "critical_thinking") > _dimension(undecided, "critical_thinking")


def test_fillers_of_speech_do_not_change_the_content_scores() -> None:
    spoken = (
        "Um, so, last March our, uh, payroll migration broke two days before pay day. My job was, "
        "you know, to get 600 payslips out on time. I, I rebuilt the overtime file from the "
        "clock-in data, and I asked the, um, finance lead to check the ten largest payslips. We "
        "paid everyone on the Friday with, like, no corrections, and since then I test every "
        "migration against last month's payroll."
    )
    written, said = _score(SHORT_AND_COMPLETE), _score(spoken)
    assert said.factors["fillers"] == 6  # um, uh, you know, um, like, "I, I"
    for dimension in ("situation", "task", "action", "result"):
        assert abs(_dimension(said, dimension) - _dimension(written, dimension)) <= 3, dimension
    assert abs(said.overall - written.overall) <= 3


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


def test_answer_markers_find_the_example_outcome_and_reasoning_the_rubric_looks_for() -> None:
    strong = answer_markers(AnswerInput(QUESTION, STRONG_STAR, "behavioral"))
    assert strong.example and strong.outcome
    assert strong.words == extract_features(AnswerInput(QUESTION, STRONG_STAR, "behavioral")).word_count
    vague = answer_markers(AnswerInput(QUESTION, VAGUE, "behavioral"))
    assert not vague.example and not vague.outcome and vague.reasoning  # "because I'm"
    # One result cue alone is often the setting of the story, not its outcome.
    setting = "Our checkout kept timing out during sales, so I profiled the service."
    assert not answer_markers(AnswerInput(QUESTION, setting, "behavioral")).outcome
    steps = "First, check the logs. Second, compare the two releases. Finally, roll back the one that broke."
    assert answer_markers(AnswerInput(QUESTION, steps, "technical")).reasoning
