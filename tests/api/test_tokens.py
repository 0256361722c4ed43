"""Room tokens: what they grant, and every way one is refused."""

from __future__ import annotations

import base64
import json
import stat
import time
from pathlib import Path

import jwt
import pytest
from pydantic import SecretStr

from api.tokens import InvalidRoomToken, TokenIssuer, resolve_token_secret
from greenroom.settings import Settings

SECRET = "test-secret-that-is-long-enough-for-hs256"


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer("greenroom", SECRET, ttl_s=600)


def _refusal(issuer: TokenIssuer, token: str, room: str = "room-1") -> str:
    with pytest.raises(InvalidRoomToken) as refused:
        issuer.verify(token, room)
    return refused.value.reason


@pytest.mark.parametrize(
    ("role", "can_publish", "hidden"),
    [("candidate", True, False), ("coach", False, True), ("agent", True, False)],
)
def test_issued_token_verifies_with_the_role_grants(
    issuer: TokenIssuer, role: str, can_publish: bool, hidden: bool
) -> None:
    token = issuer.issue("room-1", f"{role}-1", role, name="Someone")  # type: ignore[arg-type]
    claims = issuer.verify(token, "room-1")
    assert (claims.identity, claims.name, claims.room, claims.role) == (
        f"{role}-1",
        "Someone",
        "room-1",
        role,
    )
    assert (claims.can_publish, claims.hidden) == (can_publish, hidden)
    video = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="greenroom")["video"]
    assert video.get("roomAdmin", False) == (role == "agent")
    assert video["canSubscribe"] is True


def test_a_coach_token_is_short_lived_and_names_its_share_link(issuer: TokenIssuer) -> None:
    token = issuer.issue("room-1", "coach-1", "coach", share_id="4b1d0c3e-0000-4000-8000-000000000001")
    claims = issuer.verify(token, "room-1")
    assert claims.share_id == "4b1d0c3e-0000-4000-8000-000000000001"
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="greenroom")
    assert payload["exp"] - time.time() <= issuer.coach_ttl_s <= 120
    assert issuer.ttl_for("coach") == issuer.coach_ttl_s and issuer.ttl_for("candidate") == 600
    assert issuer.verify(issuer.issue("room-1", "candidate-1", "candidate"), "room-1").share_id is None


def test_expired_token_is_refused(issuer: TokenIssuer) -> None:
    stale = TokenIssuer("greenroom", SECRET, ttl_s=-120)
    assert _refusal(issuer, stale.issue("room-1", "candidate-1", "candidate")) == "token expired"


def test_token_expires_with_time() -> None:
    short = TokenIssuer("greenroom", SECRET, ttl_s=1, leeway_s=0)
    token = short.issue("room-1", "candidate-1", "candidate")
    assert short.verify(token, "room-1").identity == "candidate-1"
    time.sleep(2.1)
    assert _refusal(short, token) == "token expired"


def test_tampered_token_is_refused(issuer: TokenIssuer) -> None:
    token = issuer.issue("room-1", "coach-1", "coach")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["video"]["canPublish"] = True
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert _refusal(issuer, f"{header}.{forged}.{signature}") == "token signature invalid"

    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert _refusal(issuer, f"{header}.{payload}.{flipped}") == "token signature invalid"

    other_secret = TokenIssuer("greenroom", SECRET + "-other", ttl_s=600)
    assert _refusal(issuer, other_secret.issue("room-1", "x", "candidate")) == "token signature invalid"


def test_token_for_another_room_is_refused(issuer: TokenIssuer) -> None:
    token = issuer.issue("room-2", "candidate-1", "candidate")
    assert _refusal(issuer, token, room="room-1") == "token is for another room"


def test_token_without_room_grant_is_refused(issuer: TokenIssuer) -> None:
    now = int(time.time())
    token = jwt.encode(
        {"sub": "x", "iss": "greenroom", "nbf": now, "exp": now + 60, "video": {"roomList": True}},
        SECRET,
        algorithm="HS256",
    )
    assert _refusal(issuer, token) == "token has no room grant"


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30"])
def test_malformed_token_is_refused(issuer: TokenIssuer, garbage: str) -> None:
    assert _refusal(issuer, garbage) == "malformed token"


def test_refusal_reason_reveals_no_secret(issuer: TokenIssuer) -> None:
    reason = _refusal(issuer, "x.y.z")
    assert SECRET not in reason and "x.y.z" not in reason


def test_configured_secret_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, token_api_secret=SecretStr("configured"), _env_file=None)
    assert resolve_token_secret(settings) == "configured"
    assert not (tmp_path / "token_secret").exists()


def test_generated_secret_is_kept_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", token_api_secret=None, _env_file=None)
    first = resolve_token_secret(settings)
    path = tmp_path / "data" / "token_secret"
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_token_secret(settings) == first
    assert resolve_token_secret(Settings(data_dir=tmp_path / "elsewhere", _env_file=None)) != first
    assert [p.name for p in path.parent.iterdir()] == ["token_secret"]
