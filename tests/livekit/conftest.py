"""A real LiveKit server (built from source by `make livekit`) on loopback, one per test run."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bench.livekit_server import LiveKitServer, LiveKitStartError, run_livekit
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
