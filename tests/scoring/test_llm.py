"""The LLM evaluator against a scripted OpenAI-compatible server: parsing, the request, fallbacks."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import pytest

from scoring.base import RUBRICS, AnswerInput
from scoring.llm import LLMEvaluator
from scoring.offline import OfflineEvaluator
from tests.scoring.fake_openai import STRONGER_ANSWER, FakeOpenAI

MODEL = "fake-model"
SECRET_ANSWER = (
    "Last spring at Northwind I led the migration of 40 services; my goal was zero downtime. "
    "I wrote the runbook and cut deploy time from 2 hours to 15 minutes."
)


def _item(category: str = "behavioral", **overrides) -> AnswerInput:
    fields = {
        "question": "Tell me about a time you led a difficult change.",
        "answer": SECRET_ANSWER,
        "category": category,
        "question_id": "beh-led-change",
        "time_limit_s": 120.0,
    }
    fields.update(overrides)
    return AnswerInput(**fields)


@pytest.fixture
async def evaluator(fake_openai: FakeOpenAI) -> AsyncIterator[LLMEvaluator]:
    evaluator = LLMEvaluator(
        base_url=fake_openai.base_url,
        api_key="sk-test",
        model=MODEL,
        timeout_s=2.0,
        fallback=OfflineEvaluator(),
    )
    try:
        yield evaluator
    finally:
        await evaluator.aclose()


@pytest.mark.parametrize("category", list(RUBRICS))
async def test_valid_reply_is_parsed_in_rubric_order(
    evaluator: LLMEvaluator, fake_openai: FakeOpenAI, category: str
) -> None:
    score = await evaluator.evaluate(_item(category))

    assert score.evaluator == f"llm:{MODEL}"
    assert score.fallback_reason is None
    assert score.category == category
    assert [d.dimension for d in score.dimensions] == list(RUBRICS[category])
    assert [d.score for d in score.dimensions] == [70 + i for i in range(len(RUBRICS[category]))]
    assert all(d.reason == f"Reason for {d.dimension}." for d in score.dimensions)
    assert score.overall == round(sum(d.score for d in score.dimensions) / len(score.dimensions))
    assert score.strengths == ("Concrete numbers.", "Clear ownership.")
    assert score.improvements == ("Say what you learned.",)
    assert score.stronger_answer == STRONGER_ANSWER


async def test_request_carries_the_rubric_and_a_strict_json_schema(
    evaluator: LLMEvaluator, fake_openai: FakeOpenAI
) -> None:
    await evaluator.evaluate(_item("system_design", example_answer="A reference design answer."))

    (request,) = fake_openai.requests
    assert request["model"] == MODEL
    response_format = request["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    dimensions = schema["properties"]["dimensions"]
    assert dimensions["required"] == list(RUBRICS["system_design"])
    assert set(dimensions["properties"]) == set(RUBRICS["system_design"])
    assert dimensions["additionalProperties"] is False
    score_schema = dimensions["properties"]["deep_dive"]["properties"]["score"]
    assert score_schema == {"type": "integer", "minimum": 0, "maximum": 100}
    system, user = request["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    for dimension in RUBRICS["system_design"]:
        assert f"- {dimension}:" in system["content"]
    assert "<answer>" in user["content"] and SECRET_ANSWER in user["content"]
    assert "A reference design answer." in user["content"]


async def test_fenced_json_is_accepted(evaluator: LLMEvaluator, fake_openai: FakeOpenAI) -> None:
    fake_openai.script.append("fenced")
    score = await evaluator.evaluate(_item())
    assert score.fallback_reason is None and score.evaluator == f"llm:{MODEL}"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("invalid_json", "llm_invalid_json"),
        ("schema_mismatch", "llm_schema_mismatch"),
        ("missing_dimension", "llm_schema_mismatch"),
        ("extra_dimension", "llm_schema_mismatch"),
        ("empty", "llm_empty_response"),
        ("http_500", "llm_http_error"),
    ],
)
async def test_bad_replies_fall_back_to_the_offline_scores(
    evaluator: LLMEvaluator, fake_openai: FakeOpenAI, reply: str, reason: str
) -> None:
    fake_openai.script.append(reply)  # type: ignore[arg-type]
    item = _item()

    score = await evaluator.evaluate(item)

    offline = await OfflineEvaluator().evaluate(item)
    assert score.fallback_reason == reason
    assert score.evaluator == "offline"
    assert score.dimensions == offline.dimensions
    assert score.overall == offline.overall
    assert len(fake_openai.requests) == 1  # no retries on a failed reply


async def test_a_hanging_server_times_out_and_falls_back(fake_openai: FakeOpenAI) -> None:
    fake_openai.script.append("hang")
    evaluator = LLMEvaluator(
        base_url=fake_openai.base_url,
        api_key=None,
        model=MODEL,
        timeout_s=0.3,
        fallback=OfflineEvaluator(),
    )
    try:
        score = await evaluator.evaluate(_item())
    finally:
        fake_openai.release()
        await evaluator.aclose()
    assert score.fallback_reason == "llm_timeout"
    assert score.evaluator == "offline"


async def test_an_unreachable_server_falls_back() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    evaluator = LLMEvaluator(
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key=None,
        model=MODEL,
        timeout_s=2.0,
        fallback=OfflineEvaluator(),
    )
    try:
        score = await evaluator.evaluate(_item())
    finally:
        await evaluator.aclose()
    assert score.fallback_reason == "llm_unreachable"
    assert score.evaluator == "offline"


async def test_a_server_without_json_schema_is_asked_for_json_object(fake_openai: FakeOpenAI) -> None:
    fake_openai.supports_json_schema = False
    evaluator = LLMEvaluator(
        base_url=fake_openai.base_url,
        api_key=None,
        model=MODEL,
        timeout_s=2.0,
        fallback=OfflineEvaluator(),
    )
    try:
        first = await evaluator.evaluate(_item("mmi"))
        second = await evaluator.evaluate(_item("case"))
    finally:
        await evaluator.aclose()

    assert first.fallback_reason is None and first.evaluator == f"llm:{MODEL}"
    assert [d.dimension for d in first.dimensions] == list(RUBRICS["mmi"])
    assert [d.dimension for d in second.dimensions] == list(RUBRICS["case"])
    formats = [r["response_format"]["type"] for r in fake_openai.requests]
    # Rejected once, then json_object straight away for the rest of the evaluator's life.
    assert formats == ["json_schema", "json_object", "json_object"]


async def test_stronger_answer_falls_back_to_the_bank_example(
    evaluator: LLMEvaluator, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script.append("http_500")
    score = await evaluator.evaluate(_item(example_answer="The bank's example answer."))
    assert score.fallback_reason == "llm_http_error"
    assert score.stronger_answer == "The bank's example answer."


async def test_answer_text_never_reaches_the_logs(
    evaluator: LLMEvaluator, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake_openai.script.extend(["valid", "invalid_json", "http_500"])
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            await evaluator.evaluate(_item())
    assert any(getattr(r, "fallback_reason", None) == "llm_invalid_json" for r in caplog.records)
    for record in caplog.records:
        rendered = record.getMessage() + repr(record.__dict__)
        assert "Northwind" not in rendered and "runbook" not in rendered


async def test_unknown_category_is_refused(evaluator: LLMEvaluator) -> None:
    with pytest.raises(ValueError, match="unknown category"):
        await evaluator.evaluate(_item("astrology"))
