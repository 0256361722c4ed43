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
from api import auth, catalog, consent, progress, questions, reports, score, sessions
from api.retention import retention_sweeps
from api.tokens import TokenIssuer, resolve_token_secret
from db.migrate import apply_migrations
from db.pool import create_pool
from greenroom.settings import Settings
from scoring.factory import close_evaluator, make_evaluator

GZIP_MIN_BYTES = 1024

logger = logging.getLogger(__name__)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


async def _unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    """Answers an unexpected error with JSON that reveals nothing of the request's data."""
    logger.error("unhandled error", extra={"path": request.url.path}, exc_info=exc)
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 answer, except that what was sent in a body is not echoed back: bodies
    carry passwords, CVs and job descriptions."""
    errors = [
        {k: v for k, v in error.items() if k != "input"} if error.get("loc", ("",))[0] == "body" else error
        for error in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})


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
            app.state.tokens = TokenIssuer(
                settings.token_api_key, resolve_token_secret(settings), settings.token_ttl_s
            )
            app.state.question_bank = QuestionBank.load()
            reports.configure(app, settings)
            app.state.evaluator = make_evaluator(settings)
            async with AsyncExitStack() as stack:
                stack.push_async_callback(close_evaluator, app.state.evaluator)
                await stack.enter_async_context(retention_sweeps(app, settings.retention_sweep_s))
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
    app.add_exception_handler(Exception, _unhandled_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.include_router(auth.router)
    app.include_router(catalog.router)
    app.include_router(consent.router)
    app.include_router(sessions.router)
    app.include_router(questions.router)
    app.include_router(reports.router)
    app.include_router(progress.router)
    app.include_router(score.router)
    for router in extra_routers:
        app.include_router(router)
    return app
