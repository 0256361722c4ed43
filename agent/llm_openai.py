"""The LLM interviewer's voice: any OpenAI-compatible chat endpoint words the script's next move.

The script (agent/interviewer.py) still decides which question comes next and when to close;
this LLM only phrases that move, adapted to the answer, and streams it sentence by sentence.
"""

from __future__ import annotations

import logging
import re
import string
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import httpx
import openai
from livekit.agents import APIConnectionError, APIError, APIStatusError, APITimeoutError, llm, utils
from livekit.agents.llm import ChatChunk, ChatContext, ChoiceDelta, CompletionUsage, Tool, ToolChoice
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr

from agent.catalog import PERSONAS, ROUND_TYPE_PHRASES, Persona
from agent.interviewer import ROLE_LABELS, InterviewPlan, SpokenPart, Utterance, assess_answer
from agent.provider_errors import waited_to_retry
from agent.question_bank import Question
from agent.scripted_llm import split_sentences

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 1.0
MAX_REPLY_TOKENS = 160
# Utterances spoken word for word: a repeat must be the same question, a nudge or the answer to
# a mic check is a courtesy.
VERBATIM_KINDS = frozenset({"repeat", "nudge", "mic_check", "pleasantry", "ended"})
_SENTENCE_END = re.compile(r"[.!?](?:[\"')\]]*)\s+")
# A sentence that has ended with the text so far (not "3." of "3.5"): sent on at once, as the
# model may pause before the next one.
_ENDS_SENTENCE = re.compile(r"(?<![0-9])[.!?][\"')\]]*$")
# The reply's opening clause ("Right, ...", "Thank you, ..."): up to six words and a comma.
# Spoken on its own, its audio starts while the rest of the first sentence is still synthesised.
_OPENING_CLAUSE = re.compile(r"^\s*(?:[\w'’-]+\s+){0,5}[\w'’-]+,\s")
CV_CHARS = 3000  # of the CV and of the job description, in the prompt
# New questions the model may tie to the candidate's CV or the job description.
TAILORED_KINDS = frozenset({"opening", "question"})


def load_prompt(version: str) -> string.Template:
    """The interviewer's system prompt, from agent/prompts/interviewer-<version>.md."""
    name = f"interviewer-{version}.md"
    text = resources.files("agent.prompts").joinpath(name).read_text(encoding="utf-8")
    return string.Template(text)


@dataclass(frozen=True, slots=True)
class ReplyMove:
    """The move the script chose for this turn, and what it answers: the LLM words it."""

    utterance: Utterance
    """What the LLM words: on a panel, the last speaker's part of the script's reply."""
    plan: InterviewPlan
    remaining_s: float
    answer: str | None = field(default=None, repr=False)
    answered: Question | None = None
    said_before: tuple[SpokenPart, ...] = ()
    """What the panel says word for word before it, this same turn (introductions, a handover)."""
    asked_by: str | None = None
    """Who asked the question just answered (a persona id; None: nobody yet)."""
    asking: Question | None = None
    """The bank question the move puts, if it puts one."""

    @property
    def persona(self) -> Persona:
        """Who says the worded part."""
        return PERSONAS.get(self.utterance.persona, self.plan.persona)

    @staticmethod
    def passed_to(wording: object, extra_kwargs: Any) -> ReplyMove:
        """The move handed to a wording LLM's chat() as extra_kwargs={"move": ...}."""
        move = extra_kwargs.get("move") if isinstance(extra_kwargs, dict) else None
        if not isinstance(move, ReplyMove):
            raise TypeError(f"{type(wording).__name__} words a ReplyMove: pass extra_kwargs={{'move': ...}}")
        return move


def adaptation(move: ReplyMove) -> str:
    """How the reply should follow the answer: outcome, concrete example, reasoning, or deeper."""
    if move.answered is None or not move.answer:
        return ""
    assessment = assess_answer(move.answered, move.answer)
    missing = set(assessment.reasons)
    if "no_outcome" in missing and "no_example" not in missing:
        return "The answer left out the result: ask what the outcome was, in numbers if they have them."
    if missing & {"no_example", "too_short"}:
        return "The answer was vague: ask for one concrete example from their own experience."
    if "no_reasoning" in missing:
        return "The answer gave no reasoning: ask why, and which trade-offs they weighed."
    return "The answer was strong: acknowledge one specific point from it, and go a level deeper."


def _categories_phrase(categories: tuple[str, ...]) -> str:
    phrases = [ROUND_TYPE_PHRASES.get(c, c.replace("_", " ")) for c in categories]
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"


def _panel_phrase(plan: InterviewPlan, persona: Persona) -> str:
    colleagues = [m for m in plan.members if m.id != persona.id]
    if not plan.panel or not colleagues:
        return ""
    named = " and ".join(f"{m.name} ({m.title})" for m in colleagues)
    return (
        f"You sit on an interview panel with {named}. Each of you asks your own questions; "
        "speak only as yourself, never for a colleague."
    )


