"""Request ids, and the answers for requests that fail: 503 while the database is away, else 500.

Either failure logs one line: the request id, the route, the exception's type and where it was
raised. Never its message or traceback: database errors quote the values they were given.
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from pathlib import Path

import asyncpg
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
RETRY_AFTER_S = 2
DATABASE_UNAVAILABLE = "database unavailable, retry shortly"
INTERNAL_ERROR = "internal server error"
_PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Errors that mean the server is gone, restarting or refusing connections, not a bad query.
_DATABASE_AWAY = (
    asyncpg.PostgresConnectionError,  # includes ConnectionDoesNotExistError
    asyncpg.exceptions.OperatorInterventionError,  # admin or crash shutdown, cannot connect now
    asyncpg.exceptions.TooManyConnectionsError,
)
_CLOSED = ("connection is closed", "pool is closed", "pool is closing")


class FailurePublic(BaseModel):
    """A 500 or 503 answer: what went wrong, in general terms, and the request's id for the logs."""

    detail: str
    request_id: str


DOCUMENTED = {
    503: {
        "model": FailurePublic,
        "description": "The database is unavailable; retry after Retry-After seconds.",
        "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    },
}


def request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is short and plain, else a new one."""
    given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
    return given if _SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def database_unavailable(exc: BaseException) -> bool:
    """Whether exc says the database cannot be reached now (as opposed to a failed query)."""
    if isinstance(exc, _DATABASE_AWAY):
        return True
    if isinstance(exc, asyncpg.InterfaceError):
        return any(phrase in str(exc) for phrase in _CLOSED)
    # Connecting: refused, socket gone, timed out. Only when asyncpg raised it.
    if isinstance(exc, (OSError, TimeoutError)):
        files = (Path(frame.f_code.co_filename) for frame, _ in traceback.walk_tb(exc.__traceback__))
        return any("asyncpg" in file.parts for file in files)
    return False


def raised_at(exc: BaseException) -> str:
    """Where exc was raised: the innermost frame of the project's own code, else the innermost."""
    frames = [
        (Path(frame.f_code.co_filename), line, frame.f_code.co_name)
        for frame, line in traceback.walk_tb(exc.__traceback__)
    ]
    if not frames:
        return "unknown"
    ours = [f for f in frames if f[0].is_relative_to(_PROJECT_ROOT) and "site-packages" not in f[0].parts]
    path, line, function = (ours or frames)[-1]
    shown = path.relative_to(_PROJECT_ROOT) if path.is_relative_to(_PROJECT_ROOT) else path.name
    return f"{shown}:{line} in {function}"


class ErrorAnswers:
    """Pure ASGI middleware: gives every HTTP request an id (the X-Request-ID response header) and
    answers an exception that nothing else handled with 503 or 500 JSON, logged once.

    It handles the exception instead of passing it on, so the server does not log it again.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            route = getattr(scope.get("route"), "path", None) or "(no route)"
            fields = {
                "request_id": rid,
                "method": scope["method"],
                "route": route,
                "error": type(exc).__name__,
                "raised_at": raised_at(exc),
            }
            said = f"request_id={rid} {scope['method']} {route}: {fields['error']} at {fields['raised_at']}"
            if database_unavailable(exc):
                logger.warning("database unavailable, answered 503: %s", said, extra=fields)
                status, detail, headers = 503, DATABASE_UNAVAILABLE, {"Retry-After": str(RETRY_AFTER_S)}
            else:
                logger.error("unhandled error, answered 500: %s", said, extra=fields)
                status, detail, headers = 500, INTERNAL_ERROR, {}
            if started:  # too late for an answer of our own; the server closes the connection
                return
            body = {"detail": detail, "request_id": rid}
            answer = JSONResponse(status_code=status, content=body, headers=headers)
            await answer(scope, receive, send_with_id)
