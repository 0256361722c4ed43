"""Accounts over HTTP: sign up, sign in, sign out, bearer tokens, who may see what, and deleting
an account with everything in it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from scoring.offline import OfflineEvaluator
from tests.api.full_session import fill_session, session_rows
from tests.users import PLAIN_SESSION, TEST_PASSWORD, new_email

PUBLIC_ROUTES = {
    ("POST", "/v1/auth/signup"),
    ("POST", "/v1/auth/signin"),
    ("POST", "/v1/auth/signout"),
    ("GET", "/v1/catalog"),
    ("GET", "/v1/consent"),
    ("GET", "/v1/shared/{token}"),
    ("POST", "/v1/shared/{token}/watch"),
    ("GET", "/v1/invites/{token}"),  # what an invitation link offers, before signing in
    ("POST", "/v1/livekit/webhook"),  # no sign-in: LiveKit signs each call (tests/livekit)
}


def _client(app: FastAPI, base_url: str = "http://greenroom.test") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
async def other_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A second client, for a second account."""
    async with _client(app) as client:
        yield client


async def _sign_up(client: httpx.AsyncClient, email: str | None = None, **extra: object) -> dict:
    response = await client.post(
        "/v1/auth/signup", json={"email": email or new_email(), "password": TEST_PASSWORD, **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


def _set_cookie(response: httpx.Response) -> str:
    headers = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    assert len(headers) == 1, headers
    return headers[0]


async def test_sign_up_me_sign_out(anonymous_client: httpx.AsyncClient, settings) -> None:
    email = new_email()
    response = await anonymous_client.post(
        "/v1/auth/signup",
        json={"email": f"  {email.upper()} ", "password": TEST_PASSWORD, "display_name": " Sam "},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"user", "token"}
    assert body["user"]["email"] == email
    assert body["user"]["display_name"] == "Sam"
    assert set(body["user"]) == {"id", "email", "display_name", "created_at"}

    cookie = _set_cookie(response)
    assert cookie.startswith(f"greenroom_session={body['token']};")
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes and "secure" not in attributes
    assert attributes["samesite"].lower() == "samesite=lax"
    assert attributes["path"] == "Path=/"
    assert attributes["max-age"] == f"Max-Age={settings.auth_token_ttl_s}"

    me = await anonymous_client.get("/v1/auth/me")
    assert me.status_code == 200
    assert me.json() == {"user": body["user"]}

    out = await anonymous_client.post("/v1/auth/signout")
    assert out.status_code == 204
    assert 'greenroom_session=""' in _set_cookie(out) or "Max-Age=0" in _set_cookie(out)
    after = await anonymous_client.get("/v1/auth/me")
    assert after.status_code == 401
    assert after.json() == {"detail": "sign in required"}
    # The token itself is dead, not just the cookie gone.
    bearer = await anonymous_client.get("/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert bearer.status_code == 401


async def test_cookie_is_secure_over_https(app: FastAPI) -> None:
    async with _client(app, "https://greenroom.test") as client:
        response = await client.post("/v1/auth/signup", json={"email": new_email(), "password": TEST_PASSWORD})
        assert response.status_code == 201
        assert "secure" in _set_cookie(response).lower().replace(" ", "").split(";")


async def test_duplicate_email_is_409(anonymous_client: httpx.AsyncClient, other_client: httpx.AsyncClient) -> None:
    email = new_email()
    await _sign_up(anonymous_client, email)
    for again in (email, email.upper(), f" {email}"):
        response = await other_client.post("/v1/auth/signup", json={"email": again, "password": "another password"})
        assert response.status_code == 409
        assert response.json() == {"detail": "an account with this email already exists"}
        assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "no-at-sign.example.test"}, "email"),
        ({"email": "two words@example.test"}, "email"),
        ({"email": "a" * 250 + "@x.test"}, "email"),
        ({"password": "zq9Xk"}, "password"),
        ({"password": "p" * 257}, "password"),
        ({"display_name": "n" * 81}, "display_name"),
        ({"role": "admin"}, "role"),
    ],
)
async def test_sign_up_validates_without_echoing(
    anonymous_client: httpx.AsyncClient, change: dict, field: str
) -> None:
    payload = {"email": new_email(), "password": TEST_PASSWORD, **change}
    response = await anonymous_client.post("/v1/auth/signup", json=payload)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(field in err["loc"] for err in errors)
    assert payload["password"] not in response.text
    assert (await anonymous_client.get("/v1/auth/me")).status_code == 401


