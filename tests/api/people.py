"""Signed-in people for the coaching and organisation tests: each an HTTP client of its own."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import httpx
from fastapi import FastAPI

from tests.users import PLAIN_SESSION, TEST_PASSWORD, new_email


@dataclass
class Person:
    """An account and a client signed in to it (Bearer, no cookie)."""

    id: UUID
    email: str
    name: str
    http: httpx.AsyncClient

    async def new_session(self) -> str:
        response = await self.http.post("/v1/sessions", json=PLAIN_SESSION)
        assert response.status_code == 201, response.text
        return response.json()["session"]["id"]

    async def share(self, *, session_id: str | None = None, coach: Person | None = None, org_id: str | None = None) -> dict:
        body = {"session_id": session_id, "coach_email": coach.email if coach else None, "org_id": org_id}
        response = await self.http.post("/v1/coach-shares", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def aclose(self) -> None:
        await self.http.aclose()


async def sign_up(app: FastAPI | None, name: str, *, base_url: str | None = None) -> Person:
    """A fresh account with this display name, signed in (in process, or at base_url)."""
    email = new_email()
    if base_url is None:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://greenroom.test", timeout=30)
    else:
        http = httpx.AsyncClient(base_url=base_url, timeout=30)
    response = await http.post(
        "/v1/auth/signup", json={"email": email, "password": TEST_PASSWORD, "display_name": name}
    )
    assert response.status_code == 201, response.text
    http.cookies.clear()
    http.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return Person(UUID(response.json()["user"]["id"]), email, name, http)


async def org_with(owner: Person, name: str, *, admins: tuple[Person, ...] = (), members: tuple[Person, ...] = ()) -> str:
    """An organisation the owner makes, joined by these admins and members through invitations."""
    made = await owner.http.post("/v1/orgs", json={"name": name})
    assert made.status_code == 201, made.text
    org_id = made.json()["id"]
    for role, people in (("admin", admins), ("member", members)):
        for person in people:
            invite = await owner.http.post(f"/v1/orgs/{org_id}/invites", json={"role": role})
            assert invite.status_code == 201, invite.text
            accepted = await person.http.post(f"/v1/invites/{invite.json()['token']}/accept")
            assert accepted.status_code == 200, accepted.text
    return org_id
