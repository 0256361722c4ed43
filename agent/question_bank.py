"""The seeded question bank: loading, validation and deterministic selection."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from agent.catalog import DIFFICULTIES, ROLE_TRACKS, ROUND_TYPES
from scoring.base import RUBRICS

CATEGORIES = tuple(r for r in ROUND_TYPES if r != "mixed")
GENERAL_ROLE = "general"
MAX_FOLLOW_UPS = 3
ANY_INDUSTRY = "any"
INDUSTRIES = (
    ANY_INDUSTRY,
    "tech",
    "healthcare",
    "finance",
    "retail",
    "public_sector",
    "education",
    "logistics",
    "hospitality",
    "media",
    "manufacturing",
    "energy",
)
"""Industry tags; "any" marks a question that fits every industry and stands alone."""

_ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SEARCH_WORD = re.compile(r"[a-z0-9]+")
_FIELDS = (
    "id",
    "text",
    "category",
    "subcategory",
    "difficulty",
    "roles",
    "time_limit_s",
    "hints",
    "follow_up",
    "industries",
    "rubric",
    "example_answer",
)
_MAX_REPORTED_PROBLEMS = 10


class QuestionBankError(ValueError):
    """A question bank file that is missing, unreadable or malformed."""


@dataclass(frozen=True, slots=True)
class Question:
    """One interview question from the bank: hints, follow-ups, rubric and a strong answer."""

    id: str
    text: str
    category: str
    subcategory: str
    difficulty: str
    roles: tuple[str, ...]
    time_limit_s: int
    hints: tuple[str, ...]
    follow_up: tuple[str, ...]
    industries: tuple[str, ...]
    rubric: tuple[str, ...]
    """The scoring rubric's dimension ids: the category's, or a subset of them."""
    example_answer: str


Relevance = Callable[[Question], int]
"""How well a question suits this candidate (higher is better); breaks ties in selection."""


class QuestionBank:
    """An immutable set of questions with deterministic, fallback-aware selection."""

    __slots__ = ("_by_id", "_questions")

    def __init__(self, questions: Iterable[Question]) -> None:
        self._questions = tuple(questions)
        self._by_id = {q.id: q for q in self._questions}
        if len(self._by_id) != len(self._questions):
            raise QuestionBankError("question ids must be unique")

    @classmethod
    def load(cls, path: str | Path | None = None) -> QuestionBank:
        """Reads and validates a bank file; the bundled bank when no path is given."""
        if path is None:
            source = resources.files("agent.data").joinpath("questions.json")
            label = "bundled questions.json"
        else:
            source = Path(path)
            label = str(path)
        try:
            raw = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise QuestionBankError(f"{label}: cannot read question bank ({exc.strerror})") from exc
        try:
            document = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise QuestionBankError(
                f"{label}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
        return cls(_parse_document(document, label))

    @property
    def questions(self) -> tuple[Question, ...]:
        """Every question, in file order."""
        return self._questions

    def __len__(self) -> int:
        return len(self._questions)

    def get(self, question_id: str) -> Question:
        """The question with this id; KeyError when there is none."""
        return self._by_id[question_id]

    def search(
        self,
        *,
        category: str | None = None,
        difficulty: str | None = None,
        role: str | None = None,
        industry: str | None = None,
        text: str | None = None,
    ) -> list[Question]:
        """Questions matching every given filter, in file order.

        Tags match exactly (role "general" and industry "any" are tags like the others).
        Text matches when each of its words begins a word of the question's text, hints or
        subcategory, ignoring case: "negotiat price" finds "negotiating on price".
        """
        terms = search_terms(text or "")
        return [
            q
            for q in self._questions
            if (category is None or q.category == category)
            and (difficulty is None or q.difficulty == difficulty)
            and (role is None or role in q.roles)
            and (industry is None or industry in q.industries)
            and (not terms or _matches_terms(q, terms))
        ]

    def select(
        self,
        role_track: str,
        round_type: str,
        difficulty: str,
        count: int,
        seed: int,
        relevance: Relevance | None = None,
    ) -> list[Question]:
        """Up to `count` distinct questions, best matches first, the same for the same seed.

        `relevance` (e.g. overlap with a job description) orders questions that fit the role
        and difficulty equally well: higher first.
        """
        _check_choice("role_track", role_track, ROLE_TRACKS)
        _check_choice("round_type", round_type, ROUND_TYPES)
        _check_choice("difficulty", difficulty, DIFFICULTIES)
        if count <= 0:
            return []
        if round_type != "mixed":
            return self.ranked(round_type, role_track, difficulty, seed, relevance)[:count]

        categories = self._mixed_categories(role_track, seed)
        queues = [self.ranked(c, role_track, difficulty, seed, relevance) for c in categories]
        chosen: list[Question] = []
        while len(chosen) < count and any(queues):
            for queue in queues:
                if queue and len(chosen) < count:
                    chosen.append(queue.pop(0))
        return chosen

    def ranked(
        self,
        category: str,
        role_track: str,
        difficulty: str,
        seed: int,
        relevance: Relevance | None = None,
    ) -> list[Question]:
        """All questions of a category, best fit first; ties are shuffled by the seed.

        Order of preference: questions the role can take (its own or general ones) at the
        asked difficulty, then at neighbouring difficulties; other roles' questions come last.
        Within each of those, the more relevant first, then the role's own before general.
        """
        wanted = DIFFICULTIES.index(difficulty)
        rng = random.Random(f"{seed}|{category}|{role_track}|{difficulty}")
        pool = sorted((q for q in self._questions if q.category == category), key=lambda q: q.id)
        rng.shuffle(pool)

        def fit(q: Question) -> tuple[bool, int, int, int]:
            role_rank = _role_rank(q, role_track)
            distance = abs(DIFFICULTIES.index(q.difficulty) - wanted)
            return (role_rank == 2, distance, -relevance(q) if relevance else 0, role_rank)

        pool.sort(key=fit)
        return pool

    def _mixed_categories(self, role_track: str, seed: int) -> list[str]:
        """Categories a mixed round draws from: behavioral first, then those the role has."""
        tagged = {q.category for q in self._questions if _role_rank(q, role_track) == 0}
        others = [c for c in CATEGORIES if c in tagged and c != "behavioral"]
        random.Random(f"{seed}|mixed|{role_track}").shuffle(others)
        return ["behavioral", *others]


def search_terms(text: str) -> tuple[str, ...]:
    """The lowercase words of a search text; punctuation separates words."""
    return tuple(_SEARCH_WORD.findall(text.lower()))


def _matches_terms(question: Question, terms: tuple[str, ...]) -> bool:
    """Whether every term begins some word of the question's text, hints or subcategory."""
    haystack = " ".join((question.text, question.subcategory, *question.hints))
    words = set(search_terms(haystack))
    return all(any(w.startswith(term) for w in words) for term in terms)


