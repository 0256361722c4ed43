"""A scripted OpenAI-compatible chat server for tests: real HTTP on loopback, real response shape."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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
STRONGER_ANSWER = "Last spring I led a four-person team that cut checkout failures from 3% to 1%."


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
        self.base_url = ""  # set once served: http://127.0.0.1:PORT/v1
        self._release = asyncio.Event()
        self._ids = itertools.count(1)
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._completions)

    def release(self) -> None:
        """Lets hanging requests finish (so the server can stop)."""
        self._release.set()

    async def _completions(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append(body)
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
