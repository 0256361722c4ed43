"""Starting the test LiveKit server: a port taken between its probe and LiveKit's bind means a
start on new ports, not a failed run; and its ports are never ones outgoing connections take."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

import httpx
import pytest

import bench.livekit_server as livekit_server
from bench.livekit_server import run_livekit
from bench.loopback import LOWEST_PORT, free_port, free_range


def test_a_port_taken_before_livekit_binds_it_is_traded_for_a_free_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = socket.socket()
    taken.bind(("0.0.0.0", 0))  # as another process holds it, on every address
    taken.listen()
    taken_port = taken.getsockname()[1]
    probe = livekit_server.free_port
    answers = iter([taken_port])
    monkeypatch.setattr(livekit_server, "free_port", lambda: next(answers, None) or probe())
    try:
        with run_livekit(tmp_path, api_key=f"test-{secrets.token_hex(4)}", api_secret=secrets.token_urlsafe(32)) as server:
            assert not server.http_url.endswith(f":{taken_port}")
            assert httpx.get(server.http_url, timeout=5).status_code == 200
    finally:
        taken.close()


def test_probed_ports_lie_below_the_range_outgoing_connections_use() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(50)] + [free_port(socket.SOCK_DGRAM) for _ in range(50)]
    assert all(LOWEST_PORT <= p < low for p in ports), ports
    start = free_range(20, socket.SOCK_DGRAM)
    assert LOWEST_PORT <= start and start + 20 <= low
    with socket.socket() as held:  # a port another server holds is never offered
        held.bind(("127.0.0.1", start))
        held.listen()
        assert start not in {free_port() for _ in range(2000)}
