"""Coach shares: a candidate shares one session or all of them with a coach or an organisation;
the coach reads the report, timeline and exports and watches live; a revoke ends it all at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import pytest
from fastapi import FastAPI

from db import sessions as repo
from scoring.offline import OfflineEvaluator
from tests.api.people import Person, org_with, sign_up

READS = ("report", "timeline")


@pytest.fixture
async def people(app: FastAPI) -> AsyncIterator[dict[str, Person]]:
    app.state.evaluator = OfflineEvaluator()
    made = {name: await sign_up(app, name) for name in ("Cara", "Coach Kim", "Olga", "Ade", "Mia", "Xena", "Zed")}
    yield made
    for person in made.values():
        await person.aclose()


async def _reads(person: Person, session_id: str) -> dict[str, int]:
    """What the person gets from the session's read-only routes."""
    got = {kind: (await person.http.get(f"/v1/sessions/{session_id}/{kind}")).status_code for kind in READS}
    got["notes"] = (await person.http.get(f"/v1/sessions/{session_id}/notes")).status_code
    return got


ALLOWED = {"report": 200, "timeline": 200, "notes": 200}
REFUSED = {"report": 404, "timeline": 404, "notes": 404}


async def test_a_coach_reads_a_shared_session_and_loses_it_the_moment_it_is_revoked(
    people: dict[str, Person], pool: asyncpg.Pool
) -> None:
    cara, kim, xena = people["Cara"], people["Coach Kim"], people["Xena"]
    shared, private = await cara.new_session(), await cara.new_session()
    share = await cara.share(session_id=shared, coach=kim)
    assert share["coach"] == {"id": str(kim.id), "display_name": "Coach Kim"} and share["org"] is None
    assert share["session_id"] == shared
    assert [s["id"] for s in (await cara.http.get("/v1/coach-shares")).json()] == [share["id"]]

    coaching = (await kim.http.get("/v1/coaching")).json()
    assert [(c["session_id"], c["candidate"]["display_name"], c["via"], c["live"]) for c in coaching] == [
        (shared, "Cara", "coach", False)
    ]
    assert await _reads(kim, shared) == ALLOWED
    assert await _reads(kim, private) == REFUSED
    assert await _reads(xena, shared) == REFUSED
    export = await kim.http.post(f"/v1/sessions/{shared}/export", json={"format": "pdf"})
    assert export.status_code == 201, export.text
    download = await kim.http.get(export.json()["download_url"])
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert (await xena.http.get(export.json()["download_url"])).status_code == 404
    # Read-only: no deleting, ending, sharing or re-sharing; the transcript stays the candidate's.
    assert (await kim.http.delete(f"/v1/sessions/{shared}")).status_code == 404
    assert (await kim.http.post(f"/v1/sessions/{shared}/end")).status_code == 404
    assert (await kim.http.post(f"/v1/sessions/{shared}/share")).status_code == 404
    assert (await kim.http.get(f"/v1/sessions/{shared}")).status_code == 404
    reshare = await kim.http.post("/v1/coach-shares", json={"session_id": shared, "coach_email": xena.email})
    assert reshare.status_code == 404
    assert (await kim.http.delete(f"/v1/coach-shares/{share['id']}")).status_code == 404

    assert (await cara.http.delete(f"/v1/coach-shares/{share['id']}")).status_code == 204
    assert await _reads(kim, shared) == REFUSED
    assert (await kim.http.get(export.json()["download_url"])).status_code == 404
    assert (await kim.http.post(f"/v1/sessions/{shared}/export", json={"format": "csv"})).status_code == 404
    assert (await kim.http.get("/v1/coaching")).json() == []
    assert (await cara.http.get("/v1/coach-shares")).json() == []
    # The candidate still has it all.
    assert (await cara.http.get(export.json()["download_url"])).status_code == 200


async def test_sharing_everything_covers_sessions_made_later(people: dict[str, Person]) -> None:
    cara, kim = people["Cara"], people["Coach Kim"]
    before = await cara.new_session()
    share = await cara.share(coach=kim)
    assert share["session_id"] is None
    after = await cara.new_session()
    assert {c["session_id"] for c in (await kim.http.get("/v1/coaching")).json()} == {before, after}
    assert await _reads(kim, after) == ALLOWED
    assert (await cara.http.delete(f"/v1/coach-shares/{share['id']}")).status_code == 204
    assert await _reads(kim, before) == REFUSED and await _reads(kim, after) == REFUSED


