"""Serve Greenroom on loopback for benches and tests: in this event loop with uvicorn, or as a
`greenroom serve` process, as a user runs it."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from bench.loopback import free_port, wait_until_answering

STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 15.0
REPO = Path(__file__).resolve().parent.parent


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


class ServerStartError(RuntimeError):
    """`greenroom serve` exited or did not answer in time; the message ends with its log."""


@dataclass(frozen=True, slots=True)
class ServerProcess:
    url: str
    log: Path
    process: subprocess.Popen  # to stop it the hard way (a crash)


@contextmanager
def serve_process(
    database_url: str,
    data_dir: Path,
    *,
    port: int | None = None,
    start_timeout_s: float = 90.0,
    **settings: str,
) -> Iterator[ServerProcess]:
    """Runs `greenroom serve` on loopback until the block ends (on a free port unless given one,
    e.g. to restart a server where a page expects it); `settings` become GREENROOM_* variables."""
    port = port or free_port()
    env = {
        **os.environ,
        "ORT_DISABLE_TELEMETRY": "1",
        "DATABASE_URL": database_url,
        "GREENROOM_DATA_DIR": str(data_dir),
        "GREENROOM_PORT": str(port),
        "GREENROOM_ICE_BIND_ADDRESSES": '["127.0.0.1"]',
        **{f"GREENROOM_{k.upper()}": v for k, v in settings.items()},
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "serve.log"
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "greenroom.cli", "serve"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        try:
            wait_until_answering(proc, url + "/openapi.json", log, start_timeout_s, ServerStartError, "greenroom serve")
            yield ServerProcess(url=url, log=log, process=proc)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
