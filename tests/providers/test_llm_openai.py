"""The LLM interviewer against a local OpenAI-compatible server: streaming, failures, fallback."""

from __future__ import annotations

import logging
import time

import openai
import pytest
from livekit.agents.llm import ChatContext

from agent.brain import InterviewerBrain
from agent.interviewer import InterviewScript, Utterance
from agent.llm_openai import OpenAIInterviewerLLM, load_prompt
from agent.scripted_llm import ScriptedInterviewerLLM
from agent.usage import UsageMeter
from tests.providers.conftest import SECRET
from tests.scoring.fake_openai import STREAM_TEXT, FakeOpenAI

TIMEOUT_S = 2.0  # generous: a loaded CI machine once took over 0.5 s to the first token
VAGUE_ANSWER = "I usually try to be a good team player and help where I can with things."


def make_brain(fake: FakeOpenAI, script: InterviewScript, said: list[Utterance]) -> InterviewerBrain:
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=SECRET, max_retries=0)
    wording = OpenAIInterviewerLLM(client=client, model="fake-model", prompt=load_prompt("v1"), retry_after_max_s=0.5)
    planner = ScriptedInterviewerLLM(script, on_utterance=said.append)
    return InterviewerBrain(planner, [wording], attempt_timeout_s=TIMEOUT_S)


async def reply(brain: InterviewerBrain, ctx: ChatContext) -> tuple[list[str], float]:
    """The reply's chunks, and the seconds until the first one."""
    started = time.monotonic()
    first_at = None
    chunks: list[str] = []
    async with brain.chat(chat_ctx=ctx) as stream:
        async for chunk in stream:
            if chunk.delta and chunk.delta.content:
                first_at = first_at or time.monotonic()
                chunks.append(chunk.delta.content)
    return chunks, (first_at or time.monotonic()) - started


def after_opening(opening: str, answer: str) -> ChatContext:
    ctx = ChatContext.empty()
    ctx.add_message(role="assistant", content=opening)
    ctx.add_message(role="user", content=answer)
    return ctx


async def test_the_reply_streams_sentence_by_sentence(fake_openai: FakeOpenAI, script: InterviewScript) -> None:
    said: list[Utterance] = []
    brain = make_brain(fake_openai, script, said)
    meter = UsageMeter()
    meter.watch(brain)
    chunks, _ = await reply(brain, ChatContext.empty())
    # The opening clause goes first on its own (its audio starts while the rest is synthesised),
    # then whole sentences; a later comma ("..., in numbers?") splits nothing.
    assert chunks == ["That's a clear example, ", "thank you.", " What was the result of the migration, in numbers?"]
    assert said[-1].kind == "opening" and script.started  # the script chose the move
    request = fake_openai.requests[-1]
    assert request["stream"] is True and request["model"] == "fake-model"
    system, user = request["messages"][0]["content"], request["messages"][1]["content"]
    assert "behavioural" in system and "$persona_name" not in system
    assert said[-1].question is not None and said[-1].question.text in user
    assert meter.totals["openai-compatible"].tokens_in == 120
    assert meter.totals["openai-compatible"].tokens_out == len(STREAM_TEXT.split(" "))


async def test_follow_ups_adapt_to_the_answer(fake_openai: FakeOpenAI, script: InterviewScript) -> None:
    said: list[Utterance] = []
    brain = make_brain(fake_openai, script, said)
    await reply(brain, ChatContext.empty())
    await reply(brain, after_opening(said[-1].text, VAGUE_ANSWER))
    assert said[-1].kind == "follow_up"
    assert "concrete example" in fake_openai.requests[-1]["messages"][1]["content"]


@pytest.mark.parametrize("failure", ["http_500", "hang", "stream_malformed_first"])
async def test_a_failure_before_any_words_speaks_the_scripts_line(
    fake_openai: FakeOpenAI, script: InterviewScript, failure: str
) -> None:
    fake_openai.stream_script.append(failure)  # type: ignore[arg-type]
    said: list[Utterance] = []
    brain = make_brain(fake_openai, script, said)
    chunks, first_s = await reply(brain, ChatContext.empty())
    assert "".join(chunks) == said[-1].text  # the script's own wording
    assert first_s < TIMEOUT_S + 0.5
    assert len(script.asked) == 1  # asked once, though the move was planned twice


async def test_a_short_retry_after_is_waited_once(fake_openai: FakeOpenAI, script: InterviewScript) -> None:
    fake_openai.stream_script.append("http_429")
    fake_openai.retry_after_s = "0.1"
    said: list[Utterance] = []
    chunks, _ = await reply(make_brain(fake_openai, script, said), ChatContext.empty())
    assert "".join(chunks) == STREAM_TEXT
    assert len(fake_openai.requests) == 2


async def test_a_long_retry_after_falls_back_at_once(fake_openai: FakeOpenAI, script: InterviewScript) -> None:
    fake_openai.stream_script.extend(["http_429", "http_429"])
    fake_openai.retry_after_s = "30"
    said: list[Utterance] = []
    chunks, first_s = await reply(make_brain(fake_openai, script, said), ChatContext.empty())
    assert "".join(chunks) == said[-1].text
    assert first_s < 1.0  # (the adapter's background probe may ask again meanwhile)


@pytest.mark.parametrize("failure", ["stream_cut", "stream_stall", "stream_malformed"])
async def test_a_reply_stopped_midway_is_finished_by_the_script(
    fake_openai: FakeOpenAI, script: InterviewScript, failure: str
) -> None:
    fake_openai.stream_text = "Thanks for joining me today, I'm glad you're here. Let me ask you something."
    fake_openai.stream_script.append(failure)  # type: ignore[arg-type]
    said: list[Utterance] = []
    chunks, _ = await reply(make_brain(fake_openai, script, said), ChatContext.empty())
    question = said[-1].question
    assert question is not None
    # The LLM's opening clause and the rest of its first sentence, then the script's question:
    # never half a sentence beyond the opening clause.
    assert chunks == ["Thanks for joining me today, ", "I'm glad you're here.", f" {question.text}"]


async def test_the_interview_goes_on_when_the_llm_dies(fake_openai: FakeOpenAI, script: InterviewScript) -> None:
    said: list[Utterance] = []
    brain = make_brain(fake_openai, script, said)
    await reply(brain, ChatContext.empty())
    fake_openai.stream_default = "http_500"
    answer = (
        "Last year I led the migration of our billing service to a new queue. I planned the cut-over, "
        "wrote the rollback, and we finished two weeks early, which cut failed payments by 40 percent."
    )
    chunks, _ = await reply(brain, after_opening(said[-1].text, answer))
    assert "".join(chunks) == said[-1].text
    assert said[-1].kind in ("question", "follow_up") and len(script.asked) == 2


async def test_keys_never_reach_the_logs(
    fake_openai: FakeOpenAI, script: InterviewScript, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_openai.stream_script.extend(["http_500", "stream_cut"])
    said: list[Utterance] = []
    brain = make_brain(fake_openai, script, said)
    await reply(brain, ChatContext.empty())
    await reply(brain, after_opening(said[-1].text, VAGUE_ANSWER))
    assert fake_openai.headers_seen[0]["authorization"] == f"Bearer {SECRET}"  # it was sent
    assert caplog.records and SECRET not in caplog.text
    assert all(SECRET not in str(r.__dict__) for r in caplog.records)
