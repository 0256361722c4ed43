"""The live room's connection states in a real browser when the server crashes mid-interview: the
page says it is reconnecting and comes back by itself when the server does; when the server stays
away it says the connection is lost, offers a rejoin, and the rejoin works once the server is back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

from tests.e2e.conftest import FakeMedia, Server, join_interview, open_page, serve, sign_up, snap, wait_for

# The page retries for about 23 s (10 attempts, backing off to 3 s) before it gives up.
GIVES_UP_WITHIN_S = 45
# The "short outage" is as long as a restart takes, which must stay well inside those 23 s on a
# loaded machine: the end-of-turn model (about a third of the start) is left out; turn-taking is
# not what is tested here.
FAST_START = {"turn_audio_model": "false"}


async def _crash(server: Server) -> None:
    """Kills the server outright: no goodbye on the socket, the peer connection just goes quiet."""
    assert server.process is not None
    server.process.kill()
    await asyncio.to_thread(server.process.wait)


async def test_server_crash_reconnects_or_says_lost_with_a_rejoin(
    make_database, fake_media: FakeMedia, browser_factory, tmp_path: Path
) -> None:
    # A database of its own: this is one server's outage, and another server on the same
    # database (the shared browser-test server) would rightly end a session nobody held for
    # longer than the grace period.
    database_url = await make_database()
    data_dir = tmp_path / "data"  # restarts keep the sign-in secret there, so the cookie holds
    browser = await browser_factory(fake_media)
    page = await open_page(browser)
    note, error = page.locator("#room-state"), page.locator("#error")

    with serve(database_url, data_dir, **FAST_START) as server:
        await sign_up(page, server)
        session_id = await join_interview(page, capture_signals=False)
        await wait_for(page, "greenroom.questions.length >= 1", 30, "the first question")
        port = urlsplit(server.url).port
        asked = await page.evaluate("greenroom.questions.length")
        await _crash(server)
        await wait_for(page, "greenroom.state === 'reconnecting'", 10, "the reconnecting state")
        assert await note.is_visible()
        assert "reconnecting" in (await note.inner_text()).lower()
        assert not await error.is_visible()
        await snap(page, "room-reconnecting")

    # A short outage: the server is back on the same address while the page is still retrying.
    with serve(database_url, data_dir, port=port, **FAST_START) as server:
        await wait_for(page, "greenroom.state === 'live'", GIVES_UP_WITHIN_S, "the room to come back by itself")
        assert not await note.is_visible()
        assert await page.evaluate("greenroom.sessionId") == session_id
        # The restarted server has no room for the session: the interviewer starts it again.
        await wait_for(page, f"greenroom.questions.length > {asked}", 30, "a question after reconnecting")

        # A long outage: the page gives up, says so, and stops retrying.
        await _crash(server)
        await wait_for(page, "greenroom.state === 'lost'", GIVES_UP_WITHIN_S, "the room to give up")
        assert await error.is_visible() and not await note.is_visible()
        assert "Connection lost" in await error.inner_text() and "rejoin" in await error.inner_text()
        assert await page.inner_text("#agent-state") == "Disconnected"
        rejoin = page.get_by_role("button", name="Rejoin interview")
        assert await rejoin.is_visible() and await rejoin.is_enabled()
        assert await page.get_by_role("link", name="Back to dashboard").is_visible()
        await snap(page, "room-lost")
        await page.wait_for_timeout(2000)
        assert await page.evaluate("greenroom.state") == "lost", "the page went on retrying after giving up"

    # The server is back; the candidate rejoins the same session from the room.
    with serve(database_url, data_dir, port=port, **FAST_START):
        await rejoin.click()
        await wait_for(page, "greenroom.state === 'live'", 30, "the room after rejoining")
        assert not await error.is_visible() and not await note.is_visible()
        await page.click("#end")
        await wait_for(page, "greenroom.state === 'ended'", 15, "the session to end")
        await wait_for(page, f"location.hash === '#/sessions/{session_id}'", 15, "the review page")
