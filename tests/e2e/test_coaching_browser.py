"""Coaches with accounts watch a live interview in real headless Chromium, three pages at once:
the candidate in the interview, who shares with two coaches from the dashboard and sees them
watching by name; a coach who joins from their coaching dashboard and notes a moment; and a
second coach whose access the candidate revokes from the room mid-interview. Afterwards the
note is on the candidate's review timeline and in the PDF; hidden, it leaves both."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium

from tests.e2e.conftest import FakeMedia, Server, api_json, join_interview, open_page, sign_up, snap, wait_for
from tests.e2e.test_watch_browser import CUT_OFF_CLOCK

NOTE = "Strong opening; slow down when you give the numbers."
WATCHING = "(greenroom.watchers || [])"
# Notes the wall-clock time at which the candidate's page sends a share's revocation (window.revokeAt).
REVOKE_CLOCK = """() => {
    const send = window.fetch;
    window.revokeAt = null;
    window.revokedAt = null;
    window.fetch = (input, init) => {
        if (!(init && init.method === "DELETE" && String(input).includes("/v1/coach-shares/"))) return send(input, init);
        window.revokeAt = Date.now();
        return send(input, init).then((response) => { window.revokedAt = Date.now(); return response; });
    };
}"""


def _pdf_text(data: bytes) -> str:
    """The PDF's text, whitespace collapsed (as tests/api/test_reports.py reads it)."""
    pdf = pdfium.PdfDocument(data)
    try:
        text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        return " ".join(text.split())
    finally:
        pdf.close()


async def _pdf_of_review(page) -> str:
    async with page.expect_download(timeout=60_000) as download_info:
        await page.click("#export-pdf")
    download = await download_info.value
    data = Path(await download.path()).read_bytes()
    assert data.startswith(b"%PDF"), data[:20]
    return _pdf_text(data)


async def _share_from_dashboard(page, email: str, name: str) -> None:
    """The candidate shares all their interviews with the coach's account, from the dashboard."""
    field = page.get_by_label("Coach's email")
    if not await field.is_visible():
        await page.locator("#sharing summary").click()
    await field.fill(email)
    await page.locator("#sharing-submit").click()
    await page.locator("#sharing-list li", has_text=name).wait_for()


