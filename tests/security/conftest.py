"""Fixtures for the probe's findings: the app served over real HTTP by uvicorn."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
import uvicorn
from fastapi import FastAPI

LiveServer = Callable[[FastAPI], AbstractAsyncContextManager[str]]


@asynccontextmanager
async def _serve(app: FastAPI) -> AsyncIterator[str]:
    """Serves app (lifespan included) with uvicorn on a free loopback port, in this event loop,
    as `greenroom serve` does; yields its base URL. Uvicorn's own logging is left to the root
    logger, so tests see what it logs."""
    # IPPROTO_TCP, as uvicorn's own binding has it: asyncio then turns Nagle's algorithm off.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
def live_server() -> LiveServer:
    """`async with live_server(app) as url:` serves app over HTTP until the block ends."""
    return _serve
