"""The web app's accessibility in a real browser: axe-core's WCAG 2.1 A/AA rules on every page a
candidate sees, the interview's text readable at 200% zoom, and an interview set up, joined and
ended with the keyboard alone."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    PASSWORD,
    REPO,
    SCREENSHOTS,
    Server,
    new_email,
    open_page,
    sign_up,
    wait_for,
)

AXE = REPO / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")
# A 1280×800 screen at 200% zoom lays pages out in 640×400 CSS pixels, two device pixels each.
ZOOM_200 = {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2}
MIN_TEXT_PX = 16


async def _axe_violations(page, where: str) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now, one
    line per violation with the elements it found."""
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(REPO)} is missing: run `make setup` (npm installs axe-core for these tests)")
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.add_script_tag(path=str(AXE))
    violations = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${(n.failureSummary || "").replace(/\\s+/g, " ")}`),
            }));
        }""",
        WCAG_TAGS,
    )
    return [
        f"{where}: [{v['impact']}] {v['id']} ({v['help']})\n    " + "\n    ".join(v["nodes"])
        for v in violations
        if v["impact"] in BLOCKING_IMPACTS
    ]


async def _no_sideways_scroll(page, where: str) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where}: the page scrolls sideways by {overflow}px at 200% zoom"


async def _readable(page, selector: str, where: str) -> None:
    """The element's text is at least MIN_TEXT_PX CSS pixels and none of it is cut off sideways."""
    size, scroll_width, client_width = await page.eval_on_selector(
        selector,
        "el => [parseFloat(getComputedStyle(el).fontSize), el.scrollWidth, el.clientWidth]",
    )
    assert size >= MIN_TEXT_PX, f"{where}: {selector} is {size}px at 200% zoom, under {MIN_TEXT_PX}px"
    assert scroll_width <= client_width, f"{where}: {selector}'s text is clipped ({scroll_width} > {client_width}px wide)"


async def _focus_ring(page, selector: str, where: str) -> bool:
    """Fails unless the focused element shows a focus ring (an outline or a box shadow); says
    whether it matches the CSS selector."""
    focused = await page.evaluate(
        """(selector) => {
            const el = document.activeElement;
            // Tabbing past the last element leaves the page for the browser's own controls.
            if (el === document.body) return {name: "body", ring: true, matches: false};
            // A visually hidden radio draws its ring on its label.
            const shown = getComputedStyle(el.matches(".choice input") ? el.nextElementSibling : el);
            const ring = (shown.outlineStyle !== "none" && parseFloat(shown.outlineWidth) > 0) || shown.boxShadow !== "none";
            return {name: el.id || el.outerHTML.slice(0, 80), ring, matches: el.matches(selector)};
        }""",
        selector,
    )
    assert focused["ring"], f"{where}: the focused element ({focused['name']}) shows no focus ring"
    return focused["matches"]


async def _tab_to(page, selector: str, where: str, *, backwards: bool = False, limit: int = 40) -> None:
    """Presses Tab (or Shift+Tab) until the element has focus, checking the ring at every stop."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        await page.keyboard.press(key)
        if await _focus_ring(page, selector, where):
            return
    pytest.fail(f"{where}: {selector} was not reached with {key} in {limit} presses")


async def _page_ready(page, where: str) -> None:
    """Waits until the page has rendered and moved focus to its heading, where Tab starts."""
    await wait_for(page, "document.activeElement && document.activeElement.matches('main h1')", 20, f"{where} to focus its heading")


async def test_every_page_has_no_serious_axe_violations(greenroom_server: Server, browser_factory) -> None:
    browser = await browser_factory(None)
    # axe-core is injected as an inline script, which the pages' CSP refuses.
    page = await open_page(browser, bypass_csp=True)
    found: list[str] = []

    await page.goto(greenroom_server.url + "/#/signin")
    await page.wait_for_selector("#signin-email")
    found += await _axe_violations(page, "sign in")
    await page.get_by_label("Email").fill(new_email())
    await page.get_by_label("Password", exact=True).fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#signin-error").wait_for(state="visible")
    found += await _axe_violations(page, "sign-in error")
    await page.goto(greenroom_server.url + "/#/signup")
    await page.wait_for_selector("#signup-form, form")
    found += await _axe_violations(page, "sign up")

    await sign_up(page, greenroom_server)
    await page.wait_for_selector("text=Your first mock interview")
    await page.locator("#sharing summary").click()  # the form to share with a coach too
    found += await _axe_violations(page, "dashboard (empty)")
    await page.get_by_role("link", name="See your activity log").click()
    await page.wait_for_selector("#my-audit tbody tr")
    found += await _axe_violations(page, "activity log")

    # A coach's pages: the coaching dashboard, an organisation with an invitation, the invitation.
    await page.get_by_role("navigation").get_by_role("link", name="Coaching").click()
    await page.wait_for_selector("#shared-with-me")
    found += await _axe_violations(page, "coaching")
    await page.get_by_label("Organisation name").fill("Accessible Academy")
    await page.get_by_role("button", name="Create organisation").click()
    await page.wait_for_selector("#members-table")
    await page.get_by_role("button", name="Create invitation link").click()
    invite_url = await page.locator("#invite-links input").input_value()
    found += await _axe_violations(page, "organisation")
    await page.goto(invite_url)
    await page.wait_for_selector("#invite-summary")
    found += await _axe_violations(page, "invitation")
    await page.goto(greenroom_server.url + "/#/")
    await page.wait_for_selector("text=Your first mock interview")

    await page.get_by_role("navigation").get_by_role("link", name="Question bank").click()
    await page.wait_for_selector("#question-list > li")
    found += await _axe_violations(page, "question bank")
    first = page.locator("#question-list > li").first
    await first.get_by_role("button", name="Practise (typed)").click()
    await first.get_by_label("Your answer").fill(
        "Two engineers disagreed about a release plan. I listened to both and we agreed on a staged "
        "rollout. As a result we shipped on time."
    )
    await first.get_by_role("button", name="Score my answer").click()
    await page.locator("#practice-result").wait_for(state="visible", timeout=30_000)
    found += await _axe_violations(page, "question bank with a practice result")

    await page.get_by_role("navigation").get_by_role("link", name="New interview").click()
    await page.wait_for_selector("#setup-form")
    await page.locator("details.context > summary").click()  # the CV and job description fields too
    found += await _axe_violations(page, "new interview")
    await page.get_by_role("button", name="Continue to mirror check").click()
    await wait_for(page, "window.greenroom.mirror && greenroom.mirror.state === 'ready'", 20, "the camera and microphone")
    found += await _axe_violations(page, "mirror check")

    await page.get_by_label("I have read the policy above").check()
    await page.click("#join")
    await wait_for(page, "greenroom.state === 'live'", 30, "the room to connect")
    await wait_for(page, "greenroom.questions.length >= 1", 30, "the first question")
    found += await _axe_violations(page, "interview room")
    session_id = await page.evaluate("greenroom.sessionId")
    await page.click("#end")
    await wait_for(page, f"location.hash === '#/sessions/{session_id}'", 20, "the review page")
    await page.wait_for_selector("#scorecard", timeout=30_000)
    found += await _axe_violations(page, "review")
    await page.get_by_role("navigation").get_by_role("link", name="Dashboard").click()
    await page.wait_for_selector(".session-row")
    found += await _axe_violations(page, "dashboard (with a session)")

    assert not found, "axe-core found serious or critical WCAG 2.1 A/AA violations:\n" + "\n".join(found)


async def test_interview_text_is_readable_at_200_percent_zoom(greenroom_server: Server, browser_factory) -> None:
    browser = await browser_factory(None)
    context = await browser.new_context(**ZOOM_200)
    page = await context.new_page()
    await sign_up(page, greenroom_server)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    await page.goto(greenroom_server.url + "/#/new")
    await page.wait_for_selector("#setup-form")
    await _no_sideways_scroll(page, "new interview")
    await _readable(page, ".choice-name", "new interview")
    await page.screenshot(path=str(SCREENSHOTS / "zoom200-setup.png"), full_page=True)

    await page.get_by_role("button", name="Continue to mirror check").click()
    await wait_for(page, "window.greenroom.mirror && greenroom.mirror.state === 'ready'", 20, "the camera and microphone")
    await _no_sideways_scroll(page, "mirror check")
    await _readable(page, "#consent-text", "mirror check")
    await page.screenshot(path=str(SCREENSHOTS / "zoom200-mirror.png"), full_page=True)

    await page.get_by_label("I have read the policy above").check()
    await page.click("#join")
    await wait_for(page, "greenroom.state === 'live'", 30, "the room to connect")
    await wait_for(page, "greenroom.questions.length >= 1", 30, "the first question")
    await page.wait_for_selector("#captions .caption.interviewer", timeout=30_000)
    await _no_sideways_scroll(page, "interview room")
    await _readable(page, "#question-text", "interview room")
    await _readable(page, "#captions .caption.interviewer", "interview room")
    await _readable(page, "#captions", "interview room")
    await page.screenshot(path=str(SCREENSHOTS / "zoom200-room.png"), full_page=True)
    await page.click("#end")
    await wait_for(page, "greenroom.state === 'ended'", 15, "the session to end")


async def test_keyboard_alone_sets_up_joins_and_ends_an_interview(greenroom_server: Server, browser_factory) -> None:
    browser = await browser_factory(None)
    page = await open_page(browser)
    await page.goto(greenroom_server.url + "/#/signup")
    await page.wait_for_selector("form")
    keys = page.keyboard

    # Sign up: the skip link comes first, then the form's fields in order; Enter submits.
    await _tab_to(page, "#signup-name", "sign up")
    await keys.type("Kim Keyboard")
    await _tab_to(page, "#signup-email", "sign up")
    await keys.type(new_email())
    await _tab_to(page, "#signup-password", "sign up")
    await keys.type(PASSWORD)
    await keys.press("Enter")
    await page.wait_for_selector("main h1:has-text('Welcome')")
    await _page_ready(page, "the dashboard")

    # Focus starts at the dashboard's heading; the navigation is above it.
    await _tab_to(page, "a[data-nav=new]", "dashboard", backwards=True)
    await keys.press("Enter")
    await page.wait_for_selector("#setup-form")
    await _page_ready(page, "the new-interview page")

    # Choose a round type and a duration with the arrow keys, then go back with Shift+Tab to
    # check the order runs both ways.
    await _tab_to(page, "#round-type", "new interview")
    first_round = await page.input_value("#round-type")
    await keys.press("ArrowDown")
    assert await page.input_value("#round-type") != first_round
    await _tab_to(page, "#difficulty", "new interview")
    await _tab_to(page, "input[name=duration_min]:checked", "new interview")
    before = await page.evaluate("document.activeElement.value")
    await keys.press("ArrowRight")
    assert await page.evaluate("document.activeElement.checked && document.activeElement.value") not in (before, False)
    await _tab_to(page, "#difficulty", "new interview", backwards=True)
    await _tab_to(page, "#to-mirror", "new interview")
    await keys.press("Enter")

    # Mirror check: tick consent with Space; Join is then enabled and reachable with Tab.
    await wait_for(page, "window.greenroom.mirror && greenroom.mirror.state === 'ready'", 20, "the camera and microphone")
    await _page_ready(page, "the mirror check")
    await _tab_to(page, "#consent", "mirror check")
    await keys.press("Space")
    assert await page.is_checked("#consent")
    await _tab_to(page, "#join", "mirror check")
    assert await page.is_enabled("#join")

    # Join with Enter; in the room, End interview is reachable and works from the keyboard.
    await keys.press("Enter")
    await wait_for(page, "greenroom.state === 'live'", 30, "the room to connect")
    await _tab_to(page, "#end", "interview room")
    await keys.press("Enter")
    await wait_for(page, "greenroom.state === 'ended'", 15, "the session to end")
