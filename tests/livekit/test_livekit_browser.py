"""The web app on a LiveKit server, in real headless Chromium: `greenroom serve` with
GREENROOM_TRANSPORT=livekit, a real livekit-server whose webhooks go to it, and the interviewer as
a `greenroom agent dev` worker, all as subprocesses on loopback. The pages join through
livekit-client (vendored from npm): the candidate is interviewed end to end, and a coach watches
hidden, receiving only, while the candidate is told who watches."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from livekit import api

from api.livekit_webhook import WEBHOOK_PATH
import bench.livekit_server
from bench.live_server import ServerStartError, serve_process
from bench.loopback import free_port
from bench.livekit_server import LiveKitServer, LiveKitStartError, run_livekit
from tests.e2e.conftest import (  # noqa: F401 - browser_factory is a fixture
    ANSWER_TEXT,
    NEXT_QUESTION,
    FakeMedia,
    api_json,
    browser_factory,
    join_interview,
    make_fake_media,
    open_page,
    sign_up,
    snap,
    wait_for,
)
from tests.e2e.conftest import Server as WebServer
from tests.words import normalise, word_error_rate

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
LIVEKIT_CLIENT = FRONTEND / "vendor" / "livekit-client.esm.js"
WORKER_READY_TIMEOUT_S = 150.0  # the voice models load first, beside a server loading its own
WER_LIMIT = 0.35
# LiveKit gives a job only to a worker whose reported load (this machine's CPU, busy with Chromium
# and the server too) is below its agents.target_load, 0.7 by default: here any load below 1 will do.
AGENTS_CONFIG = "agents:\n  target_load: 1.0\n"
ANSWER_KEYWORDS = ("team", "billing", "invoice", "errors", "forty")
# The fake microphone speaks the answer this long after it opens. A LiveKit job (dispatch, the
# worker joining, the greeting synthesised) on a loaded two-core machine has taken well over the
# embedded room's 28 s before asking; an answer played before the question is never heard.
ANSWER_DELAY_S = 45.0


@pytest.fixture(scope="module")
def fake_media(tmp_path_factory: pytest.TempPathFactory) -> FakeMedia:
    return make_fake_media(tmp_path_factory.mktemp("livekit-media"), [ANSWER_TEXT], answer_delay_s=ANSWER_DELAY_S)


async def _asked_before_the_answer(page, media: FakeMedia, web: "LiveKitWeb") -> None:
    """Fails, saying why, when the first question was heard only after the fake answer began."""
    opened, heard = await page.evaluate("[greenroom.mirror.openedAt, greenroom.audio.spans[0][0]]")
    late = (heard - opened) / 1000
    if late > media.answer_starts_s - 1:
        pytest.fail(f"the first question was heard {late:.1f} s after the microphone opened, and the fake "
                    f"answer began at {media.answer_starts_s:.0f} s: the job was too slow to start. "
                    f"Worker log:\n{web.worker_log_text()[-3000:]}")


@dataclass(frozen=True, slots=True)
class LiveKitWeb:
    """The three processes: the web app and API, the LiveKit server, the interviewer worker."""

    web: WebServer
    livekit: LiveKitServer
    worker_log: Path

    def worker_log_text(self) -> str:
        return self.worker_log.read_text(errors="replace") if self.worker_log.exists() else ""


async def _worker_registered(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
    while "registered worker" not in (text := log.read_text(errors="replace") if log.exists() else ""):
        if process.poll() is not None:
            pytest.fail(f"the worker exited ({process.returncode}):\n{text[-4000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"the worker did not register within {WORKER_READY_TIMEOUT_S:.0f} s:\n{text[-4000:]}")
        await asyncio.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
async def livekit_web(
    make_database: Callable, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveKitWeb]:
    """livekit-server sending its webhooks to `greenroom serve` (livekit transport, a database of
    its own), and a `greenroom agent dev` worker under a dispatch name of this module's own."""
    if not LIVEKIT_CLIENT.exists():
        pytest.fail(f"{LIVEKIT_CLIENT.relative_to(REPO)} is missing: run `make setup` (it vendors livekit-client)")
    work = tmp_path_factory.mktemp("livekit-web")
    api_port = free_port()
    api_key, api_secret = f"test-{secrets.token_hex(4)}", secrets.token_urlsafe(32)
    agent_name = f"greenroom-web-{secrets.token_hex(4)}"
    database_url = await make_database()
    livekit_env = {"LIVEKIT_API_KEY": api_key, "LIVEKIT_API_SECRET": api_secret}
    with contextlib.ExitStack() as stack:
        loopback_config = bench.livekit_server.config_yaml
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bench.livekit_server, "config_yaml", lambda **kw: loopback_config(**kw) + AGENTS_CONFIG)
            try:
                livekit = stack.enter_context(
                    run_livekit(work / "livekit", api_key=api_key, api_secret=api_secret,
                                webhook_urls=[f"http://127.0.0.1:{api_port}{WEBHOOK_PATH}"])
                )
            except LiveKitStartError as exc:
                pytest.fail(str(exc), pytrace=False)
        livekit_env["LIVEKIT_URL"] = livekit.ws_url
        # serve_process passes its own environment on: LiveKit's variables only while it starts.
        with pytest.MonkeyPatch.context() as env:
            for name, value in livekit_env.items():
                env.setenv(name, value)
            try:
                served = stack.enter_context(
                    serve_process(database_url, work / "serve", port=api_port, start_timeout_s=150,
                                  transport="livekit", livekit_agent_name=agent_name)
                )
            except ServerStartError as exc:
                pytest.fail(str(exc), pytrace=False)
        worker_log = work / "worker.log"
        with open(worker_log, "wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "greenroom.cli", "agent", "dev", "--log-level", "INFO"],
                cwd=work,
                env={
                    **{k: v for k, v in os.environ.items() if not k.startswith(("GREENROOM_", "LIVEKIT_"))},
                    **livekit_env,
                    "DATABASE_URL": database_url,
                    "GREENROOM_DATA_DIR": str(work / "worker-data"),
                    "GREENROOM_LIVEKIT_AGENT_NAME": agent_name,
                    "ORT_DISABLE_TELEMETRY": "1",
                },
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        stack.callback(_stop, worker)
        await _worker_registered(worker, worker_log)
        yield LiveKitWeb(
            web=WebServer(url=served.url, database_url=database_url, log=served.log, process=served.process),
            livekit=livekit,
            worker_log=worker_log,
        )
        assert "Traceback" not in worker_log.read_text(errors="replace"), worker_log.read_text()[-4000:]


@pytest.fixture
async def lkapi(livekit_web: LiveKitWeb) -> AsyncIterator[api.LiveKitAPI]:
    lk = livekit_web.livekit
    async with api.LiveKitAPI(lk.http_url, lk.api_key, lk.api_secret) as client:
        yield client


def _refusals(page) -> list[str]:
    """Content-Security-Policy refusals the page reports on its console, as they come."""
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    return refused


async def _eventually(fetch: Callable, accept: Callable, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not accept(value := await fetch()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; last value: {value!r}")
        await asyncio.sleep(0.3)
    return value


async def _count(conn: asyncpg.Connection, table: str, session_id: str) -> int:
    return await conn.fetchval(f"SELECT count(*) FROM {table} WHERE session_id = $1", session_id)


async def test_a_candidate_is_interviewed_through_livekit_client(
    livekit_web: LiveKitWeb, fake_media: FakeMedia, browser_factory  # noqa: F811
) -> None:
    web = livekit_web.web
    browser = await browser_factory(fake_media)
    page = await open_page(browser)
    refusals = _refusals(page)
    await sign_up(page, web, name="Sam")
    session_id = await join_interview(page, capture_signals=True)
    assert await page.evaluate("greenroom.transport") == "livekit"

    # The first question: on screen, and the interviewer's voice arrives (the receiver's
    # statistics) and is heard in the page (its level meter).
    try:
        await wait_for(page, "greenroom.questions.length >= 1", 60, "the first question")
        await wait_for(page, "greenroom.receivedAudio().then(a => a.energy > 0.001)", 30, "the interviewer's voice to arrive")
        await wait_for(page, "greenroom.audio.loudFrames > 5", 30, "the interviewer's voice in the page")
    except pytest.fail.Exception as exc:
        received = await page.evaluate("greenroom.receivedAudio()")  # packets but no energy: not played out
        pytest.fail(f"{exc}\nreceived: {received}\nWorker log:\n{livekit_web.worker_log_text()[-6000:]}")
    assert await page.evaluate("greenroom.audio.maxRms") > 0.02
    await _asked_before_the_answer(page, fake_media, livekit_web)
    first = await page.evaluate("greenroom.questions[0]")
    assert first["seq"] == 1 and first["text"] in await page.inner_text("#question-text")
    await wait_for(page, "document.querySelectorAll('#captions .caption.interviewer').length > 0", 15, "interviewer captions")
    await snap(page, "livekit-room")

    # The fake microphone answers (through the published track); another question follows.
    try:
        await wait_for(page, f"!!{NEXT_QUESTION}", 90, "the interviewer's next question")
    except pytest.fail.Exception as exc:
        pytest.fail(f"{exc}\nWorker log:\n{livekit_web.worker_log_text()[-4000:]}")
    second = await page.evaluate(NEXT_QUESTION)
    assert second["seq"] == 2 and second["text"] != first["text"]
    await wait_for(page, "document.querySelectorAll('#captions .caption.candidate').length > 0", 15, "the candidate's captions")

    conn = await asyncpg.connect(web.database_url)
    try:
        async def transcript() -> str:
            rows = await conn.fetch("SELECT transcript FROM responses WHERE session_id = $1 ORDER BY started_at", session_id)
            return " ".join(r["transcript"] for r in rows)

        heard = await _eventually(
            transcript, lambda t: bool(t) and word_error_rate(fake_media.answer_text, t) <= WER_LIMIT,
            timeout=40, what="the answer stored in responses",
        )
        print(f"\nstored answer (WER {word_error_rate(fake_media.answer_text, heard):.2f}): {heard!r}")
        # numbers as words: Whisper writes "forty percent" as "40%" as often as not
        assert sum(word in normalise(heard) for word in ANSWER_KEYWORDS) >= 3, heard
        # The worker writes the question as it shows it, through its ordered writer: the row can
        # land a moment after the page has the event.
        async def seqs() -> list[int]:
            rows = await conn.fetch("SELECT seq FROM questions WHERE session_id = $1 ORDER BY seq", session_id)
            return [r["seq"] for r in rows]

        stored = await _eventually(seqs, lambda s: len(s) >= 2, timeout=15, what="the second question stored")
        assert stored[:2] == [1, 2]

        # End: the session is completed and the page moves on; the hidden signal consumer's face
        # and prosody rows are there.
        await page.click("#end")
        await wait_for(page, "greenroom.state === 'ended'", 15, "the session to end")
        await wait_for(page, f"location.hash === '#/sessions/{session_id}'", 15, "the review page")
        row = await conn.fetchrow("SELECT status, end_reason FROM sessions WHERE id = $1", session_id)
        assert (row["status"], row["end_reason"]) == ("completed", "ended_by_candidate")
        faces = await _eventually(lambda: _count(conn, "face_samples", session_id), lambda n: n > 0,
                                  timeout=30, what="face samples")
        windows = await _eventually(lambda: _count(conn, "prosody_windows", session_id), lambda n: n > 0,
                                    timeout=30, what="prosody windows")
        present = await conn.fetchval(
            "SELECT count(*) FROM face_samples WHERE session_id = $1 AND face_present", session_id
        )
        print(f"\n{faces} face samples ({present} with a face), {windows} prosody windows")
        assert present > 0, "the candidate's face was never found"
    finally:
        await conn.close()
    await page.wait_for_selector("#overall-score", timeout=60_000)
    assert refusals == [], refusals


WATCH_SOURCE = FRONTEND / "watch-livekit.js"
# What a page would call to send anything into a LiveKit room, or to open a camera or microphone.
PUBLISH_CALLS = re.compile(r"publish(Track|Data|DtmfTone)|sendText|streamText|setMicrophoneEnabled|setCameraEnabled|"
                           r"setScreenShareEnabled|enableCameraAndMicrophone|createLocal\w*Tracks?|getUserMedia|performRpc")


async def test_a_coach_watches_hidden_and_the_candidate_sees_who_watches(
    livekit_web: LiveKitWeb, fake_media: FakeMedia, browser_factory, lkapi: api.LiveKitAPI  # noqa: F811
) -> None:
    web = livekit_web.web
    candidate = await open_page(await browser_factory(fake_media))
    await sign_up(candidate, web, name="Sam")
    session_id = await join_interview(candidate, capture_signals=False)
    await wait_for(candidate, "greenroom.questions.length >= 1", 60, "the first question")
    status, share = await api_json(candidate, "POST", f"/v1/sessions/{session_id}/share")
    assert status == 201, share

    # A coach opens the link in a browser of their own (no camera files: nothing to send).
    coach = await open_page(await browser_factory(None))
    refusals = _refusals(coach)
    await coach.goto(f"{web.url}/#/watch/{share['token']}")
    await wait_for(coach, "greenroom.watch && greenroom.watch.state === 'watching'", 30, "the coach to start watching")
    assert await coach.evaluate("greenroom.watch.transport") == "livekit"
    await wait_for(coach, "greenroom.watch.videoFrames > 10", 20, "the candidate's video frames")
    assert await coach.locator("#candidate-video").evaluate("v => v.videoWidth") > 0
    # The current question, read from the interviewer's attributes on joining.
    await wait_for(coach, "greenroom.watch.questions.length >= 1", 15, "the current question on the coach's page")
    assert await coach.inner_text("#question-text") == await candidate.evaluate("greenroom.questions.at(-1).text")

    # The candidate is told who watches (the API, from LiveKit's webhook).
    await wait_for(candidate, "greenroom.watchers.length === 1", 20, "the candidate to be told a coach watches")
    assert await candidate.inner_text("#watchers") == "Watching: Coach"
    await snap(candidate, "livekit-room-watched")

    # Both voices reach the coach: the candidate's answer, then the interviewer's next question.
    await wait_for(coach, "greenroom.watch.audio.candidate.maxRms > 0.02", 60, "the candidate's voice on the coach page")
    await wait_for(coach, "greenroom.watch.audio.interviewer.maxRms > 0.02", 60, "the interviewer's voice on the coach page")
    await wait_for(coach, "document.querySelectorAll('#captions .caption').length > 0", 30, "captions on the coach page")
    await snap(coach, "livekit-watch")

    # The coach publishes nothing and cannot: no local track in the page, none on the server,
    # hidden, and a page with no code that would publish.
    assert await coach.evaluate("greenroom.watch.published()") == 0
    listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room=session_id))
    (watcher,) = [p for p in listed.participants if p.attributes.get("greenroom.role") == "coach"]
    assert watcher.permission.hidden and not watcher.permission.can_publish and not watcher.permission.can_publish_data
    assert list(watcher.tracks) == [] and not watcher.is_publisher
    assert watcher.name == "Coach"
    assert not PUBLISH_CALLS.search(WATCH_SOURCE.read_text()), "the watch page's LiveKit connection can publish"

    # The candidate ends: the room is deleted, and the coach's page says the interview ended.
    await candidate.click("#end")
    await wait_for(coach, "greenroom.watch.state === 'ended'", 20, "the coach page to show the end")
    assert "The interview has ended" in await coach.inner_text("#watch-ended")
    assert refusals == [], refusals
