"""Browser test fixtures: fake camera/microphone files, a real `greenroom serve`, Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("GREENROOM_CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"

# What the fake microphone says, after enough silence for the interviewer's first question.
ANSWER_TEXT = (
    "In my last job I led a team of four engineers to rebuild our billing system. "
    "We moved the invoices to a new queue and tested every change. "
    "As a result we cut invoice errors by forty percent in three months."
)
ANSWER_DELAY_S = 24.0


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is required for the browser tests (CI installs it: apt-get install {tool})")
    return path


@dataclass(frozen=True, slots=True)
class FakeMedia:
    """Files Chromium plays as the camera and the microphone."""

    video: Path
    audio: Path
    answer_text: str
    answer_starts_s: float


@pytest.fixture(scope="session")
def fake_media(tmp_path_factory: pytest.TempPathFactory) -> FakeMedia:
    out = tmp_path_factory.mktemp("media")
    espeak, sox, ffmpeg = _need("espeak-ng"), _need("sox"), _need("ffmpeg")
    speech = out / "speech.wav"
    subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(speech), ANSWER_TEXT], check=True)
    audio = out / "mic.wav"
    # 48 kHz mono: silence, the answer, then a long silence (the file is played once).
    subprocess.run(
        [sox, str(speech), "-r", "48000", "-c", "1", "-b", "16", str(audio),
         "pad", str(ANSWER_DELAY_S), "60"],
        check=True,
    )
    video = out / "camera.y4m"
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=640x480:rate=15",
         "-t", "3", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )
    return FakeMedia(video=video, audio=audio, answer_text=ANSWER_TEXT, answer_starts_s=ANSWER_DELAY_S)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    database_url: str
    log: Path


@contextmanager
def serve(database_url: str, data_dir: Path, **settings: str) -> Iterator[Server]:
    """Runs `greenroom serve` as a user would, on loopback, until the block ends."""
    port = _free_port()
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
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "greenroom.cli", "serve"], env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"greenroom serve exited early:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(url + "/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            proc.kill()
            pytest.fail(f"greenroom serve did not come up:\n{log.read_text()[-3000:]}")
        try:
            yield Server(url=url, database_url=database_url, log=log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def greenroom_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`greenroom serve` against the test database, shared by the browser tests."""
    with serve(database_url, tmp_path_factory.mktemp("data")) as server:
        yield server


@pytest.fixture
async def browser_factory() -> AsyncIterator:
    """Launches Debian's Chromium with fake devices; fails clearly when it is missing."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (CI installs it: apt-get install chromium)")
    from playwright.async_api import async_playwright

    browsers = []
    async with async_playwright() as pw:

        async def launch(media: FakeMedia | None, *, deny_media: bool = False):
            args = [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--autoplay-policy=no-user-gesture-required", "--allow-loopback-in-peer-connection",
            ]
            args.append("--use-fake-device-for-media-stream")
            if not deny_media:
                args.append("--use-fake-ui-for-media-stream")  # else the permission prompt is denied
            if media is not None:
                args += [
                    f"--use-file-for-fake-video-capture={media.video}",
                    f"--use-file-for-fake-audio-capture={media.audio}%noloop",
                ]
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=args, ignore_default_args=["--mute-audio"]
            )
            browsers.append(browser)
            return browser

        yield launch
        for b in browsers:
            await b.close()