def _role_rank(question: Question, role_track: str) -> int:
    """0: tagged for this role, 1: tagged general, 2: meant for other roles."""
    if role_track in question.roles:
        return 0
    if GENERAL_ROLE in question.roles:
        return 1
    return 2


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _parse_document(document: Any, label: str) -> list[Question]:
    """Questions from a decoded bank file, or a QuestionBankError listing what is wrong."""
    if not isinstance(document, dict) or not isinstance(document.get("questions"), list):
        raise QuestionBankError(f'{label}: expected an object with a "questions" list')
    entries = document["questions"]
    if not entries:
        raise QuestionBankError(f"{label}: the question list is empty")

    problems: list[str] = []
    questions: list[Question] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"question #{index}"
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            where += f" ({entry['id']})"
        entry_problems = _entry_problems(entry)
        if not entry_problems and entry["id"] in seen:
            entry_problems = [f"duplicate id {entry['id']!r}"]
        if entry_problems:
            problems.extend(f"{where}: {p}" for p in entry_problems)
            continue
        seen.add(entry["id"])
        questions.append(
            Question(
                id=entry["id"],
                text=entry["text"].strip(),
                category=entry["category"],
                subcategory=entry["subcategory"],
                difficulty=entry["difficulty"],
                roles=tuple(entry["roles"]),
                time_limit_s=entry["time_limit_s"],
                hints=tuple(entry["hints"]),
                follow_up=tuple(entry["follow_up"]),
                industries=tuple(entry["industries"]),
                rubric=tuple(entry["rubric"]),
                example_answer=entry["example_answer"].strip(),
            )
        )

    if problems:
        shown = problems[:_MAX_REPORTED_PROBLEMS]
        more = len(problems) - len(shown)
        suffix = f"\n  ... and {more} more" if more else ""
        raise QuestionBankError(
            f"{label}: invalid question bank:\n  " + "\n  ".join(shown) + suffix
        )
    return questions


