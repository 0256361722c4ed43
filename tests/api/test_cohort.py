"""The cohort view: an organisation with five members and seeded histories. The dashboard's
figures equal those computed here from the seeded rows; only what members share with the
organisation counts; a member who stops sharing disappears at once; other organisations see
nothing of it."""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest
from fastapi import FastAPI

from db import sessions as repo
from tests.api.people import Person, org_with, sign_up

AREAS = ("communication", "composure", "structure", "relevance")


@dataclass
class Seeded:
    """One seeded session as the test knows it."""

    id: UUID
    status: str
    started_at: datetime
    ended_at: datetime | None
    dimensions: dict[str, int | None] | None


@dataclass
class History:
    sessions: list[Seeded] = field(default_factory=list)


async def _seed(pool: asyncpg.Pool, user_id: UUID, days_back: int, status: str, dims: dict[str, int | None] | None) -> Seeded:
    record = await repo.create_session(
        pool, user_id=user_id, role_track="general", round_type="behavioral",
        difficulty="easy", duration_min=10, persona="alex",
    )  # fmt: skip
    # Ended seconds before this time of day, so that "0 days back" stays today (and this week)
    # even when the suite runs just after midnight on a Monday.
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_back, minutes=15, seconds=5)
    await repo.mark_live(pool, record.id, started)
    ended = None
    if status != "live":
        ended = started + timedelta(minutes=15)
        await repo.mark_ended(pool, record.id, status, ended, "interview_finished")
    if dims is not None:
        await pool.execute(
            """
            INSERT INTO session_scorecards (session_id, dimensions, delivery, categories, rubric, answers_scored)
            VALUES ($1, $2, '{}'::jsonb, '{}'::jsonb, '{}'::jsonb, 3)
            """,
            record.id,
            dims,
        )
    return Seeded(record.id, status, started, ended, dims)


def _dims(communication: int | None, composure: int | None, structure: int | None, relevance: int | None) -> dict[str, int | None]:
    return dict(zip(AREAS, (communication, composure, structure, relevance), strict=True))


def _overall(dims: dict[str, int | None], weights: dict[str, float]) -> int:
    scored = [(v, weights[d]) for d, v in dims.items() if v is not None]
    return round(sum(v * w for v, w in scored) / sum(w for _, w in scored))


def _means(cards: list[dict[str, int | None]]) -> list[dict]:
    means = []
    for area in AREAS:
        values = [c[area] for c in cards if c[area] is not None]
        if values:
            means.append({"dimension": area, "mean": round(statistics.fmean(values), 1)})
    return sorted(means, key=lambda m: (m["mean"], m["dimension"]))


def _expected_member(person: Person, shared: list[Seeded], weights: dict[str, float], today: date) -> dict:
    """A member's figures, worked out from the seeded rows."""
    practice = [s.ended_at for s in shared if s.status == "completed" and s.ended_at is not None]
    days = {at.date() for at in practice}
    streak, day = 0, today if today in days else today - timedelta(days=1)
    while day in days:
        streak, day = streak + 1, day - timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    scored = sorted((s for s in shared if s.dimensions is not None), key=lambda s: s.started_at)
    return {
        "user_id": str(person.id),
        "display_name": person.name,
        "sessions": len(shared),
        "last_practised_at": max(practice).isoformat().replace("+00:00", "Z") if practice else None,
        "streak_days": streak,
        "practised_this_week": any(at.date() >= monday for at in practice),
        "score_trend": [
            {"session_id": str(s.id), "started_at": s.started_at.isoformat().replace("+00:00", "Z"), "overall": _overall(s.dimensions, weights)}
            for s in scored
        ],
        "weakest_areas": _means([s.dimensions for s in scored]),
    }


def _normalised(body: dict) -> dict:
    """Datetimes as UTC ISO strings ending in Z, whatever offset notation the API used."""

    def fix(value: str | None) -> str | None:
        return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).isoformat().replace("+00:00", "Z")

    for member in body["members"]:
        member["last_practised_at"] = fix(member["last_practised_at"])
        for point in member["score_trend"]:
            point["started_at"] = fix(point["started_at"])
    return body


@pytest.fixture
async def people(app: FastAPI) -> AsyncIterator[dict[str, Person]]:
    names = ("Olga", "Ade", "Ana", "Ben", "Cy", "Dee", "Eve", "Xena", "Fay", "Kim")
    made = {name: await sign_up(app, name) for name in names}
    yield made
    for person in made.values():
        await person.aclose()


