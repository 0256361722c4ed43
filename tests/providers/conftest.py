"""Fixtures: the OpenAI-compatible and ElevenLabs fakes on loopback, and an interview script."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agent.interviewer import InterviewPlan, InterviewScript
from agent.question_bank import QuestionBank
from bench.fake_elevenlabs import FakeElevenLabs
from bench.fake_openai import FakeOpenAI, served
from bench.live_server import serve

SECRET = "sk-test-SECRET-never-logged-123"


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    async with served() as fake:
        yield fake


@pytest.fixture
async def fake_elevenlabs() -> AsyncIterator[FakeElevenLabs]:
    fake = FakeElevenLabs()
    try:
        async with serve(fake.app) as url:
            fake.base_url = url
            yield fake
            fake.release()
    finally:
        fake.release()


@pytest.fixture(scope="session")
def bank() -> QuestionBank:
    return QuestionBank.load()


@pytest.fixture
def script(bank: QuestionBank) -> InterviewScript:
    plan = InterviewPlan(role_track="software_engineer", round_type="behavioral", difficulty="medium", duration_s=900)
    return InterviewScript(plan, bank)
