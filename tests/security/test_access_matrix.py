"""Who may do what: every HTTP operation in the OpenAPI document and every WebSocket, tried as
each kind of caller, against one table of expected answers.

Callers: `anonymous` (nothing), `owner` (signed in, owns the sessions), `other` (signed in to
another account), `coach` (a live share link of the owner's session, not signed in) and
`revoked` (a share link the owner revoked). Signed-in coaches and organisations (issue 14):
`shared_coach` (the owner shares all sessions with this account), `org_admin` (owner of the
organisation the owner belongs to and shares all sessions with), `member` (a plain member of
that organisation), `admin_elsewhere` (owns another organisation, which another candidate
shares with), `coach_elsewhere` (another candidate's coach) and `coach_revoked` (the owner
shared with this account, then revoked it). A route added without a row here fails the suite.

Destructive rows run last, each on a session of its own, so one row never changes another's
answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import WebSocketRoute

from api.watch_access import ACCESS_ENDED_CLOSE
from tests.media.test_signalling import (  # noqa: F401  (fixtures used by name)
    Greenroom,
    StartGreenroom,
    start_greenroom,
    voice_models,
)
from tests.security.watching import coach_join, open_feed, share
from tests.users import PLAIN_SESSION, TEST_PASSWORD, new_email

COACHES = ("shared_coach", "org_admin")  # signed in, with a live coach share of the owner's sessions
STRANGERS = ("other", "member", "admin_elsewhere", "coach_elsewhere", "coach_revoked")  # signed in, no access
ROLES = ("anonymous", "owner", "coach", "revoked", *COACHES, *STRANGERS)
SIGNED_OUT = {"anonymous": 401, "coach": 401, "revoked": 401}
PUBLIC = dict.fromkeys(ROLES, 200)


def owned(ok: int, *, other: int = 404) -> dict[str, int]:
    """An operation on the owner's own session or export: the owner only."""
    return {**SIGNED_OUT, "owner": ok, **dict.fromkeys((*COACHES, *STRANGERS), other)}


def coached(ok: int, *, coach: int | None = None) -> dict[str, int]:
    """An operation on the owner's session that a coach with a live coach share may do too."""
    return {**owned(ok), **dict.fromkeys(COACHES, ok if coach is None else coach)}


def own_account(ok: int) -> dict[str, int]:
    """An operation on whoever is signed in: each signed-in caller on their own account."""
    return {**SIGNED_OUT, **dict.fromkeys(("owner", *COACHES, *STRANGERS), ok)}


def org_managers(ok: int) -> dict[str, int]:
    """An operation on the owner's organisation for its owners and admins only."""
    return {**own_account(404), "org_admin": ok}


def org_members(ok: int) -> dict[str, int]:
    """An operation on the owner's organisation for anyone in it (the owner is a member)."""
    return {**own_account(404), "org_admin": ok, "owner": ok, "member": ok}


def by_share_link(ok: int) -> dict[str, int]:
    """An operation whose credential is a share link in the path (others hold a made-up one)."""
    return {**dict.fromkeys(ROLES, 404), "coach": ok, "revoked": 410}


@dataclass(frozen=True)
class Row:
    expected: dict[str, int]
    body: Any = None
    session: str = "main"  # which of the owner's sessions {session_id} names
    last: int = 0  # destructive: runs after every other row, lowest first
    note: str = "coach's"  # which note of the main session {note_id} names


