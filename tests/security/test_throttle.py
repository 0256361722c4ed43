"""Throttles a probe beat: concurrent guesses that all got checked, an owner locked out by a
guesser, unlimited sign-ups, sessions and share links, and counters one process could not see."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.throttle import Throttle
from db import accounts
from greenroom.settings import Settings
from scoring.offline import OfflineEvaluator
from tests.reports.seeding import seed_session
from tests.users import PLAIN_SESSION, TEST_PASSWORD, make_user, new_email

ATTACKER = "10.0.0.1"
OWNER = "10.0.0.2"
BYSTANDER = "10.0.0.3"
WRONG_PASSWORD = "not the password"
# Long enough that no backoff delay ends while a test runs.
SLOW_BACKOFF_S = 60.0

MakeApp = Callable[..., Awaitable[FastAPI]]


@pytest.fixture
async def make_app(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[MakeApp]:
    """Starts apps on the run's database (emptied first), with settings changed as asked; they
    stop when the test ends."""
    await pool.execute("TRUNCATE users, interview_templates, throttles CASCADE")
    async with AsyncExitStack() as stack:

        async def make(**changes: object) -> FastAPI:
            app = create_app(settings.model_copy(update=changes))
            await stack.enter_async_context(app.router.lifespan_context(app))
            app.state.evaluator = OfflineEvaluator()
            return app

        yield make


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    """An HTTP client to the app whose requests come from this address."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://greenroom.test")


async def _burst(send: Callable[[], Awaitable[httpx.Response]], total: int, at_once: int = 25) -> list[httpx.Response]:
    """Sends total requests, at_once of them concurrently at a time."""
    responses: list[httpx.Response] = []
    while len(responses) < total:
        responses += await asyncio.gather(*(send() for _ in range(min(at_once, total - len(responses)))))
    return responses


