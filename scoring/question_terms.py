"""Each bank question's own vocabulary, to tell an answer to it from an answer to its neighbour.

An answer about MongoDB to a question on SQL indexes uses the right category's words but another
question's. `scoring/question_terms.json` holds, for every bank question, the stemmed content
words of its text, hints and example answer (written by `python bench/evaluator.py --terms`; a
test checks it matches the bank). `QuestionTerms.fit` compares an answer's words, weighted by
how rare each is across the bank (tf-idf, cosine), with its own question and with the other
questions of the same category. The scoring package reads the file, not the bank: it imports
nothing outside itself.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TERMS_PATH = Path(__file__).with_name("question_terms.json")
_SPACES = re.compile(r"\s+")


def question_key(text: str) -> str:
    """A question's text, normalised, to find it when no bank id comes with the answer."""
    return _SPACES.sub(" ", text.strip().lower())


@dataclass(frozen=True, slots=True)
class QuestionFit:
    """How close an answer's words are to its question's and to its neighbours' (0..1 cosines)."""

    own: float
    best_other: float

    @property
    def ratio(self) -> float:
        """Own over the best other question of the category: under 1, a neighbour fits better."""
        return self.own / self.best_other if self.best_other > 0 else (1.0 if self.own > 0 else 0.0)


class QuestionTerms:
    """The bank's question vocabularies as tf-idf vectors, indexed by term within each category."""

    def __init__(self, questions: Mapping[str, dict]) -> None:
        documents = {qid: Counter(_parse(q["terms"])) for qid, q in questions.items()}
        df: Counter[str] = Counter()
        for terms in documents.values():
            df.update(terms.keys())
        self._n = max(len(documents), 1)
        self._idf = {t: math.log(self._n / d) for t, d in df.items()}
        self._category = {qid: q["category"] for qid, q in questions.items()}
        self._by_text = {question_key(q["question"]): qid for qid, q in questions.items()}
        # category -> term -> [(question id, weight)]
        self._index: dict[str, dict[str, list[tuple[str, float]]]] = {}
        for qid, terms in documents.items():
            postings = self._index.setdefault(self._category[qid], {})
            for term, weight in self._vector(terms).items():
                postings.setdefault(term, []).append((qid, weight))

    def _vector(self, counts: Mapping[str, int]) -> dict[str, float]:
        unseen = math.log(self._n)
        vector = {t: (1.0 + math.log(c)) * self._idf.get(t, unseen) for t, c in counts.items() if c > 0}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items()}

    def question_id(self, question_id: str | None, question: str) -> str | None:
        """The bank id of the question: the one given if the bank has it, else by its text."""
        if question_id in self._category:
            return question_id
        return self._by_text.get(question_key(question))

    def fit(self, question_id: str, category: str, answer_terms: Mapping[str, int]) -> QuestionFit | None:
        """Cosines of the answer with its question and with the closest other one of its category."""
        postings = self._index.get(category)
        if postings is None or self._category.get(question_id) != category:
            return None
        scores: dict[str, float] = {}
        for term, weight in self._vector(answer_terms).items():
            for qid, w in postings.get(term, ()):
                scores[qid] = scores.get(qid, 0.0) + weight * w
        own = scores.pop(question_id, 0.0)
        return QuestionFit(own=own, best_other=max(scores.values(), default=0.0))


def _parse(terms: str) -> dict[str, int]:
    counts = {}
    for item in terms.split():
        term, _, count = item.partition("*")
        counts[term] = int(count or 1)
    return counts


def format_terms(counts: Mapping[str, int]) -> str:
    """Counts as the file stores them: 'term term*2 …', sorted, so the file is stable."""
    return " ".join(t if c == 1 else f"{t}*{c}" for t, c in sorted(counts.items()))


@cache
def bank_terms() -> QuestionTerms | None:
    """The bank's vocabularies from scoring/question_terms.json (None if the file is missing)."""
    try:
        document = json.loads(TERMS_PATH.read_text(encoding="utf-8"))
    except OSError:
        return None
    return QuestionTerms(document["questions"])
