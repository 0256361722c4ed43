"""A scripted OpenAI-compatible server for tests and benches: real HTTP on loopback, real response shape.

Chat completions (the evaluator's JSON replies, the interviewer's streamed wording) and audio
transcriptions, each answering from a script of replies and failures; it records every request,
and for each streamed reply when it was asked for and when its first word went out.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from scoring.base import RUBRICS

Reply = Literal[
    "valid",  # a well-formed assessment for the rubric asked for
    "fenced",  # the same, wrapped in a ```json fence as some local models do
    "invalid_json",  # text that is not JSON
    "schema_mismatch",  # JSON with a score out of range and a field missing
    "missing_dimension",  # valid shape, one rubric dimension left out
    "extra_dimension",  # valid shape, one dimension that is not in the rubric
    "empty",  # a completion with no content
    "http_500",  # an internal server error
    "hang",  # never answers (until the server stops)
]
# Replies to a streaming request ("stream": true), as server-sent events (the interviewer's LLM).
StreamReply = Literal[
    "stream",  # the reply, one small delta per event, usage, then [DONE]
    "stream_cut",  # the first sentence, then the connection is dropped mid-reply
    "stream_stall",  # the first sentence, then nothing more (until the server stops)
    "stream_malformed",  # the first sentence, then an event whose data is not JSON
    "stream_malformed_first",  # an event whose data is not JSON, before any words
    "http_429",  # too many requests, with Retry-After: retry_after_s
    "http_500",  # an internal server error
    "hang",  # never answers (until the server stops)
]
STREAM_TEXT = "That's a clear example, thank you. What was the result of the migration, in numbers?"
TRANSCRIPT_TEXT = "I led the migration and cut the failures in half."
STRONGER_ANSWER = "Last spring I led a four-person team that cut checkout failures from 3% to 1%."


@dataclass(slots=True)
class StreamTiming:
    """One streamed reply's times, wall clock (time.time(), as the server's turn_latency rows):
    when the request arrived, and when the reply's first word was sent (None: no word was)."""

    received_at: float
    first_token_at: float | None = None


def assessment(dimensions: Sequence[str], base_score: int = 70) -> dict[str, Any]:
    """A valid reply: distinct scores so tests can tell the dimensions apart."""
    return {
        "dimensions": {
            d: {"score": base_score + i, "reason": f"Reason for {d}."} for i, d in enumerate(dimensions)
        },
        "strengths": ["Concrete numbers.", "Clear ownership."],
        "improvements": ["Say what you learned."],
        "stronger_answer": STRONGER_ANSWER,
    }


