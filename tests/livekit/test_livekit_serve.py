"""`greenroom serve` with the LiveKit transport is an API, not a room server: it loads no voice
models and starts no embedded room, yet still ends the live sessions nothing keeps alive, and
leaves alone those the interviewer's worker heartbeats."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
import pytest

from bench.loopback import free_port
from db import sessions as db_sessions
from greenroom.settings import Settings
from tests.livekit.test_livekit_agent import new_session

READY_WITHIN_S = 60.0  # imports and migrations, on a busy 2-core machine (not what is tested)
# Native libraries of the voice and media stack (VAD and turn detector, Whisper, face landmarks).
VOICE_LIBRARIES = ("onnxruntime", "ctranslate2", "mediapipe")
HEARTBEAT_S = 0.5
GRACE_S = 1.0


@pytest.fixture
def serve_env(livekit_settings: Settings, tmp_path: Path) -> dict[str, str]:
    secret = livekit_settings.livekit_api_secret
    assert secret is not None and livekit_settings.database_url
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GREENROOM_", "LIVEKIT_"))},
        "DATABASE_URL": livekit_settings.database_url,
        "GREENROOM_DATA_DIR": str(tmp_path / "api-data"),
        "GREENROOM_TRANSPORT": "livekit",
        "LIVEKIT_URL": livekit_settings.livekit_url or "",
        "LIVEKIT_API_KEY": livekit_settings.livekit_api_key or "",
        "LIVEKIT_API_SECRET": secret.get_secret_value(),
        "GREENROOM_SESSION_HEARTBEAT_S": str(HEARTBEAT_S),
        "GREENROOM_RECONNECT_GRACE_S": str(GRACE_S),
        "ORT_DISABLE_TELEMETRY": "1",
    }


@pytest.fixture
def serve(serve_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, int]]:
    """`greenroom serve` as a deployment runs it; stopped after the test."""
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "greenroom.cli", "serve", "--port", str(port)],
            cwd=tmp_path, env=serve_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        yield process, log, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _live(pool: asyncpg.Pool) -> UUID:
    session_id = await new_session(pool)
    await pool.execute(
        "UPDATE sessions SET status = 'live', started_at = now(), heartbeat_at = now() WHERE id = $1", session_id
    )
    return session_id


async def _keep_alive(pool: asyncpg.Pool, session_id: UUID) -> None:
    """What the interviewer's worker does for the session it holds."""
    while True:
        await db_sessions.heartbeat(pool, [session_id])
        await asyncio.sleep(HEARTBEAT_S / 2)


async def test_serve_in_livekit_mode_is_an_api_that_respects_the_workers_heartbeats(
    serve: tuple[subprocess.Popen[bytes], Path, int], pool: asyncpg.Pool
) -> None:
    process, log, port = serve
    kept = await _live(pool)
    lost = await _live(pool)  # its worker died and its candidate is not in its room
    worker = asyncio.create_task(_keep_alive(pool, kept))
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            while True:
                if process.poll() is not None:
                    pytest.fail(f"serve exited ({process.returncode}):\n{log.read_text()[-4000:]}")
                try:
                    if (await client.get("/v1/catalog")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() - started > READY_WITHIN_S:
                    pytest.fail(f"serve not ready within {READY_WITHIN_S:.0f} s:\n{log.read_text()[-4000:]}")
                await asyncio.sleep(0.1)
            ready_s = time.monotonic() - started
        loaded = Path(f"/proc/{process.pid}/maps").read_text()
        assert not [lib for lib in VOICE_LIBRARIES if lib in loaded], "the API loaded the voice stack"

        async def lost_abandoned() -> bool:
            return await pool.fetchval("SELECT status FROM sessions WHERE id = $1", lost) == "abandoned"

        deadline = time.monotonic() + 10 * (GRACE_S + HEARTBEAT_S)
        while not await lost_abandoned():
            assert time.monotonic() < deadline, "the sweep did not end the session nothing kept alive"
            await asyncio.sleep(0.1)
        await asyncio.sleep(3 * (GRACE_S + HEARTBEAT_S))  # several sweeps later
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    row = await pool.fetchrow("SELECT status, end_reason FROM sessions WHERE id = $1", lost)
    assert (row["status"], row["end_reason"]) == ("abandoned", "server_lost")
    assert await pool.fetchval("SELECT status FROM sessions WHERE id = $1", kept) == "live"
    text = log.read_text()
    assert "API only: rooms on LiveKit" in text, text[-4000:]
    assert "loading speech recognition" not in text and "models ready" not in text, text[-4000:]
    assert process.poll() is None
    print(f"serve (livekit) ready in {ready_s:.1f} s")
