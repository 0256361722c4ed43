"""Fixtures for the evaluator tests: a scripted OpenAI-compatible server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bench.fake_openai import FakeOpenAI, served


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """A FakeOpenAI served by uvicorn on 127.0.0.1 and an ephemeral port."""
    async with served() as fake:
        yield fake