async def test_sign_in(anonymous_client: httpx.AsyncClient, other_client: httpx.AsyncClient, settings) -> None:
    email = new_email()
    signed_up = await _sign_up(anonymous_client, email)

    response = await other_client.post("/v1/auth/signin", json={"email": email.upper(), "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == signed_up["user"]
    assert body["token"] != signed_up["token"]
    assert f"Max-Age={settings.auth_token_ttl_s}" in _set_cookie(response)
    assert (await other_client.get("/v1/auth/me")).json()["user"]["id"] == signed_up["user"]["id"]

    # Signing out one device leaves the other signed in.
    await other_client.post("/v1/auth/signout")
    assert (await anonymous_client.get("/v1/auth/me")).status_code == 200


async def test_wrong_password_and_unknown_email_look_the_same(
    app: FastAPI, anonymous_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db import accounts

    email = new_email()
    await _sign_up(anonymous_client, email)
    await anonymous_client.post("/v1/auth/signout")

    checked: list[str] = []
    real = accounts.password_matches

    def counting(password: str, stored: str) -> bool:
        checked.append(stored)
        return real(password, stored)

    monkeypatch.setattr(accounts, "password_matches", counting)
    wrong = await anonymous_client.post("/v1/auth/signin", json={"email": email, "password": "not the password"})
    unknown = await anonymous_client.post("/v1/auth/signin", json={"email": new_email(), "password": TEST_PASSWORD})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json() == {"detail": "wrong email or password"}
        assert "set-cookie" not in response.headers
    # Both ran the password hash (an unknown email against a stand-in), so both took as long.
    assert len(checked) == 2 and all(c.startswith("scrypt$") for c in checked)
    assert (await anonymous_client.get("/v1/auth/me")).status_code == 401


async def test_bearer_header_works(app: FastAPI, anonymous_client: httpx.AsyncClient) -> None:
    token = (await _sign_up(anonymous_client))["token"]
    async with _client(app) as bare:
        ok = await bare.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        created = await bare.post("/v1/sessions", json=PLAIN_SESSION, headers={"Authorization": f"bearer {token}"})
        assert created.status_code == 201
        bad = await bare.get("/v1/sessions", headers={"Authorization": f"Bearer {token[:-2]}xx"})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"] == "Bearer"
        assert bad.json() == {"detail": "sign in required"}


async def test_every_private_route_needs_sign_in(anonymous_client: httpx.AsyncClient) -> None:
    checked = []
    spec = (await anonymous_client.get("/openapi.json")).json()
    for template, operations in spec["paths"].items():
        path = re.sub(r"\{session_id\}|\{export_id\}", str(uuid4()), template)
        path = re.sub(r"\{[a-z_]+\}", "x", path)
        for method in (m.upper() for m in operations):
            if (method, template) in PUBLIC_ROUTES:
                continue
            response = await anonymous_client.request(method, path, json={})
            assert response.status_code == 401, (method, template, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            checked.append((method, template))
    assert ("GET", "/v1/questions") in checked and ("POST", "/v1/score") in checked
    assert ("GET", "/v1/users/me/progress") in checked and ("DELETE", "/v1/users/me") in checked
    assert len(checked) >= 15


async def test_public_routes_answer_without_sign_in(anonymous_client: httpx.AsyncClient) -> None:
    assert (await anonymous_client.get("/v1/catalog")).status_code == 200
    assert (await anonymous_client.get("/v1/consent")).status_code == 200
    assert (await anonymous_client.get("/v1/shared/not-a-token")).status_code == 404
    assert (await anonymous_client.post("/v1/shared/not-a-token/watch")).status_code == 404
    assert (await anonymous_client.post("/v1/auth/signout")).status_code == 204


async def test_a_user_cannot_reach_another_users_session(
    app_client: httpx.AsyncClient, other_client: httpx.AsyncClient, app: FastAPI
) -> None:
    app.state.evaluator = OfflineEvaluator()
    mine = (await app_client.post("/v1/sessions", json=PLAIN_SESSION)).json()["session"]["id"]
    await _sign_up(other_client)
    for method, suffix in [
        ("GET", ""),
        ("GET", "/report"),
        ("GET", "/timeline"),
        ("POST", "/end"),
        ("POST", "/token"),
        ("POST", "/share"),
        ("DELETE", ""),
    ]:
        response = await other_client.request(method, f"/v1/sessions/{mine}{suffix}", json={})
        assert response.status_code == 404, (method, suffix, response.text)
    assert (await other_client.get("/v1/sessions")).json() == []
    export = await app_client.post(f"/v1/sessions/{mine}/export", json={"format": "csv"})
    assert (await other_client.get(export.json()["download_url"])).status_code == 404
    # The owner still has it, untouched.
    session = (await app_client.get(f"/v1/sessions/{mine}")).json()
    assert session["status"] == "scheduled"


async def test_deleting_the_account_removes_everything(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    pool: asyncpg.Pool,
    user_id: UUID,
) -> None:
    app.state.evaluator = OfflineEvaluator()
    mine = [await fill_session(app_client, pool, user_id) for _ in range(2)]
    other = await _sign_up(other_client)
    theirs = await fill_session(other_client, pool, UUID(other["user"]["id"]))
    share = (await app_client.post(f"/v1/sessions/{mine[0]}/share", json={})).json()
    before = await session_rows(pool, mine[0])
    assert len(before) >= 10 and all(before.values()), before
    # A second sign-in of the same account, on another device.
    me = (await app_client.get("/v1/auth/me")).json()["user"]
    async with _client(app) as second_device:
        signed_in = await second_device.post("/v1/auth/signin", json={"email": me["email"], "password": TEST_PASSWORD})
        second_token = signed_in.json()["token"]

    response = await app_client.delete("/v1/users/me")
    assert response.status_code == 204
    assert "greenroom_session" in _set_cookie(response)

    for sid in mine:
        assert set((await session_rows(pool, sid)).values()) == {0}
        assert await pool.fetchval("SELECT count(*) FROM sessions WHERE id = $1", sid) == 0
    assert await pool.fetchval("SELECT count(*) FROM users WHERE id = $1", user_id) == 0
    assert await pool.fetchval("SELECT count(*) FROM auth_sessions WHERE user_id = $1", user_id) == 0
    assert (await app_client.get("/v1/auth/me")).status_code == 401
    async with _client(app) as second_device:
        gone = await second_device.get("/v1/sessions", headers={"Authorization": f"Bearer {second_token}"})
        assert gone.status_code == 401
        assert (await second_device.get(f"/v1/shared/{share['token']}")).status_code == 410
        signin = await second_device.post("/v1/auth/signin", json={"email": me["email"], "password": TEST_PASSWORD})
        assert signin.status_code == 401

    # The other account kept everything.
    assert all((await session_rows(pool, theirs)).values())
    assert (await other_client.get(f"/v1/sessions/{theirs}")).status_code == 200


async def test_no_email_password_or_token_in_the_logs(
    anonymous_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    email = new_email()
    token = (await _sign_up(anonymous_client, email))["token"]
    await anonymous_client.get("/v1/auth/me")
    await anonymous_client.post("/v1/auth/signout")
    await anonymous_client.post("/v1/auth/signin", json={"email": email, "password": "wrong password!"})
    await anonymous_client.post("/v1/auth/signup", json={"email": email, "password": TEST_PASSWORD})
    assert caplog.records  # the account's creation is logged, by id
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        for secret in (email, TEST_PASSWORD, "wrong password!", token):
            assert secret not in text


async def test_repeated_wrong_passwords_are_throttled_per_account(
    anonymous_client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    email = new_email()
    await _sign_up(anonymous_client, email)
    bystander = new_email()
    await _sign_up(other_client, bystander)
    wrong = {"email": email, "password": "not-the-password"}

    statuses = [(await other_client.post("/v1/auth/signin", json=wrong)).status_code for _ in range(6)]

    assert statuses == [401] * 5 + [429]
    # Even the right password waits now; the refusal says how long.
    refused = await other_client.post("/v1/auth/signin", json={"email": email, "password": TEST_PASSWORD})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    # Another account is not affected.
    ok = await other_client.post("/v1/auth/signin", json={"email": bystander, "password": TEST_PASSWORD})
    assert ok.status_code == 200
