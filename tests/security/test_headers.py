"""Security headers: the probe found pages with no CSP, X-Frame-Options or nosniff headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from api.security_headers import livekit_connect_sources
from greenroom.server import build_app
from greenroom.settings import Settings

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def _assert_secure(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self' ws://greenroom.test wss://greenroom.test"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert response.headers["x-request-id"]


@pytest.fixture
async def product_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The whole product's app (API and web app); its lifespan does not run, so no voice models
    load and only what needs no database answers."""
    transport = httpx.ASGITransport(app=build_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://greenroom.test") as client:
        yield client


async def test_web_app_pages_and_files_carry_security_headers(product_client: httpx.AsyncClient) -> None:
    for path in ("/", "/static/app.js", "/static/app.css", "/static/vendor/chart.umd.js", "/static/missing.js"):
        response = await product_client.get(path)
        assert response.status_code == (404 if "missing" in path else 200), path
        _assert_secure(response)


async def test_api_answers_carry_security_headers(
    app_client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    answers = [
        await app_client.get("/v1/consent"),
        await app_client.get("/v1/auth/me"),
        await anonymous_client.get("/v1/auth/me"),  # 401
        await app_client.get("/v1/no-such-route"),  # 404
        await app_client.get("/v1/sessions", params={"limit": 0}),  # 422
        await anonymous_client.post("/v1/auth/signin", content=b"{" + b" " * 70_000 + b"}"),  # 413
    ]
    assert [a.status_code for a in answers] == [200, 200, 401, 404, 422, 413]
    for answer in answers:
        _assert_secure(answer)


async def test_a_request_id_is_kept_only_when_it_is_plain(anonymous_client: httpx.AsyncClient) -> None:
    kept = await anonymous_client.get("/v1/consent", headers={"X-Request-ID": "edge-7f3a.1"})
    assert kept.headers["x-request-id"] == "edge-7f3a.1"
    for unfit in ("x" * 65, "a b", "<script>"):
        replaced = await anonymous_client.get("/v1/consent", headers={"X-Request-ID": unfit})
        assert replaced.headers["x-request-id"] != unfit and len(replaced.headers["x-request-id"]) == 32


async def test_an_odd_host_header_is_not_copied_into_the_policy(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/v1/consent", headers={"Host": "evil.test; script-src *"})
    policy = response.headers["content-security-policy"]
    assert "evil" not in policy and "connect-src 'self';" in policy


def _policy(response: httpx.Response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))


async def test_with_livekit_the_pages_may_also_reach_its_server(settings: Settings) -> None:
    """The LiveKit URL browsers are given (its WebSocket, and its HTTP for livekit-client's
    checks), and nothing else beyond the app's own origin."""
    livekit = settings.model_copy(update={
        "transport": "livekit",
        "livekit_url": "ws://livekit:7880",
        "livekit_public_url": "wss://livekit.example.com",
        "livekit_api_key": "greenroom",
        "livekit_api_secret": SecretStr("s" * 32),
    })
    transport = httpx.ASGITransport(app=build_app(livekit))
    async with httpx.AsyncClient(transport=transport, base_url="http://greenroom.test") as client:
        response = await client.get("/")
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["connect-src"] == (
        "'self' ws://greenroom.test wss://greenroom.test https://livekit.example.com wss://livekit.example.com"
    )
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"


def test_livekit_sources_come_only_from_a_plain_url() -> None:
    assert livekit_connect_sources("ws://127.0.0.1:7880") == ("http://127.0.0.1:7880", "ws://127.0.0.1:7880")
    assert livekit_connect_sources("https://livekit.example.com/") == (
        "https://livekit.example.com", "wss://livekit.example.com"
    )
    for unfit in (None, "", "livekit.example.com", "ftp://livekit.example.com", "wss://evil.test; script-src *",
                  "wss://user@livekit.example.com"):
        assert livekit_connect_sources(unfit) == (), unfit
