"""Room tokens: LiveKit access tokens, issued here and verified by the embedded room server."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal, get_args

import jwt
from livekit.api import AccessToken, TokenVerifier, VideoGrants

from greenroom.settings import Settings

RoomRole = Literal["candidate", "coach", "agent", "consumer"]
ROOM_ROLES: tuple[str, ...] = get_args(RoomRole)
# Which room server accepts the tokens: the embedded one, or a LiveKit server.
Transport = Literal["embedded", "livekit"]
# The participant attribute (and metadata key) that carries a participant's room role.
ROLE_ATTRIBUTE = "greenroom.role"
# The attribute that carries the id of the share link a coach's token came from.
SHARE_ATTRIBUTE = "greenroom.share"
# The attribute that carries the account id of a coach who watches through a coach share (a
# candidate's share with them or their organisation) rather than a share link.
COACH_ATTRIBUTE = "greenroom.coach"
# Coach tokens live this long: a coach who reconnects gets a fresh one through the share link,
# which is checked again then.
COACH_TOKEN_TTL_S = 90
TOKEN_SECRET_FILE = "token_secret"
# The fixed identities of the interviewer and the signal consumer in every room.
SERVICE_IDENTITIES: dict[str, str] = {"agent": "interviewer", "consumer": "signal-consumer"}


class InvalidRoomToken(Exception):
    """A room token was refused; reason is safe to show to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RoomClaims:
    """What a verified room token allows its holder to do."""

    identity: str
    name: str
    room: str
    role: RoomRole
    can_publish: bool
    hidden: bool
    share_id: str | None = None  # the share link a coach's token came from
    coach_id: str | None = None  # or the account of a coach watching through a coach share


class TokenIssuer:
    """Issues and verifies room tokens signed with one API key and secret, for the room server
    at `server_url` (None: the embedded one, reached through the signalling WebSocket)."""

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        ttl_s: int,
        *,
        coach_ttl_s: int = COACH_TOKEN_TTL_S,
        leeway_s: float = 10.0,
        transport: Transport = "embedded",
        server_url: str | None = None,
    ) -> None:
        if not api_key or not api_secret:
            raise ValueError("a token API key and secret are required")
        if transport == "livekit" and not server_url:
            raise ValueError("LiveKit room tokens need the LiveKit server's URL")
        self.transport: Transport = transport
        self.server_url = server_url
        self._api_key = api_key
        self._api_secret = api_secret
        self.ttl_s = ttl_s
        self.coach_ttl_s = coach_ttl_s
        self._verifier = TokenVerifier(api_key, api_secret, leeway=timedelta(seconds=leeway_s))

    def ttl_for(self, role: RoomRole) -> int:
        """How long a token for this role lives."""
        return self.coach_ttl_s if role == "coach" else self.ttl_s

    def issue(
        self,
        room: str,
        identity: str,
        role: RoomRole,
        name: str = "",
        *,
        share_id: str | None = None,
        coach_id: str | None = None,
    ) -> str:
        """Returns a signed token letting identity join room with the grants of role (a coach's
        names the share link it came from, or the coach's account)."""
        if role not in ROOM_ROLES:
            raise ValueError(f"unknown room role: {role!r}")
        attributes = {ROLE_ATTRIBUTE: role}
        if share_id is not None:
            attributes[SHARE_ATTRIBUTE] = share_id
        if coach_id is not None:
            attributes[COACH_ATTRIBUTE] = coach_id
        return (
            AccessToken(self._api_key, self._api_secret)
            .with_identity(identity)
            .with_name(name)
            .with_ttl(timedelta(seconds=self.ttl_for(role)))
            .with_grants(grants_for(role, room))
            .with_attributes(attributes)
            .with_metadata(json.dumps({"role": role}))
            .to_jwt()
        )

    def issue_service(self, room: str, role: Literal["agent", "consumer"]) -> str:
        """A token for the interviewer or the signal consumer, under its own identity."""
        return self.issue(room, SERVICE_IDENTITIES[role], role, SERVICE_IDENTITIES[role])

    def verify(self, token: str, room: str) -> RoomClaims:
        """Checks a token's signature, expiry and room; raises InvalidRoomToken when refused."""
        try:
            claims = self._verifier.verify(token)
        except jwt.ExpiredSignatureError:
            raise InvalidRoomToken("token expired") from None
        except jwt.InvalidSignatureError:
            raise InvalidRoomToken("token signature invalid") from None
        except jwt.ImmatureSignatureError:
            raise InvalidRoomToken("token not yet valid") from None
        except jwt.InvalidIssuerError:
            raise InvalidRoomToken("token issuer unknown") from None
        except jwt.MissingRequiredClaimError:
            raise InvalidRoomToken("token has no expiry") from None
        except (jwt.InvalidTokenError, TypeError, ValueError, AttributeError):
            raise InvalidRoomToken("malformed token") from None

        video = claims.video
        if video is None or not video.room_join or not video.room:
            raise InvalidRoomToken("token has no room grant")
        if video.room != room:
            raise InvalidRoomToken("token is for another room")
        if not claims.identity:
            raise InvalidRoomToken("token has no identity")
        attributes = claims.attributes or {}
        role = attributes.get(ROLE_ATTRIBUTE)
        if role not in ROOM_ROLES:
            raise InvalidRoomToken("token has no valid role")
        return RoomClaims(
            identity=claims.identity,
            name=claims.name,
            room=video.room,
            role=role,
            can_publish=bool(video.can_publish),
            hidden=bool(video.hidden),
            share_id=attributes.get(SHARE_ATTRIBUTE),
            coach_id=attributes.get(COACH_ATTRIBUTE),
        )


