"""Browser test fixtures: fake camera/microphone files, a real `greenroom serve`, Debian's Chromium,
and helpers that drive the web app as a candidate would (sign up, set up, screenshots)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Error as PlaywrightError

from bench.face_media import camera_frames, write_y4m
from bench.live_server import ServerStartError, serve_process

CHROMIUM = os.environ.get("GREENROOM_CHROMIUM", "/usr/bin/chromium")
BROWSER_TESTS_SIGN_UP_LIMIT = 500
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"

# What the fake microphone says: a short mic check (for the mirror check's level meter), then,
# after enough silence for the interviewer's first question, the answer.
MIC_CHECK_TEXT = "Testing, one, two, three."
ANSWER_TEXT = (
    "In my last job I led a team of four engineers to rebuild our billing system. "
    "We moved the invoices to a new queue and tested every change. "
    "As a result we cut invoice errors by forty percent in three months."
)
ANSWER_DELAY_S = 28.0
CAMERA_FRAMES, CAMERA_FPS = 60, 15  # a 4 s loop
PASSWORD = "a long enough password"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


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


def make_fake_media(out: Path, answer: Sequence[str | float], *, answer_delay_s: float = ANSWER_DELAY_S) -> FakeMedia:
    """Camera and microphone files: the mic check at once, then at `answer_delay_s` the answer,
    spoken piece by piece (str) with silences of the given seconds (float) between, then silence."""
    espeak, sox = _need("espeak-ng"), _need("sox")
    fmt = ["-r", "48000", "-c", "1", "-b", "16"]
    pieces: list[str] = []
    for i, part in enumerate(answer):
        piece = out / f"answer-{i}.wav"
        if isinstance(part, str):
            raw = out / f"answer-{i}-raw.wav"
            subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(raw), part], check=True)
            subprocess.run([sox, str(raw), *fmt, str(piece)], check=True)
        else:
            subprocess.run([sox, "-n", *fmt, str(piece), "trim", "0", str(part)], check=True)
        pieces.append(str(piece))
    spoken, check, answer_wav, mic_check = out / "speech.wav", out / "check.wav", out / "answer48.wav", out / "check48.wav"
    subprocess.run([sox, *pieces, str(spoken)], check=True)
    subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(check), MIC_CHECK_TEXT], check=True)
    # 48 kHz mono, played once: the mic check at once, the answer at answer_delay_s, then silence.
    subprocess.run([sox, str(spoken), *fmt, str(answer_wav), "pad", str(answer_delay_s), "60"], check=True)
    subprocess.run([sox, str(check), *fmt, str(mic_check), "pad", "0.3", "0"], check=True)
    audio = out / "mic.wav"
    subprocess.run([sox, "-m", "-v", "1", str(mic_check), "-v", "1", str(answer_wav), str(audio)], check=True)
    # A face that stays in view (drifting a little, tilting the head), looped by Chromium, so
    # delivery analysis has a face to find.
    video = out / "camera.y4m"
    write_y4m(video, camera_frames(CAMERA_FRAMES), fps=CAMERA_FPS)
    text = " ".join(p for p in answer if isinstance(p, str))
    return FakeMedia(video=video, audio=audio, answer_text=text, answer_starts_s=answer_delay_s)


@pytest.fixture(scope="session")
def fake_media(tmp_path_factory: pytest.TempPathFactory) -> FakeMedia:
    return make_fake_media(tmp_path_factory.mktemp("media"), [ANSWER_TEXT])


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    database_url: str
    log: Path
    process: subprocess.Popen | None = None  # to stop it the hard way (a crash)


@contextmanager
def serve(database_url: str, data_dir: Path, *, port: int | None = None, **settings: str) -> Iterator[Server]:
    """Runs `greenroom serve` as a user would, on loopback, until the block ends; on a free
    port unless given one (to restart a server where a page expects it). Every browser test's
    people sign up from the same loopback address within minutes (the counts are kept in the
    database, across servers), as a class behind one school network might: the sign-up throttle
    is raised for them; tests/security/test_throttle.py tests it at its default."""
    settings.setdefault("sign_up_limit", str(BROWSER_TESTS_SIGN_UP_LIMIT))
    if not (REPO / "frontend" / "vendor" / "chart.umd.js").exists():
        pytest.fail("frontend/vendor/chart.umd.js is missing: run `make setup` (it builds the web app's charts)")
    try:
        with serve_process(database_url, data_dir, port=port, **settings) as server:
            yield Server(url=server.url, database_url=database_url, log=server.log, process=server.process)
    except ServerStartError as exc:
        pytest.fail(str(exc))


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


# -- driving the web app ------------------------------------------------------------------


async def open_page(browser, **options):
    """A new page whose console errors and uncaught exceptions are printed (pytest shows them
    when a test fails)."""
    context = await browser.new_context(viewport=DESKTOP, **options)
    page = await context.new_page()
    page.on("console", lambda m: print(f"[console.{m.type}] {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: print(f"[pageerror] {e}"))
    return page


def new_email() -> str:
    """An email address no other test uses."""
    return f"candidate-{uuid.uuid4().hex[:12]}@example.test"


# The first question with a higher number than the first one asked: the interviewer moved on. A
# question may be sent again with its number (asked again when the candidate's speech during it
# was not an answer, or after a reconnect), so "the second question event" is not this.
NEXT_QUESTION = "greenroom.questions.find((q) => q.seq > greenroom.questions[0].seq)"


async def wait_for(page, expression: str, timeout_s: float, what: str) -> None:
    """Waits for a page expression to be truthy; on timeout, fails with the page's room state.

    It polls with page.evaluate, which the browser runs outside the pages' Content-Security-Policy:
    Playwright's wait_for_function compiles the expression with eval, which that policy refuses.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if await page.evaluate(expression):
                return
        except PlaywrightError:  # navigating, or not defined yet: ask the next document
            pass
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    state = await page.evaluate(
        "JSON.stringify(window.greenroom ? {state: greenroom.state, mirror: greenroom.mirror,"
        " audio: greenroom.audio, events: (greenroom.events || []).slice(-8)} : {hash: location.hash})"
    )
    pytest.fail(f"timed out waiting for {what}; page state: {state}")


