"""The web app's pages that need no interview: sign-in guard, sign-in errors, the question bank."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import PASSWORD, Server, api_json, new_email, open_page, sign_up, snap, wait_for


async def test_signed_out_visit_goes_to_sign_in_and_wrong_password_is_shown(
    greenroom_server: Server, browser_factory
) -> None:
    email = new_email()
    async with httpx.AsyncClient(base_url=greenroom_server.url) as http:
        made = await http.post("/v1/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "Robin"})
        assert made.status_code == 201, made.text

    browser = await browser_factory(None)
    page = await open_page(browser)
    await page.goto(greenroom_server.url + "/#/")
    await wait_for(page, "location.hash.startsWith('#/signin')", 10, "the sign-in page")
    assert await page.is_hidden("#nav"), "the signed-in navigation shows to a signed-out visitor"
    await snap(page, "signin")

    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password", exact=True).fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    alert = page.locator("#signin-error")
    await alert.wait_for(state="visible")
    assert "wrong email or password" in (await alert.inner_text()).lower()
    assert await alert.get_attribute("role") == "alert"
    assert page.url.endswith("#/signin")
    await snap(page, "signin-error")

    # The right password signs in and lands on the (empty) dashboard with the user's name.
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_selector("main h1:has-text('Robin')")
    assert await page.is_visible("#nav")

    # Signing out sends the next visit to the dashboard back to sign-in.
    await page.get_by_role("button", name="Sign out").click()
    await wait_for(page, "location.hash.startsWith('#/signin')", 10, "sign-in after signing out")
    await page.goto(greenroom_server.url + "/#/questions")
    await wait_for(page, "location.hash.startsWith('#/signin')", 10, "sign-in for a guarded page")
    assert "next=" in page.url

    # A second visitor creating an account with the same email is told so.
    await page.goto(greenroom_server.url + "/#/signup")
    await snap(page, "signup")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await page.locator("#signup-error").wait_for(state="visible")
    assert "already exists" in await page.inner_text("#signup-error")

    # Deleting the account asks first, then signs out; the password no longer works.
    await page.get_by_role("link", name="Sign in").click()
    await page.wait_for_selector("#signin-email")  # not the sign-up form's fields, still on screen
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Delete my account").click()
    await page.get_by_role("button", name="Yes, delete everything").click()
    await wait_for(page, "location.hash === '#/signup'", 10, "the sign-up page after deleting the account")
    async with httpx.AsyncClient(base_url=greenroom_server.url) as http:
        gone = await http.post("/v1/auth/signin", json={"email": email, "password": PASSWORD})
    assert gone.status_code == 401


async def test_question_bank_filters_and_typed_practice(greenroom_server: Server, browser_factory) -> None:
    browser = await browser_factory(None)
    page = await open_page(browser)
    await sign_up(page, greenroom_server)
    await page.get_by_role("navigation").get_by_role("link", name="Question bank").click()
    await page.wait_for_selector("#question-list > li")

    status, everything = await api_json(page, "GET", "/v1/questions?limit=1")
    assert status == 200
    assert f"{everything['total']} questions" in await page.inner_text("#result-count")
    await snap(page, "questions")

    # Filtering by category and difficulty shows the API's count for the same filter, and only
    # questions of that category.
    await page.get_by_label("Category").select_option("technical")
    await page.get_by_label("Difficulty").select_option("easy")
    _, technical = await api_json(page, "GET", "/v1/questions?category=technical&difficulty=easy&limit=200")
    assert 0 < technical["total"] < everything["total"]
    await wait_for(page, f"document.querySelector('#result-count').textContent.startsWith('{technical['total']} question')", 10, "the filtered count")
    shown = await page.locator("#question-list > li").evaluate_all("els => els.map(e => e.dataset.questionId)")
    assert shown == [q["id"] for q in technical["items"]][: len(shown)]
    assert "category=technical" in page.url

    # Text search narrows further; the text is in every result's question, hints or subcategory.
    await page.get_by_label("Category").select_option("")
    await page.get_by_label("Difficulty").select_option("")
    await page.get_by_label("Search").fill("conflict")
    _, found = await api_json(page, "GET", "/v1/questions?q=conflict&limit=200")
    assert found["total"] > 0
    await wait_for(page, f"document.querySelector('#result-count').textContent.startsWith('{found['total']} question')", 10, "the search results")

    # Practise the first question by typing an answer: the rubric scores and reasons show, and
    # they are the evaluator's for that answer.
    first = page.locator("#question-list > li").first
    question_id = await first.get_attribute("data-question-id")
    question = next(q for q in found["items"] if q["id"] == question_id)
    await first.get_by_role("button", name="Practise (typed)").click()
    answer = (
        "In my last team two engineers disagreed about a release plan. I set up a meeting, "
        "listened to both, and we agreed on a staged rollout. As a result we shipped on time "
        "and the conflict did not come back."
    )
    await first.get_by_label("Your answer").fill(answer)
    await first.get_by_role("button", name="Score my answer").click()
    result = page.locator("#practice-result")
    await result.wait_for(state="visible", timeout=30_000)
    _, expected = await api_json(page, "POST", "/v1/score", {"question": question["text"], "answer": answer, "question_id": question_id})
    text = await result.inner_text()
    assert f"Scored {expected['overall']} out of 100" in text
    for dimension in expected["dimensions"]:
        assert dimension["reason"] in text
    if expected["stronger_answer"]:
        assert expected["stronger_answer"][:60] in text
    await snap(page, "practice-result", part="#question-list > li:first-child")

    # "Practise aloud" goes to the mirror check with that one question set up.
    await first.get_by_role("button", name="Practise aloud").click()
    await wait_for(page, "location.hash === '#/check'", 10, "the mirror check")
    await page.wait_for_selector("#draft-summary")
    assert question["text"] in await page.inner_text("#draft-summary")

    # Picking another microphone re-acquires the devices with that one.
    await wait_for(page, "greenroom.mirror.state === 'ready'", 15, "the camera and microphone")
    mics = await page.locator("#mic-select option").evaluate_all("os => os.map(o => o.value)")
    assert len(mics) >= 2, "Chromium's fake devices offer several microphones"
    current = await page.evaluate("greenroom.mirror.micId")
    other = next(m for m in mics if m != current)
    await page.get_by_label("Microphone", exact=True).select_option(other)
    await wait_for(page, f"greenroom.mirror.state === 'ready' && greenroom.mirror.micId === {other!r}", 15, "the other microphone")
    assert await page.input_value("#mic-select") == other

    # Consent, then Join, creates the one-question session for that question.
    await page.get_by_label("I have read the policy above").check()
    await page.click("#join")
    await wait_for(page, "greenroom.sessionId !== null", 15, "the session to be created")
    session_id = await page.evaluate("greenroom.sessionId")
    _, session = await api_json(page, "GET", f"/v1/sessions/{session_id}")
    assert session["practice_question_id"] == question_id
    assert session["capture_signals"] is False, "delivery analysis must be opted into"
    await page.click("#end")
    await wait_for(page, "greenroom.state === 'ended'", 15, "the session to end")
