"""Reports over HTTP: report, timeline, exports, share links, progress and insights."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import httpx
import pypdfium2 as pdfium
import pytest
from fastapi import FastAPI

from api.consent import CONSENT_VERSION
from db.delivery import SIGNAL_CSV_COLUMNS
from scoring.offline import OfflineEvaluator
from tests.reports.fakes import UnreachableLLMEvaluator
from tests.reports.seeding import QUESTIONS, T0, SeededSession, seed_session
from tests.users import make_user

WEAK_ANSWER = "I do not really remember, um, it was fine I guess, we sort of did the thing and it worked out."


@pytest.fixture
async def client(app: FastAPI, app_client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The app's client, with the offline evaluator scoring answers."""
    app.state.evaluator = OfflineEvaluator()
    yield app_client


async def _seed(user_id: UUID, pool: asyncpg.Pool, **kwargs: object) -> SeededSession:
    return await seed_session(pool, user_id, **kwargs)


async def test_report_of_a_completed_session(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool)
    response = await client.get(f"/v1/sessions/{seeded.session_id}/report")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["partial"] is False and report["status"] == "completed"
    card = report["scorecard"]
    assert 0 <= card["overall"] <= 100 and card["band_low"] <= card["overall"] <= card["band_high"]
    assert [d["dimension"] for d in card["dimensions"]] == ["communication", "composure", "structure", "relevance"]
    assert card["weights"] == {"communication": 30.0, "composure": 25.0, "structure": 25.0, "relevance": 20.0}
    assert card["strengths"] and all(f["evidence"] for f in card["strengths"])
    assert {d["metric"] for d in card["delivery"]} >= {"pace", "fillers", "pauses", "response_latency",
                                                       "face_visible", "camera_gaze", "head_stability", "smile"}  # fmt: skip

    answers = report["answers"]
    assert [a["question"] for a in answers] == list(QUESTIONS)
    assert answers[0]["response_ids"] == [str(r) for r in seeded.response_ids[:2]]
    for a in answers:
        assert a["rubric"]["evaluator"] == "offline" and a["rubric"]["fallback_reason"] is None
        assert a["rubric"]["dimensions"] and all(d["reason"] for d in a["rubric"]["dimensions"])
        for d in a["delivery"]:
            assert d["factors"] and d["confidence"] in ("high", "medium", "low")
            assert d["band_low"] <= d["score"] <= d["band_high"]
            if d["metric"] in ("face_visible", "camera_gaze", "head_stability", "smile"):
                assert "do not over-interpret" in d["note"]

    kinds = {m["kind"] for m in report["key_moments"]}
    assert {"long_pause", "look_away", "filler_burst", "pace_spike"} <= kinds
    pause = next(m for m in report["key_moments"] if m["kind"] == "long_pause")
    assert (pause["question_seq"], pause["response_id"]) == (2, str(seeded.response_ids[2]))
    assert any("over-interpret" in n for n in report["notes"])
    assert any("no claim about emotion, personality or fitness" in n for n in report["notes"])


async def test_report_of_a_live_session_is_partial(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool, status="live")
    report = (await client.get(f"/v1/sessions/{seeded.session_id}/report")).json()
    assert report["partial"] is True
    assert [a["final"] for a in report["answers"]] == [True, True, False]
    assert report["answers"][2]["rubric"]["scored_at"] is None
    stored = await pool.fetchval("SELECT count(*) FROM answer_scores WHERE session_id = $1", seeded.session_id)
    assert stored == 2


