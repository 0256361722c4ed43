"""Evaluators with scripted behaviour, as real subclasses of the offline one."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from scoring.base import AnswerInput, AnswerScore
from scoring.offline import OfflineEvaluator


class RecordingEvaluator(OfflineEvaluator):
    """The offline evaluator, remembering what it was asked to score."""

    def __init__(self) -> None:
        self.inputs: list[AnswerInput] = []

    async def evaluate(self, item: AnswerInput) -> AnswerScore:
        self.inputs.append(item)
        return await super().evaluate(item)


class UnreachableLLMEvaluator(OfflineEvaluator):
    """An LLM evaluator whose endpoint is down: every call raises."""

    name = "llm:test-model"

    async def evaluate(self, item: AnswerInput) -> AnswerScore:
        raise ConnectionError("connection refused by 10.0.0.1")


class SelfFallingBackEvaluator(OfflineEvaluator):
    """An LLM evaluator that caught its own failure and answered with the offline scores."""

    name = "llm:test-model"

    async def evaluate(self, item: AnswerInput) -> AnswerScore:
        score = await super().evaluate(item)
        return dataclasses.replace(score, fallback_reason="llm:test-model returned invalid JSON")


@dataclass(frozen=True, slots=True)
class BankEntry:
    id: str
    category: str
    time_limit_s: int
    example_answer: str | None


class FakeBank:
    """A question bank of a few entries (the interface reports use: get)."""

    def __init__(self, *entries: BankEntry) -> None:
        self._by_id = {e.id: e for e in entries}

    def get(self, question_id: str) -> BankEntry:
        return self._by_id[question_id]
