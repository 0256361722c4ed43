"""Request-size limits applied before anything reads a body: a request over its limit gets 413."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = "request body larger than {limit} bytes"


class RefusedPublic(BaseModel):
    """A body refused before it was parsed: too large (413), or not text at all (400)."""

    detail: str


DOCUMENTED = {
    400: {"model": RefusedPublic, "description": "The body could not be read (it is not UTF-8 text)."},
    413: {"model": RefusedPublic, "description": "The request body is larger than the route accepts."},
}


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a body without a Content-Length grows past its limit; FastAPI
    answers it like any HTTPException."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=TOO_LARGE.format(limit=limit))


class BodySizeLimit:
    """Pure ASGI middleware: refuses a body over the limit of its route (`larger`, keyed by
    method and path) or else the default, from its Content-Length before the app runs, and by
    counting the bytes of a chunked body as they are received."""

    def __init__(self, app: ASGIApp, *, default_bytes: int, larger: Mapping[tuple[str, str], int]) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.larger = dict(larger)

    def limit(self, scope: Scope) -> int:
        """The largest body this request may carry."""
        path = scope["path"].rstrip("/") or "/"
        return self.larger.get((scope["method"], path), self.default_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            # Not read at all: the server discards the rest of the body without parsing it.
            await _too_large(limit)(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, receive_within_limit, send)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(status_code=413, content={"detail": TOO_LARGE.format(limit=limit)})