def _retry_after_s(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert "try again in" in response.json()["detail"]
    return int(response.headers["retry-after"])


async def _sign_in(client: httpx.AsyncClient, email: str, password: str = TEST_PASSWORD) -> httpx.Response:
    return await client.post("/v1/auth/signin", json={"email": email, "password": password})


async def test_concurrent_guesses_are_checked_at_most_the_limit_and_slow_only_the_guesser(
    make_app: MakeApp, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await make_app(sign_in_backoff_s=SLOW_BACKOFF_S)
    free = app.state.settings.sign_in_free_attempts
    email = new_email()
    await make_user(pool, email)
    checks: list[str] = []
    real = accounts.password_matches

    def counting(password: str, stored: str) -> bool:
        checks.append(stored)
        return real(password, stored)

    monkeypatch.setattr(accounts, "password_matches", counting)

    async with _client(app, ATTACKER) as attacker:
        guesses = await _burst(lambda: _sign_in(attacker, email, WRONG_PASSWORD), 200)
        statuses = Counter(r.status_code for r in guesses)
        assert len(checks) == free, statuses
        assert statuses == {401: free, 429: 200 - free}
        # A wait, not a 15-minute lock: the first backoff step.
        assert all(0 < _retry_after_s(r) <= SLOW_BACKOFF_S for r in guesses if r.status_code == 429)

        # The owner behind the guesser's address waits as the guesser does...
        assert 0 < _retry_after_s(await _sign_in(attacker, email)) <= SLOW_BACKOFF_S
    # ...and from their own address signs in at once.
    async with _client(app, OWNER) as owner:
        assert (await _sign_in(owner, email)).status_code == 200
    assert len(checks) == free + 1


async def test_a_wait_not_a_lock_even_at_the_guessers_address(make_app: MakeApp, pool: asyncpg.Pool) -> None:
    app = await make_app()
    settings = app.state.settings
    now = datetime.now(UTC)
    app.state.throttle = Throttle(settings, "a test secret", clock=lambda: now)
    email = new_email()
    await make_user(pool, email)
    async with _client(app, ATTACKER) as attacker:
        for _ in range(settings.sign_in_free_attempts):
            assert (await _sign_in(attacker, email, WRONG_PASSWORD)).status_code == 401
        wait_s = _retry_after_s(await _sign_in(attacker, email))
        assert wait_s == settings.sign_in_backoff_s
        now += timedelta(seconds=wait_s)
        assert (await _sign_in(attacker, email)).status_code == 200


async def test_guesses_from_many_addresses_slow_new_clients_but_not_the_owners(make_app: MakeApp) -> None:
    app = await make_app(sign_in_backoff_s=SLOW_BACKOFF_S)
    account_free = app.state.settings.sign_in_account_free_attempts
    email = new_email()
    async with _client(app, OWNER) as owner:
        assert (await owner.post("/v1/auth/signup", json={"email": email, "password": TEST_PASSWORD})).status_code == 201

    statuses = []
    for n in range(account_free + 10):
        async with _client(app, f"10.1.0.{n + 1}") as guesser:
            statuses.append((await _sign_in(guesser, email, WRONG_PASSWORD)).status_code)
    assert statuses == [401] * account_free + [429] * 10

    async with _client(app, OWNER) as owner:
        assert (await _sign_in(owner, email)).status_code == 200
    async with _client(app, "10.2.0.1") as new_device:
        assert 0 < _retry_after_s(await _sign_in(new_device, email)) <= SLOW_BACKOFF_S


async def test_sign_ups_are_limited_per_client(make_app: MakeApp) -> None:
    app = await make_app()
    limit = app.state.settings.sign_up_limit
    async with _client(app, ATTACKER) as attacker:
        responses = await _burst(
            lambda: attacker.post("/v1/auth/signup", json={"email": new_email(), "password": TEST_PASSWORD}), 100
        )
    assert Counter(r.status_code for r in responses) == {201: limit, 429: 100 - limit}
    window_s = app.state.settings.throttle_window_s
    assert all(0 < _retry_after_s(r) <= window_s for r in responses if r.status_code == 429)
    async with _client(app, BYSTANDER) as bystander:
        response = await bystander.post("/v1/auth/signup", json={"email": new_email(), "password": TEST_PASSWORD})
        assert response.status_code == 201


async def test_sessions_are_limited_per_client(make_app: MakeApp) -> None:
    app = await make_app()
    limit = app.state.settings.session_limit
    async with _client(app, ATTACKER) as attacker:
        token = (await attacker.post("/v1/auth/signup", json={"email": new_email(), "password": TEST_PASSWORD})).json()["token"]
        responses = await _burst(lambda: attacker.post("/v1/sessions", json=PLAIN_SESSION), 200)
    assert Counter(r.status_code for r in responses) == {201: limit, 429: 200 - limit}
    assert all(_retry_after_s(r) > 0 for r in responses if r.status_code == 429)
    # The same account from another address is another client.
    async with _client(app, BYSTANDER) as bystander:
        headers = {"Authorization": f"Bearer {token}"}
        assert (await bystander.post("/v1/sessions", json=PLAIN_SESSION, headers=headers)).status_code == 201


async def test_share_links_are_limited_per_client(make_app: MakeApp, pool: asyncpg.Pool) -> None:
    app = await make_app()
    limit = app.state.settings.share_limit
    async with _client(app, ATTACKER) as attacker:
        signed_up = await attacker.post("/v1/auth/signup", json={"email": new_email(), "password": TEST_PASSWORD})
        user_id, token = signed_up.json()["user"]["id"], signed_up.json()["token"]
        session_id = (await seed_session(pool, UUID(user_id))).session_id
        assert (await attacker.get(f"/v1/sessions/{session_id}/report")).status_code == 200
        # One after another: the burst is about the count, and each link scores the report first.
        statuses = [(await attacker.post(f"/v1/sessions/{session_id}/share", json={})).status_code for _ in range(limit + 10)]
    assert statuses == [201] * limit + [429] * 10
    async with _client(app, BYSTANDER) as bystander:
        headers = {"Authorization": f"Bearer {token}"}
        assert (await bystander.post(f"/v1/sessions/{session_id}/share", json={}, headers=headers)).status_code == 201


async def test_two_processes_share_the_counters(make_app: MakeApp, pool: asyncpg.Pool) -> None:
    first, second = await make_app(sign_in_backoff_s=SLOW_BACKOFF_S), await make_app(sign_in_backoff_s=SLOW_BACKOFF_S)
    free = first.state.settings.sign_in_free_attempts
    email = new_email()
    await make_user(pool, email)
    async with _client(first, ATTACKER) as on_first, _client(second, ATTACKER) as on_second:
        statuses = [
            (await _sign_in(client, email, WRONG_PASSWORD)).status_code
            for client in [on_first, on_second] * free
        ]
    assert statuses == [401] * free + [429] * free

    sign_up_limit = first.state.settings.sign_up_limit
    async with _client(first, BYSTANDER) as on_first, _client(second, BYSTANDER) as on_second:
        statuses = [
            (await client.post("/v1/auth/signup", json={"email": new_email(), "password": TEST_PASSWORD})).status_code
            for client in [on_first, on_second] * sign_up_limit
        ]
    assert Counter(statuses) == {201: sign_up_limit, 429: sign_up_limit}
