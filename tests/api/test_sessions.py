"""The sessions API, driven over HTTP against a real database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from agent.catalog import DEFAULT_PERSONA
from api.consent import CONSENT_VERSION
from db import sessions as repo
from tests.users import make_user

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NEW_SESSION = {
    "role_track": "medical_school_mmi",
    "round_type": "mmi",
    "difficulty": "hard",
    "duration_min": 20,
    "persona": "dr_patel",
    "consent_version": CONSENT_VERSION,
}


@dataclass
class FakeRooms:
    """A room service that records which rooms it was asked to close."""

    closed: list[tuple[str, str]] = field(default_factory=list)

    async def close_room(self, session_id: str, reason: str, *, wait: bool = True) -> None:
        self.closed.append((session_id, reason))


async def _create(client: httpx.AsyncClient, **overrides: object) -> dict:
    response = await client.post("/v1/sessions", json={**NEW_SESSION, **overrides})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_returns_session_and_candidate_token(
    app_client: httpx.AsyncClient, app: FastAPI, user_id: UUID
) -> None:
    body = await _create(app_client)
    session, room = body["session"], body["room"]
    assert session["status"] == "scheduled"
    assert {k: session[k] for k in NEW_SESSION} == NEW_SESSION
    assert room["session_id"] == session["id"]
    assert room["signal_url"] == f"/v1/rooms/{session['id']}/signal"
    assert room["expires_in_s"] == app.state.settings.token_ttl_s

    claims = app.state.tokens.verify(room["token"], session["id"])
    assert claims.identity == f"candidate-{user_id}"
    assert (claims.role, claims.can_publish, claims.hidden) == ("candidate", True, False)


async def test_persona_defaults_from_the_catalog(app_client: httpx.AsyncClient) -> None:
    payload = {k: v for k, v in NEW_SESSION.items() if k != "persona"}
    response = await app_client.post("/v1/sessions", json=payload)
    assert response.status_code == 201
    assert response.json()["session"]["persona"] == DEFAULT_PERSONA


@pytest.mark.parametrize(
    "change",
    [
        {"role_track": "astronaut"},
        {"round_type": "karaoke"},
        {"difficulty": "impossible"},
        {"duration_min": 15},
        {"duration_min": "twenty"},
        {"persona": "nobody"},
        {"role_track": None},
        {"consent_version": "v" * 65},
        {"unexpected": 1},
    ],
)
async def test_create_rejects_choices_outside_the_catalog(
    app_client: httpx.AsyncClient, change: dict
) -> None:
    payload = {k: v for k, v in {**NEW_SESSION, **change}.items() if v is not None}
    response = await app_client.post("/v1/sessions", json=payload)
    assert response.status_code == 422
    field_name = next(iter(change))
    assert any(field_name in err["loc"] for err in response.json()["detail"])
    assert (await app_client.get("/v1/sessions")).json() == []


async def test_list_is_newest_first_and_paged(app_client: httpx.AsyncClient) -> None:
    ids = [(await _create(app_client))["session"]["id"] for _ in range(3)]
    listed = (await app_client.get("/v1/sessions")).json()
    assert [s["id"] for s in listed] == ids[::-1]
    page = (await app_client.get("/v1/sessions", params={"limit": 1, "offset": 1})).json()
    assert [s["id"] for s in page] == [ids[1]]
    assert (await app_client.get("/v1/sessions", params={"limit": 0})).status_code == 422
    assert (await app_client.get("/v1/sessions", params={"offset": -1})).status_code == 422


async def test_list_shows_only_the_users_sessions(
    app_client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    mine = (await _create(app_client))["session"]["id"]
    theirs = await _foreign_session(pool)
    assert [s["id"] for s in (await app_client.get("/v1/sessions")).json()] == [mine]
    assert str(theirs) != mine


async def test_detail_includes_the_transcript(app_client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    session_id = UUID((await _create(app_client))["session"]["id"])
    await repo.mark_live(pool, session_id, T0)
    q = await repo.add_question(pool, session_id, 1, "Why medicine?", "bank", "mmi-001", "dr_patel", T0)
    await repo.add_response(
        pool, session_id, q, "To help people.", T0 + timedelta(seconds=3), T0 + timedelta(seconds=9)
    )

    response = await app_client.get(f"/v1/sessions/{session_id}")
    assert response.status_code == 200
    detail = response.json()
    assert detail["status"] == "live"
    assert datetime.fromisoformat(detail["started_at"]) == T0
    assert [(e["speaker"], e["text"], e["seq"]) for e in detail["transcript"]] == [
        ("interviewer", "Why medicine?", 1),
        ("candidate", "To help people.", 1),
    ]
    assert detail["transcript"][0]["source"] == "bank"
    assert detail["transcript"][1]["question_id"] == str(q)


async def test_end_completes_once_and_closes_the_room(app_client: httpx.AsyncClient, app: FastAPI) -> None:
    rooms = FakeRooms()
    app.state.rooms = rooms
    session_id = (await _create(app_client))["session"]["id"]

    first = await app_client.post(f"/v1/sessions/{session_id}/end")
    assert first.status_code == 200
    ended = first.json()
    assert (ended["status"], ended["end_reason"]) == ("completed", "ended_by_candidate")
    assert ended["ended_at"] is not None

    second = await app_client.post(f"/v1/sessions/{session_id}/end")
    assert second.status_code == 200
    assert second.json() == ended
    assert rooms.closed and all(c == (session_id, "ended_by_candidate") for c in rooms.closed)


async def test_end_keeps_an_earlier_ending(app_client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    session_id = (await _create(app_client))["session"]["id"]
    await repo.mark_ended(pool, UUID(session_id), "failed", T0, "agent_crashed")
    ended = (await app_client.post(f"/v1/sessions/{session_id}/end")).json()
    assert (ended["status"], ended["end_reason"]) == ("failed", "agent_crashed")


async def test_end_without_a_room_service(app_client: httpx.AsyncClient) -> None:
    session_id = (await _create(app_client))["session"]["id"]
    response = await app_client.post(f"/v1/sessions/{session_id}/end")
    assert response.json()["status"] == "completed"


async def test_delete_removes_the_session_and_all_it_recorded(
    app_client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool
) -> None:
    rooms = FakeRooms()
    app.state.rooms = rooms
    session_id = (await _create(app_client))["session"]["id"]
    kept_id = (await _create(app_client))["session"]["id"]
    for sid in (session_id, kept_id):
        q = await repo.add_question(pool, UUID(sid), 1, "Why?", "bank", None, "dr_patel", T0)
        await repo.add_response(pool, UUID(sid), q, "Because.", T0, None, [{"w": "Because", "start": 0.0, "end": 0.4, "p": 0.9}])
        await repo.add_turn_latency(pool, UUID(sid), 1, T0, T0 + timedelta(milliseconds=500), 500.0)

    response = await app_client.delete(f"/v1/sessions/{session_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert [c[0] for c in rooms.closed] == [session_id]

    for table in ("sessions", "questions", "responses", "turn_latency"):
        column = "id" if table == "sessions" else "session_id"
        assert await pool.fetchval(f"SELECT count(*) FROM {table} WHERE {column} = $1", UUID(session_id)) == 0
        assert await pool.fetchval(f"SELECT count(*) FROM {table} WHERE {column} = $1", UUID(kept_id)) == 1

    assert (await app_client.get(f"/v1/sessions/{session_id}")).status_code == 404
    assert (await app_client.delete(f"/v1/sessions/{session_id}")).status_code == 404


async def test_fresh_tokens_are_for_the_candidate_only(
    app_client: httpx.AsyncClient, app: FastAPI, user_id: UUID
) -> None:
    session_id = (await _create(app_client))["session"]["id"]

    candidate = await app_client.post(f"/v1/sessions/{session_id}/token", json={"role": "candidate"})
    assert candidate.status_code == 200
    claims = app.state.tokens.verify(candidate.json()["token"], session_id)
    assert (claims.role, claims.can_publish, claims.hidden) == ("candidate", True, False)
    assert claims.identity == f"candidate-{user_id}"

    # Coaches watch through a share link, which can be revoked; never with a token minted here.
    for role in ("coach", "agent"):
        refused = await app_client.post(f"/v1/sessions/{session_id}/token", json={"role": role})
        assert refused.status_code == 422, role

    await app_client.post(f"/v1/sessions/{session_id}/end")
    ended = await app_client.post(f"/v1/sessions/{session_id}/token", json={"role": "candidate"})
    assert ended.status_code == 409
    assert ended.json() == {"detail": "session has ended"}


async def _foreign_session(pool: asyncpg.Pool) -> UUID:
    other_user = await make_user(pool)
    record = await repo.create_session(
        pool,
        user_id=other_user,
        role_track="general",
        round_type="behavioral",
        difficulty="easy",
        duration_min=10,
        persona="alex",
    )
    return record.id


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("POST", "/end", None),
        ("DELETE", "", None),
        ("POST", "/token", {"role": "candidate"}),
    ],
)
async def test_unknown_and_foreign_sessions_are_not_found(
    app_client: httpx.AsyncClient, pool: asyncpg.Pool, method: str, suffix: str, body: dict | None
) -> None:
    foreign = await _foreign_session(pool)
    for session_id in (uuid4(), foreign):
        response = await app_client.request(method, f"/v1/sessions/{session_id}{suffix}", json=body)
        assert response.status_code == 404
        assert response.json() == {"detail": "session not found"}
    # The foreign session was left alone.
    assert (await repo.get_session(pool, foreign)).status == "scheduled"

    malformed = await app_client.request(method, f"/v1/sessions/not-a-uuid{suffix}", json=body)
    assert malformed.status_code == 422
    assert "UUID" in str(malformed.json()["detail"])


async def test_openapi_documents_the_sessions_api(app_client: httpx.AsyncClient) -> None:
    spec = (await app_client.get("/openapi.json")).json()
    paths = spec["paths"]
    assert set(paths["/v1/sessions"]) == {"get", "post"}
    assert set(paths["/v1/sessions/{session_id}"]) == {"get", "delete"}
    assert "/v1/sessions/{session_id}/end" in paths and "/v1/sessions/{session_id}/token" in paths
    assert paths["/v1/sessions"]["post"]["tags"] == ["sessions"]
    assert "201" in paths["/v1/sessions"]["post"]["responses"]
    assert "404" in paths["/v1/sessions/{session_id}"]["get"]["responses"]


async def test_consent_to_the_current_policy_is_required(app_client: httpx.AsyncClient) -> None:
    missing = {k: v for k, v in NEW_SESSION.items() if k != "consent_version"}
    response = await app_client.post("/v1/sessions", json=missing)
    assert response.status_code == 422
    assert any("consent_version" in err["loc"] for err in response.json()["detail"])

    current = (await app_client.get("/v1/consent")).json()["version"]
    for outdated in ("2025-01", current + "-old", ""):
        response = await app_client.post("/v1/sessions", json={**NEW_SESSION, "consent_version": outdated})
        assert response.status_code == 409
        assert response.json() == {
            "detail": f"consent to the current policy (version {current}) is required"
        }
    assert (await app_client.get("/v1/sessions")).json() == []


async def test_create_records_consent_and_retention(app_client: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    session = (await _create(app_client))["session"]
    created_at = datetime.fromisoformat(session["created_at"])
    assert datetime.fromisoformat(session["consented_at"]) == created_at
    assert before - timedelta(seconds=5) <= created_at <= datetime.now(UTC) + timedelta(seconds=5)
    # The default: kept 90 days.
    assert session["retention_days"] == 90
    assert datetime.fromisoformat(session["retain_until"]) == created_at + timedelta(days=90)
    assert session["capture_signals"] is True
    assert (session["has_cv"], session["has_jd"], session["practice_question_id"]) == (False, False, None)

    week = (await _create(app_client, retention_days=7, capture_signals=False))["session"]
    assert datetime.fromisoformat(week["retain_until"]) == datetime.fromisoformat(week["created_at"]) + timedelta(days=7)
    assert week["capture_signals"] is False

    forever = (await _create(app_client, retention_days=None))["session"]
    assert (forever["retention_days"], forever["retain_until"]) == (None, None)


@pytest.mark.parametrize(
    "change",
    [
        {"retention_days": 14},
        {"retention_days": 0},
        {"retention_days": "forever"},
        {"capture_signals": "maybe"},
        {"cv_text": "x" * 20_001},
        {"jd_text": "y" * 20_001},
    ],
)
async def test_create_rejects_bad_choices(app_client: httpx.AsyncClient, change: dict) -> None:
    response = await app_client.post("/v1/sessions", json={**NEW_SESSION, **change})
    assert response.status_code == 422
    assert any(next(iter(change)) in err["loc"] for err in response.json()["detail"])
    # What was sent is not echoed back.
    assert "x" * 100 not in response.text and "y" * 100 not in response.text


async def test_cv_and_job_description_show_only_in_the_detail(app_client: httpx.AsyncClient) -> None:
    cv = "Nurse, 6 years on a cardiac ward. " * 500
    jd = "Charge nurse, night shifts."
    created = (await _create(app_client, cv_text=cv, jd_text=jd))["session"]
    assert (created["has_cv"], created["has_jd"]) == (True, True)
    assert "cv_text" not in created and "jd_text" not in created
    blank = (await _create(app_client, cv_text="   ", jd_text=""))["session"]
    assert (blank["has_cv"], blank["has_jd"]) == (False, False)

    listed = await app_client.get("/v1/sessions")
    assert "cardiac" not in listed.text and "Charge nurse" not in listed.text
    detail = (await app_client.get(f"/v1/sessions/{created['id']}")).json()
    assert (detail["cv_text"], detail["jd_text"]) == (cv.strip(), jd)


async def test_practice_question_must_be_in_the_bank(app_client: httpx.AsyncClient, app: FastAPI) -> None:
    question_id = app.state.question_bank.questions[-1].id
    session = (await _create(app_client, practice_question_id=question_id))["session"]
    assert session["practice_question_id"] == question_id
    assert (await app_client.get(f"/v1/sessions/{session['id']}")).json()["practice_question_id"] == question_id

    unknown = await app_client.post("/v1/sessions", json={**NEW_SESSION, "practice_question_id": "no-such-question"})
    assert unknown.status_code == 422
    assert unknown.json() == {"detail": "unknown question"}
    assert len((await app_client.get("/v1/sessions")).json()) == 1


async def test_a_panel_is_stored_led_by_its_first_persona(app_client: httpx.AsyncClient) -> None:
    payload = {k: v for k, v in NEW_SESSION.items() if k != "persona"}
    response = await app_client.post("/v1/sessions", json={**payload, "panel": ["dr_patel", "sam", "jordan"]})
    assert response.status_code == 201, response.text
    session = response.json()["session"]
    assert (session["persona"], session["panel"]) == ("dr_patel", ["dr_patel", "sam", "jordan"])
    detail = (await app_client.get(f"/v1/sessions/{session['id']}")).json()
    assert detail["panel"] == ["dr_patel", "sam", "jordan"]
    assert (await _create(app_client))["session"]["panel"] == []  # one interviewer


@pytest.mark.parametrize(
    ("panel", "says"),
    [
        (["dr_patel"], "at least 2"),
        (["dr_patel", "sam", "jordan", "alex"], "at most 3"),
        (["dr_patel", "dr_patel"], "distinct"),
        (["dr_patel", "nobody"], "Input should be"),  # which personas there are
        (["sam", "dr_patel"], "lead"),  # the session's persona is dr_patel
    ],
)
async def test_a_bad_panel_is_refused_with_the_reason(
    app_client: httpx.AsyncClient, panel: list[str], says: str
) -> None:
    response = await app_client.post("/v1/sessions", json={**NEW_SESSION, "panel": panel})
    assert response.status_code == 422
    assert says in response.text
    assert (await app_client.get("/v1/sessions")).json() == []
