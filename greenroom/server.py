"""Composes one Greenroom process: database, API, embedded room server, interviewers, web page."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

from agent.worker import VoiceModels
from api import delivery_feed, rooms
from api.reports import report_context
from api.watch_access import WatchAccess
from db.delivery_store import DeliveryStore
from api.app import create_app
from greenroom.interviews import Interviews
from greenroom.log_privacy import keep_personal_data_out_of_logs
from greenroom.settings import Settings
from media.live_feed import LiveFeeds
from media.room_server import restrict_ice_addresses
from reports.session_end import score_ended_session

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"
# What the web app is made of; npm's node_modules and package files are not served.
FRONTEND_SUFFIXES = frozenset({".js", ".css", ".html", ".png", ".svg", ".ico", ".woff2"})


class FrontendFiles(StaticFiles):
    """The web app's own files and its vendored Chart.js, nothing else under frontend/."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        parts = Path(path).parts
        if "node_modules" in parts or Path(path).suffix not in FRONTEND_SUFFIXES:
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


def build_app(
    settings: Settings,
    *,
    models: VoiceModels | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> FastAPI:
    """The whole product as one ASGI app; the voice models load in its lifespan unless given."""
    keep_personal_data_out_of_logs()

    @asynccontextmanager
    async def room_service(app: FastAPI) -> AsyncIterator[None]:
        voice = models or await asyncio.to_thread(VoiceModels.load, settings, progress)
        if settings.ice_bind_addresses:
            restrict_ice_addresses(settings.ice_bind_addresses)
        feeds = LiveFeeds()
        store = DeliveryStore.from_settings(settings, settings.database_url) if settings.signals_enabled else None
        if store is not None:
            await store.start()

        async def score_after_end(session_id: uuid.UUID) -> None:
            # With the evaluator the app holds at the time: it is on app.state, and may change.
            await score_ended_session(app.state.pool, session_id, report_context(app))

        interviews = Interviews(
            settings,
            app.state.pool,
            voice,
            app.state.question_bank,
            store=store,
            feeds=feeds,
            on_ended=score_after_end,
        )
        app.state.rooms = interviews.rooms
        app.state.interviews = interviews
        app.state.feeds = feeds
        access = app.state.watch_access = WatchAccess(app.state.pool)
        access.start()
        try:
            await interviews.start()
            yield
        finally:
            await access.aclose()
            await interviews.aclose()  # its rooms first
            if store is not None:
                await store.aclose()

    app = create_app(settings, extra_lifespans=[room_service], extra_routers=[rooms.router, delivery_feed.router])

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(FRONTEND_DIR / "index.html")

    app.mount("/static", FrontendFiles(directory=FRONTEND_DIR), name="static")
    return app