def _entry_problems(entry: Any) -> list[str]:
    """What is wrong with one question entry; empty when it is valid."""
    if not isinstance(entry, dict):
        return ["must be an object"]
    problems = [f"missing field {name!r}" for name in _FIELDS if name not in entry]
    problems += [f"unknown field {name!r}" for name in entry if name not in _FIELDS]
    if problems:
        return problems

    def is_text(value: Any) -> bool:
        return isinstance(value, str) and bool(value.strip())

    def is_text_list(value: Any) -> bool:
        return isinstance(value, list) and all(is_text(v) for v in value)

    if not isinstance(entry["id"], str) or not _ID_PATTERN.match(entry["id"]):
        problems.append("'id' must be a lowercase slug such as 'beh-team-conflict'")
    for name in ("text", "subcategory"):
        if not is_text(entry[name]):
            problems.append(f"{name!r} must be a non-empty string")
    if entry["category"] not in CATEGORIES:
        problems.append(f"'category' must be one of {', '.join(CATEGORIES)}")
    if entry["difficulty"] not in DIFFICULTIES:
        problems.append(f"'difficulty' must be one of {', '.join(DIFFICULTIES)}")
    roles = entry["roles"]
    if not is_text_list(roles) or not roles:
        problems.append("'roles' must be a non-empty list of role tracks")
    elif unknown := [r for r in roles if r not in ROLE_TRACKS]:
        problems.append(f"'roles' has unknown role tracks: {', '.join(unknown)}")
    limit = entry["time_limit_s"]
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        problems.append("'time_limit_s' must be a positive whole number of seconds")
    if not is_text_list(entry["hints"]):
        problems.append("'hints' must be a list of non-empty strings")
    follow_up = entry["follow_up"]
    if not is_text_list(follow_up) or not 1 <= len(follow_up) <= MAX_FOLLOW_UPS:
        problems.append(f"'follow_up' must list 1 to {MAX_FOLLOW_UPS} non-empty strings")
    industries = entry["industries"]
    if not is_text_list(industries) or not industries:
        problems.append("'industries' must be a non-empty list of industry tags")
    elif unknown := [i for i in industries if i not in INDUSTRIES]:
        problems.append(f"'industries' has unknown tags: {', '.join(unknown)}")
    elif ANY_INDUSTRY in industries and len(industries) > 1:
        problems.append(f"'industries' must list {ANY_INDUSTRY!r} alone or only specific tags")
    elif len(set(industries)) != len(industries):
        problems.append("'industries' lists a tag twice")
    problems += _rubric_problems(entry["rubric"], entry["category"])
    if not is_text(entry["example_answer"]):
        problems.append("'example_answer' must be a non-empty string")
    return problems


def _rubric_problems(rubric: Any, category: Any) -> list[str]:
    """What is wrong with a question's rubric: it must name some of its category's dimensions."""
    if not isinstance(rubric, list) or not rubric or not all(isinstance(d, str) for d in rubric):
        return ["'rubric' must be a non-empty list of rubric dimension ids"]
    if not isinstance(category, str) or category not in RUBRICS:
        return []  # the category itself is already reported
    allowed = RUBRICS[category]
    if unknown := [d for d in rubric if d not in allowed]:
        return [
            f"'rubric' has dimensions not in the {category} rubric: {', '.join(unknown)} "
            f"(allowed: {', '.join(allowed)})"
        ]
    if len(set(rubric)) != len(rubric):
        return ["'rubric' lists a dimension twice"]
    return []
