"""A coach watches a live interview in real headless Chromium from the link the candidate shares:
the candidate's camera, the interviewer's voice, the same captions, then the ended state with a
link to the read-only report; and, when the candidate stops sharing, the coach is cut off."""

from __future__ import annotations

import asyncio
import time

from tests.e2e.conftest import FakeMedia, Server, api_json, join_interview, open_page, sign_up, snap, wait_for

CAPTIONS_IN_PAGE = "[...document.querySelectorAll('#captions .caption.interviewer span')].map(s => s.textContent.trim())"
# Notes the wall-clock time at which the watch's state becomes access_ended (window.cutOffAt).
CUT_OFF_CLOCK = """() => {
    const watch = greenroom.watch;
    let state = watch.state;
    window.cutOffAt = null;
    Object.defineProperty(watch, "state", {
        get: () => state,
        set: (value) => {
            if (value === "access_ended" && window.cutOffAt === null) window.cutOffAt = Date.now();
            state = value;
        },
    });
}"""
# Revokes the share from the candidate's page: [wall-clock time the request was made, status].
REVOKE = """async (path) => {
    const at = Date.now();
    const response = await fetch(path, {method: "DELETE"});
    return [at, response.status];
}"""


async def _shared_caption(coach, candidate, timeout_s: float) -> tuple[list[str], list[str]]:
    """Interviewer caption lines on both pages, once one of the coach's appears on the candidate's."""
    deadline = time.monotonic() + timeout_s
    while True:
        coach_lines = [line for line in await coach.evaluate(CAPTIONS_IN_PAGE) if len(line) >= 10]
        candidate_lines = await candidate.evaluate(CAPTIONS_IN_PAGE)
        if any(c in line for c in coach_lines for line in candidate_lines) or time.monotonic() > deadline:
            return coach_lines, candidate_lines
        await asyncio.sleep(0.5)


async def test_a_coach_watches_from_the_shared_link(
    greenroom_server: Server, fake_media: FakeMedia, browser_factory
) -> None:
    browser = await browser_factory(fake_media)
    candidate = await open_page(browser)
    await sign_up(candidate, greenroom_server, name="Sam")
    await join_interview(candidate, capture_signals=False)

    # The candidate invites a coach: a watch link in a read-only field with a Copy button.
    await candidate.get_by_role("button", name="Invite a coach").click()
    link_field = candidate.get_by_label("Watch link")
    await link_field.wait_for(timeout=30_000)
    url = await link_field.input_value()
    assert url.startswith(f"{greenroom_server.url}/#/watch/")
    assert await link_field.get_attribute("readonly") is not None
    await candidate.get_by_role("button", name="Copy").click()
    await wait_for(candidate, "document.getElementById('invite-url') === document.activeElement", 5, "the link to be selected")
    await snap(candidate, "room-invite")

    # A coach, not signed in and with no camera of their own, opens the link and watches.
    coach = await open_page(browser)
    await coach.goto(url)
    await wait_for(coach, "greenroom.watch && greenroom.watch.state === 'watching'", 30, "the coach to start watching")
    # Chromium paints only a few frames a second on a loaded machine: counts get time.
    await wait_for(coach, "greenroom.watch.videoFrames > 10", 30, "the candidate's video frames")
    video = coach.locator("#candidate-video")
    assert await video.evaluate("v => v.videoWidth") > 0
    played = await video.evaluate("v => v.currentTime")
    await wait_for(coach, f"document.getElementById('candidate-video').currentTime > {played}", 10, "the video to play on")
    await wait_for(coach, "greenroom.watch.audio.interviewer.maxRms > 0.02", 60, "the interviewer's voice on the coach page")

    # The coach sees interviewer captions the candidate saw too (a coach who joined mid-sentence
    # sees the end of it; both pages get the same caption events).
    coach_lines, candidate_lines = await _shared_caption(coach, candidate, timeout_s=60)
    assert any(c in line for c in coach_lines for line in candidate_lines), (coach_lines, candidate_lines)
    if await coach.evaluate("greenroom.watch.questions.length"):  # a coach who came mid-question waits for the next
        assert await coach.inner_text("#question-text") == await candidate.evaluate("greenroom.questions.at(-1).text")
    await snap(coach, "watch")

    # The candidate ends; the coach is told and gets the read-only report.
    await candidate.click("#end")
    await wait_for(coach, "greenroom.watch.state === 'ended'", 20, "the coach page to show the end")
    assert "The interview has ended" in await coach.inner_text("#watch-ended")
    await coach.get_by_role("link", name="Read the report").click()
    await coach.wait_for_selector("#scorecard", timeout=30_000)
    assert await coach.locator("#shared-note").is_visible()


async def test_a_coach_stops_receiving_within_a_second_when_the_share_is_revoked(
    greenroom_server: Server, fake_media: FakeMedia, browser_factory
) -> None:
    browser = await browser_factory(fake_media)
    candidate = await open_page(browser)
    await sign_up(candidate, greenroom_server, name="Sam")
    session_id = await join_interview(candidate, capture_signals=False)
    status, share = await api_json(candidate, "POST", f"/v1/sessions/{session_id}/share")
    assert status == 201, share

    coach = await open_page(browser)
    await coach.goto(f"{greenroom_server.url}/#/watch/{share['token']}")
    await wait_for(coach, "greenroom.watch && greenroom.watch.state === 'watching'", 30, "the coach to start watching")
    await wait_for(coach, "greenroom.watch.videoFrames > 10", 30, "the candidate's video frames")
    await wait_for(coach, "greenroom.watch.audio.interviewer.maxRms > 0.02", 60, "the interviewer's voice on the coach page")
    joins = "greenroom.watch.events.filter(e => e.type === 'joined').length"
    joined = await coach.evaluate(joins)

    # The candidate stops sharing: the coach's page is cut off within a second and says why.
    # Timed in the pages (one wall clock): from the candidate's request to the coach's page
    # changing state, not counting Playwright's round trips to either page.
    await coach.evaluate(CUT_OFF_CLOCK)
    revoked_at, status = await candidate.evaluate(REVOKE, f"/v1/sessions/{session_id}/share")
    assert status == 204
    await wait_for(coach, "greenroom.watch.state === 'access_ended'", 10, "the coach's page to be cut off")
    cut_off_at = await coach.evaluate("window.cutOffAt")
    assert cut_off_at is not None, "the page changed its watch record: the clock missed the cut-off"
    cut_off_ms = cut_off_at - revoked_at
    print(f"revoke -> coach page cut off in {cut_off_ms:.0f} ms (HTTP call included)")
    assert cut_off_ms < 1000, f"the coach's page was cut off {cut_off_ms:.0f} ms after the revocation"
    assert await coach.evaluate("greenroom.watch.accessEnded") == "share_revoked"
    assert await coach.evaluate("greenroom.watch.peerState") == "closed"
    assert await coach.locator("#candidate-video").evaluate("v => v.srcObject") is None
    ended = await coach.inner_text("#watch-ended")
    assert "Access to this interview has ended" in ended
    assert "The candidate stopped sharing this interview." in ended

    # It does not try to come back, and the candidate's interview goes on.
    frames = await coach.evaluate("greenroom.watch.videoFrames")
    await coach.wait_for_timeout(3000)
    assert await coach.evaluate("greenroom.watch.state") == "access_ended"
    assert await coach.evaluate(joins) == joined
    assert await coach.evaluate("greenroom.watch.videoFrames") == frames
    assert await candidate.evaluate("greenroom.state") == "live"
    await snap(coach, "watch-access-ended")
