"""A scripted ElevenLabs streaming-TTS server for tests and benches: real HTTP on loopback, raw PCM out."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Literal

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

TtsReply = Literal[
    "ok",  # the sentence's audio, in a few chunks
    "cut",  # the first chunk, then the connection is dropped
    "stall",  # the first chunk, then nothing more (until the server stops)
    "http_429",  # too many requests, with Retry-After: retry_after_s
    "http_500",  # an internal server error
    "http_401",  # a bad key
    "hang",  # never answers (until the server stops)
]
MS_PER_CHARACTER = 60
CHUNKS = 4


def tone(duration_s: float, sample_rate: int, hz: float = 220.0) -> bytes:
    """A quiet sine tone as 16-bit little-endian mono PCM."""
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    return (np.sin(2 * np.pi * hz * t) * 8000).astype("<i2").tobytes()


class FakeElevenLabs:
    """POST /v1/text-to-speech/{voice_id}/stream answering from a script; records each request."""

    def __init__(self) -> None:
        self.script: deque[TtsReply] = deque()
        self.default: TtsReply = "ok"
        self.requests: list[dict[str, Any]] = []
        self.retry_after_s = "0.1"
        self.chunk_delay_s = 0.01
        self.base_url = ""  # set once served: http://127.0.0.1:PORT
        self._release = asyncio.Event()
        self.app = FastAPI()
        self.app.post("/v1/text-to-speech/{voice_id}/stream")(self._stream)

    def release(self) -> None:
        self._release.set()

    async def _stream(self, voice_id: str, request: Request) -> Response:
        body = await request.json()
        self.requests.append(
            {"voice_id": voice_id, "body": body, "params": dict(request.query_params), "headers": dict(request.headers)}
        )
        reply = self.script.popleft() if self.script else self.default
        if reply == "http_429":
            return JSONResponse({"detail": {"status": "too_many_concurrent_requests"}}, 429, {"retry-after": self.retry_after_s})
        if reply in ("http_500", "http_401"):
            return JSONResponse({"detail": {"status": "error"}}, 500 if reply == "http_500" else 401)
        if reply == "hang":
            await self._release.wait()
            return JSONResponse({"detail": {"status": "stopped"}}, 503)
        rate = int(request.query_params.get("output_format", "pcm_22050").removeprefix("pcm_"))
        audio = tone(len(body["text"]) * MS_PER_CHARACTER / 1000.0, rate)
        step = len(audio) // CHUNKS // 2 * 2 + 1  # odd: chunks split samples, as a network may

        async def chunks() -> Any:
            for i in range(0, len(audio), step):
                if i > 0 and reply == "cut":
                    raise ConnectionResetError("the fake drops the connection mid-sentence")
                if i > 0 and reply == "stall":
                    await self._release.wait()
                    return
                yield audio[i : i + step]
                await asyncio.sleep(self.chunk_delay_s)

        return StreamingResponse(chunks(), media_type="audio/pcm")
