"""Fixtures for the evaluator tests: a scripted OpenAI-compatible server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bench.live_server import serve
from tests.scoring.fake_openai import FakeOpenAI


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """A FakeOpenAI served by uvicorn on 127.0.0.1 and an ephemeral port."""
    fake = FakeOpenAI()
    try:
        async with serve(fake.app) as url:
            fake.base_url = f"{url}/v1"
            yield fake
            fake.release()
    finally:
        fake.release()