def _background(plan: InterviewPlan) -> str:
    """The CV and the job description as the prompt gives them; empty when there are neither."""
    cv, jd = (plan.cv_text or "").strip(), (plan.jd_text or "").strip()
    blocks = []
    if cv:
        blocks.append(f"The candidate's CV:\n<cv>\n{cv[:CV_CHARS]}\n</cv>")
    if jd:
        blocks.append(f"The job description:\n<jd>\n{jd[:CV_CHARS]}\n</jd>")
    return "\n\n".join(blocks)


def system_prompt(template: string.Template, move: ReplyMove) -> str:
    """The persona who speaks this move, the interview, and the CV and job description."""
    plan = move.plan
    persona = move.persona
    return template.safe_substitute(
        persona_name=persona.name,
        persona_title=persona.title,
        persona_role=persona.role,
        persona_style=persona.style,
        persona_focus=_categories_phrase(persona.focus),
        panel=_panel_phrase(plan, persona),
        minutes=max(1, round(plan.duration_s / 60)),
        remaining_min=max(0, round(move.remaining_s / 60)),
        round=ROUND_TYPE_PHRASES[plan.round_type],
        role=ROLE_LABELS[plan.role_track],
        difficulty=plan.difficulty,
        background=_background(plan) or "No CV or job description was given.",
        cv=(plan.cv_text or "")[:CV_CHARS],
        jd=(plan.jd_text or "")[:CV_CHARS],
    ).strip()


def tailoring(move: ReplyMove) -> str:
    """The instruction to tie a new question to the CV or the job description (empty: no move
    for it, or neither was given)."""
    u = move.utterance
    if u.kind not in TAILORED_KINDS or u.question is None or not _background(move.plan):
        return ""
    category = ROUND_TYPE_PHRASES.get(u.question.category, u.question.category)
    minutes = ""
    if move.asking is not None:
        minutes = f", answerable in about {max(1, round(move.asking.time_limit_s / 60))} minutes"
    return (
        "Tie the question to one specific thing in the candidate's CV or the job description "
        "(a project, a role, a skill, a requirement) when one fits, and name it; never mention "
        f"anything that is not there. Keep the question's meaning: it stays a {category} "
        f"question{minutes}. If nothing fits, ask it as it is."
    )


def move_prompt(move: ReplyMove) -> str:
    """The user message: the candidate's answer, the chosen move and the script's own wording."""
    u = move.utterance
    parts = []
    if move.answer:
        parts.append(f"The candidate just said:\n<answer>\n{move.answer}\n</answer>")
    if move.said_before:
        lines = "\n".join(f"{PERSONAS[p.persona].name}: {p.text}" for p in move.said_before if p.persona in PERSONAS)
        parts.append(
            "Said aloud just now, before you speak, by the panel:\n<said>\n"
            f"{lines}\n</said>\nDo not repeat any of it, and do not greet or introduce yourself again."
        )
    handed_over = bool(move.said_before) and move.said_before[-1].persona != u.persona
    if u.kind == "opening":
        if move.said_before:
            parts.append("Move: the panel has introduced itself; ask the first question.")
        else:
            parts.append("Move: open the interview. Greet the candidate as yourself, then ask the question.")
    elif u.kind == "follow_up":
        asker = PERSONAS.get(move.asked_by or "")
        if asker is not None and asker.id != u.persona:
            lead = f"Move: come in on your colleague {asker.name}'s question with one follow-up of your own."
        else:
            lead = "Move: ask one follow-up on the same question."
        parts.append(f"{lead} {adaptation(move)}".strip())
    elif u.kind == "question":
        if handed_over:
            parts.append("Move: a colleague has just handed the candidate to you; ask the next question.")
        else:
            how = adaptation(move)
            parts.append(f"Move: briefly acknowledge the answer, then ask the next question. {how}".strip())
    elif u.kind == "wrap_up":
        if handed_over:
            parts.append("Move: ask whether they want to add or ask anything.")
        else:
            parts.append("Move: acknowledge the answer, then ask whether they want to add or ask anything.")
    elif u.kind == "closing":
        parts.append("Move: close the interview politely. Ask nothing.")
    if u.question is not None:
        parts.append(f"The question to ask (keep its meaning; you may tie it to their answer):\n{u.question.text}")
    if how_to_tailor := tailoring(move):
        parts.append(f"Made for this candidate:\n{how_to_tailor}")
    parts.append(f"The script's own wording, for reference:\n{u.text}")
    return "\n\n".join(parts)


def remainder_after(utterance: Utterance, said: str) -> str:
    """What the script still has to say when a reply stopped after `said`: its question, unless
    one was asked already, or its last sentence (a closing line, say)."""
    if "?" in said:
        return ""
    if utterance.question is not None:
        return utterance.question.text
    sentences = split_sentences(utterance.text)
    return sentences[-1] if sentences else ""