async def test_the_dashboard_shows_what_members_share_and_nothing_else(
    people: dict[str, Person], pool: asyncpg.Pool, app: FastAPI
) -> None:
    olga, ade, ana, ben, cy, dee, eve, xena, fay, kim = (
        people[n] for n in ("Olga", "Ade", "Ana", "Ben", "Cy", "Dee", "Eve", "Xena", "Fay", "Kim")
    )
    org_id = await org_with(olga, "Pre-med advising", admins=(ade,), members=(ana, ben, cy, dee, eve))
    other_org = await org_with(xena, "Another school", members=(fay,))
    weights = dict(app.state.report_weights)

    ana_h = [
        await _seed(pool, ana.id, 2, "completed", _dims(60, 70, 55, 80)),
        await _seed(pool, ana.id, 1, "completed", _dims(64, 72, 61, 79)),
        await _seed(pool, ana.id, 0, "completed", _dims(71, 68, 66, 83)),
        await _seed(pool, ana.id, 0, "live", None),
        await _seed(pool, ana.id, 5, "failed", None),
    ]
    ben_h = [
        await _seed(pool, ben.id, 9, "completed", _dims(50, None, 45, 62)),
        await _seed(pool, ben.id, 8, "completed", _dims(52, 58, 47, 66)),
    ]
    cy_h = [
        await _seed(pool, cy.id, 3, "completed", _dims(77, 81, 74, 70)),
        await _seed(pool, cy.id, 0, "completed", _dims(20, 20, 20, 20)),  # not shared: must not count
        await _seed(pool, cy.id, 1, "abandoned", None),
    ]
    eve_h = [await _seed(pool, eve.id, 0, "completed", _dims(90, 90, 90, 90))]  # Eve does not share
    fay_h = [await _seed(pool, fay.id, 0, "completed", _dims(10, 10, 10, 10))]  # shares with another org

    ana_share = await ana.share(org_id=org_id)
    await ben.share(org_id=org_id)
    await cy.share(session_id=str(cy_h[0].id), org_id=org_id)
    await dee.share(org_id=org_id)
    await eve.share(coach=kim)  # shared with a coach, not with the organisation
    await fay.share(org_id=other_org)
    assert eve_h and fay_h

    today = datetime.now(UTC).date()
    expected_members = [
        _expected_member(ana, ana_h, weights, today),
        _expected_member(ben, ben_h, weights, today),
        _expected_member(cy, cy_h[:1], weights, today),
        _expected_member(dee, [], weights, today),
    ]
    all_cards = [s.dimensions for s in ana_h + ben_h + cy_h[:1] if s.dimensions is not None]
    expected = {
        "org": {"id": org_id, "name": "Pre-med advising"},
        "members": expected_members,
        "not_practised_this_week": [
            {"user_id": m["user_id"], "display_name": m["display_name"]} for m in expected_members if not m["practised_this_week"]
        ],
        "weakest_areas": _means(all_cards),
    }
    response = await olga.http.get(f"/v1/orgs/{org_id}/dashboard")
    assert response.status_code == 200, response.text
    assert _normalised(response.json()) == expected
    assert _normalised((await ade.http.get(f"/v1/orgs/{org_id}/dashboard")).json()) == expected
    # Seeded so the figures say something: Ana practises daily, Ben not this week, Dee never.
    assert expected_members[0]["streak_days"] >= 1 and expected_members[0]["practised_this_week"]
    assert not expected_members[1]["practised_this_week"] and expected_members[3]["sessions"] == 0

    # Nobody else sees any of it: a member, the owner and a member of another organisation.
    for outsider in (ana, xena, fay, kim):
        assert (await outsider.http.get(f"/v1/orgs/{org_id}/dashboard")).status_code == 404
    theirs = (await xena.http.get(f"/v1/orgs/{other_org}/dashboard")).json()
    assert [m["display_name"] for m in theirs["members"]] == ["Fay"]

    # Ana stops sharing: gone from the very next answer.
    assert (await ana.http.delete(f"/v1/coach-shares/{ana_share['id']}")).status_code == 204
    after = _normalised((await olga.http.get(f"/v1/orgs/{org_id}/dashboard")).json())
    assert [m["display_name"] for m in after["members"]] == ["Ben", "Cy", "Dee"]
    assert after["members"] == expected_members[1:]
    assert after["weakest_areas"] == _means([s.dimensions for s in ben_h + cy_h[:1] if s.dimensions is not None])
    # So does a member who leaves (or is removed), whatever they shared.
    assert (await olga.http.delete(f"/v1/orgs/{org_id}/members/{ben.id}")).status_code == 204
    after = (await olga.http.get(f"/v1/orgs/{org_id}/dashboard")).json()
    assert [m["display_name"] for m in after["members"]] == ["Cy", "Dee"]
