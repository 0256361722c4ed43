"""GET /v1/consent: the policy a new session must accept, in plain language."""

from __future__ import annotations

import httpx


async def test_consent_policy_says_what_is_captured_stored_kept_and_deleted(
    anonymous_client: httpx.AsyncClient,
) -> None:
    response = await anonymous_client.get("/v1/consent")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"version", "text"}
    assert body["version"] == (await anonymous_client.get("/v1/catalog")).json()["consent_version"]
    text = body["text"].lower()
    for fact in (
        "camera",
        "face signals",
        "microphone",
        "transcribed",
        "prosody",
        "transcript",
        "no raw audio or video is ever stored",
        "7, 30, 90 or 365 days",
        "until you delete it",
        "delete your account",
    ):
        assert fact in text, fact


async def test_a_session_accepting_the_published_version_is_created(app_client: httpx.AsyncClient) -> None:
    version = (await app_client.get("/v1/consent")).json()["version"]
    response = await app_client.post(
        "/v1/sessions",
        json={
            "role_track": "general",
            "round_type": "behavioral",
            "difficulty": "easy",
            "duration_min": 10,
            "consent_version": version,
        },
    )
    assert response.status_code == 201
    assert response.json()["session"]["consent_version"] == version