async def test_report_shows_the_evaluator_fallback(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    app.state.evaluator = UnreachableLLMEvaluator()
    seeded = await _seed(user_id, pool)
    report = (await client.get(f"/v1/sessions/{seeded.session_id}/report")).json()
    for a in report["answers"]:
        assert a["rubric"]["evaluator"] == "offline"
        assert a["rubric"]["fallback_reason"] == "llm:test-model failed (ConnectionError)"
    assert "10.0.0.1" not in str(report)  # the exception's text never leaves the process


async def test_report_of_someone_elses_or_no_session_is_404(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    other = await make_user(pool)
    theirs = await seed_session(pool, other, signals=False)
    for sid in (theirs.session_id, uuid4()):
        for path in ("report", "timeline"):
            response = await client.get(f"/v1/sessions/{sid}/{path}")
            assert response.status_code == 404 and response.json()["detail"] == "session not found"
        assert (await client.post(f"/v1/sessions/{sid}/export", json={"format": "csv"})).status_code == 404
        assert (await client.post(f"/v1/sessions/{sid}/share")).status_code == 404


async def test_timeline_buckets_series_markers_and_anchors(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool)
    response = await client.get(f"/v1/sessions/{seeded.session_id}/timeline", params={"bucket_ms": 5000})
    assert response.status_code == 200, response.text
    timeline = response.json()
    series = timeline["series"]
    n = len(series["t_ms"])
    assert n == 33 and series["t_ms"][:3] == [0, 5000, 10000]  # 0–160.x s in 5 s buckets
    assert all(len(series[k]) == n for k in ("pace_wpm", "pitch_hz", "loudness_dbfs", "face_visible", "gaze_on_camera"))
    assert series["face_visible"][8] == pytest.approx(0.8)  # 40–45 s: one second of five without a face
    assert series["gaze_on_camera"][24] < series["gaze_on_camera"][23]  # 120–125 s: looking away
    assert series["pitch_hz"][0] is None and series["pitch_hz"][3] == pytest.approx(180.0)
    assert series["pace_wpm"][26] == pytest.approx(210.0)
    kinds = [m["kind"] for m in timeline["markers"]]
    assert kinds.count("filler") == 4 and kinds.count("pause") == 1  # the 0.6 s pause is not marked
    assert "nudge" in kinds and "response_latency" in kinds
    assert {m["kind"] for m in timeline["moments"]} >= {"long_pause", "look_away"}
    anchors = timeline["anchors"]
    assert [a["seq"] for a in anchors] == [1, 2, 3]
    assert anchors[0]["asked_ms"] == 1000 and anchors[0]["answer_from_ms"] == 10_000
    assert [r["response_id"] for r in anchors[0]["responses"]] == [str(r) for r in seeded.response_ids[:2]]
    assert timeline["partial"] is False
    # Sent compressed to a client that accepts it (httpx asks for gzip and decodes it).
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content) / 2

    zoom = (await client.get(f"/v1/sessions/{seeded.session_id}/timeline",
                             params={"bucket_ms": 100, "from_ms": 40_000, "to_ms": 42_000})).json()  # fmt: skip
    assert zoom["series"]["face_visible"][:10] == [0.0] * 10 and zoom["series"]["face_visible"][10] == 1.0


async def test_timeline_rejects_too_many_buckets(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool, signals=False)
    response = await client.get(f"/v1/sessions/{seeded.session_id}/timeline", params={"bucket_ms": 100, "to_ms": 5_000_000})
    assert response.status_code == 422 and "bucket_ms must be at least 500" in response.json()["detail"]
    assert (await client.get(f"/v1/sessions/{seeded.session_id}/timeline", params={"bucket_ms": 10})).status_code == 422


def _pdf_text(data: bytes) -> tuple[str, int]:
    pdf = pdfium.PdfDocument(data)
    try:
        text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        return " ".join(text.split()), len(pdf)
    finally:
        pdf.close()


async def test_pdf_export_renders_the_scorecard_and_answers(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool)
    created = await client.post(f"/v1/sessions/{seeded.session_id}/export", json={"format": "pdf"})
    assert created.status_code == 201, created.text
    export = created.json()
    assert export["status"] == "ready" and export["size_bytes"] > 1000
    assert created.headers["location"] == export["download_url"] == f"/v1/exports/{export['id']}"

    download = await client.get(export["download_url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    data = download.content
    assert data.startswith(b"%PDF") and len(data) == export["size_bytes"]

    report = (await client.get(f"/v1/sessions/{seeded.session_id}/report")).json()
    text, pages = _pdf_text(data)
    assert f"Overall score: {report['scorecard']['overall']} / 100" in text
    for question in QUESTIONS:
        assert question in text
    assert "Key moments" in text and "Long pause (4.0 s)" in text
    assert "A stronger answer" not in text or report["answers"][0]["example_answer"]
    assert "do not over-interpret" in text

    pdf = pdfium.PdfDocument(data)
    try:
        image = pdf[0].render(scale=1).to_pil().convert("L")
    finally:
        pdf.close()
    dark = sum(image.histogram()[:128])  # pixels darker than mid-grey
    assert image.size[0] > 500 and dark > 0.01 * image.size[0] * image.size[1]  # not a blank page
    assert pages >= 2


async def test_pdf_shows_fallback_evaluator(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    app.state.evaluator = UnreachableLLMEvaluator()
    seeded = await _seed(user_id, pool, signals=False)
    export = (await client.post(f"/v1/sessions/{seeded.session_id}/export", json={"format": "pdf"})).json()
    text, _ = _pdf_text((await client.get(export["download_url"])).content)
    assert "scored by offline" in text and "fallback: llm:test-model failed (ConnectionError)" in text


async def test_csv_export_streams_the_signals(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool)
    created = await client.post(f"/v1/sessions/{seeded.session_id}/export", json={"format": "csv"})
    assert created.status_code == 202, created.text
    export = created.json()
    assert export["status"] == "streamed_on_download" and export["size_bytes"] is None
    download = await client.get(export["download_url"])
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"].endswith('-signals.csv"')
    rows = list(csv.reader(io.StringIO(download.text)))
    assert tuple(rows[0]) == SIGNAL_CSV_COLUMNS
    counts = {stream: sum(1 for r in rows[1:] if r[0] == stream) for stream in ("face", "prosody", "speech")}
    assert counts["face"] == counts["prosody"] == 1600 and counts["speech"] > 10


async def test_large_csv_export_over_http(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool, signals=False)
    async with pool.acquire() as conn:
        await conn.copy_records_to_table(
            "face_samples",
            records=((seeded.session_id, t * 10, True, 1, 0.9, 0.9) for t in range(100_000)),
            columns=["session_id", "t_ms", "face_present", "num_faces", "gaze_on_camera", "quality"],
        )
    export = (await client.post(f"/v1/sessions/{seeded.session_id}/export", json={"format": "csv"})).json()
    async with client.stream("GET", export["download_url"]) as response:
        assert response.status_code == 200
        lines = 0
        async for chunk in response.aiter_bytes():
            lines += chunk.count(b"\n")
    assert lines == 100_001


async def test_exports_are_private_and_expire(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool, signals=False)
    assert (await client.get(f"/v1/exports/{uuid4()}")).status_code == 404
    export = (await client.post(f"/v1/sessions/{seeded.session_id}/export", json={"format": "csv"})).json()
    await pool.execute("UPDATE report_exports SET expires_at = now() - interval '1 s' WHERE id = $1", UUID(export["id"]))
    response = await client.get(export["download_url"])
    assert response.status_code == 410 and "expired" in response.json()["detail"]
    bad = await client.post(f"/v1/sessions/{seeded.session_id}/export", json={"format": "docx"})
    assert bad.status_code == 422


async def test_share_link_serves_the_report_read_only(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool)
    response = await client.post(f"/v1/sessions/{seeded.session_id}/share", json={"expires_in_s": 3600})
    assert response.status_code == 201, response.text
    link = response.json()
    assert link["url"] == f"http://greenroom.test/v1/shared/{link['token']}"
    expires_at = datetime.fromisoformat(link["expires_at"])
    assert timedelta(minutes=59) < expires_at - datetime.now(UTC) <= timedelta(hours=1)

    shared = await client.get(f"/v1/shared/{link['token']}")
    assert shared.status_code == 200
    own = (await client.get(f"/v1/sessions/{seeded.session_id}/report")).json()
    body = shared.json()
    assert body["scorecard"]["overall"] == own["scorecard"]["overall"]
    assert all(a["rubric"] is not None for a in body["answers"])  # scored when the link was made
    # Read-only: the shared route has no other methods.
    assert (await client.post(f"/v1/shared/{link['token']}")).status_code == 405

    assert (await client.delete(f"/v1/sessions/{seeded.session_id}/share")).status_code == 204
    revoked = await client.get(f"/v1/shared/{link['token']}")
    assert revoked.status_code == 410 and revoked.json()["detail"] == "share link revoked"


async def test_share_link_expired_or_tampered(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool, signals=False)
    token = (await client.post(f"/v1/sessions/{seeded.session_id}/share")).json()["token"]
    link_id = UUID(hex=token.split(".")[0])

    expired = app.state.share_signer.sign(link_id, datetime.now(UTC) - timedelta(seconds=1))
    response = await client.get(f"/v1/shared/{expired}")
    assert response.status_code == 410 and response.json()["detail"] == "share link expired"

    link_hex, exp, signature = token.split(".")
    for tampered in (f"{link_hex}.{int(exp) + 86400}.{signature}", f"{uuid4().hex}.{exp}.{signature}",
                     f"{link_hex}.{exp}.{signature[:-2]}xx", "not-a-token"):  # fmt: skip
        response = await client.get(f"/v1/shared/{tampered}")
        assert response.status_code == 404 and response.json()["detail"] == "share link not found"
    assert (await client.post(f"/v1/sessions/{seeded.session_id}/share", json={"expires_in_s": 10})).status_code == 422


async def test_deleting_a_session_removes_scores_exports_and_links(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool)
    sid = seeded.session_id
    export = (await client.post(f"/v1/sessions/{sid}/export", json={"format": "pdf"})).json()
    token = (await client.post(f"/v1/sessions/{sid}/share")).json()["token"]
    for table in ("answer_scores", "report_exports", "report_shares", "session_scorecards"):
        assert await pool.fetchval(f"SELECT count(*) FROM {table} WHERE session_id = $1", sid) > 0

    assert (await client.delete(f"/v1/sessions/{sid}")).status_code == 204
    for table in ("answer_scores", "report_exports", "report_shares", "session_scorecards"):
        assert await pool.fetchval(f"SELECT count(*) FROM {table} WHERE session_id = $1", sid) == 0
    assert (await client.get(export["download_url"])).status_code == 404
    gone = await client.get(f"/v1/shared/{token}")
    assert gone.status_code == 410 and gone.json()["detail"] == "share link no longer available"


async def test_progress_over_several_sessions(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    empty = (await client.get("/v1/users/me/progress")).json()
    assert empty["history"] == [] and empty["comparison"] is None and len(empty["weekly_plan"]) == 7
    assert empty["aggregates"]["sessions"] == 0 and empty["aggregates"]["best_overall"] is None

    first = await _seed(user_id, pool, started_at=T0, answer=WEAK_ANSWER)
    second = await _seed(user_id, pool, started_at=T0 + timedelta(days=2), round_type="mmi")
    live = await _seed(user_id, pool, started_at=T0 + timedelta(days=3), status="live", signals=False)

    progress = (await client.get("/v1/users/me/progress")).json()
    history = progress["history"]
    assert [h["session_id"] for h in history] == [str(s.session_id) for s in (live, second, first)]
    assert history[0]["overall"] is None  # still live: no scorecard yet
    assert all(h["overall"] is not None for h in history[1:])

    comparison = progress["comparison"]
    assert comparison["latest_session_id"] == str(second.session_id)
    assert comparison["previous_session_id"] == str(first.session_id)
    assert comparison["overall"]["delta"] == history[1]["overall"] - history[2]["overall"] > 0
    assert comparison["summary"] and {c["name"] for c in comparison["dimensions"]} == {
        "communication", "composure", "structure", "relevance"}  # fmt: skip

    overall_trend = next(t for t in progress["trends"] if t["dimension"] == "overall")
    assert [p["score"] for p in overall_trend["points"]] == [history[2]["overall"], history[1]["overall"]]
    assert overall_trend["direction"] == "improving"

    plan = progress["weekly_plan"]
    assert [d["day"] for d in plan] == list(range(1, 8))
    assert plan[0]["focus"] == progress["focus"][0] and plan[0]["drill_id"]
    assert {d["kind"] for d in plan} == {"drill", "mock_interview", "review"}

    agg = progress["aggregates"]
    assert (agg["sessions"], agg["completed"], agg["scored"]) == (3, 2, 2)
    assert agg["best_overall"] == max(h["overall"] for h in history[1:])
    assert agg["average_overall"] == pytest.approx((history[1]["overall"] + history[2]["overall"]) / 2)
    categories = {c["category"]: c for c in agg["categories"]}
    assert set(categories) == {"behavioral", "mmi"}
    assert categories["mmi"]["answers"] == 3 and categories["behavioral"]["sessions"] == 1
    assert agg["practice_minutes"] == pytest.approx(2 * 160 / 60, abs=0.1)


async def test_insights(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    await _seed(user_id, pool, started_at=T0, answer=WEAK_ANSWER)
    await _seed(user_id, pool, started_at=T0 + timedelta(days=1), round_type="technical")
    await _seed(user_id, pool, started_at=T0 + timedelta(days=8))
    response = await client.get("/v1/users/me/insights")
    assert response.status_code == 200, response.text
    insights = {i["kind"]: i for i in response.json()["insights"]}
    assert {"filler_words", "weakest_rubric_dimension", "categories", "consistency", "practice_cadence"} <= set(insights)
    assert insights["filler_words"]["evidence"]["fillers"][0]["count"] == 3  # "um" once per session
    assert insights["filler_words"]["drill_id"] == "filler-pause-swap"
    assert insights["practice_cadence"]["evidence"]["sessions_per_week"] == {"2025-W09": 2, "2025-W10": 1}
    assert "pace_trend" in insights


async def test_reports_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, method in [
        ("/v1/sessions/{session_id}/report", "get"),
        ("/v1/sessions/{session_id}/timeline", "get"),
        ("/v1/sessions/{session_id}/export", "post"),
        ("/v1/exports/{export_id}", "get"),
        ("/v1/sessions/{session_id}/share", "post"),
        ("/v1/shared/{token}", "get"),
        ("/v1/users/me/progress", "get"),
        ("/v1/users/me/insights", "get"),
    ]:
        assert method in paths[path], path
    export = paths["/v1/sessions/{session_id}/export"]["post"]["responses"]
    assert {"201", "202", "404"} <= set(export)
    assert {"404", "410"} <= set(paths["/v1/shared/{token}"]["get"]["responses"])


async def test_bad_report_weights_stop_the_app_at_startup(settings, pool: asyncpg.Pool) -> None:
    from api.app import create_app

    app = create_app(settings.model_copy(update={"report_weights": {"communication": 1.0}}))
    with pytest.raises(ValueError, match="report weights"):
        async with app.router.lifespan_context(app):
            pass


async def test_report_without_an_evaluator_is_503(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    seeded = await _seed(user_id, pool, signals=False)
    app.state.evaluator = None
    response = await client.get(f"/v1/sessions/{seeded.session_id}/report")
    assert response.status_code == 503 and response.json()["detail"] == "answer scoring is not configured"
    timeline = await client.get(f"/v1/sessions/{seeded.session_id}/timeline")
    assert timeline.status_code == 200  # the timeline never scores


async def test_a_session_not_started_yet_has_an_empty_partial_report(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/v1/sessions",
        json={
            "role_track": "general",
            "round_type": "mixed",
            "difficulty": "easy",
            "duration_min": 10,
            "consent_version": CONSENT_VERSION,
        },
    )
    sid = created.json()["session"]["id"]
    report = (await client.get(f"/v1/sessions/{sid}/report")).json()
    assert report["partial"] is True and report["answers"] == [] and report["key_moments"] == []
    assert report["scorecard"]["overall"] is None and report["scorecard"]["drills"] == []
    timeline = (await client.get(f"/v1/sessions/{sid}/timeline")).json()
    assert timeline["series"]["t_ms"] == [0] and timeline["anchors"] == []
    export = await client.post(f"/v1/sessions/{sid}/export", json={"format": "pdf"})
    assert export.status_code == 201


async def test_scoring_at_session_end_makes_progress_ready(client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool, user_id: UUID) -> None:
    from api.reports import report_context
    from reports.session_end import score_ended_session

    live = await _seed(user_id, pool, status="live")
    await score_ended_session(app.state.pool, live.session_id, report_context(app))  # still open: nothing is kept
    assert await pool.fetchval("SELECT count(*) FROM session_scorecards") == 0
    ended = await _seed(user_id, pool)
    await score_ended_session(app.state.pool, ended.session_id, report_context(app))
    assert await pool.fetchval("SELECT count(*) FROM answer_scores WHERE session_id = $1", ended.session_id) == 3
    assert await pool.fetchval("SELECT answers_scored FROM session_scorecards WHERE session_id = $1", ended.session_id) == 3
