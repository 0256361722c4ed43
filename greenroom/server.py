"""Composes one Greenroom process: database, API, embedded room server, interviewers, web page.

With GREENROOM_TRANSPORT=livekit the process is the API and the web page only: the rooms are the
LiveKit server's and the interviewers its workers' (`greenroom agent`, greenroom/livekit_worker.py),
so no voice model is loaded and no embedded room server runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

from api.app import create_app
from greenroom.log_privacy import keep_personal_data_out_of_logs
from greenroom.settings import Settings

if TYPE_CHECKING:
    from agent.worker import VoiceModels

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
    """The whole product as one ASGI app; with the embedded transport the voice models load in its
    lifespan unless given, with LiveKit's none are (the API's livekit lifespan does the rest)."""
    keep_personal_data_out_of_logs()

    if settings.transport == "livekit":
        app = create_app(settings)
    else:
        from greenroom import embedded_rooms  # the voice and media stack: never imported by an API only

        app = create_app(
            settings,
            extra_lifespans=[embedded_rooms.room_service(settings, models, progress)],
            extra_routers=embedded_rooms.ROUTERS,
        )

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(FRONTEND_DIR / "index.html")

    # An organisation's invitation link (POST /v1/orgs/{id}/invites): the web app's invite page.
    @app.get("/invite/{token}", include_in_schema=False)
    async def invite(token: str) -> RedirectResponse:
        return RedirectResponse(f"/#/invite/{quote(token, safe='')}")

    app.mount("/static", FrontendFiles(directory=FRONTEND_DIR), name="static")
    return app