class FakeOpenAI:
    """POST /v1/chat/completions answering from a script; records every request body."""

    def __init__(self, *, supports_json_schema: bool = True) -> None:
        self.supports_json_schema = supports_json_schema
        # When set, "valid" replies carry its scores: (question, answer, rubric) -> score each.
        self.grader: Callable[[str, str, Sequence[str]], dict[str, int]] | None = None
        self.script: deque[Reply] = deque()
        self.default: Reply = "valid"
        self.requests: list[dict[str, Any]] = []
        self.stream_script: deque[StreamReply] = deque()
        self.stream_default: StreamReply = "stream"
        self.stream_text = STREAM_TEXT
        # When set, words each streamed reply from its request body instead of stream_text.
        self.stream_wording: Callable[[dict[str, Any]], str] | None = None
        self.stream_timings: list[StreamTiming] = []
        self.first_token_delay_s = 0.0
        self.retry_after_s = "0.1"
        self.transcription_script: deque[Literal["ok", "http_429", "http_500", "malformed", "hang"]] = deque()
        self.transcriptions = 0
        self.headers_seen: list[dict[str, str]] = []
        self.base_url = ""  # set once served: http://127.0.0.1:PORT/v1
        self._release = asyncio.Event()
        self._ids = itertools.count(1)
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._completions)
        self.app.post("/v1/audio/transcriptions")(self._transcriptions)

    def release(self) -> None:
        """Lets hanging requests finish (so the server can stop)."""
        self._release.set()

    async def _completions(self, request: Request) -> Response:
        received_at = time.time()
        body = await request.json()
        self.requests.append(body)
        self.headers_seen.append(dict(request.headers))
        if body.get("stream"):
            return await self._stream(body, StreamTiming(received_at))
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema" and not self.supports_json_schema:
            return _error(400, "response_format of type json_schema is not supported by this server")
        reply = self.script.popleft() if self.script else self.default
        if reply == "http_500":
            return _error(500, "the model crashed")
        if reply == "hang":
            await self._release.wait()
        dimensions = self._dimensions(body)
        if reply == "valid" and self.grader is not None:
            question, answer = _tagged(body, "question"), _tagged(body, "answer")
            document = assessment(dimensions)
            for dimension, score in self.grader(question, answer, dimensions).items():
                document["dimensions"][dimension]["score"] = score
            content: str | None = json.dumps(document)
        elif reply in ("valid", "hang"):
            content = json.dumps(assessment(dimensions))
        elif reply == "fenced":
            content = "```json\n" + json.dumps(assessment(dimensions)) + "\n```"
        elif reply == "invalid_json":
            content = "Sure! Here are the scores: situation 80, task 70"
        elif reply == "schema_mismatch":
            document = assessment(dimensions)
            document["dimensions"][dimensions[0]]["score"] = 140
            del document["stronger_answer"]
            content = json.dumps(document)
        elif reply == "missing_dimension":
            content = json.dumps(assessment(dimensions[1:]))
        elif reply == "extra_dimension":
            content = json.dumps(assessment([*dimensions, "charisma"]))
        else:  # empty
            content = None
        return JSONResponse(self._completion(body.get("model", "fake"), content))

    async def _stream(self, body: dict[str, Any], timing: StreamTiming) -> Response:
        self.stream_timings.append(timing)
        reply = self.stream_script.popleft() if self.stream_script else self.stream_default
        if (failed := await self._failure(reply)) is not None:
            return failed
        model = body.get("model", "fake")
        chunk_id = f"chatcmpl-fake{next(self._ids)}"

        def event(delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> bytes:
            document = {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}],
                "usage": usage,
            }
            return f"data: {json.dumps(document)}\n\n".encode()

        text = self.stream_wording(body) if self.stream_wording is not None else self.stream_text
        words = text.split(" ")
        first_sentence_words = next((i + 1 for i, w in enumerate(words) if w.endswith((".", "?", "!"))), len(words))

        async def events() -> Any:
            await asyncio.sleep(self.first_token_delay_s)
            yield event({"role": "assistant", "content": ""})
            if reply == "stream_malformed_first":
                yield b"data: {not json\n\n"
                return
            for i, word in enumerate(words):
                if i == first_sentence_words:
                    if reply == "stream_cut":
                        raise ConnectionResetError("the fake drops the connection mid-reply")
                    if reply == "stream_stall":
                        await self._release.wait()
                        return
                    if reply == "stream_malformed":
                        yield b"data: {not json\n\n"
                        return
                if i == 0:
                    timing.first_token_at = time.time()
                yield event({"content": word if i == 0 else f" {word}"})
                await asyncio.sleep(0.005)
            yield event({}, finish="stop")
            yield event({}, usage={"prompt_tokens": 120, "completion_tokens": len(words), "total_tokens": 120 + len(words)})
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def _transcriptions(self, request: Request) -> Response:
        await request.body()  # multipart: the fake does not look inside
        self.transcriptions += 1
        self.headers_seen.append(dict(request.headers))
        reply = self.transcription_script.popleft() if self.transcription_script else "ok"
        if (failed := await self._failure(reply)) is not None:
            return failed
        if reply == "malformed":
            return Response(content=b"{not json", media_type="application/json")
        words = TRANSCRIPT_TEXT.split(" ")
        return JSONResponse(
            {
                "task": "transcribe",
                "language": "english",
                "duration": 3.0,
                "text": TRANSCRIPT_TEXT,
                "words": [{"word": w, "start": i * 0.3, "end": i * 0.3 + 0.25} for i, w in enumerate(words)],
            }
        )

    async def _failure(self, reply: str) -> Response | None:
        """The scripted failures streams and transcriptions share; None for any other reply."""
        if reply == "http_429":
            response = _error(429, "rate limited")
            response.headers["retry-after"] = self.retry_after_s
            return response
        if reply == "http_500":
            return _error(500, "the model crashed")
        if reply == "hang":  # until the server stops
            await self._release.wait()
            return _error(503, "stopped")
        return None

    def _dimensions(self, body: dict[str, Any]) -> list[str]:
        """The rubric asked for: from the json_schema, else from the ids listed in the prompt."""
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            schema = response_format["json_schema"]["schema"]
            return list(schema["properties"]["dimensions"]["required"])
        system = body["messages"][0]["content"]
        for dimensions in RUBRICS.values():
            if all(f"- {d}:" in system for d in dimensions):
                return list(dimensions)
        raise AssertionError("no rubric found in the system prompt")

    def _completion(self, model: str, content: str | None) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        }


def persona_wording(body: dict[str, Any]) -> str:
    """An interviewer's reply that says who the system prompt made it ("This is Jordan speaking."),
    then the question the move asks, else the script's own wording (agent/llm_openai.move_prompt)."""
    system, prompt = body["messages"][0]["content"], body["messages"][-1]["content"]
    name = system.removeprefix("You are ").split(",", 1)[0]
    sections = dict(part.split(":\n", 1) for part in prompt.split("\n\n") if ":\n" in part)
    question = next((text for head, text in sections.items() if head.startswith("The question to ask")), None)
    if question is None:
        question = next(text for head, text in sections.items() if head.startswith("The script's own wording"))
    return f"This is {name} speaking. {question.strip()}"


def _tagged(body: dict[str, Any], tag: str) -> str:
    """The text inside <tag>…</tag> of the request's user message."""
    user = body["messages"][1]["content"]
    return user.split(f"<{tag}>\n", 1)[1].split(f"\n</{tag}>", 1)[0]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={
            "error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}
        },
    )


@asynccontextmanager
async def served(fake: FakeOpenAI | None = None) -> AsyncIterator[FakeOpenAI]:
    """A FakeOpenAI (a new one unless given) served by uvicorn on 127.0.0.1 and an ephemeral
    port, its base_url set; any held replies are released when the block ends."""
    from bench.live_server import serve

    fake = fake or FakeOpenAI()
    try:
        async with serve(fake.app) as url:
            fake.base_url = f"{url}/v1"
            yield fake
            fake.release()
    finally:
        fake.release()
