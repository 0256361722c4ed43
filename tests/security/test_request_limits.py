"""Request size and validation limits: the probe froze the server for 4.8 s with one 1.5 MB sign-in
body of 100,000 unknown keys (one validation error built per key, on the event loop), and 300,000
keys made a 27 MB answer. There was no request-size limit."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator

import httpx

from api import app as api_app
from api.sessions import CREATE_MAX_BODY_BYTES
from greenroom.settings import Settings
from tests.security.conftest import LiveServer
from tests.users import PLAIN_SESSION, TEST_PASSWORD, new_email

DEFAULT_LIMIT = Settings.model_fields["max_body_bytes"].default


def _unknown_keys(count: int) -> bytes:
    """A sign-in body with `count` keys no model has."""
    body = {"email": new_email(), "password": TEST_PASSWORD} | {f"unknown_{i:06d}": 1 for i in range(count)}
    return json.dumps(body).encode()


async def _chunks(body: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_body_over_the_limit_is_refused_before_it_is_read(anonymous_client: httpx.AsyncClient) -> None:
    body = _unknown_keys(8000)
    assert len(body) > DEFAULT_LIMIT
    headers = {"content-type": "application/json"}

    declared = await anonymous_client.post("/v1/auth/signin", content=body, headers=headers)
    assert declared.status_code == 413
    assert declared.json() == {"detail": f"request body larger than {DEFAULT_LIMIT} bytes"}

    # Chunked: no Content-Length, so the bytes are counted as they arrive.
    chunked = await anonymous_client.post("/v1/auth/signin", content=_chunks(body), headers=headers)
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413
    assert chunked.json() == {"detail": f"request body larger than {DEFAULT_LIMIT} bytes"}


async def test_session_creation_takes_a_full_cv_and_job_description(app_client: httpx.AsyncClient) -> None:
    # 20,000 non-ASCII characters each, sent as \u escapes: 240 KB, over the default limit.
    texts = {"cv_text": "é" * 20_000, "jd_text": "ü" * 20_000}
    body = json.dumps(PLAIN_SESSION | texts).encode()
    assert DEFAULT_LIMIT < len(body) <= CREATE_MAX_BODY_BYTES
    created = await app_client.post("/v1/sessions", content=body, headers={"content-type": "application/json"})
    assert created.status_code == 201, created.text

    too_big = json.dumps(PLAIN_SESSION | texts | {"persona": " " * CREATE_MAX_BODY_BYTES}).encode()
    refused = await app_client.post("/v1/sessions", content=too_big, headers={"content-type": "application/json"})
    assert refused.status_code == 413


async def test_a_small_body_of_many_unknown_keys_is_refused_at_once(anonymous_client: httpx.AsyncClient) -> None:
    # As many unknown keys as fit under the limit: one error, not one per key.
    count = (DEFAULT_LIMIT - 200) // len(b'"unknown_000000": 1, ')
    body = _unknown_keys(count)
    assert len(body) <= DEFAULT_LIMIT
    began = time.perf_counter()
    response = await anonymous_client.post("/v1/auth/signin", content=body, headers={"content-type": "application/json"})
    elapsed_s = time.perf_counter() - began
    assert response.status_code == 422
    assert len(response.json()["detail"]) == 1 and "too many fields" in response.json()["detail"][0]["msg"]
    assert len(response.content) < 1000
    assert elapsed_s < 0.2, f"{count} unknown keys took {elapsed_s:.3f} s to refuse"


async def test_a_422_lists_at_most_twenty_errors(app_client: httpx.AsyncClient) -> None:
    # Twenty unknown keys (allowed past the cheap count) and five required fields missing.
    body = {f"unknown_{i}": 1 for i in range(20)} | {"capture_signals": True}
    response = await app_client.post("/v1/sessions", json=body)
    assert response.status_code == 422
    assert len(response.json()["detail"]) == api_app.MAX_REPORTED_ERRORS == 20


async def test_bodies_of_100000_unknown_keys_get_413_and_the_server_stays_responsive(
    settings: Settings, live_server: LiveServer
) -> None:
    body = _unknown_keys(100_000)
    assert len(body) > 1_500_000
    headers = {"content-type": "application/json"}
    async with live_server(api_app.create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        await client.get("/v1/consent")  # warm up
        health_latencies_s: list[float] = []
        big_done = asyncio.Event()

        async def probe_health() -> None:
            while not big_done.is_set() or len(health_latencies_s) < 20:
                began = time.perf_counter()
                response = await client.get("/v1/consent")
                health_latencies_s.append(time.perf_counter() - began)
                assert response.status_code == 200
                await asyncio.sleep(0.005)

        async def send_big_bodies() -> list[tuple[int, float]]:
            """Five with a Content-Length, five chunked, one after the other."""
            answers = []
            try:
                for chunked in [False] * 5 + [True] * 5:
                    began = time.perf_counter()
                    content = _chunks(body) if chunked else body
                    response = await client.post("/v1/auth/signin", content=content, headers=headers)
                    answers.append((response.status_code, time.perf_counter() - began))
            finally:
                big_done.set()
            return answers

        async with asyncio.timeout(60):
            _, answers = await asyncio.gather(probe_health(), send_big_bodies())

    p95_s = statistics.quantiles(health_latencies_s, n=20)[-1]
    slowest_s = max(elapsed for _, elapsed in answers)
    print(
        f"{len(body) / 1e6:.1f} MB bodies: {[status for status, _ in answers]}, slowest {slowest_s * 1000:.0f} ms; "
        f"health meanwhile: median {statistics.median(health_latencies_s) * 1000:.1f} ms, "
        f"p95 {p95_s * 1000:.1f} ms, max {max(health_latencies_s) * 1000:.1f} ms over {len(health_latencies_s)}"
    )
    assert [status for status, _ in answers] == [413] * 10
    assert slowest_s < 1.0
    assert p95_s < 0.2
    assert max(health_latencies_s) < 1.0
