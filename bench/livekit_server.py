"""Run a real LiveKit server (built from source by `make livekit`) on loopback for tests and benches."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.loopback import free_port, free_range, wait_until_answering

REPO = Path(__file__).resolve().parent.parent
LIVEKIT_VERSION = (REPO / "scripts" / "livekit-version").read_text().strip()
STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 10.0
UDP_PORTS = 20  # media ports per server: a few per participant
BIND_ATTEMPTS = 5


class LiveKitStartError(RuntimeError):
    """The server binary is missing, exited, or did not answer in time; the message says which."""


@dataclass(frozen=True, slots=True)
class LiveKitServer:
    """A running server: its URLs, the API key it accepts, its log and process."""

    http_url: str  # for livekit-api (Twirp over HTTP)
    ws_url: str  # for livekit.rtc participants
    api_key: str
    api_secret: str
    log: Path
    process: subprocess.Popen


def server_binary() -> Path:
    """The built binary: GREENROOM_LIVEKIT_SERVER, or .cache/livekit/<pinned version>/livekit-server."""
    configured = os.environ.get("GREENROOM_LIVEKIT_SERVER")
    path = Path(configured) if configured else REPO / ".cache" / "livekit" / LIVEKIT_VERSION / "livekit-server"
    if not os.access(path, os.X_OK):
        raise LiveKitStartError(
            f"livekit-server {LIVEKIT_VERSION} is not built at {path}: run `make livekit` "
            "(it builds it from source through the Go module proxy; `make test` does this itself)"
        )
    return path


def config_yaml(*, port: int, tcp_port: int, udp_start: int, api_key: str, api_secret: str,
                redis_address: str | None = None, redis_password: str | None = None,
                webhook_urls: Sequence[str] = ()) -> str:
    """A loopback-only server config: signalling, ICE/TCP and a UDP port range on 127.0.0.1;
    webhooks, signed with the API key, to webhook_urls; Redis (shared with other nodes) if given."""
    redis = f"redis:\n  address: {redis_address}\n" if redis_address else ""
    if redis and redis_password:
        redis += f"  password: {redis_password}\n"
    webhook = "".join(f"    - {url}\n" for url in webhook_urls)
    webhook = f"webhook:\n  api_key: {api_key}\n  urls:\n{webhook}" if webhook_urls else ""
    return (
        f"port: {port}\n"
        "bind_addresses: [127.0.0.1]\n"
        "rtc:\n"
        f"  tcp_port: {tcp_port}\n"
        f"  port_range_start: {udp_start}\n"
        f"  port_range_end: {udp_start + UDP_PORTS - 1}\n"
        "  use_external_ip: false\n"
        "  node_ip: 127.0.0.1\n"
        "  enable_loopback_candidate: true\n"
        f"keys:\n  {api_key}: {api_secret}\n"
        f"{redis}"
        f"{webhook}"
        "logging:\n  level: info\n  json: false\n"
    )


@contextmanager
def run_livekit(
    work_dir: Path, *, api_key: str, api_secret: str, redis_address: str | None = None,
    redis_password: str | None = None, webhook_urls: Sequence[str] = (),
) -> Iterator[LiveKitServer]:
    """Runs livekit-server on loopback until the block ends; waits until it answers HTTP.

    Its ports are probed free just before it starts, below the range outgoing connections use
    (bench/loopback.py); if another server takes one in between ("address already in use"),
    it is started again on new ones.
    """
    binary = server_binary()
    work_dir.mkdir(parents=True, exist_ok=True)
    config = work_dir / "livekit.yaml"
    log = work_dir / "livekit.log"
    for attempt in range(1, BIND_ATTEMPTS + 1):
        port = free_port()
        config.write_text(config_yaml(
            port=port, tcp_port=free_port(), udp_start=free_range(UDP_PORTS, socket.SOCK_DGRAM),
            api_key=api_key, api_secret=api_secret, redis_address=redis_address, redis_password=redis_password,
            webhook_urls=webhook_urls,
        ))
        with open(log, "wb") as log_file:
            proc = subprocess.Popen(
                [str(binary), "--config", str(config), "--node-ip", "127.0.0.1"],
                stdout=log_file, stderr=subprocess.STDOUT, cwd=work_dir,
            )
        try:
            wait_until_answering(proc, f"http://127.0.0.1:{port}", log, STARTUP_TIMEOUT_S, LiveKitStartError, "livekit-server")
        except LiveKitStartError:
            _stop(proc)
            if attempt < BIND_ATTEMPTS and "address already in use" in log.read_text():
                continue
            raise
        break
    try:
        yield LiveKitServer(
            http_url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}", api_key=api_key,
            api_secret=api_secret, log=log, process=proc,
        )
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