async def test_an_organisation_share_reaches_its_owners_and_admins_only(people: dict[str, Person]) -> None:
    cara, olga, ade, mia, xena, zed = (people[n] for n in ("Cara", "Olga", "Ade", "Mia", "Xena", "Zed"))
    org_id = await org_with(olga, "Pre-med", admins=(ade,), members=(cara, mia))
    other_org = await org_with(xena, "Elsewhere", admins=(zed,))
    session_id = await cara.new_session()
    share = await cara.share(org_id=org_id)
    assert share["org"] == {"id": org_id, "name": "Pre-med"} and share["coach"] is None
    for coach in (olga, ade):
        assert await _reads(coach, session_id) == ALLOWED
        listed = (await coach.http.get("/v1/coaching")).json()
        assert [(c["session_id"], c["via"], c["org_id"]) for c in listed] == [(session_id, "org", org_id)]
    for outsider in (mia, xena, zed):  # a plain member; the owner and an admin of another organisation
        assert await _reads(outsider, session_id) == REFUSED
        assert (await outsider.http.get("/v1/coaching")).json() == []
    # Sharing with an organisation one does not belong to is refused as if it did not exist.
    refused = await cara.http.post("/v1/coach-shares", json={"session_id": None, "coach_email": None, "org_id": other_org})
    assert refused.status_code == 404
    # A candidate who leaves the organisation takes their sessions with them.
    assert (await cara.http.delete(f"/v1/orgs/{org_id}/members/{cara.id}")).status_code == 204
    assert await _reads(ade, session_id) == REFUSED
    assert (await cara.http.get("/v1/coach-shares")).json() == []


async def test_a_share_names_exactly_one_existing_recipient(people: dict[str, Person]) -> None:
    cara, kim = people["Cara"], people["Coach Kim"]
    unknown = await cara.http.post("/v1/coach-shares", json={"coach_email": "nobody-here@example.test"})
    assert unknown.status_code == 404 and "sign up" in unknown.json()["detail"]
    both = await cara.http.post("/v1/coach-shares", json={"coach_email": kim.email, "org_id": str(kim.id)})
    assert both.status_code == 422
    assert (await cara.http.post("/v1/coach-shares", json={})).status_code == 422
    assert (await cara.http.post("/v1/coach-shares", json={"coach_email": cara.email})).status_code == 422
    not_mine = await kim.new_session()
    response = await cara.http.post("/v1/coach-shares", json={"session_id": not_mine, "coach_email": kim.email})
    assert response.status_code == 404
    # The email is matched as accounts are (case and spaces do not matter).
    ok = await cara.http.post("/v1/coach-shares", json={"coach_email": f"  {kim.email.upper()} "})
    assert ok.status_code == 201, ok.text


async def test_a_coach_watches_a_live_shared_session_under_their_name(
    people: dict[str, Person], app: FastAPI, pool: asyncpg.Pool
) -> None:
    cara, kim, xena = people["Cara"], people["Coach Kim"], people["Xena"]
    session_id = await cara.new_session()
    assert (await kim.http.post(f"/v1/sessions/{session_id}/watch")).status_code == 404
    share = await cara.share(session_id=session_id, coach=kim)
    await repo.mark_live(pool, UUID(session_id), datetime.now(UTC))
    assert (await kim.http.get("/v1/coaching")).json()[0]["live"] is True

    response = await kim.http.post(f"/v1/sessions/{session_id}/watch")
    assert response.status_code == 200, response.text
    join = response.json()
    assert join["role"] == "coach" and join["identity"].startswith(f"coach-{kim.id}-")
    claims = app.state.tokens.verify(join["token"], session_id)
    assert (claims.role, claims.name, claims.coach_id, claims.share_id) == ("coach", "Coach Kim", str(kim.id), None)
    assert (claims.can_publish, claims.hidden) == (False, True)
    assert (await xena.http.post(f"/v1/sessions/{session_id}/watch")).status_code == 404
    assert (await cara.http.post(f"/v1/sessions/{session_id}/watch")).status_code == 404

    assert (await cara.http.delete(f"/v1/coach-shares/{share['id']}")).status_code == 204
    assert (await kim.http.post(f"/v1/sessions/{session_id}/watch")).status_code == 404
    await cara.share(session_id=session_id, coach=kim)
    await repo.mark_ended(pool, UUID(session_id), "completed", datetime.now(UTC), "interview_finished")
    assert (await kim.http.post(f"/v1/sessions/{session_id}/watch")).status_code == 409
