"""An organisation's owner reads the cohort view in real headless Chromium: each sharing member's
interviews, score trend, streak, whether they practised this week and their weakest areas, who
has not practised this week and the cohort's weakest areas, every figure the one
GET /v1/orgs/{id}/dashboard answers; a member who stops sharing leaves the page.

The members join through invitation links (one in the browser, the rest through the API) and
share through the API; their practice history is written straight to the database (no live
interviews: too slow), every report built once."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from tests.e2e.conftest import PASSWORD, Server, new_email, open_page, snap, wait_for
from tests.e2e.test_review_browser import MIDDLING_ANSWER, SESSION_COOKIE, WEAK_ANSWER
from tests.reports.seeding import ANSWER, seed_session

COHORT_ROWS = """[...document.querySelectorAll('#cohort-table tbody tr')].map((tr) => ({
  user_id: tr.dataset.userId,
  name: tr.querySelector('th').textContent.trim(),
  sessions: tr.querySelector('[data-field=sessions]').textContent.trim(),
  latest: tr.querySelector('[data-field=latest] .score-pill').getAttribute('aria-label'),
  trend: tr.querySelector('[data-field=trend]').textContent.trim(),
  streak: tr.querySelector('[data-field=streak]').textContent.trim(),
  week: tr.querySelector('[data-field=week]').textContent.trim(),
  weakest: tr.querySelector('[data-field=weakest]').textContent.trim(),
}))"""
COHORT_CHART = "Chart.getChart(document.getElementById('cohort-chart'))"


class Account:
    """A signed-in API client for one new account."""

    def __init__(self, http: httpx.AsyncClient, user_id: UUID, name: str) -> None:
        self.http, self.user_id, self.name = http, user_id, name


async def _account(server: Server, name: str) -> Account:
    http = httpx.AsyncClient(base_url=server.url, timeout=60.0)
    signup = await http.post("/v1/auth/signup", json={"email": new_email(), "password": PASSWORD, "display_name": name})
    assert signup.status_code in (200, 201), signup.text
    user_id = UUID((await http.get("/v1/auth/me")).json()["user"]["id"])
    return Account(http, user_id, name)


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


async def _join(owner: Account, member: Account, org_id: str) -> None:
    """The owner makes an invitation link; the member opens and accepts it."""
    invite = await _ok(await owner.http.post(f"/v1/orgs/{org_id}/invites", json={"role": "member"}), 201)
    token = invite["url"].rsplit("/", 1)[-1]
    await _ok(await member.http.post(f"/v1/invites/{token}/accept"))


async def _practise(database_url: str, member: Account, days_ago: list[float], answers: list[str]) -> list[UUID]:
    """Completed interviews `days_ago` (oldest first), each report built once."""
    now = datetime.now(UTC)
    conn = await asyncpg.connect(database_url)
    try:
        ids = []
        for ago, answer in zip(days_ago, answers, strict=True):
            at = now - timedelta(days=ago)
            ids.append((await seed_session(conn, member.user_id, started_at=at, answer=answer, signals=False)).session_id)
        await conn.execute("UPDATE sessions SET created_at = started_at WHERE id = ANY($1::uuid[])", ids)
    finally:
        await conn.close()
    for sid in ids:
        await _ok(await member.http.get(f"/v1/sessions/{sid}/report"))
    return ids


async def _signed_in_page(browser, server: Server, account: Account):
    """A page signed in as the account (its sign-in cookie handed to the browser)."""
    page = await open_page(browser)
    cookie = account.http.cookies.get(SESSION_COOKIE)
    assert cookie, f"sign-up set no {SESSION_COOKIE} cookie"
    await page.context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": server.url}])
    return page


def _mean_text(mean: float) -> str:
    """As the page writes a mean (Math.round: halves up)."""
    return str(math.floor(mean + 0.5))


async def test_the_cohort_page_shows_the_apis_figures(greenroom_server: Server, browser_factory) -> None:
    owner = await _account(greenroom_server, "Olive Owner")
    robin, kim, lee, quiet = [await _account(greenroom_server, n) for n in ("Robin", "Kim", "Lee", "Quinn")]
    accounts = [owner, robin, kim, lee, quiet]
    try:
        org = await _ok(await owner.http.post("/v1/orgs", json={"name": "Northside Careers"}), 201)
        org_id = org["id"]
        for member in (robin, kim, lee):
            await _join(owner, member, org_id)
        # Robin practised three times, the last two today and yesterday; Kim once, ten days ago;
        # Lee twice but shares only the first; Quinn practises and shares nothing.
        await _practise(greenroom_server.database_url, robin, [3, 1, 0.001], [WEAK_ANSWER, MIDDLING_ANSWER, ANSWER])
        await _practise(greenroom_server.database_url, kim, [10], [MIDDLING_ANSWER])
        lee_ids = await _practise(greenroom_server.database_url, lee, [2, 0.002], [ANSWER, WEAK_ANSWER])
        await _practise(greenroom_server.database_url, quiet, [0.003], [ANSWER])
        for member in (robin, kim):
            await _ok(await member.http.post("/v1/coach-shares", json={"session_id": None, "org_id": org_id, "coach_email": None}), 201)
        await _ok(await lee.http.post("/v1/coach-shares", json={"session_id": str(lee_ids[0]), "org_id": org_id, "coach_email": None}), 201)
        dashboard = await _ok(await owner.http.get(f"/v1/orgs/{org_id}/dashboard"))

        members = {m["user_id"]: m for m in dashboard["members"]}
        assert set(members) == {str(robin.user_id), str(kim.user_id), str(lee.user_id)}, dashboard
        assert members[str(lee.user_id)]["sessions"] == 1  # only the shared interview counts
        assert members[str(robin.user_id)]["sessions"] == 3
        assert {m["user_id"] for m in dashboard["not_practised_this_week"]} >= {str(kim.user_id)}

        browser = await browser_factory(None)
        # Quinn joins in the browser, from the invitation link the owner sends.
        invite = await _ok(await owner.http.post(f"/v1/orgs/{org_id}/invites", json={"role": "member"}), 201)
        joining = await _signed_in_page(browser, greenroom_server, quiet)
        await joining.goto(greenroom_server.url + invite["url"])
        await joining.wait_for_selector("#invite-summary")
        assert "Northside Careers" in await joining.inner_text("#invite-summary")
        await joining.get_by_role("button", name="Join Northside Careers").click()
        await wait_for(joining, f"location.hash === '#/orgs/{org_id}'", 10, "the organisation after joining")
        await joining.wait_for_selector("#org-share-state")
        assert "You do not share your interviews with Northside Careers" in await joining.inner_text("#org-share-state")
        assert await joining.locator("#cohort").count() == 0  # a member does not see the cohort
        await joining.goto(greenroom_server.url + invite["url"])
        await joining.wait_for_selector("#invite-problem")  # used once: gone
        dashboard = await _ok(await owner.http.get(f"/v1/orgs/{org_id}/dashboard"))
        assert str(quiet.user_id) not in {m["user_id"] for m in dashboard["members"]}

        page = await _signed_in_page(browser, greenroom_server, owner)
        await page.goto(f"{greenroom_server.url}/#/orgs/{org_id}")
        await wait_for(page, f"document.querySelector('#cohort-table') && window.Chart && {COHORT_CHART}", 20, "the cohort view")
        assert await page.inner_text("main h1") == "Northside Careers"

        # One row per sharing member, with the API's figures.
        rows = {r["user_id"]: r for r in await page.evaluate(COHORT_ROWS)}
        assert set(rows) == set(members)
        for user_id, member in members.items():
            row = rows[user_id]
            trend = sorted((p for p in member["score_trend"] if p["overall"] is not None), key=lambda p: p["started_at"])
            assert row["name"] == member["display_name"]
            assert row["sessions"] == str(member["sessions"])
            assert row["streak"] == str(member["streak_days"])
            assert row["trend"] == (" → ".join(str(p["overall"]) for p in trend) or "–")
            latest = trend[-1]["overall"] if trend else None
            assert row["latest"].endswith(f": {latest} out of 100" if latest is not None else ": not scored"), row["latest"]
            assert row["week"] == ("Practised" if member["practised_this_week"] else "Not yet")
            areas = [a["dimension"] for a in member["weakest_areas"]]
            assert len([w for w in row["weakest"].split(", ") if w and w != "–"]) == len(areas), (row, areas)
        assert members[str(robin.user_id)]["streak_days"] == 2
        assert rows[str(kim.user_id)]["week"] == "Not yet"

        # The headline numbers, who has not practised, and the cohort's weakest areas.
        assert await page.inner_text("#cohort-sharing .stat-value") == str(len(members))
        assert await page.inner_text("#cohort-idle .stat-value") == str(len(dashboard["not_practised_this_week"]))
        assert await page.inner_text("#cohort-sessions .stat-value") == str(sum(m["sessions"] for m in members.values()))
        idle = await page.evaluate("[...document.querySelectorAll('#not-practised li')].map((li) => li.dataset.userId)")
        assert idle == [m["user_id"] for m in dashboard["not_practised_this_week"]]
        weakest = await page.evaluate(
            "[...document.querySelectorAll('#cohort-weakest li')].map((li) => [li.dataset.dimension, Number(li.dataset.mean),"
            " li.querySelector('.muted').textContent])"
        )
        assert [(d, m) for d, m, _ in weakest] == [(a["dimension"], a["mean"]) for a in dashboard["weakest_areas"]]
        assert [t for _, _, t in weakest] == [_mean_text(a["mean"]) for a in dashboard["weakest_areas"]]
        assert dashboard["weakest_areas"], "the API names no weakest areas for the cohort"

        # The chart: one line per member with a scored interview, their scores oldest first.
        chart = await page.evaluate(f"{COHORT_CHART}.data.datasets.map((d) => [d.label, d.data.map((p) => p.y)])")
        expected = [
            [m["display_name"], [p["overall"] for p in sorted(m["score_trend"], key=lambda p: p["started_at"]) if p["overall"] is not None]]
            for m in dashboard["members"]
            if any(p["overall"] is not None for p in m["score_trend"])
        ]
        assert chart == expected
        await snap(page, "org-cohort")

        # Kim stops sharing: Kim leaves the cohort view at once.
        shares = await _ok(await kim.http.get("/v1/coach-shares"))
        for share in shares:
            await _ok(await kim.http.delete(f"/v1/coach-shares/{share['id']}"), 204)
        await page.reload()
        await wait_for(page, "document.querySelector('#cohort-table')", 20, "the cohort view again")
        rows = await page.evaluate(COHORT_ROWS)
        assert {r["user_id"] for r in rows} == {str(robin.user_id), str(lee.user_id)}
        after = await _ok(await owner.http.get(f"/v1/orgs/{org_id}/dashboard"))
        assert {m["user_id"] for m in after["members"]} == {r["user_id"] for r in rows}
    finally:
        for account in accounts:
            await account.http.aclose()
