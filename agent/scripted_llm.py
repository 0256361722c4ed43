"""The scripted interviewer as a livekit-agents LLM, and the Agent that speaks first."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from livekit.agents import Agent, llm, utils
from livekit.agents.llm import ChatChunk, ChatContext, ChoiceDelta, Tool, ToolChoice
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from agent.interviewer import (
    InterviewPlan,
    InterviewScript,
    ScriptCheckpoint,
    Utterance,
    interviewer_instructions,
)

logger = logging.getLogger(__name__)

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[str]:
    """The text cut after each sentence, so TTS can start on the first one."""
    return [s for s in _SENTENCE_BREAK.split(text.strip()) if s]


def send_sentences(event_ch: Any, text: str, *, more_follows: bool = False) -> None:
    """Streams a known text into an LLMStream's channel, one sentence per chunk, so TTS can
    start on the first sentence; `more_follows`: more text comes after it (a space ends it)."""
    request_id = utils.shortuuid("scripted_")
    sentences = split_sentences(text)
    for index, sentence in enumerate(sentences):
        content = sentence if index == len(sentences) - 1 and not more_follows else f"{sentence} "
        event_ch.send_nowait(ChatChunk(id=request_id, delta=ChoiceDelta(role="assistant", content=content)))


def conversation_position(chat_ctx: ChatContext) -> tuple[int, str | None]:
    """Assistant turns so far, and what the user said since the last one (None: nothing)."""
    assistant_turns = 0
    user_texts: list[str] = []
    for item in chat_ctx.items:
        if item.type != "message":
            continue
        if item.role == "assistant":
            assistant_turns += 1
            user_texts = []
        elif item.role == "user":
            user_texts.append(item.text_content or "")
    if not user_texts:
        return assistant_turns, None
    return assistant_turns, " ".join(t.strip() for t in user_texts if t.strip())


class ScriptedInterviewerLLM(llm.LLM):
    """An LLM whose replies come from an InterviewScript: offline, deterministic, no model.

    The session may ask for the same turn's reply more than once (preemptive generation
    on an interim transcript, then again on the final one); the script is rolled back to
    where that turn began, so only the last reply for a turn counts. `on_utterance` is
    called for every reply produced, including ones later superseded that way.
    """

    def __init__(
        self,
        script: InterviewScript,
        on_utterance: Callable[[Utterance], None] | None = None,
    ) -> None:
        super().__init__()
        self._script = script
        self._on_utterance = on_utterance
        self._turn_checkpoint: tuple[int, ScriptCheckpoint] | None = None

    @property
    def model(self) -> str:
        return "scripted-interviewer"

    @property
    def provider(self) -> str:
        return "greenroom"

    @property
    def script(self) -> InterviewScript:
        """The script this LLM speaks for."""
        return self._script

    def chat(
        self,
        *,
        chat_ctx: ChatContext,
        tools: list[Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> ScriptedLLMStream:
        utterance = self.next_utterance(chat_ctx)
        return ScriptedLLMStream(
            self,
            utterance=utterance,
            chat_ctx=chat_ctx,
            tools=tools or [],
            conn_options=conn_options,
        )

    def next_utterance(self, chat_ctx: ChatContext) -> Utterance:
        """The script's reply for this turn of the conversation (another brain may word it)."""
        utterance = self._next_utterance(chat_ctx)
        if self._on_utterance is not None:
            self._on_utterance(utterance)
        return utterance

    def reply_stands(self) -> None:
        """The last reply was heard: its turn is over, whatever the chat context holds. A reply
        cut short just after its first sound can be missing from the context (livekit-agents
        keeps what reached the ear), and the next reply must not roll the script back to before
        it: that said the whole opening twice."""
        self._turn_checkpoint = None

    @property
    def turn_start(self) -> ScriptCheckpoint | None:
        """The script's state when the current turn began (what the answer was answering)."""
        return None if self._turn_checkpoint is None else self._turn_checkpoint[1]

    def _next_utterance(self, chat_ctx: ChatContext) -> Utterance:
        turn, answer = conversation_position(chat_ctx)
        if self._turn_checkpoint is not None and self._turn_checkpoint[0] == turn:
            self._script.restore(self._turn_checkpoint[1])
        else:
            self._turn_checkpoint = (turn, self._script.checkpoint())

        if not self._script.started:
            utterance = self._script.opening()
        elif answer is None:
            utterance = self._script.respond("")
        else:
            utterance = self._script.respond(answer)
        logger.debug(
            "scripted interviewer reply",
            extra={
                "turn": turn,
                "kind": utterance.kind,
                "question_id": utterance.question.bank_question_id if utterance.question else None,
                "closing": utterance.closing,
            },
        )
        return utterance


class ScriptedLLMStream(llm.LLMStream):
    """Streams one scripted utterance as chunks, one sentence per chunk."""

    def __init__(
        self,
        llm_: ScriptedInterviewerLLM,
        *,
        utterance: Utterance,
        chat_ctx: ChatContext,
        tools: list[Tool],
        conn_options: APIConnectOptions,
    ) -> None:
        super().__init__(llm_, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._utterance = utterance

    @property
    def utterance(self) -> Utterance:
        """The utterance this stream speaks."""
        return self._utterance

    async def _run(self) -> None:
        send_sentences(self._event_ch, self._utterance.text)


class InterviewerAgent(Agent):
    """The interviewer in the room: persona instructions, and it speaks first."""

    def __init__(self, plan: InterviewPlan, **agent_options: Any) -> None:
        super().__init__(instructions=interviewer_instructions(plan), **agent_options)
        self._plan = plan

    @property
    def plan(self) -> InterviewPlan:
        """The interview this agent runs."""
        return self._plan

    async def on_enter(self) -> None:
        # Nothing the candidate says before the opening is heard ("Hello? Can you hear me?", a
        # mic check) can cancel it or be taken as an answer to it: until its first sound plays
        # it cannot be interrupted, and the session hears silence meanwhile
        # (discard_audio_if_uninterruptible). The worker allows interruptions once it plays.
        self.session.generate_reply(allow_interruptions=False)
