"""GET /v1/catalog: every choice the sessions API accepts, labelled, without sign-in."""

from __future__ import annotations

import httpx

from agent import catalog


async def test_catalog_lists_what_the_sessions_api_accepts(
    anonymous_client: httpx.AsyncClient, app_client: httpx.AsyncClient
) -> None:
    response = await anonymous_client.get("/v1/catalog")
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["role_tracks"]] == list(catalog.ROLE_TRACKS)
    assert [c["id"] for c in body["round_types"]] == list(catalog.ROUND_TYPES)
    assert [c["id"] for c in body["difficulties"]] == list(catalog.DIFFICULTIES)
    assert body["durations_min"] == [10, 20, 30]
    assert [p["id"] for p in body["personas"]] == list(catalog.PERSONAS)
    assert body["default_persona"] in catalog.PERSONAS
    assert body["retention_days"] == [7, 30, 90, 365, None]
    assert body["default_retention_days"] in body["retention_days"]

    for group in ("role_tracks", "round_types", "difficulties"):
        for choice in body[group]:
            assert choice["label"] and "_" not in choice["label"] and choice["label"][0].isupper()
    labels = {c["id"]: c["label"] for c in body["role_tracks"] + body["round_types"]}
    assert labels["hr"] == "HR" and "MMI" in labels["medical_school_mmi"]
    for persona in body["personas"]:
        assert persona["name"] and persona["description"][0].isupper()
        assert persona["role"] and persona["style"] and set(persona["focus"]) <= set(catalog.ROUND_TYPES)
    assert body["panel_sizes"] == [2, 3]

    # Every combination the catalog offers is one a session can be made of.
    for group, field in (("role_tracks", "role_track"), ("round_types", "round_type"), ("difficulties", "difficulty")):
        for choice in body[group]:
            session = {
                "role_track": body["role_tracks"][0]["id"],
                "round_type": body["round_types"][0]["id"],
                "difficulty": body["difficulties"][0]["id"],
                "duration_min": body["durations_min"][-1],
                "persona": body["personas"][-1]["id"],
                "retention_days": body["retention_days"][0],
                "consent_version": body["consent_version"],
                field: choice["id"],
            }
            created = await app_client.post("/v1/sessions", json=session)
            assert created.status_code == 201, created.text
