"""Shareable read-only report links: tokens HMAC-signed over the link's id and expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from uuid import UUID

_KEY_LABEL = b"greenroom/report-share/v1"


class ShareLinkError(Exception):
    """A share token that cannot be honoured; the message is safe to show."""


class ShareLinkInvalid(ShareLinkError):
    """Malformed, tampered with, or signed with another key."""


class ShareLinkExpired(ShareLinkError):
    """Genuine, but past its expiry."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class ShareSigner:
    """Signs and verifies share tokens `<link id hex>.<expiry unix s>.<signature>`."""

    __slots__ = ("_key",)

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode("utf-8") if isinstance(secret, str) else secret
        if not raw:
            raise ValueError("a share signing secret is required")
        # A key of its own, so a share token can never pass for a room token or the reverse.
        self._key = hmac.new(raw, _KEY_LABEL, hashlib.sha256).digest()

    def _signature(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())

    def sign(self, link_id: UUID, expires_at: datetime) -> str:
        body = f"{link_id.hex}.{int(expires_at.timestamp())}"
        return f"{body}.{self._signature(body)}"

    def verify(self, token: str, now: datetime | None = None) -> tuple[UUID, datetime]:
        """The link id and expiry of a genuine, unexpired token."""
        parts = token.split(".")
        if len(parts) != 3 or len(token) > 200:
            raise ShareLinkInvalid("share link not found")
        link_hex, exp_text, signature = parts
        expected = self._signature(f"{link_hex}.{exp_text}")
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
            raise ShareLinkInvalid("share link not found")
        try:
            link_id = UUID(hex=link_hex)
            expires_at = datetime.fromtimestamp(int(exp_text), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise ShareLinkInvalid("share link not found") from exc
        if (now or datetime.now(UTC)) >= expires_at:
            raise ShareLinkExpired("share link expired")
        return link_id, expires_at