class OpenAIInterviewerLLM(llm.LLM):
    """Words a ReplyMove (passed as extra_kwargs["move"]) with a streaming chat completion."""

    def __init__(
        self,
        *,
        client: openai.AsyncOpenAI,
        model: str,
        prompt: string.Template,
        retry_after_max_s: float = 0.5,
    ) -> None:
        super().__init__()
        self._client = client
        self._model = model
        self._prompt = prompt
        self._retry_after_max_s = retry_after_max_s

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return "openai-compatible"

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
        return _OpenAIInterviewerStream(self, move=move, chat_ctx=chat_ctx, conn_options=conn_options)


class _OpenAIInterviewerStream(llm.LLMStream):
    def __init__(
        self, llm_: OpenAIInterviewerLLM, *, move: ReplyMove, chat_ctx: ChatContext, conn_options: APIConnectOptions
    ) -> None:
        super().__init__(llm_, chat_ctx=chat_ctx, tools=[], conn_options=conn_options)
        self._owner = llm_
        self._move = move
        self._said: list[str] = []
        self._pending = ""  # words received after the last whole sentence

    def _send(self, request_id: str, text: str) -> None:
        if self._said and not self._said[-1].endswith(" "):
            text = f" {text}"
        self._said.append(text)
        self._event_ch.send_nowait(ChatChunk(id=request_id, delta=ChoiceDelta(role="assistant", content=text)))

    async def _run(self) -> None:
        request_id = utils.shortuuid("interviewer_")
        try:
            await self._stream_reply(request_id)
        except APIError:
            if not self._said:
                raise  # nothing said yet: the fallback adapter hands the turn to the script
            # The reply stopped mid-way: the script finishes this same turn in its own words.
            rest = remainder_after(self._move.utterance, "".join(self._said))
            logger.warning("interviewer LLM stopped mid-reply: the script finishes the turn")
            if rest:
                self._send(request_id, rest)

    async def _stream_reply(self, request_id: str) -> None:
        owner = self._owner
        timeout = httpx.Timeout(self._conn_options.timeout, connect=min(CONNECT_TIMEOUT_S, self._conn_options.timeout))
        messages = [
            {"role": "system", "content": system_prompt(owner._prompt, self._move)},
            {"role": "user", "content": move_prompt(self._move)},
        ]
        for attempt in range(2):  # a second attempt only after a short Retry-After
            try:
                stream = await owner._client.chat.completions.create(
                    model=owner._model,
                    messages=messages,  # type: ignore[arg-type]
                    stream=True,
                    stream_options={"include_usage": True},
                    max_tokens=MAX_REPLY_TOKENS,
                    temperature=0.6,
                    timeout=timeout,
                )
                break
            except openai.RateLimitError as e:
                if await waited_to_retry(e.response.headers, attempt, owner._retry_after_max_s):
                    continue
                raise APIStatusError("interviewer LLM rate-limited", status_code=429, retryable=False) from None
            except openai.APITimeoutError:
                raise APITimeoutError("interviewer LLM timed out", retryable=False) from None
            except openai.APIStatusError as e:
                raise APIStatusError("interviewer LLM failed", status_code=e.status_code, retryable=False) from None
            except openai.APIConnectionError:
                raise APIConnectionError("interviewer LLM unreachable", retryable=False) from None
        finished = False
        try:
            async with stream:
                async for chunk in stream:
                    if chunk.usage is not None:
                        self._event_ch.send_nowait(
                            ChatChunk(
                                id=request_id,
                                usage=CompletionUsage(
                                    completion_tokens=chunk.usage.completion_tokens,
                                    prompt_tokens=chunk.usage.prompt_tokens,
                                    total_tokens=chunk.usage.total_tokens,
                                ),
                            )
                        )
                    if not chunk.choices:
                        continue
                    finished = finished or chunk.choices[0].finish_reason is not None
                    self._pending += chunk.choices[0].delta.content or ""
                    if not self._said and (m := _OPENING_CLAUSE.match(self._pending)) is not None:
                        self._send(request_id, self._pending[: m.end()])
                        self._pending = self._pending[m.end() :]
                    # Only whole sentences go on to TTS: a cut reply never leaves half of one.
                    while (m := _SENTENCE_END.search(self._pending)) is not None:
                        self._send(request_id, self._pending[: m.end()])
                        self._pending = self._pending[m.end() :]
                    if _ENDS_SENTENCE.search(self._pending):
                        self._send(request_id, self._pending.strip())
                        self._pending = ""
        except openai.APITimeoutError:
            raise APITimeoutError("interviewer LLM stream stalled", retryable=False) from None
        except (openai.APIError, httpx.HTTPError):
            raise APIConnectionError("interviewer LLM stream broke", retryable=False) from None
        except (ValueError, KeyError, TypeError):  # malformed JSON in an event, or the wrong shape
            raise APIError("interviewer LLM sent a malformed event", retryable=False) from None
        if not finished:  # the connection closed before the model said it was done
            raise APIConnectionError("interviewer LLM stream ended early", retryable=False)
        if self._pending.strip():
            self._send(request_id, self._pending.strip())
            self._pending = ""
        if not self._said:
            raise APIError("interviewer LLM said nothing", retryable=False)
