"""A real LiveKit server (built from source by `make livekit`) on loopback, one per test run."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from livekit import api
from pydantic import SecretStr

from bench.livekit_server import LiveKitServer, LiveKitStartError, run_livekit
from bench.loopback import free_port
from greenroom.settings import Settings


@pytest.fixture(scope="session")
def livekit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveKitServer]:
    """livekit-server with a fresh API key pair, its RTC ports on 127.0.0.1; stopped after the run."""
    try:
        with run_livekit(
            tmp_path_factory.mktemp("livekit"),
            api_key=f"test-{secrets.token_hex(4)}",
            api_secret=secrets.token_urlsafe(32),
        ) as server:
            yield server
    except LiveKitStartError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def livekit_settings(livekit_server: LiveKitServer, settings: Settings) -> Settings:
    """The run's settings pointed at the LiveKit server, under LiveKit's own variable names."""
    return settings.model_copy(update={
        "livekit_url": livekit_server.ws_url,
        "livekit_api_key": livekit_server.api_key,
        "livekit_api_secret": SecretStr(livekit_server.api_secret),
    })


@dataclass(frozen=True, slots=True)
class WebhookedLiveKit:
    """A LiveKit server that sends its webhooks to an API meant to listen on api_port."""

    server: LiveKitServer
    api_port: int

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/v1/livekit/webhook"


@pytest.fixture(scope="session")
def livekit_webhook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookedLiveKit]:
    """livekit-server (own key pair) whose webhooks go to 127.0.0.1:<api_port>; a test serves the
    app there (the port is chosen free before the server starts, and left free for the test)."""
    api_port = free_port()  # left free for minutes: a port outgoing connections never take
    try:
        with run_livekit(
            tmp_path_factory.mktemp("livekit-webhooks"),
            api_key=f"test-{secrets.token_hex(4)}",
            api_secret=secrets.token_urlsafe(32),
            webhook_urls=[f"http://127.0.0.1:{api_port}/v1/livekit/webhook"],
        ) as server:
            yield WebhookedLiveKit(server, api_port)
    except LiveKitStartError as exc:
        pytest.fail(str(exc), pytrace=False)


@dataclass(frozen=True, slots=True)
class RedisServer:
    """A running redis-server on loopback: LiveKit's `redis.address` and its password."""

    address: str  # host:port
    password: str


REDIS_STARTUP_TIMEOUT_S = 10.0


def _redis_answers(port: int, password: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(f"AUTH {password}\r\nPING\r\n".encode())
            reply = b""
            while b"PONG" not in reply and len(reply) < 256:
                chunk = conn.recv(256)
                if not chunk:
                    break
                reply += chunk
            return b"+OK" in reply and b"+PONG" in reply
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Debian's redis-server on 127.0.0.1 with a password and no persistence, for LiveKit's
    multi-node mode (several nodes sharing one Redis); stopped after the run."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not shutil.which(binary):
        pytest.fail(
            "redis-server is not installed, and LiveKit's multi-node tests need it: "
            "`make test` installs it (scripts/system-deps), or `sudo apt-get install -y redis-server`",
            pytrace=False,
        )
    work_dir = tmp_path_factory.mktemp("redis")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    password = secrets.token_hex(16)
    log = work_dir / "redis.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--requirepass", password,
             "--save", "", "--appendonly", "no", "--dir", str(work_dir)],
            stdout=log_file, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + REDIS_STARTUP_TIMEOUT_S
        while not _redis_answers(port, password):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not come up:\n{log.read_text()[-2000:]}", pytrace=False)
            time.sleep(0.05)
        yield RedisServer(address=f"127.0.0.1:{port}", password=password)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def agent_token(server_key: str, server_secret: str, room: str) -> str:
    """A participant of the agent kind, as a worker's job joins (a candidate listens to its voice)."""
    return (
        api.AccessToken(server_key, server_secret)
        .with_identity(f"agent-{secrets.token_hex(3)}")
        .with_kind("agent")
        .with_grants(api.VideoGrants(room_join=True, room=room, agent=True))
        .to_jwt()
    )
