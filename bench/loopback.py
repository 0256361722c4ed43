"""Servers that benches and tests start on loopback: ports nothing else takes, and the wait
until a server answers.

A port probed free with bind(("127.0.0.1", 0)) comes from the range the kernel also hands to
outgoing connections (ip_local_port_range, 32768-60999 here). A server that binds it seconds
later (`greenroom serve` loads its voice models first) can find it taken by a database or HTTP
connection made in between: "address already in use". Ports below that range are only ever
taken by a process that asks for them by number, so the ports here are probed there.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path

import httpx

LOWEST_PORT = 10000
PROBES = 200


def _outgoing_range_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_range(count: int, kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """The first of `count` consecutive ports on 127.0.0.1 free right now, below the range
    outgoing connections take their ports from."""
    below = _outgoing_range_start()
    for _ in range(PROBES):
        start = random.randrange(LOWEST_PORT, below - count)
        sockets: list[socket.socket] = []
        try:
            for port in range(start, start + count):
                s = socket.socket(socket.AF_INET, kind)
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return start
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise OSError(f"no {count} consecutive free ports on 127.0.0.1 between {LOWEST_PORT} and {below}")


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 free right now, that no outgoing connection will take."""
    return free_range(1, kind)


def wait_until_answering(
    proc: subprocess.Popen, url: str, log: Path, timeout_s: float, error: type[Exception], name: str
) -> None:
    """Waits until `url` answers 200; raises `error`, ending with the log, if `proc` exits first
    or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise error(f"{name} exited early:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise error(f"{name} did not come up:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