ROWS: dict[tuple[str, str], Row] = {
    ("POST", "/v1/auth/signup"): Row(dict.fromkeys(ROLES, 201), body=lambda: {"email": new_email(), "password": TEST_PASSWORD}),
    ("POST", "/v1/auth/signin"): Row({**dict.fromkeys(ROLES, 401), "owner": 200}, body="signin"),
    ("POST", "/v1/auth/signout"): Row(dict.fromkeys(ROLES, 204), last=3),
    ("GET", "/v1/auth/me"): Row(own_account(200)),
    ("DELETE", "/v1/users/me"): Row(own_account(204), last=2),
    ("GET", "/v1/catalog"): Row(PUBLIC),
    ("GET", "/v1/consent"): Row(PUBLIC),
    ("GET", "/v1/sessions"): Row(own_account(200)),
    ("POST", "/v1/sessions"): Row(own_account(201), body=PLAIN_SESSION),
    ("GET", "/v1/sessions/{session_id}"): Row(owned(200)),
    ("DELETE", "/v1/sessions/{session_id}"): Row(owned(204), session="deleted", last=1),
    ("POST", "/v1/sessions/{session_id}/end"): Row(owned(200), session="ended", last=1),
    ("POST", "/v1/sessions/{session_id}/token"): Row(owned(200), body={"role": "candidate"}),
    ("GET", "/v1/questions"): Row(own_account(200)),
    ("GET", "/v1/questions/{question_id}"): Row(own_account(200)),
    ("GET", "/v1/sessions/{session_id}/report"): Row(coached(200)),
    ("GET", "/v1/sessions/{session_id}/timeline"): Row(coached(200)),
    ("POST", "/v1/sessions/{session_id}/export"): Row(coached(201), body={"format": "pdf"}),
    ("GET", "/v1/exports/{export_id}"): Row(coached(200)),
    ("POST", "/v1/sessions/{session_id}/share"): Row(owned(201)),
    ("DELETE", "/v1/sessions/{session_id}/share"): Row(owned(204), session="unshared", last=1),
    ("GET", "/v1/shared/{token}"): Row(by_share_link(200)),
    ("POST", "/v1/shared/{token}/watch"): Row(by_share_link(200)),
    ("GET", "/v1/users/me/progress"): Row(own_account(200)),
    ("GET", "/v1/users/me/insights"): Row(own_account(200)),
    # Only LiveKit may call it (signed with its key; tests/livekit/test_livekit_api.py refuses the
    # rest with 401/400): none of these callers holds that, and with the embedded room it is off.
    ("POST", "/v1/livekit/webhook"): Row(dict.fromkeys(ROLES, 404)),
    # Coaches and organisations (issue 14).
    ("POST", "/v1/orgs"): Row(own_account(201), body={"name": "Advising"}),
    ("GET", "/v1/orgs"): Row(own_account(200)),
    ("GET", "/v1/orgs/{org_id}"): Row(org_members(200)),
    ("POST", "/v1/orgs/{org_id}/invites"): Row(org_managers(201), body={"role": "member"}),
    ("DELETE", "/v1/orgs/{org_id}/invites/{invite_id}"): Row(org_managers(204)),
    ("DELETE", "/v1/orgs/{org_id}/members/{user_id}"): Row(org_managers(204)),
    ("GET", "/v1/orgs/{org_id}/dashboard"): Row(org_managers(200)),
    ("GET", "/v1/orgs/{org_id}/audit"): Row(org_managers(200)),
    ("GET", "/v1/invites/{token}"): Row(PUBLIC),
    # Each caller has an invitation of their own; accepting joins the owner's organisation.
    ("POST", "/v1/invites/{token}/accept"): Row(own_account(200), last=1),
    ("GET", "/v1/me/audit"): Row(own_account(200)),
    # Sharing all one's sessions with the owner's organisation: only its members may.
    ("POST", "/v1/coach-shares"): Row({**own_account(404), "owner": 201, "member": 201, "org_admin": 201}, body="share_with_org"),
    ("GET", "/v1/coach-shares"): Row(own_account(200)),
    ("DELETE", "/v1/coach-shares/{share_id}"): Row(owned(204)),
    ("GET", "/v1/coaching"): Row(own_account(200)),
    ("POST", "/v1/sessions/{session_id}/watch"): Row(coached(404, coach=200)),
    ("GET", "/v1/sessions/{session_id}/notes"): Row(coached(200)),
    ("POST", "/v1/sessions/{session_id}/notes"): Row(coached(201), body={"t_ms": 1000, "body": "Good pace here."}),
    ("PATCH", "/v1/sessions/{session_id}/notes/{note_id}"): Row(coached(200, coach=403), body={"hidden": False}),
    # The owner's own note: its author deletes it (after the coaches were refused).
    ("DELETE", "/v1/sessions/{session_id}/notes/{note_id}"): Row(coached(204, coach=403), note="owner's", last=1),
    ("POST", "/v1/score"): Row(own_account(200), body={"question": "Tell me about a time you failed.", "answer": "I missed a deadline once, so I now plan with buffers.", "category": "behavioral"}),
}

