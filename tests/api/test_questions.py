"""The question bank API, driven over HTTP against a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from agent.question_bank import Question, QuestionBank
from db import questions as stats

PUBLIC_FIELDS = {
    "id",
    "text",
    "category",
    "subcategory",
    "difficulty",
    "roles",
    "industries",
    "hints",
    "rubric",
    "time_limit_s",
    "example_answer",
    "times_asked",
    "average_score",
}


@pytest.fixture(autouse=True)
async def no_usage_yet(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """Each test starts, and leaves, with no question usage recorded."""
    await pool.execute("TRUNCATE question_stats")
    yield
    await pool.execute("TRUNCATE question_stats")


@pytest.fixture
def bank(app: FastAPI) -> QuestionBank:
    return app.state.question_bank


async def _page(client: httpx.AsyncClient, **params: object) -> dict:
    response = await client.get("/v1/questions", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _all_ids(client: httpx.AsyncClient, **params: object) -> list[str]:
    body = await _page(client, limit=200, **params)
    ids = [item["id"] for item in body["items"]]
    if body["total"] > 200:
        more = await _page(client, limit=200, offset=200, **params)
        ids += [item["id"] for item in more["items"]]
    assert len(ids) == body["total"]
    return ids


def _expected(bank: QuestionBank, keep) -> list[str]:  # noqa: ANN001 - a predicate
    return [q.id for q in bank.questions if keep(q)]


async def test_lists_the_bank_in_pages_of_50_by_default(
    app_client: httpx.AsyncClient, bank: QuestionBank
) -> None:
    body = await _page(app_client)
    assert body["total"] == len(bank) >= 300
    assert len(body["items"]) == 50
    first = body["items"][0]
    assert set(first) == PUBLIC_FIELDS
    question = bank.questions[0]
    assert first["id"] == question.id
    assert first["text"] == question.text
    assert first["example_answer"] == question.example_answer
    assert first["rubric"] == list(question.rubric)
    assert first["industries"] == list(question.industries)
    assert first["hints"] == list(question.hints)
    assert (first["times_asked"], first["average_score"]) == (0, None)


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"category": "mmi"}, lambda q: q.category == "mmi"),
        ({"category": "system_design"}, lambda q: q.category == "system_design"),
        ({"difficulty": "hard"}, lambda q: q.difficulty == "hard"),
        ({"role": "sales"}, lambda q: "sales" in q.roles),
        ({"role": "general"}, lambda q: "general" in q.roles),
        ({"industry": "healthcare"}, lambda q: "healthcare" in q.industries),
        ({"industry": "any"}, lambda q: q.industries == ("any",)),
        (
            {"category": "technical", "role": "data_analyst", "difficulty": "medium"},
            lambda q: q.category == "technical"
            and "data_analyst" in q.roles
            and q.difficulty == "medium",
        ),
        (
            {"category": "case", "industry": "finance"},
            lambda q: q.category == "case" and "finance" in q.industries,
        ),
    ],
)
async def test_filters_by_each_parameter_and_combinations(
    app_client: httpx.AsyncClient,
    bank: QuestionBank,
    params: dict[str, str],
    keep,  # noqa: ANN001 - a predicate
) -> None:
    expected = _expected(bank, keep)
    assert expected, "the filter should match something in the bundled bank"
    assert len(expected) < len(bank)
    assert await _all_ids(app_client, **params) == expected


async def test_combined_filters_can_match_nothing(app_client: httpx.AsyncClient) -> None:
    body = await _page(app_client, category="mmi", role="software_engineer")
    assert body == {"total": 0, "items": []}


async def test_text_search_needs_every_word_in_text_hints_or_subcategory(
    app_client: httpx.AsyncClient, bank: QuestionBank
) -> None:
    assert await _all_ids(app_client, q="RACE condition") == ["tech-swe-balance-race"]
    # "interleaving" is only in that question's hints; "buckets" only in the rate limiter's
    assert await _all_ids(app_client, q="interleaving") == ["tech-swe-balance-race"]
    assert "sd-per-user-rate-limit" in await _all_ids(app_client, q="token buckets")
    assert await _all_ids(app_client, q="race condition pizza") == []
    assert await _all_ids(app_client, q="transfusion child") == [
        "mmi-eth-child-transfusion-refused"
    ]
    assert set(await _all_ids(app_client, q="transfusion")) == {
        "mmi-eth-refuses-transfusion",
        "mmi-eth-child-transfusion-refused",
    }
    by_subcategory = await _all_ids(app_client, q="situational judgement")
    assert by_subcategory == _expected(bank, lambda q: q.subcategory == "situational_judgement")

    combined = await _all_ids(app_client, q="transfusion", difficulty="medium")
    assert combined == ["mmi-eth-refuses-transfusion"]


async def test_pages_do_not_overlap_and_total_stays_the_same(
    app_client: httpx.AsyncClient, bank: QuestionBank
) -> None:
    first = await _page(app_client, category="behavioral", limit=10)
    second = await _page(app_client, category="behavioral", limit=10, offset=10)
    both = await _page(app_client, category="behavioral", limit=20)
    assert first["total"] == second["total"] == both["total"] >= 70
    ids = [i["id"] for i in first["items"]] + [i["id"] for i in second["items"]]
    assert ids == [i["id"] for i in both["items"]]
    assert len(set(ids)) == 20

    past_the_end = await _page(app_client, limit=5, offset=len(bank))
    assert past_the_end == {"total": len(bank), "items": []}
    last = await _page(app_client, limit=200, offset=len(bank) - 3)
    assert [i["id"] for i in last["items"]] == [q.id for q in bank.questions[-3:]]


async def test_one_question_by_id(app_client: httpx.AsyncClient, bank: QuestionBank) -> None:
    question: Question = bank.get("sd-payments-ledger")
    response = await app_client.get("/v1/questions/sd-payments-ledger")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert body["text"] == question.text
    assert body["time_limit_s"] == question.time_limit_s
    assert body["rubric"] == list(question.rubric)

    missing = await app_client.get("/v1/questions/no-such-question")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "question not found"}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"category": "astrology"}, "category", "'behavioral'"),
        ({"category": "mixed"}, "category", "'mmi'"),
        ({"difficulty": "brutal"}, "difficulty", "'easy', 'medium' or 'hard'"),
        ({"role": "astronaut"}, "role", "'software_engineer'"),
        ({"industry": "space"}, "industry", "'healthcare'"),
        ({"limit": 0}, "limit", "greater than or equal to 1"),
        ({"limit": 201}, "limit", "less than or equal to 200"),
        ({"offset": -1}, "offset", "greater than or equal to 0"),
        ({"limit": "ten"}, "limit", "valid integer"),
        ({"q": ""}, "q", "at least 1 character"),
        ({"q": "x" * 201}, "q", "at most 200 characters"),
        ({"q": "?!"}, "q", "at least one letter or digit"),
    ],
)
async def test_invalid_queries_are_422_with_a_clear_message(
    app_client: httpx.AsyncClient, params: dict[str, object], field: str, message: str
) -> None:
    response = await app_client.get("/v1/questions", params=params)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", field]
    assert message in error["msg"]


async def test_usage_reflects_asked_and_scored_answers(
    app_client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    ledger = "sd-payments-ledger"
    for _ in range(3):
        await stats.record_asked(pool, ledger)
    await stats.record_score(pool, ledger, 80)
    await stats.record_score(pool, ledger, 65)
    await stats.record_asked(pool, "sd-link-shortener")

    body = (await app_client.get(f"/v1/questions/{ledger}")).json()
    assert (body["times_asked"], body["average_score"]) == (3, 72.5)

    listed = {i["id"]: i for i in (await _page(app_client, category="system_design"))["items"]}
    assert (listed[ledger]["times_asked"], listed[ledger]["average_score"]) == (3, 72.5)
    shortener = listed["sd-link-shortener"]
    assert (shortener["times_asked"], shortener["average_score"]) == (1, None)
    untouched = listed["sd-todo-sync"]
    assert (untouched["times_asked"], untouched["average_score"]) == (0, None)

    await stats.record_score(pool, ledger, 95.5)
    body = (await app_client.get(f"/v1/questions/{ledger}")).json()
    assert body["average_score"] == pytest.approx((80 + 65 + 95.5) / 3)
    assert body["times_asked"] == 3


async def test_the_api_is_documented(app_client: httpx.AsyncClient) -> None:
    schema = (await app_client.get("/openapi.json")).json()
    listing = schema["paths"]["/v1/questions"]["get"]
    params = {p["name"] for p in listing["parameters"]}
    assert params == {"category", "difficulty", "role", "industry", "q", "limit", "offset"}
    assert "QuestionPage" in schema["components"]["schemas"]
    assert "404" in schema["paths"]["/v1/questions/{question_id}"]["get"]["responses"]
