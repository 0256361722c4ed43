"""The embedded transport's part of a Greenroom process: the aiortc room server, its interviewers
and delivery-signal consumers, the live feeds and their watchers' guard.

Kept apart from greenroom/server.py so that a process on the LiveKit transport, an API only,
never imports the voice and media stack (Whisper, Piper, MediaPipe, aiortc) nor loads its models.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI

from agent.worker import VoiceModels
from api import delivery_feed, rooms
from api.reports import report_context
from api.watch_access import WatchAccess
from db.delivery_store import DeliveryStore
from greenroom.interviews import Interviews
from greenroom.settings import Settings
from media.live_feed import LiveFeeds
from media.room_server import restrict_ice_addresses
from reports.session_end import score_ended_session

# The room's signalling socket and the live delivery feed.
ROUTERS: tuple[APIRouter, ...] = (rooms.router, delivery_feed.router)


def room_service(
    settings: Settings, models: VoiceModels | None, progress: Callable[[str], None]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan part that runs the embedded rooms; the voice models load in it unless given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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

    return lifespan
