"""Organisations: members with roles, invitations by link that expire, leaving and removal."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import pytest
from fastapi import FastAPI

from tests.api.people import Person, org_with, sign_up


@pytest.fixture
async def people(app: FastAPI) -> AsyncIterator[dict[str, Person]]:
    made = {name: await sign_up(app, name) for name in ("Olga", "Ade", "Mia", "Nils", "Xena")}
    yield made
    for person in made.values():
        await person.aclose()


async def test_the_creator_owns_it_and_members_see_only_name_and_role(people: dict[str, Person]) -> None:
    olga, ade, mia, xena = people["Olga"], people["Ade"], people["Mia"], people["Xena"]
    made = await olga.http.post("/v1/orgs", json={"name": "Pre-med advising"})
    assert made.status_code == 201
    assert made.json()["role"] == "owner" and made.json()["name"] == "Pre-med advising"
    org_id = made.json()["id"]
    for person, role in ((ade, "admin"), (mia, "member")):
        invite = (await olga.http.post(f"/v1/orgs/{org_id}/invites", json={"role": role})).json()
        assert invite["url"] == f"/invite/{invite['token']}"
        assert (await person.http.post(f"/v1/invites/{invite['token']}/accept")).json() == {"org_id": org_id, "role": role}

    assert (await olga.http.get("/v1/orgs")).json() == [{"id": org_id, "name": "Pre-med advising", "role": "owner"}]
    assert (await mia.http.get("/v1/orgs")).json() == [{"id": org_id, "name": "Pre-med advising", "role": "member"}]
    as_admin = (await ade.http.get(f"/v1/orgs/{org_id}")).json()
    assert [(m["display_name"], m["role"]) for m in as_admin["members"]] == [("Olga", "owner"), ("Ade", "admin"), ("Mia", "member")]
    assert {m["email"] for m in as_admin["members"]} == {olga.email, ade.email, mia.email}
    as_member = (await mia.http.get(f"/v1/orgs/{org_id}")).json()
    assert (as_member["role"], as_member["members"], as_member["invites"]) == ("member", [], [])
    assert (await xena.http.get(f"/v1/orgs/{org_id}")).status_code == 404
    # Only owners and admins invite; a member or an outsider is told there is no such organisation.
    assert (await mia.http.post(f"/v1/orgs/{org_id}/invites", json={})).status_code == 404
    assert (await xena.http.post(f"/v1/orgs/{org_id}/invites", json={})).status_code == 404
    assert (await ade.http.post(f"/v1/orgs/{org_id}/invites", json={})).status_code == 201


async def test_an_invitation_works_once_and_not_after_it_expires_or_is_revoked(
    people: dict[str, Person], pool: asyncpg.Pool
) -> None:
    olga, mia, nils, xena = people["Olga"], people["Mia"], people["Nils"], people["Xena"]
    org_id = await org_with(olga, "Career centre")
    invite = (await olga.http.post(f"/v1/orgs/{org_id}/invites", json={"role": "member", "expires_in_hours": 2})).json()
    offered = await xena.http.get(f"/v1/invites/{invite['token']}")
    assert offered.status_code == 200 and offered.json()["org_name"] == "Career centre" and offered.json()["role"] == "member"
    assert (await mia.http.post(f"/v1/invites/{invite['token']}/accept")).status_code == 200
    assert (await nils.http.post(f"/v1/invites/{invite['token']}/accept")).status_code == 410  # used
    assert (await xena.http.get(f"/v1/invites/{invite['token']}")).status_code == 410
    assert (await xena.http.get("/v1/invites/no-such-token")).status_code == 404
    assert (await xena.http.post("/v1/invites/no-such-token/accept")).status_code == 404

    expiring = (await olga.http.post(f"/v1/orgs/{org_id}/invites", json={})).json()
    await pool.execute("UPDATE org_invites SET expires_at = now() WHERE id = $1", UUID(expiring["id"]))
    assert (await nils.http.post(f"/v1/invites/{expiring['token']}/accept")).status_code == 410

    revoked = (await olga.http.post(f"/v1/orgs/{org_id}/invites", json={"role": "admin"})).json()
    pending = (await olga.http.get(f"/v1/orgs/{org_id}")).json()["invites"]
    assert [i["id"] for i in pending] == [revoked["id"]]
    assert (await olga.http.delete(f"/v1/orgs/{org_id}/invites/{revoked['id']}")).status_code == 204
    assert (await nils.http.post(f"/v1/invites/{revoked['token']}/accept")).status_code == 410
    assert (await olga.http.get(f"/v1/orgs/{org_id}")).json()["invites"] == []
    assert (await nils.http.get(f"/v1/orgs/{org_id}")).status_code == 404
    for hours in (0, 721):
        bad = await olga.http.post(f"/v1/orgs/{org_id}/invites", json={"expires_in_hours": hours})
        assert bad.status_code == 422
    # Only the invitation's hash is kept.
    stored = await pool.fetchval("SELECT token_hash FROM org_invites WHERE id = $1", UUID(invite["id"]))
    assert stored == hashlib.sha256(invite["token"].encode()).digest()


async def test_a_member_can_leave_admins_remove_members_and_nobody_removes_the_owner(people: dict[str, Person]) -> None:
    olga, ade, mia, nils = people["Olga"], people["Ade"], people["Mia"], people["Nils"]
    org_id = await org_with(olga, "Recruiters", admins=(ade,), members=(mia, nils))
    assert (await mia.http.delete(f"/v1/orgs/{org_id}/members/{nils.id}")).status_code == 404  # a member removes nobody
    assert (await ade.http.delete(f"/v1/orgs/{org_id}/members/{olga.id}")).status_code == 409
    assert (await olga.http.delete(f"/v1/orgs/{org_id}/members/{olga.id}")).status_code == 409
    assert (await ade.http.delete(f"/v1/orgs/{org_id}/members/{nils.id}")).status_code == 204
    assert (await mia.http.delete(f"/v1/orgs/{org_id}/members/{mia.id}")).status_code == 204
    members = (await olga.http.get(f"/v1/orgs/{org_id}")).json()["members"]
    assert [m["display_name"] for m in members] == ["Olga", "Ade"]
    assert (await nils.http.get("/v1/orgs")).json() == []
    log = (await olga.http.get(f"/v1/orgs/{org_id}/audit")).json()
    removed = [e for e in log if e["action"] == "member_removed"]
    assert [(e["actor_name"], e["detail"]["left"]) for e in removed] == [("Mia", True), ("Ade", False)]


async def test_an_admin_invitation_never_lowers_a_role(people: dict[str, Person]) -> None:
    olga, ade = people["Olga"], people["Ade"]
    org_id = await org_with(olga, "Advisors", admins=(ade,))
    invite = (await olga.http.post(f"/v1/orgs/{org_id}/invites", json={"role": "member"})).json()
    assert (await ade.http.post(f"/v1/invites/{invite['token']}/accept")).json()["role"] == "admin"
    own = (await olga.http.post(f"/v1/orgs/{org_id}/invites", json={"role": "admin"})).json()
    assert (await olga.http.post(f"/v1/invites/{own['token']}/accept")).json()["role"] == "owner"


async def test_an_owner_who_deletes_their_account_hands_the_organisation_on_or_takes_it_with_them(
    people: dict[str, Person], pool: asyncpg.Pool
) -> None:
    olga, ade, mia, nils = people["Olga"], people["Ade"], people["Mia"], people["Nils"]
    shared = await org_with(olga, "Pre-med advising", admins=(ade,), members=(mia,))
    alone = await org_with(olga, "Olga's own")
    kept = await org_with(nils, "Nils's centre", members=(olga,))
    assert (await olga.http.delete("/v1/users/me")).status_code == 204
    # The longest-standing admin owns it now; a member is still a member.
    roles = {m["display_name"]: m["role"] for m in (await ade.http.get(f"/v1/orgs/{shared}")).json()["members"]}
    assert roles == {"Ade": "owner", "Mia": "member"}
    # An organisation nobody else was in went with the account, invitations, log and all.
    assert await pool.fetchval("SELECT count(*) FROM organisations WHERE id = $1", UUID(alone)) == 0
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE org_id = $1", UUID(alone)) == 0
    # One the account only belonged to is untouched.
    assert [m["display_name"] for m in (await nils.http.get(f"/v1/orgs/{kept}")).json()["members"]] == ["Nils"]
