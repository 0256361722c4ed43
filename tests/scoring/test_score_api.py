"""POST /v1/score: a typed answer scored with the app's evaluator."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from agent.question_bank import QuestionBank
from scoring.base import RUBRICS
from scoring.calibration import band_of
from scoring.llm import LLMEvaluator
from scoring.offline import OfflineEvaluator
from tests.scoring.fake_openai import FakeOpenAI

QUESTION = "Tell me about a time you had to meet a tight deadline."
ANSWER = (
    "Last year I was a data analyst at a grocery chain, and the board report was due in five days "
    "when our sales feed broke. My task was to deliver it on time. I rebuilt the extract, I wrote "
    "checks against bank deposits, and I asked the finance lead to sign off each region. As a "
    "result we delivered a day early and the totals matched the audit within 0.2%."
)


@dataclass(frozen=True, slots=True)
class BankQuestion:
    """The fields of a bank question the score endpoint reads."""

    id: str
    text: str
    category: str
    time_limit_s: int
    example_answer: str | None = None


class FakeQuestionBank(QuestionBank):
    """A question bank holding the given questions, whatever the bundled file holds today."""

    __slots__ = ()

    def __init__(self, questions: list[BankQuestion]) -> None:
        self._questions = tuple(questions)
        self._by_id = {q.id: q for q in questions}


@pytest.fixture
def bank(app: FastAPI) -> FakeQuestionBank:
    bank = FakeQuestionBank(
        [
            BankQuestion(
                "mmi-sign-in",
                "A friend asks you to sign them in.",
                "mmi",
                240,
                "I would not sign them in.",
            ),
            BankQuestion("case-old-bank", "Should the bank close branches?", "case", 300),
        ]
    )
    app.state.question_bank = bank
    return bank


async def test_scores_a_typed_answer_with_the_default_category(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post("/v1/score", json={"question": QUESTION, "answer": ANSWER})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["category"] == "behavioral"
    assert [d["dimension"] for d in body["dimensions"]] == list(RUBRICS["behavioral"])
    assert all(0 <= d["score"] <= 100 and d["reason"] for d in body["dimensions"])
    assert body["evaluator"] == "offline"
    assert body["fallback_reason"] is None
    assert body["overall"] >= 50
    assert body["band"] == band_of(body["overall"])
    assert body["band_low"] <= body["overall"] <= body["band_high"]
    assert body["confidence"] in ("high", "medium", "low")
    assert set(body) == {
        "category",
        "dimensions",
        "overall",
        "band",
        "band_low",
        "band_high",
        "confidence",
        "evaluator",
        "fallback_reason",
        "strengths",
        "improvements",
        "stronger_answer",
    }


@pytest.mark.parametrize("category", list(RUBRICS))
async def test_the_category_picks_the_rubric(app_client: httpx.AsyncClient, category: str) -> None:
    response = await app_client.post(
        "/v1/score",
        json={"question": QUESTION, "answer": ANSWER, "category": category, "time_limit_s": 90},
    )
    assert response.status_code == 200, response.text
    assert [d["dimension"] for d in response.json()["dimensions"]] == list(RUBRICS[category])


async def test_same_scores_as_the_evaluator(app: FastAPI, app_client: httpx.AsyncClient) -> None:
    from scoring.base import AnswerInput

    expected = await OfflineEvaluator().evaluate(
        AnswerInput(QUESTION, ANSWER, "technical", time_limit_s=120)
    )
    body = (
        await app_client.post(
            "/v1/score",
            json={"question": QUESTION, "answer": ANSWER, "category": "technical", "time_limit_s": 120},
        )
    ).json()
    assert body["overall"] == expected.overall
    assert [(d["dimension"], d["score"], d["reason"]) for d in body["dimensions"]] == [
        (d.dimension, d.score, d.reason) for d in expected.dimensions
    ]


async def test_question_id_supplies_category_time_limit_and_example(
    app_client: httpx.AsyncClient, bank: FakeQuestionBank
) -> None:
    response = await app_client.post(
        "/v1/score",
        json={
            "question": "A friend asks you to sign them in.",
            "answer": ANSWER,
            "question_id": "mmi-sign-in",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["category"] == "mmi"
    assert body["stronger_answer"] == "I would not sign them in."

    explicit = await app_client.post(
        "/v1/score",
        json={
            "question": "Q",
            "answer": ANSWER,
            "question_id": "case-old-bank",
            "category": "technical",
        },
    )
    assert explicit.json()["category"] == "technical"  # an explicit category wins
    assert explicit.json()["stronger_answer"] is None  # this bank question has no example


async def test_unknown_question_id_is_422(app_client: httpx.AsyncClient, bank: FakeQuestionBank) -> None:
    response = await app_client.post(
        "/v1/score", json={"question": "Q", "answer": ANSWER, "question_id": "nope"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "unknown question_id"


async def test_an_answer_over_the_word_limit_is_422_without_echoing_it(
    app_client: httpx.AsyncClient,
) -> None:
    answer = "confidential " * 5001
    response = await app_client.post("/v1/score", json={"question": "Q", "answer": answer})
    assert response.status_code == 422
    assert response.json() == {"detail": "answer is longer than 5000 words"}

    at_limit = await app_client.post("/v1/score", json={"question": "Q", "answer": "word " * 5000})
    assert at_limit.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"question": "Q", "answer": "   "},
        {"question": "", "answer": ANSWER},
        {"question": "Q", "answer": ANSWER, "category": "astrology"},
        {"question": "Q", "answer": ANSWER, "time_limit_s": 0},
        {"question": "Q"},
        {"question": "Q", "answer": ANSWER, "surprise": 1},
    ],
)
async def test_invalid_bodies_are_422(app_client: httpx.AsyncClient, body: dict) -> None:
    assert (await app_client.post("/v1/score", json=body)).status_code == 422


async def test_llm_fallback_is_reported(
    app: FastAPI, app_client: httpx.AsyncClient, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script.extend(["valid", "invalid_json"])
    evaluator = LLMEvaluator(
        base_url=fake_openai.base_url,
        api_key=None,
        model="fake-model",
        timeout_s=2.0,
        fallback=OfflineEvaluator(),
    )
    app.state.evaluator = evaluator
    try:
        ok = (await app_client.post("/v1/score", json={"question": QUESTION, "answer": ANSWER})).json()
        fell_back = (
            await app_client.post("/v1/score", json={"question": QUESTION, "answer": ANSWER})
        ).json()
    finally:
        await evaluator.aclose()

    assert ok["evaluator"] == "llm:fake-model" and ok["fallback_reason"] is None
    assert ok["stronger_answer"]
    assert fell_back["evaluator"] == "offline"
    assert fell_back["fallback_reason"] == "llm_invalid_json"


async def test_the_lifespan_installs_the_offline_evaluator_by_default(app: FastAPI) -> None:
    assert isinstance(app.state.evaluator, OfflineEvaluator)
