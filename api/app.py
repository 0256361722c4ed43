"""The FastAPI application: its lifespan owns the pool, the token issuer and the extra services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse

from agent.question_bank import QuestionBank
from api import auth, catalog, consent, errors, limits, progress, questions, reports, score, sessions
from api.errors import ErrorAnswers
from api.limits import BodySizeLimit
from api import audit, coaching, livekit_webhook, notes, orgs
from api.livekit_rooms import LiveKitUnavailable, livekit_unavailable
from api.retention import retention_sweeps
from api.security_headers import SecurityHeaders, livekit_connect_sources
from api.throttle import Throttle
from api.tokens import resolve_token_secret, room_token_issuer
from db.migrate import apply_migrations
from db.pool import create_pool
from greenroom.settings import Settings
from scoring.factory import close_evaluator, make_evaluator

GZIP_MIN_BYTES = 1024
# A 422 lists at most this many errors: a body of many wrong fields gets a short answer.
MAX_REPORTED_ERRORS = 20
# Routes whose bodies carry long text (a CV and job description, a typed answer); every other
# body is held to settings.max_body_bytes.
LARGER_BODIES = {
    ("POST", "/v1/sessions"): sessions.CREATE_MAX_BODY_BYTES,
    ("POST", "/v1/score"): score.MAX_BODY_BYTES,
}
# Answers any route may give.
SHARED_RESPONSES = {**limits.DOCUMENTED, **errors.DOCUMENTED}

logger = logging.getLogger(__name__)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 answer, except that what was sent in a body is not echoed back: bodies
    carry passwords, CVs and job descriptions. At most MAX_REPORTED_ERRORS errors are listed."""
    shown = [
        {k: v for k, v in error.items() if k != "input"} if error.get("loc", ("",))[0] == "body" else error
        for error in exc.errors()[:MAX_REPORTED_ERRORS]
    ]
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(shown)})


def create_app(
    settings: Settings,
    *,
    extra_lifespans: Sequence[Lifespan] = (),
    extra_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """Builds the Greenroom API; extra lifespans (rooms, agent) run inside the core one."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            raise RuntimeError("settings.database_url must be set before the app starts")
        pool = await create_pool(settings.database_url)
        try:
            async with pool.acquire() as conn:
                applied = await apply_migrations(conn)
            if applied:
                logger.info("database migrated", extra={"versions": applied})
            app.state.settings = settings
            app.state.pool = pool
            app.state.tokens = room_token_issuer(settings)  # signed for the transport's room server
            app.state.throttle = Throttle(settings, resolve_token_secret(settings))
            app.state.question_bank = QuestionBank.load()
            reports.configure(app, settings)
            app.state.evaluator = make_evaluator(settings)
            async with AsyncExitStack() as stack:
                stack.push_async_callback(close_evaluator, app.state.evaluator)
                await stack.enter_async_context(retention_sweeps(app, settings.retention_sweep_s))
                if settings.transport == "livekit":  # rooms made and webhooks applied on LiveKit
                    await stack.enter_async_context(livekit_webhook.livekit_transport(app, settings))
                for extra in extra_lifespans:
                    await stack.enter_async_context(extra(app))
                yield
        finally:
            await pool.close()

    app = FastAPI(
        title="Greenroom",
        summary="Real-time AI mock interviews: sessions, rooms, reports.",
        version="0.1.0",
        lifespan=lifespan,
    )
    # Timelines of long sessions are ~100 KB of JSON; compressed they are a fraction of that.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    # Added last runs first: headers go on every answer, including the 413, 500 and 503 below.
    app.add_middleware(BodySizeLimit, default_bytes=settings.max_body_bytes, larger=LARGER_BODIES)
    app.add_middleware(ErrorAnswers)
    # With LiveKit, the pages also connect to its server (the URL browsers are given).
    livekit_sources = (
        livekit_connect_sources(settings.livekit_public_url or settings.livekit_url)
        if settings.transport == "livekit"
        else ()
    )
    app.add_middleware(SecurityHeaders, connect_sources=livekit_sources)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(LiveKitUnavailable, livekit_unavailable)
    for module in (auth, catalog, consent, sessions, questions, reports, progress, score):
        app.include_router(module.router, responses=SHARED_RESPONSES)
    for module in (orgs, coaching, notes, audit):  # coaches and organisations
        app.include_router(module.router, responses=SHARED_RESPONSES)
    app.include_router(livekit_webhook.router, responses=SHARED_RESPONSES)  # 404 unless transport is livekit
    for router in extra_routers:
        app.include_router(router, responses=SHARED_RESPONSES)
    return app