def grants_for(role: RoomRole, room: str) -> VideoGrants:
    """What each role may do in a room. The candidate publishes camera, microphone and data;
    the interviewer also administers the room; a coach and the signal consumer only receive,
    hidden from the others (an empty source list: no track of any kind)."""
    if role in ("coach", "consumer"):
        return VideoGrants(
            room_join=True,
            room=room,
            hidden=True,
            can_subscribe=True,
            can_publish=False,
            can_publish_data=False,
            can_publish_sources=[],
        )
    return VideoGrants(
        room_join=True,
        room=room,
        can_publish=True,
        can_publish_data=True,
        can_subscribe=True,
        room_admin=role == "agent",
    )


def room_token_issuer(settings: Settings) -> TokenIssuer:
    """The issuer for the configured transport: tokens the embedded server verifies with the
    local secret, or tokens the LiveKit server accepts (signed with its key and secret)."""
    if settings.transport == "livekit":
        secret = settings.livekit_api_secret.get_secret_value() if settings.livekit_api_secret else ""
        return TokenIssuer(
            settings.livekit_api_key or "",
            secret,
            settings.token_ttl_s,
            transport="livekit",
            server_url=settings.livekit_public_url or settings.livekit_url,
        )
    return TokenIssuer(settings.token_api_key, resolve_token_secret(settings), settings.token_ttl_s)


def resolve_token_secret(settings: Settings) -> str:
    """The configured token secret, else one generated once and kept in the data directory."""
    if settings.token_api_secret is not None and settings.token_api_secret.get_secret_value():
        return settings.token_api_secret.get_secret_value()
    path = settings.resolved_data_dir() / TOKEN_SECRET_FILE
    existing = _read_secret(path)
    if existing:
        return existing
    return _create_secret(path)


def _read_secret(path: Path) -> str | None:
    """Reads a kept secret, tightening its mode to 0600 if it was looser."""
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return secret or None


def _create_secret(path: Path) -> str:
    """Writes a new random secret with mode 0600; if another process won the race, reads theirs."""
    secret = secrets.token_urlsafe(48)
    staging = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secret)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(staging, path)
        except FileExistsError:
            winner = _read_secret(path)
            if winner:
                return winner
            os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return secret