async def sign_up(page, server: Server, *, name: str = "Sam Candidate", email: str | None = None) -> str:
    """Creates an account through the sign-up page; returns its email. Ends on the dashboard."""
    email = email or new_email()
    await page.goto(server.url + "/#/signup")
    await page.get_by_label("Your name (optional)").fill(name)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await wait_for(page, "location.hash === '#/'", 30, "the dashboard after sign-up")
    await page.wait_for_selector("main h1:has-text('Welcome')")
    return email


async def join_interview(page, *, capture_signals: bool = True) -> str:
    """From the dashboard: a default new interview, the mirror check, consent, Join; waits until
    the room is live and returns the session id."""
    await page.get_by_role("navigation").get_by_role("link", name="New interview").click()
    await page.get_by_role("button", name="Continue to mirror check").click()
    await wait_for(page, "window.greenroom.mirror && greenroom.mirror.state === 'ready'", 20, "the camera and microphone")
    await page.get_by_label("I have read the policy above").check()
    if capture_signals:
        await page.get_by_label("Analyse my delivery").check()
    await page.click("#join")
    await wait_for(page, "greenroom.state === 'live'", 30, "the room to connect")
    return await page.evaluate("greenroom.sessionId")


async def api_json(page, method: str, path: str, body: dict | None = None):
    """Calls the API from inside the page (with its sign-in cookie); returns [status, json]."""
    return await page.evaluate(
        """async ([method, path, body]) => {
            const res = await fetch(path, {method, headers: body ? {"content-type": "application/json"} : {},
                                           body: body ? JSON.stringify(body) : undefined});
            let data = null;
            try { data = await res.json(); } catch (_) {}
            return [res.status, data];
        }""",
        [method, path, body],
    )


async def snap(page, name: str, part: str | None = None) -> None:
    """Screenshots the page (or one part of it, a CSS selector) at desktop and phone widths
    (docs/screenshots/NAME-desktop.png and NAME-phone.png); at phone width nothing may scroll
    sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size or DESKTOP
    for size, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        await page.set_viewport_size(size)
        await page.wait_for_timeout(300)  # charts resize on the next frame
        if suffix == "phone":
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        path = str(SCREENSHOTS / f"{name}-{suffix}.png")
        if part is not None:
            await page.locator(part).screenshot(path=path)
            continue
        height = await page.evaluate("document.documentElement.scrollHeight")
        # The whole page, up to a few screens (long lists are cut).
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(height, size["height"] * 3)}
        await page.screenshot(path=path, full_page=True, clip=clip)
    await page.set_viewport_size(original)
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at phone width"