async def test_coaches_watch_note_and_lose_access_mid_interview(
    greenroom_server: Server, fake_media: FakeMedia, browser_factory
) -> None:
    browser = await browser_factory(fake_media)
    candidate, coach, second = [await open_page(browser) for _ in range(3)]
    coach_email = await sign_up(coach, greenroom_server, name="Ada Coach")
    second_email = await sign_up(second, greenroom_server, name="Ben Coach")
    await sign_up(candidate, greenroom_server, name="Sam")

    # The candidate shares with both coaches by the emails of their accounts.
    await _share_from_dashboard(candidate, coach_email, "Ada Coach")
    await _share_from_dashboard(candidate, second_email, "Ben Coach")
    shared = await candidate.locator("#sharing-list .share-target").all_inner_texts()
    assert sorted(shared) == ["Ada Coach", "Ben Coach"], shared

    # Coach 1 waits on their coaching dashboard; the interview shows up there live.
    await coach.get_by_role("navigation").get_by_role("link", name="Coaching").click()
    await coach.wait_for_selector("#shared-with-me")
    session_id = await join_interview(candidate, capture_signals=False)
    live_row = coach.locator(f"#live-sessions li[data-session-id='{session_id}']")
    await live_row.wait_for(timeout=20_000)
    assert "Sam" in await live_row.inner_text()
    await snap(coach, "coaching")
    await live_row.get_by_role("link", name="Watch Sam live").click()
    await wait_for(coach, "greenroom.watch && greenroom.watch.state === 'watching'", 30, "coach 1 to start watching")
    await wait_for(coach, "greenroom.watch.videoFrames > 10", 30, "the candidate's video on coach 1's page")

    # Coach 2 opens the interview straight from its address.
    await second.goto(f"{greenroom_server.url}/#/coaching/watch/{session_id}")
    await wait_for(second, "greenroom.watch && greenroom.watch.state === 'watching'", 30, "coach 2 to start watching")

    # The candidate sees both coaches watching, by name.
    await wait_for(candidate, f"{WATCHING}.includes('Ada Coach') && {WATCHING}.includes('Ben Coach')", 15, "both coaches named in the room")
    watchers = await candidate.inner_text("#watchers")
    assert "Ada Coach" in watchers and "Ben Coach" in watchers, watchers
    await snap(candidate, "room-coaches-watching")

    # Coach 1 notes this moment; it is stamped with the interview's time.
    await coach.get_by_label("Note", exact=True).fill(NOTE)
    await coach.get_by_role("button", name="Note this moment").click()
    await coach.locator("#live-notes li", has_text=NOTE).wait_for(timeout=10_000)
    await snap(coach, "coach-watch")
    status, notes = await api_json(candidate, "GET", f"/v1/sessions/{session_id}/notes")
    assert status == 200, notes
    assert [(n["body"], n["author_name"], n["hidden"]) for n in notes] == [(NOTE, "Ada Coach", False)]
    note_ms = notes[0]["t_ms"]
    assert 0 < note_ms < 10 * 60_000, note_ms

    # The candidate revokes coach 2 from the room: coach 2 is cut off within a second and told why.
    await second.evaluate(CUT_OFF_CLOCK)
    await candidate.get_by_role("button", name="Coaches", exact=True).click()
    stop = candidate.get_by_role("button", name="Stop sharing with Ben Coach")
    await stop.wait_for()
    # Timed in the pages (one wall clock): from the revocation's request to coach 2's page changing.
    await candidate.evaluate(REVOKE_CLOCK)
    await stop.click()
    await wait_for(second, "greenroom.watch.state === 'access_ended'", 10, "coach 2's page to be cut off")
    # The coach may be cut off before the candidate's page has the DELETE's answer.
    await wait_for(candidate, "window.revokedAt !== null", 10, "the answer to the revocation")
    revoke_at, revoked_at = await candidate.evaluate("[window.revokeAt, window.revokedAt]")
    cut_off_ms = await second.evaluate("window.cutOffAt") - revoke_at
    print(f"\nrevoke from the room -> coach 2 cut off in {cut_off_ms:.0f} ms (the DELETE took {revoked_at - revoke_at} ms)")
    assert cut_off_ms < 1000, f"coach 2 was cut off {cut_off_ms:.0f} ms after the candidate revoked"
    ended = await second.inner_text("#watch-ended")
    assert "Access to this interview has ended" in ended, ended
    assert await second.evaluate("greenroom.watch.peerState") == "closed"
    status, _ = await api_json(second, "GET", f"/v1/sessions/{session_id}/report")
    assert status == 404
    await wait_for(candidate, f"!{WATCHING}.includes('Ben Coach') && {WATCHING}.includes('Ada Coach')", 10, "coach 2 to leave the room's watchers")
    assert await coach.evaluate("greenroom.watch.state") == "watching"
    assert await candidate.evaluate("greenroom.state") == "live"

    # The candidate ends the interview; coach 1 is told.
    await candidate.click("#end")
    await wait_for(coach, "greenroom.watch.state === 'ended'", 20, "coach 1's page to show the end")
    await wait_for(candidate, f"location.hash === '#/sessions/{session_id}'", 20, "the candidate's review")
    await candidate.wait_for_selector("#scorecard", timeout=30_000)

    # The note is on the candidate's review timeline, at its moment, and in the PDF.
    item = candidate.locator("#timeline #coach-notes li", has_text=NOTE)
    await item.wait_for(timeout=10_000)
    assert await item.get_attribute("data-t-ms") == str(note_ms)
    assert "Ada Coach" in await item.inner_text()
    minutes, seconds = divmod(note_ms // 1000, 60)
    assert await item.locator(".moment-time").inner_text() == f"{minutes:02d}:{seconds:02d}"
    _, timeline = await api_json(candidate, "GET", f"/v1/sessions/{session_id}/timeline")
    assert [(n["body"], n["t_ms"]) for n in timeline["notes"]] == [(NOTE, note_ms)]
    await snap(candidate, "review-coach-notes", part="#timeline")
    text = await _pdf_of_review(candidate)
    assert NOTE in text, text[-1500:]
    assert "Ada Coach" in text

    # The candidate hides it: it leaves the timeline's notes, the PDF and the coach's view.
    await candidate.get_by_role("button", name=re.compile(r"^Hide the note at .* by Ada Coach$")).click()
    await candidate.locator("#coach-notes li[data-hidden='true']").wait_for()
    _, timeline = await api_json(candidate, "GET", f"/v1/sessions/{session_id}/timeline")
    assert timeline["notes"] == []
    assert NOTE not in await _pdf_of_review(candidate)
    await coach.get_by_role("link", name="Read the report").click()
    await coach.wait_for_selector("#scorecard", timeout=30_000)
    assert await coach.locator("#coach-view-note").is_visible()
    assert await coach.locator("#coach-notes li").count() == 0

    # Shown again, then deleted: gone for good.
    await candidate.get_by_role("button", name=re.compile(r"^Show the note at ")).click()
    await candidate.locator("#coach-notes li[data-hidden='false']").wait_for()
    await candidate.get_by_role("button", name=re.compile(r"^Delete the note at ")).click()
    await candidate.locator("#coach-notes-empty").wait_for()
    _, notes = await api_json(candidate, "GET", f"/v1/sessions/{session_id}/notes")
    assert notes == []
