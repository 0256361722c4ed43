"""Serve an ASGI app with uvicorn on 127.0.0.1 and an ephemeral port, inside the running event loop."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI

STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 15.0


async def sign_up(http: httpx.AsyncClient) -> None:
    """Signs the client up to a throwaway account; the sign-in cookie stays in its jar."""
    response = await http.post(
        "/v1/auth/signup",
        json={"email": f"bench-{secrets.token_hex(8)}@example.test", "password": secrets.token_urlsafe(16)},
    )
    response.raise_for_status()


@asynccontextmanager
async def serve(app: FastAPI, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Run the app (lifespan included) while the block runs; yields its base URL, http://host:port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]), name="uvicorn")
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            while not server.started:
                if task.done():
                    task.result()  # raises the startup error
                    raise RuntimeError("the server stopped during startup")
                await asyncio.sleep(0.05)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, SHUTDOWN_TIMEOUT_S)
        except TimeoutError:
            pass  # wait_for has cancelled it
        finally:
            sock.close()
