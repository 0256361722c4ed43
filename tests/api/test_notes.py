"""Coach notes: a coach marks a moment live or while reviewing; the note sits at its session time on
the candidate's timeline and in the PDF; the candidate may hide or delete it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pypdfium2 as pdfium
import pytest
from fastapi import FastAPI

from scoring.offline import OfflineEvaluator
from tests.api.people import Person, sign_up


@pytest.fixture
async def people(app: FastAPI) -> AsyncIterator[dict[str, Person]]:
    app.state.evaluator = OfflineEvaluator()
    made = {name: await sign_up(app, name) for name in ("Cara", "Coach Kim", "Coach Lee", "Xena")}
    yield made
    for person in made.values():
        await person.aclose()


def _pdf_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    try:
        return " ".join("\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf))).split())
    finally:
        pdf.close()


async def _pdf(person: Person, session_id: str) -> str:
    export = await person.http.post(f"/v1/sessions/{session_id}/export", json={"format": "pdf"})
    assert export.status_code == 201, export.text
    download = await person.http.get(export.json()["download_url"])
    assert download.status_code == 200
    return _pdf_text(download.content)


async def _timeline_notes(person: Person, session_id: str) -> list[dict]:
    response = await person.http.get(f"/v1/sessions/{session_id}/timeline", params={"to_ms": 600_000, "bucket_ms": 1000})
    assert response.status_code == 200, response.text
    return response.json()["notes"]


async def test_notes_reach_the_timeline_and_pdf_until_the_candidate_hides_them(people: dict[str, Person]) -> None:
    cara, kim, lee, xena = (people[n] for n in ("Cara", "Coach Kim", "Coach Lee", "Xena"))
    session_id = await cara.new_session()
    await cara.share(session_id=session_id, coach=kim)
    await cara.share(coach=lee)

    first = await kim.http.post(f"/v1/sessions/{session_id}/notes", json={"t_ms": 42_500, "body": "Strong opening; slow down here."})
    assert first.status_code == 201, first.text
    note = first.json()
    assert (note["t_ms"], note["body"], note["author_name"], note["hidden"]) == (42_500, "Strong opening; slow down here.", "Coach Kim", False)
    second = (await lee.http.post(f"/v1/sessions/{session_id}/notes", json={"t_ms": 5_000, "body": "Eye contact good."})).json()
    own = (await cara.http.post(f"/v1/sessions/{session_id}/notes", json={"t_ms": 90_000, "body": "Felt rushed."})).json()
    assert own["author_name"] == "Cara"
    assert (await xena.http.post(f"/v1/sessions/{session_id}/notes", json={"t_ms": 1, "body": "x"})).status_code == 404
    for bad in ({"t_ms": -1, "body": "x"}, {"t_ms": 1, "body": ""}, {"t_ms": 1, "body": "x" * 2001}):
        assert (await kim.http.post(f"/v1/sessions/{session_id}/notes", json=bad)).status_code == 422

    expected = [
        {"kind": "coach_note", "id": second["id"], "t_ms": 5_000, "body": "Eye contact good.", "author_name": "Coach Lee"},
        {"kind": "coach_note", "id": note["id"], "t_ms": 42_500, "body": "Strong opening; slow down here.", "author_name": "Coach Kim"},
        {"kind": "coach_note", "id": own["id"], "t_ms": 90_000, "body": "Felt rushed.", "author_name": "Cara"},
    ]
    assert await _timeline_notes(cara, session_id) == expected
    assert await _timeline_notes(kim, session_id) == expected
    text = await _pdf(kim, session_id)
    assert "Coach notes" in text and "Strong opening; slow down here." in text and "Coach Lee" in text

    # A coach may not hide; the candidate hides one: gone for coaches, the timeline and the PDF.
    assert (await kim.http.patch(f"/v1/sessions/{session_id}/notes/{note['id']}", json={"hidden": True})).status_code == 403
    hidden = await cara.http.patch(f"/v1/sessions/{session_id}/notes/{note['id']}", json={"hidden": True})
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert [n["id"] for n in (await cara.http.get(f"/v1/sessions/{session_id}/notes")).json()] == [second["id"], note["id"], own["id"]]
    assert [n["hidden"] for n in (await cara.http.get(f"/v1/sessions/{session_id}/notes")).json()] == [False, True, False]
    assert [n["id"] for n in (await lee.http.get(f"/v1/sessions/{session_id}/notes")).json()] == [second["id"], own["id"]]
    assert [n["id"] for n in await _timeline_notes(cara, session_id)] == [second["id"], own["id"]]
    assert "Strong opening" not in await _pdf(cara, session_id)
    shown = await cara.http.patch(f"/v1/sessions/{session_id}/notes/{note['id']}", json={"hidden": False})
    assert shown.json()["hidden"] is False
    assert len(await _timeline_notes(lee, session_id)) == 3


async def test_the_candidate_or_the_author_deletes_a_note(people: dict[str, Person]) -> None:
    cara, kim, lee = people["Cara"], people["Coach Kim"], people["Coach Lee"]
    session_id = await cara.new_session()
    await cara.share(coach=kim)
    await cara.share(coach=lee)
    kims = (await kim.http.post(f"/v1/sessions/{session_id}/notes", json={"t_ms": 1000, "body": "one"})).json()
    other = (await kim.http.post(f"/v1/sessions/{session_id}/notes", json={"t_ms": 2000, "body": "two"})).json()
    assert (await lee.http.delete(f"/v1/sessions/{session_id}/notes/{kims['id']}")).status_code == 403
    assert (await kim.http.delete(f"/v1/sessions/{session_id}/notes/{kims['id']}")).status_code == 204
    assert (await cara.http.delete(f"/v1/sessions/{session_id}/notes/{other['id']}")).status_code == 204
    assert (await cara.http.delete(f"/v1/sessions/{session_id}/notes/{other['id']}")).status_code == 404
    assert (await cara.http.get(f"/v1/sessions/{session_id}/notes")).json() == []
    actions = [e["action"] for e in (await cara.http.get("/v1/me/audit")).json()]
    assert actions.count("note_added") == 2 and actions.count("note_deleted") == 2


async def test_a_revoked_coach_can_no_longer_note_or_read_notes(people: dict[str, Person]) -> None:
    cara, kim = people["Cara"], people["Coach Kim"]
    session_id = await cara.new_session()
    share = await cara.share(session_id=session_id, coach=kim)
    assert (await kim.http.post(f"/v1/sessions/{session_id}/notes", json={"t_ms": 0, "body": "hi"})).status_code == 201
    assert (await cara.http.delete(f"/v1/coach-shares/{share['id']}")).status_code == 204
    assert (await kim.http.post(f"/v1/sessions/{session_id}/notes", json={"t_ms": 0, "body": "again"})).status_code == 404
    assert (await kim.http.get(f"/v1/sessions/{session_id}/notes")).status_code == 404
    # The note stays with the candidate's session until they delete it.
    assert [n["body"] for n in (await cara.http.get(f"/v1/sessions/{session_id}/notes")).json()] == ["hi"]
