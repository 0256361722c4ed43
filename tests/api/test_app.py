"""The app's lifespan: core services first, then the extra lifespans in order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, FastAPI

from api.app import create_app
from greenroom.settings import Settings


async def test_extra_lifespans_and_routers(settings: Settings, pool: asyncpg.Pool) -> None:
    events: list[str] = []

    def recorder(name: str):
        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            assert app.state.pool is not None and app.state.question_bank is not None
            events.append(f"enter {name}")
            app.state.rooms = name
            yield
            events.append(f"exit {name}")

        return lifespan

    extra = APIRouter()

    @extra.get("/v1/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    app = create_app(settings, extra_lifespans=[recorder("a"), recorder("b")], extra_routers=[extra])
    async with app.router.lifespan_context(app):
        assert app.state.rooms == "b"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/v1/ping")).json() == {"pong": "yes"}
        app_pool = app.state.pool
    assert events == ["enter a", "enter b", "exit b", "exit a"]
    assert app_pool.is_closing()


async def test_lifespan_needs_a_database_url(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=None, data_dir=tmp_path, _env_file=None))
    with pytest.raises(RuntimeError, match="database_url"):
        async with app.router.lifespan_context(app):
            pass
