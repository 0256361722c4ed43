"""The interviewer's brains behind one interface: the script chooses each move, a brain words it.

`ScriptedInterviewerLLM` (agent/scripted_llm.py) is the offline brain and the default. With an
LLM configured, `InterviewerBrain` asks the script for the move once per turn, then has the
LLM word it through livekit's `llm.FallbackAdapter`, with the script's own wording last: if the
LLM fails before saying anything the script's line is spoken; if it stops mid-reply it finishes
the turn with the script's question (agent/llm_openai.py).

On a panel, a reply several personas say (introductions, a handover) is said word for word up
to its last speaker's part, at once, and the LLM words only that last part, as that persona.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from livekit.agents import llm
from livekit.agents.llm import ChatContext, Tool, ToolChoice
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr

from agent.interviewer import SpokenPart, Utterance
from agent.llm_openai import VERBATIM_KINDS, ReplyMove
from agent.scripted_llm import ScriptedInterviewerLLM, conversation_position, send_sentences


def worded_part(utterance: Utterance) -> tuple[tuple[SpokenPart, ...], Utterance]:
    """The parts said word for word first, and the utterance an LLM words: the last speaker's
    part (all of it when one persona says the whole reply)."""
    *before, last = utterance.spoken
    if not before:
        return (), utterance
    return tuple(before), replace(utterance, text=last.text, persona=last.persona, parts=())


class ScriptWordingLLM(llm.LLM):
    """The local wording: speaks the script's own line for a ReplyMove, sentence by sentence."""

    @property
    def model(self) -> str:
        return "scripted-interviewer"

    @property
    def provider(self) -> str:
        return "greenroom"

    def chat(
        self,
        *,
        chat_ctx: ChatContext,
        tools: list[Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        move = ReplyMove.passed_to(self, extra_kwargs)
        return _WordingStream(self, text=move.utterance.text, chat_ctx=chat_ctx, conn_options=conn_options)


class _WordingStream(llm.LLMStream):
    def __init__(self, llm_: llm.LLM, *, text: str, chat_ctx: ChatContext, conn_options: APIConnectOptions) -> None:
        super().__init__(llm_, chat_ctx=chat_ctx, tools=[], conn_options=conn_options)
        self._text = text

    async def _run(self) -> None:
        send_sentences(self._event_ch, self._text)


class _SaidThenWorded(llm.LLMStream):
    """A panel's reply: the earlier speakers' parts word for word, then the last part as worded."""

    def __init__(
        self, llm_: llm.LLM, *, said: str, worded: llm.LLMStream, chat_ctx: ChatContext, conn_options: APIConnectOptions
    ) -> None:
        super().__init__(llm_, chat_ctx=chat_ctx, tools=[], conn_options=conn_options)
        self._retry_on_chunk_sent = False  # what was said stays said
        self._said = said
        self._worded = worded

    async def _run(self) -> None:
        send_sentences(self._event_ch, self._said, more_follows=True)
        async with self._worded:
            async for chunk in self._worded:
                self._event_ch.send_nowait(chunk)

    async def _metrics_monitor_task(self, event_aiter: Any) -> None:
        async for _ in event_aiter:  # the worded stream reports its own usage
            pass

    async def aclose(self) -> None:
        await self._worded.aclose()
        await super().aclose()


class InterviewerBrain(llm.LLM):
    """The session's LLM when a language model words the interview: the script plans each turn
    (once, so questions, progress and resume stay the script's), `wordings` say it in order."""

    def __init__(
        self,
        planner: ScriptedInterviewerLLM,
        wordings: list[llm.LLM],
        *,
        attempt_timeout_s: float,
    ) -> None:
        super().__init__()
        self._planner = planner
        self._script_wording = ScriptWordingLLM()
        self._wordings = llm.FallbackAdapter(
            [*wordings, self._script_wording],
            attempt_timeout=attempt_timeout_s,
            max_retry_per_llm=0,  # each wording bounds its own retries (one, after a short Retry-After)
            retry_on_chunk_sent=False,  # a wording that stopped mid-reply has finished the turn itself
        )
        self._wordings.on("metrics_collected", self._forward_metrics)

    @property
    def model(self) -> str:
        return self._wordings.model

    @property
    def provider(self) -> str:
        return self._wordings.provider

    @property
    def planner(self) -> ScriptedInterviewerLLM:
        """The script's brain that chooses every move."""
        return self._planner

    def chat(
        self,
        *,
        chat_ctx: ChatContext,
        tools: list[Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        utterance = self._planner.next_utterance(chat_ctx)
        if utterance.kind in VERBATIM_KINDS:
            move = self._move(utterance, utterance, (), chat_ctx)
            return self._script_wording.chat(chat_ctx=chat_ctx, conn_options=conn_options, extra_kwargs={"move": move})
        said_before, worded = worded_part(utterance)
        move = self._move(utterance, worded, said_before, chat_ctx)
        stream = self._wordings.chat(chat_ctx=chat_ctx, conn_options=conn_options, extra_kwargs={"move": move})
        if not said_before:
            return stream
        said = " ".join(part.text for part in said_before)
        return _SaidThenWorded(self, said=said, worded=stream, chat_ctx=chat_ctx, conn_options=conn_options)

    def _move(
        self, utterance: Utterance, worded: Utterance, said_before: tuple[SpokenPart, ...], chat_ctx: ChatContext
    ) -> ReplyMove:
        script = self._planner.script
        turn_start = self._planner.turn_start
        _turn, answer = conversation_position(chat_ctx)
        answered_question = turn_start.last_question if turn_start is not None else None
        return ReplyMove(
            utterance=worded,
            plan=script.plan,
            remaining_s=script.remaining_s(),
            answer=answer,
            answered=turn_start.current if turn_start is not None else None,
            said_before=said_before,
            asked_by=answered_question.persona if answered_question is not None else None,
            asking=script.checkpoint().current if utterance.question is not None else None,
        )

    def _forward_metrics(self, *args: Any, **kwargs: Any) -> None:
        self.emit("metrics_collected", *args, **kwargs)

    async def aclose(self) -> None:
        await self._wordings.aclose()
        await super().aclose()
