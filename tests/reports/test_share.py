"""Share tokens: genuine ones verify; tampered, foreign or expired ones do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from reports.share import ShareLinkExpired, ShareLinkInvalid, ShareSigner

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_round_trip() -> None:
    signer, link = ShareSigner("s3cret"), uuid4()
    token = signer.sign(link, NOW + timedelta(days=1))
    assert signer.verify(token, NOW) == (link, NOW + timedelta(days=1))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature
        lambda t: t.replace(t.split(".")[1], str(int(t.split(".")[1]) + 3600)),  # expiry pushed out
        lambda t: uuid4().hex + t[32:],  # another link
        lambda t: t.split(".")[0],
        lambda t: "",
        lambda t: t + ".x",
    ],
)
def test_tampered_tokens_are_rejected(tamper) -> None:
    signer = ShareSigner("s3cret")
    token = signer.sign(uuid4(), NOW + timedelta(days=1))
    with pytest.raises(ShareLinkInvalid):
        signer.verify(tamper(token), NOW)


def test_another_key_is_rejected() -> None:
    token = ShareSigner("one").sign(uuid4(), NOW + timedelta(days=1))
    with pytest.raises(ShareLinkInvalid):
        ShareSigner("two").verify(token, NOW)


def test_expired() -> None:
    signer = ShareSigner("s3cret")
    token = signer.sign(uuid4(), NOW)
    with pytest.raises(ShareLinkExpired):
        signer.verify(token, NOW)
    signer.verify(token, NOW - timedelta(seconds=1))
