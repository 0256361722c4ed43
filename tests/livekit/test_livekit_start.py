"""Starting the test LiveKit server: a port taken between its probe and LiveKit's bind (the probe
takes ports from the range outgoing connections use) means a start on new ports, not a failed run."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

import httpx
import pytest

import bench.livekit_server as livekit_server
from bench.livekit_server import run_livekit


def test_a_port_taken_before_livekit_binds_it_is_traded_for_a_free_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = socket.socket()
    taken.bind(("0.0.0.0", 0))  # as another process holds it, on every address
    taken.listen()
    taken_port = taken.getsockname()[1]
    probe = livekit_server._free_tcp_port
    answers = iter([taken_port])
    monkeypatch.setattr(livekit_server, "_free_tcp_port", lambda: next(answers, None) or probe())
    try:
        with run_livekit(tmp_path, api_key=f"test-{secrets.token_hex(4)}", api_secret=secrets.token_urlsafe(32)) as server:
            assert not server.http_url.endswith(f":{taken_port}")
            assert httpx.get(server.http_url, timeout=5).status_code == 200
    finally:
        taken.close()