# The signed-in coaches hold tokens from POST /v1/sessions/{id}/watch (coach_revoked's minted
# before the revoke); member and admin_elsewhere their own session's, coach_elsewhere one for the
# session it coaches.
ACCOUNT_SOCKETS = {
    "shared_coach": "joined", "org_admin": "joined", "coach_revoked": "ended",
    "member": "refused", "admin_elsewhere": "refused", "coach_elsewhere": "refused",
}
# WebSockets: what each caller's room token (or none) gets on the owner's main session.
SOCKETS: dict[str, dict[str, str]] = {
    "/v1/rooms/{session_id}/signal": {
        "anonymous": "refused", "owner": "joined", "other": "refused", "coach": "joined", "revoked": "ended",
        **ACCOUNT_SOCKETS,
    },
    "/v1/sessions/{session_id}/signals/live": {
        "anonymous": "refused", "owner": "joined", "other": "refused", "coach": "joined", "revoked": "ended",
        **ACCOUNT_SOCKETS,
    },
}


def _walk(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _walk(inner.routes) if inner is not None else [route]


def websocket_paths(app: FastAPI) -> set[str]:
    return {r.path for r in _walk(app.routes) if isinstance(r, WebSocketRoute) or type(r).__name__ == "APIWebSocketRoute"}


def http_operations(app: FastAPI) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops}


@dataclass
class World:
    """The callers and what their requests name."""

    greenroom: Greenroom
    clients: dict[str, httpx.AsyncClient]
    owner_email: str
    sessions: dict[str, str]
    export_id: str
    share_tokens: dict[str, str]
    room_tokens: dict[str, str | None]
    question_id: str
    org_id: str
    invite_id: str
    invite_tokens: dict[str, str]  # "view": one nobody accepts; each signed-in caller's own
    spare_id: str  # a member of the owner's organisation, to be removed
    coach_share_id: str  # one of the owner's coach shares, to be revoked
    note_ids: dict[str, str]

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()


async def _signed_in(base_url: str, email: str | None = None) -> tuple[httpx.AsyncClient, str]:
    """A client holding a Bearer sign-in (no cookie), and its email."""
    email = email or new_email()
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post("/v1/auth/signup", json={"email": email, "password": TEST_PASSWORD})
        assert response.status_code == 201, response.text
        response = await http.post("/v1/auth/signin", json={"email": email, "password": TEST_PASSWORD})
        assert response.status_code == 200, response.text
        token = response.json()["token"]
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30), email


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


async def _invite(admin: httpx.AsyncClient, org_id: str, role: str = "member") -> str:
    return (await _ok(await admin.post(f"/v1/orgs/{org_id}/invites", json={"role": role}), 201))["token"]


