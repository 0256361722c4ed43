"""ICE consent under load (media/ice_consent.py): two real aioice connections on loopback, one
answering every consent check late, as a server whose event loop runs behind does. Consent holds
while answers come, however late; it ends once they stop. Times are scaled down (STUN's first
retransmission after 50 ms, checks every 0.1 s) so that the test runs in seconds."""

from __future__ import annotations

import asyncio

import aioice.ice
import pytest
from aioice import stun

from media.ice_consent import AIOICE_QUERY_CONSENT, CONSENT_RETRANSMISSIONS, query_consent

RTO_S = 0.05  # STUN's first retransmission (0.5 s in use)
LATE_S = 0.4  # each answer this late: eight times the first timeout, as 4 s would be in use


@pytest.fixture
def scaled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 0.1)
    monkeypatch.setattr(stun, "RETRY_RTO", RTO_S)


async def connected_pair() -> tuple[aioice.Connection, aioice.Connection]:
    checking, answering = aioice.Connection(ice_controlling=True), aioice.Connection(ice_controlling=False)
    for one, other in ((checking, answering), (answering, checking)):
        await one.gather_candidates()
    for one, other in ((checking, answering), (answering, checking)):
        for candidate in other.local_candidates:
            await one.add_remote_candidate(candidate)
        await one.add_remote_candidate(None)
        one.remote_username, one.remote_password = other.local_username, other.local_password
    await asyncio.gather(checking.connect(), answering.connect())
    return checking, answering


def answer_late(connection: aioice.Connection, late_s: float | None) -> None:
    """Its answers to checks go out `late_s` after they are due (None: never)."""
    loop = asyncio.get_running_loop()
    for protocol in connection._protocols:
        send = protocol.send_stun

        def delayed(message: stun.Message, addr: tuple[str, int], send=send) -> None:
            if message.message_class != stun.Class.RESPONSE:
                send(message, addr)
            elif late_s is not None:
                loop.call_later(late_s, send, message, addr)

        protocol.send_stun = delayed  # type: ignore[method-assign]


async def closes_within(closed: asyncio.Future, seconds: float) -> bool:
    """Whether `closed` (the connection's next event: it closing) comes within `seconds`."""
    await asyncio.wait({closed}, timeout=seconds)
    return closed.done()


async def test_late_answers_keep_consent_and_none_end_it(scaled, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice.Connection, "query_consent", query_consent)
    checking, answering = await connected_pair()
    closed = asyncio.ensure_future(checking.get_event())
    try:
        answer_late(answering, LATE_S)
        # aioice's own checks end consent here after six checks, about 0.9 s
        assert not await closes_within(closed, 3.0), "consent ended though every check was answered"
        answer_late(answering, None)
        budget_s = RTO_S * (2 ** (CONSENT_RETRANSMISSIONS + 1) - 1)  # 3.15 s: 31.5 s in use
        assert await closes_within(closed, budget_s + 2.0), "consent held with no answers at all"
    finally:
        await checking.close()
        await answering.close()


async def test_aioices_own_checks_end_consent_on_late_answers(scaled, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the replacement is for: without it, the same late answers end the connection (any
    room server made earlier in this process has put the replacement in place)."""
    monkeypatch.setattr(aioice.ice.Connection, "query_consent", AIOICE_QUERY_CONSENT)
    checking, answering = await connected_pair()
    closed = asyncio.ensure_future(checking.get_event())
    try:
        answer_late(answering, LATE_S)
        assert await closes_within(closed, 3.0)
    finally:
        await checking.close()
        await answering.close()
