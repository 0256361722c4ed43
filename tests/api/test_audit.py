"""The audit log: sign-ins, shares, revokes, coach joins, exports and deletions; the candidate sees
their own, an organisation's owners and admins see the organisation's, nobody else sees either."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import pytest
from fastapi import FastAPI

from db import sessions as repo
from scoring.offline import OfflineEvaluator
from tests.api.people import Person, org_with, sign_up
from tests.users import TEST_PASSWORD

NOTE = "Private remark about the answer on budgets"


@pytest.fixture
async def people(app: FastAPI) -> AsyncIterator[dict[str, Person]]:
    app.state.evaluator = OfflineEvaluator()
    made = {name: await sign_up(app, name) for name in ("Cara", "Olga", "Ade", "Mia", "Xena")}
    yield made
    for person in made.values():
        await person.aclose()


async def test_the_candidate_sees_what_was_done_with_their_sessions_newest_first(
    people: dict[str, Person], pool: asyncpg.Pool
) -> None:
    cara, olga, ade, mia, xena = (people[n] for n in ("Cara", "Olga", "Ade", "Mia", "Xena"))
    org_id = await org_with(olga, "Advising", admins=(ade,), members=(cara, mia))
    await org_with(xena, "Other place")
    signed_in = await cara.http.post("/v1/auth/signin", json={"email": cara.email, "password": TEST_PASSWORD})
    assert signed_in.status_code == 200
    session_id = await cara.new_session()
    share = await cara.share(session_id=session_id, org_id=org_id)
    await repo.mark_live(pool, UUID(session_id), datetime.now(UTC))
    assert (await ade.http.post(f"/v1/sessions/{session_id}/watch")).status_code == 200
    assert (await ade.http.post(f"/v1/sessions/{session_id}/notes", json={"t_ms": 10, "body": NOTE})).status_code == 201
    assert (await ade.http.post(f"/v1/sessions/{session_id}/export", json={"format": "pdf"})).status_code == 201
    assert (await cara.http.delete(f"/v1/coach-shares/{share['id']}")).status_code == 204
    assert (await cara.http.delete(f"/v1/sessions/{session_id}")).status_code == 204

    mine = (await cara.http.get("/v1/me/audit")).json()
    assert [(e["action"], e["actor_name"]) for e in mine] == [
        ("session_deleted", "Cara"),
        ("share_revoked", "Cara"),
        ("export_created", "Ade"),
        ("note_added", "Ade"),
        ("coach_joined", "Ade"),
        ("share_created", "Cara"),
        ("sign_in", "Cara"),
        ("org_joined", "Cara"),
        ("sign_in", "Cara"),  # signing up signs in
    ]
    assert all(e["session_id"] == session_id for e in mine[:6])
    assert mine[4]["org_id"] == org_id and mine[4]["detail"] == {"via": "org"}
    assert (await cara.http.get("/v1/me/audit", params={"limit": 2, "offset": 1})).json() == mine[1:3]

    org_log = (await olga.http.get(f"/v1/orgs/{org_id}/audit")).json()
    assert (await ade.http.get(f"/v1/orgs/{org_id}/audit")).json() == org_log
    assert [e["action"] for e in org_log][:5] == ["share_revoked", "export_created", "note_added", "coach_joined", "share_created"]
    for outsider in (mia, xena):  # a member, and the owner of another organisation
        assert (await outsider.http.get(f"/v1/orgs/{org_id}/audit")).status_code == 404
    # The log keeps ids and choices, never what was said or written.
    details = json.dumps([e["detail"] for e in mine + org_log])
    assert NOTE not in details and "budgets" not in details
    # What others did shows in their own log too (Ade's coach join), not in a stranger's.
    assert "coach_joined" in [e["action"] for e in (await ade.http.get("/v1/me/audit")).json()]
    assert "coach_joined" not in [e["action"] for e in (await mia.http.get("/v1/me/audit")).json()]


async def test_deleting_the_account_deletes_its_log_and_tells_its_organisations(
    people: dict[str, Person], pool: asyncpg.Pool
) -> None:
    cara, olga = people["Cara"], people["Olga"]
    org_id = await org_with(olga, "Advising", members=(cara,))
    await cara.share(org_id=org_id)
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE subject_user_id = $1", cara.id) > 0
    assert (await cara.http.delete("/v1/users/me")).status_code == 204
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE subject_user_id = $1 OR actor_id = $1", cara.id) == 0
    org_log = (await olga.http.get(f"/v1/orgs/{org_id}/audit")).json()
    assert org_log[0]["action"] == "account_deleted" and org_log[0]["actor_name"] is None
    assert (await cara.http.get("/v1/me/audit")).status_code == 401