async def _world(greenroom: Greenroom) -> World:
    base = greenroom.base_url
    owner, owner_email = await _signed_in(base)
    clients = {"owner": owner}
    emails = {"owner": owner_email}
    for role in ("other", *COACHES, *STRANGERS[1:], "spare", "elsewhere_candidate"):
        clients[role], emails[role] = await _signed_in(base)
    for role in ("anonymous", "coach", "revoked"):
        clients[role] = httpx.AsyncClient(base_url=base, timeout=30)
    sessions = {}
    for name in ("main", "deleted", "ended", "unshared"):
        response = await owner.post("/v1/sessions", json=PLAIN_SESSION)
        assert response.status_code == 201, response.text
        sessions[name] = response.json()["session"]["id"]
    export = await owner.post(f"/v1/sessions/{sessions['main']}/export", json={"format": "pdf"})
    assert export.status_code == 201, export.text
    tokens = {}
    for name in ("main", "unshared"):
        response = await owner.post(f"/v1/sessions/{sessions[name]}/share")
        assert response.status_code == 201, response.text
        tokens[name] = response.json()["token"]
    # A coach token for the main session, minted while its share was live, then revoked: the
    # main session is shared again under a second link so the revoked one names it.
    revoked_join = await coach_join(greenroom, tokens["main"])
    assert (await owner.delete(f"/v1/sessions/{sessions['main']}/share")).status_code == 204
    tokens["revoked"] = tokens["main"]
    response = await owner.post(f"/v1/sessions/{sessions['main']}/share")
    assert response.status_code == 201, response.text
    tokens["main"] = response.json()["token"]
    coach = await coach_join(greenroom, tokens["main"])
    other_session = await clients["other"].post("/v1/sessions", json=PLAIN_SESSION)
    assert other_session.status_code == 201, other_session.text
    candidate = await owner.post(f"/v1/sessions/{sessions['main']}/token", json={"role": "candidate"})
    assert candidate.status_code == 200, candidate.text
    room_tokens = {
        "anonymous": None,
        "owner": candidate.json()["token"],
        "other": other_session.json()["room"]["token"],  # their own session's candidate token
        "coach": coach["token"],
        "revoked": revoked_join["token"],
    }
    question_id = (await owner.get("/v1/questions", params={"limit": 1})).json()["items"][0]["id"]

    # The owner's organisation (run by org_admin) and another one; coach shares of both kinds.
    org_admin = clients["org_admin"]
    org_id = (await _ok(await org_admin.post("/v1/orgs", json={"name": "Pre-med advising"}), 201))["id"]
    for role in ("owner", "member", "spare"):
        await _ok(await clients[role].post(f"/v1/invites/{await _invite(org_admin, org_id)}/accept"))
    elsewhere = (await _ok(await clients["admin_elsewhere"].post("/v1/orgs", json={"name": "Elsewhere"}), 201))["id"]
    theirs = clients["elsewhere_candidate"]
    await _ok(await theirs.post(f"/v1/invites/{await _invite(clients['admin_elsewhere'], elsewhere)}/accept"))
    their_session = (await _ok(await theirs.post("/v1/sessions", json=PLAIN_SESSION), 201))["session"]["id"]
    await _ok(await theirs.post("/v1/coach-shares", json={"org_id": elsewhere}), 201)
    await _ok(await theirs.post("/v1/coach-shares", json={"coach_email": emails["coach_elsewhere"]}), 201)
    await _ok(await owner.post("/v1/coach-shares", json={"org_id": org_id}), 201)
    await _ok(await owner.post("/v1/coach-shares", json={"coach_email": emails["shared_coach"]}), 201)
    revoked_share = await _ok(await owner.post("/v1/coach-shares", json={"coach_email": emails["coach_revoked"]}), 201)
    watch = {
        role: (await _ok(await clients[role].post(f"/v1/sessions/{sessions['main']}/watch")))["token"]
        for role in (*COACHES, "coach_revoked")
    }
    await _ok(await owner.delete(f"/v1/coach-shares/{revoked_share['id']}"), 204)
    spare_share = await _ok(await owner.post("/v1/coach-shares", json={"session_id": sessions["ended"], "coach_email": emails["spare"]}), 201)
    room_tokens |= {
        **watch,
        "coach_elsewhere": (await _ok(await clients["coach_elsewhere"].post(f"/v1/sessions/{their_session}/watch")))["token"],
    }
    for role in ("member", "admin_elsewhere"):
        room_tokens[role] = (await _ok(await clients[role].post("/v1/sessions", json=PLAIN_SESSION), 201))["room"]["token"]
    invite = await _ok(await org_admin.post(f"/v1/orgs/{org_id}/invites", json={"role": "admin"}), 201)
    invite_tokens = {"view": await _invite(org_admin, org_id)}
    for role in ("owner", *COACHES, *STRANGERS):
        invite_tokens[role] = await _invite(org_admin, org_id)
    notes = {}
    for name, author in (("coach's", "shared_coach"), ("owner's", "owner")):
        body = {"t_ms": 2000, "body": f"A note by the {author}."}
        notes[name] = (await _ok(await clients[author].post(f"/v1/sessions/{sessions['main']}/notes", json=body), 201))["id"]
    spare_id = (await _ok(await clients["spare"].get("/v1/auth/me")))["user"]["id"]
    for role in ("spare", "elsewhere_candidate"):
        await clients.pop(role).aclose()
    return World(
        greenroom, clients, owner_email, sessions, export.json()["id"], tokens, room_tokens, question_id,
        org_id, invite["id"], invite_tokens, spare_id, spare_share["id"], notes,
    )  # fmt: skip


