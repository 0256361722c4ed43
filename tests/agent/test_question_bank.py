"""The seeded question bank: coverage of the bundled file, validation, deterministic selection."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from agent.catalog import DIFFICULTIES, ROLE_TRACKS
from agent.interviewer import assess_answer
from agent.question_bank import (
    CATEGORIES,
    INDUSTRIES,
    Question,
    QuestionBank,
    QuestionBankError,
)
from scoring.base import RUBRICS

TECHNICAL_ROLES = ("software_engineer", "product_manager", "data_analyst", "sales", "hr")
MMI_SUBCATEGORIES = (
    "ethical_dilemma",
    "situational_judgement",
    "health_policy",
    "personal_reflection",
)
MINIMUM_BY_CATEGORY = {
    "mmi": 70,
    "behavioral": 70,
    "technical": 70,
    "case": 40,
    "system_design": 40,
}
EXAMPLE_ANSWER_WORDS = (80, 200)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    return QuestionBank.load()


def _question(
    qid: str,
    *,
    category: str = "technical",
    difficulty: str = "medium",
    roles: tuple[str, ...] = ("general",),
    time_limit_s: int = 120,
    text: str | None = None,
    subcategory: str = "test",
    hints: tuple[str, ...] = (),
    industries: tuple[str, ...] = ("any",),
) -> Question:
    return Question(
        id=qid,
        text=text or f"Question {qid}?",
        category=category,
        subcategory=subcategory,
        difficulty=difficulty,
        roles=roles,
        time_limit_s=time_limit_s,
        hints=hints,
        follow_up=(f"Follow-up for {qid}?",),
        industries=industries,
        rubric=RUBRICS[category],
        example_answer=f"A strong answer to {qid}.",
    )


def _entry(**overrides: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": "beh-sample",
        "text": "Tell me about a sample.",
        "category": "behavioral",
        "subcategory": "teamwork",
        "difficulty": "easy",
        "roles": ["general"],
        "time_limit_s": 90,
        "hints": ["Be specific."],
        "follow_up": ["What happened next?"],
        "industries": ["any"],
        "rubric": ["situation", "task", "action", "result"],
        "example_answer": "At my last job I did a thing, and as a result it went well.",
    }
    entry.update(overrides)
    return entry


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "bank.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# --- the bundled bank ---------------------------------------------------------------


def test_bundled_bank_covers_every_round_and_difficulty(bank: QuestionBank) -> None:
    assert len(bank) >= 300
    per_category = Counter(q.category for q in bank.questions)
    for category, minimum in MINIMUM_BY_CATEGORY.items():
        assert per_category[category] >= minimum, (category, per_category[category])
    cells = Counter((q.category, q.difficulty) for q in bank.questions)
    for category in CATEGORIES:
        for difficulty in DIFFICULTIES:
            assert cells[(category, difficulty)] >= 3, (category, difficulty)


def test_bundled_bank_has_technical_questions_for_each_role(bank: QuestionBank) -> None:
    for role in TECHNICAL_ROLES:
        for difficulty in DIFFICULTIES:
            matching = [
                q
                for q in bank.questions
                if q.category == "technical" and q.difficulty == difficulty and role in q.roles
            ]
            assert len(matching) >= 4, (role, difficulty)
        assert sum(1 for q in bank.questions if q.category == "technical" and role in q.roles) >= 12


def test_bundled_bank_has_every_mmi_station_type(bank: QuestionBank) -> None:
    mmi = [q for q in bank.questions if q.category == "mmi"]
    for subcategory in MMI_SUBCATEGORIES:
        station = [q for q in mmi if q.subcategory == subcategory]
        assert {q.difficulty for q in station} == set(DIFFICULTIES), subcategory
        assert len(station) >= 15, subcategory
    assert all("medical_school_mmi" in q.roles for q in mmi)


def test_bundled_questions_are_well_formed(bank: QuestionBank) -> None:
    ids = [q.id for q in bank.questions]
    assert len(ids) == len(set(ids))
    texts = [q.text for q in bank.questions]
    assert len(texts) == len(set(texts))
    for q in bank.questions:
        assert 1 <= len(q.follow_up) <= 3, q.id
        assert q.time_limit_s > 0
        assert set(q.roles) <= set(ROLE_TRACKS)
        assert q.text.endswith(("?", ".")), q.id
    assert bank.get(ids[0]).id == ids[0]


def test_bundled_questions_have_every_field_filled(bank: QuestionBank) -> None:
    for q in bank.questions:
        assert q.text.strip() and q.subcategory.strip(), q.id
        assert q.hints and all(h.strip() for h in q.hints), q.id
        assert q.roles and q.industries, q.id
        assert set(q.industries) <= set(INDUSTRIES), q.id
        assert q.rubric and set(q.rubric) <= set(RUBRICS[q.category]), q.id
        low, high = EXAMPLE_ANSWER_WORDS
        assert low <= len(q.example_answer.split()) <= high, q.id
    industries = Counter(i for q in bank.questions for i in q.industries)
    assert {"any", "tech", "healthcare", "finance", "retail", "public_sector"} <= set(industries)


def test_example_answers_are_distinct(bank: QuestionBank) -> None:
    answers = [q.example_answer for q in bank.questions]
    assert len(answers) == len(set(answers))
    answers_by_sentence: dict[str, set[str]] = defaultdict(set)
    for q in bank.questions:
        for sentence in _SENTENCE_END.split(q.example_answer):
            normalised = " ".join(re.findall(r"[a-z0-9']+", sentence.lower()))
            answers_by_sentence[normalised].add(q.id)
    repeated = {s: ids for s, ids in answers_by_sentence.items() if len(ids) > 2}
    assert not repeated, repeated


def test_example_answers_pass_the_interviewers_own_rubric(bank: QuestionBank) -> None:
    """A strong answer read aloud must never draw a 'that was thin' follow-up."""
    thin = {
        q.id: assess_answer(q, q.example_answer).reasons
        for q in bank.questions
        if assess_answer(q, q.example_answer).thin
    }
    assert not thin, thin
    no_numbers = [
        q.id
        for q in bank.questions
        if q.category in ("behavioral", "case") and not re.search(r"\d", q.example_answer)
    ]
    assert not no_numbers, "behavioral and case answers give concrete numbers"


# --- search ---------------------------------------------------------------------------


def test_search_filters_by_every_tag() -> None:
    bank = QuestionBank(
        [
            _question("a", category="case", difficulty="easy", roles=("sales",)),
            _question("b", category="case", difficulty="hard", industries=("finance", "tech")),
            _question("c", category="technical", difficulty="easy", roles=("sales", "hr")),
            _question("d", category="technical", industries=("healthcare",)),
        ]
    )

    def ids(**filters: str) -> list[str]:
        return [q.id for q in bank.search(**filters)]

    assert ids() == ["a", "b", "c", "d"]
    assert ids(category="case") == ["a", "b"]
    assert ids(difficulty="easy") == ["a", "c"]
    assert ids(role="sales") == ["a", "c"]
    assert ids(role="general") == ["b", "d"]
    assert ids(industry="finance") == ["b"]
    assert ids(industry="any") == ["a", "c"]
    assert ids(category="technical", role="sales", difficulty="easy") == ["c"]
    assert ids(category="case", industry="healthcare") == []


def test_search_text_matches_word_beginnings_in_text_hints_and_subcategory() -> None:
    bank = QuestionBank(
        [
            _question("price", text="How do you handle a price objection?", subcategory="sales"),
            _question("team", text="Tell me about a team conflict.", hints=("Negotiating helps.",)),
            _question("judge", text="What would you do?", subcategory="situational_judgement"),
        ]
    )

    def ids(text: str) -> list[str]:
        return [q.id for q in bank.search(text=text)]

    assert ids("PRICE objection") == ["price"]
    assert ids("price team") == [], "every word must match"
    assert ids("negotiat") == ["team"], "hints are searched, by word beginning"
    assert ids("egotiating") == [], "a word must match from its start"
    assert ids("situational judgement") == ["judge"]
    assert ids("sales, objection?") == ["price"]
    assert ids("") == ids("  ...  ") == ["price", "team", "judge"]


def test_search_over_the_bundled_bank(bank: QuestionBank) -> None:
    assert [q.id for q in bank.search(text="race condition")] == ["tech-swe-balance-race"]
    assert [q.id for q in bank.search(text="interleaving")] == ["tech-swe-balance-race"]
    sj = bank.search(text="situational judgement")
    assert {q.subcategory for q in sj} == {"situational_judgement"} and len(sj) >= 15


# --- selection ------------------------------------------------------------------------


def test_selection_is_deterministic_for_a_seed(bank: QuestionBank) -> None:
    first = bank.select("software_engineer", "behavioral", "medium", count=6, seed=42)
    again = bank.select("software_engineer", "behavioral", "medium", count=6, seed=42)
    assert [q.id for q in first] == [q.id for q in again]
    orders = {
        tuple(q.id for q in bank.select("software_engineer", "behavioral", "medium", 6, seed))
        for seed in range(8)
    }
    assert len(orders) > 1, "different seeds should give different interviews"


def test_selection_prefers_exact_matches(bank: QuestionBank) -> None:
    chosen = bank.select("sales", "technical", "hard", count=2, seed=3)
    assert len(chosen) == 2
    assert all(q.category == "technical" and q.difficulty == "hard" for q in chosen)
    assert all("sales" in q.roles for q in chosen)


def test_selection_never_repeats(bank: QuestionBank) -> None:
    for round_type in ("behavioral", "technical", "mixed", "mmi"):
        chosen = bank.select("data_analyst", round_type, "hard", count=len(bank), seed=9)
        ids = [q.id for q in chosen]
        assert len(ids) == len(set(ids)), round_type
    everything = bank.select("hr", "case", "easy", count=500, seed=1)
    assert len(everything) == sum(1 for q in bank.questions if q.category == "case")


def _sales_bank(*extra: Question) -> QuestionBank:
    """Technical questions with every degree of fit to a hard sales interview, in no particular order."""
    return QuestionBank(
        [
            _question("other-role-hard", difficulty="hard", roles=("software_engineer",)),
            _question("general-easy", difficulty="easy"),
            _question("own-medium", difficulty="medium", roles=("sales",)),
            _question("general-hard", difficulty="hard"),
            _question("own-hard", difficulty="hard", roles=("sales",)),
            *extra,
        ]
    )


def test_selection_falls_back_to_general_then_neighbouring_difficulty() -> None:
    bank = _sales_bank(_question("behavioral-hard", category="behavioral", difficulty="hard"))
    for seed in range(5):
        chosen = bank.select("sales", "technical", "hard", count=10, seed=seed)
        assert [q.id for q in chosen] == [
            "own-hard",
            "general-hard",
            "own-medium",
            "general-easy",
            "other-role-hard",
        ]


def test_relevance_orders_questions_within_a_fit_but_never_across_fits() -> None:
    bank = _sales_bank()
    relevant = {"other-role-hard": 9, "general-easy": 5, "general-hard": 1}
    for seed in range(5):
        chosen = bank.select(
            "sales", "technical", "hard", count=10, seed=seed, relevance=lambda q: relevant.get(q.id, 0)
        )
        assert [q.id for q in chosen] == [
            "general-hard",  # relevant, so ahead of the role's own question at the same fit
            "own-hard",
            "own-medium",
            "general-easy",  # however relevant, after every question nearer the asked difficulty
            "other-role-hard",  # other roles' questions stay last
        ]


def test_mixed_round_draws_across_categories(bank: QuestionBank) -> None:
    chosen = bank.select("software_engineer", "mixed", "medium", count=6, seed=5)
    assert len(chosen) == 6
    assert chosen[0].category == "behavioral"
    assert {q.category for q in chosen} == {"behavioral", "technical", "system_design"}

    mmi = bank.select("medical_school_mmi", "mixed", "easy", count=4, seed=5)
    assert {q.category for q in mmi} == {"behavioral", "mmi"}


def test_selection_rejects_unknown_choices(bank: QuestionBank) -> None:
    assert bank.select("sales", "case", "easy", count=0, seed=1) == []
    with pytest.raises(ValueError, match="role_track"):
        bank.select("astronaut", "case", "easy", count=3, seed=1)
    with pytest.raises(ValueError, match="difficulty"):
        bank.select("sales", "case", "brutal", count=3, seed=1)


# --- validation -----------------------------------------------------------------------


def test_invalid_json_is_reported_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "bank.json"
    path.write_text('{"questions": [', encoding="utf-8")
    with pytest.raises(QuestionBankError, match=r"not valid JSON \(line 1"):
        QuestionBank.load(path)


def test_missing_file_is_a_bank_error(tmp_path: Path) -> None:
    with pytest.raises(QuestionBankError, match="cannot read"):
        QuestionBank.load(tmp_path / "nope.json")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (_entry(difficulty="brutal"), r"beh-sample\): 'difficulty' must be one of"),
        (_entry(category="mixed"), r"'category' must be one of"),
        (_entry(roles=["astronaut"]), r"unknown role tracks: astronaut"),
        (_entry(roles=[]), r"'roles' must be a non-empty list"),
        (_entry(follow_up=[]), r"'follow_up' must list 1 to 3"),
        (_entry(follow_up=["a?", "b?", "c?", "d?"]), r"'follow_up' must list 1 to 3"),
        (_entry(time_limit_s=-5), r"'time_limit_s' must be a positive"),
        (_entry(id="Bad Id"), r"'id' must be a lowercase slug"),
        (_entry(text="  "), r"'text' must be a non-empty string"),
        ({k: v for k, v in _entry().items() if k != "hints"}, r"missing field 'hints'"),
        (_entry(extra=1), r"unknown field 'extra'"),
        ("just a string", r"question #0: must be an object"),
        (_entry(industries=[]), r"'industries' must be a non-empty list"),
        (_entry(industries=["space"]), r"'industries' has unknown tags: space"),
        (_entry(industries=["any", "tech"]), r"'industries' must list 'any' alone"),
        (_entry(industries=["tech", "tech"]), r"'industries' lists a tag twice"),
        (_entry(rubric=[]), r"'rubric' must be a non-empty list"),
        (
            _entry(rubric=["situation", "accuracy"]),
            r"'rubric' has dimensions not in the behavioral rubric: accuracy \(allowed: situation",
        ),
        (_entry(rubric=["task", "task"]), r"'rubric' lists a dimension twice"),
        (_entry(example_answer=" "), r"'example_answer' must be a non-empty string"),
        (
            {k: v for k, v in _entry().items() if k != "example_answer"},
            r"missing field 'example_answer'",
        ),
        ({k: v for k, v in _entry().items() if k != "rubric"}, r"missing field 'rubric'"),
    ],
)
def test_malformed_questions_are_rejected(tmp_path: Path, entry: object, message: str) -> None:
    path = _write(tmp_path, {"version": 1, "questions": [entry]})
    with pytest.raises(QuestionBankError, match=message):
        QuestionBank.load(path)


def test_duplicate_ids_and_wrong_shape_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(QuestionBankError, match="duplicate id 'beh-sample'"):
        QuestionBank.load(_write(tmp_path, {"questions": [_entry(), _entry()]}))
    with pytest.raises(QuestionBankError, match='"questions" list'):
        QuestionBank.load(_write(tmp_path, [_entry()]))
    with pytest.raises(QuestionBankError, match="empty"):
        QuestionBank.load(_write(tmp_path, {"questions": []}))


def test_a_valid_custom_file_loads(tmp_path: Path) -> None:
    bank = QuestionBank.load(_write(tmp_path, {"questions": [_entry()]}))
    (question,) = bank.questions
    assert question == Question(
        id="beh-sample",
        text="Tell me about a sample.",
        category="behavioral",
        subcategory="teamwork",
        difficulty="easy",
        roles=("general",),
        time_limit_s=90,
        hints=("Be specific.",),
        follow_up=("What happened next?",),
        industries=("any",),
        rubric=("situation", "task", "action", "result"),
        example_answer="At my last job I did a thing, and as a result it went well.",
    )


def test_a_question_may_narrow_its_categorys_rubric(tmp_path: Path) -> None:
    entry = _entry(category="mmi", rubric=["communication", "professionalism"])
    (question,) = QuestionBank.load(_write(tmp_path, {"questions": [entry]})).questions
    assert question.rubric == ("communication", "professionalism")