def _url(path: str, world: World, row: Row, role: str) -> str:
    share = {"coach": world.share_tokens["main"], "revoked": world.share_tokens["revoked"]}
    if path.startswith("/v1/invites/"):
        token = world.invite_tokens.get(role if path.endswith("/accept") else "view", "not-an-invitation")
    else:
        token = share.get(role, "not-a-share-link")
    return path.format(
        session_id=world.sessions[row.session],
        export_id=world.export_id,
        token=token,
        question_id=world.question_id,
        org_id=world.org_id,
        invite_id=world.invite_id,
        user_id=world.spare_id,
        share_id=world.coach_share_id,
        note_id=world.note_ids[row.note],
    )


async def _call(world: World, method: str, path: str, row: Row, role: str) -> int:
    body = row.body() if callable(row.body) else row.body
    if body == "signin":
        body = {"email": world.owner_email, "password": TEST_PASSWORD if role == "owner" else "wrong password!"}
    elif body == "share_with_org":
        body = {"session_id": None, "org_id": world.org_id}
    client = world.clients[role]
    response = await client.request(method, _url(path, world, row, role), json=body)
    client.cookies.clear()  # signing up or in sets a cookie: each caller stays who it is
    return response.status_code


async def _socket_outcome(world: World, path: str, role: str) -> str:
    session_id = world.sessions["main"]
    token = world.room_tokens[role] or "not-a-token"
    if path.endswith("/signal"):
        room = await world.greenroom.connect(session_id)
        await room.send({"type": "join", "token": token})
        kinds = {"joined": "joined", "access_ended": "ended", "error": "refused"}
        async with asyncio.timeout(10):
            while not (answered := [e["type"] for e in room.events if e.get("type") in kinds]) and not room.closed:
                await asyncio.sleep(0.05)
        await room.close()
        return kinds[answered[0]] if answered else f"closed ({room.ws.close_code}) without an answer"
    feed, first = await open_feed(world.greenroom, session_id, token)
    await feed.close()
    if first.get("type") == "subscribed":
        return "joined"
    if first.get("type") == "access_ended" or feed.close_code == ACCESS_ENDED_CLOSE:
        return "ended"
    return "refused" if first.get("type") == "error" else f"no answer ({first})"


async def test_every_route_has_a_row_and_every_caller_gets_its_expected_answer(
    start_greenroom: StartGreenroom,
) -> None:
    greenroom = await start_greenroom(signals_enabled=False)
    app = greenroom.app
    assert http_operations(app) == set(ROWS), "routes without a row (or rows without a route)"
    assert websocket_paths(app) == set(SOCKETS), "WebSockets without a row (or rows without one)"

    wrong: list[str] = []
    world = await _world(greenroom)
    try:
        for (method, path), row in sorted(ROWS.items(), key=lambda item: item[1].last):
            # Signing out or deleting as the owner would end the owner's rows: the owner goes last.
            for role in sorted(ROLES, key=lambda r: r == "owner") if row.last else ROLES:
                got = await _call(world, method, path, row, role)
                if got != row.expected[role]:
                    wrong.append(f"{method} {path} as {role}: {got}, expected {row.expected[role]}")
    finally:
        await world.aclose()
    world = await _world(greenroom)  # the rows above deleted the accounts
    try:
        for path, expected in SOCKETS.items():
            for role in ROLES:
                got = await _socket_outcome(world, path, role)
                if got != expected[role]:
                    wrong.append(f"WS {path} as {role}: {got}, expected {expected[role]}")
    finally:
        await world.aclose()
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_every_row_names_every_caller(role: str) -> None:
    for key, row in ROWS.items():
        assert role in row.expected, key
    for key, expected in SOCKETS.items():
        assert role in expected, key
