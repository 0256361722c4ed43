"""ICE consent freshness that a busy server survives (RFC 7675), for every aiortc connection.

aioice 0.13 sends a consent check every 4-6 s and counts it failed unless its answer is read
within 0.5 s, with no retransmission; six failures in a row close the connection. A server
whose event loop runs behind reads each answer late, behind the media queued before it: at
three interviews on two cores, every check of every connection failed from the start, and all
three interviews died 32 s in (bench.capacity, thirty-fourth session). Browsers count consent as
lost only after 30 s without any answer, and so does RFC 7675 (section 5.1). Here each check
is retransmitted on STUN's schedule (0.5, 1, 2, 4, 8 and 16 s) and any answer to it keeps
consent, so a connection closes only once its peer has been silent for about 30 s, or says
no (an error response).
"""

from __future__ import annotations

import asyncio
import logging
import random

import aioice.ice
from aioice import stun

logger = logging.getLogger(__name__)

CONSENT_RETRANSMISSIONS = 5  # answers may come 0.5 + 1 + 2 + 4 + 8 + 16 = 31.5 s after the check
AIOICE_QUERY_CONSENT = aioice.ice.Connection.query_consent  # aioice's own, replaced below


async def query_consent(self: aioice.ice.Connection) -> None:
    """aioice's Connection.query_consent, with a late answer counting as an answer."""
    assert self.remote_password is not None  # checks start once connect() has it
    while True:
        await asyncio.sleep(aioice.ice.CONSENT_INTERVAL * (0.8 + 0.4 * random.random()))
        for pair in self._nominated.values():
            request = self.build_request(pair, nominate=False)
            try:
                await pair.protocol.request(
                    request,
                    pair.remote_addr,
                    integrity_key=self.remote_password.encode("utf8"),
                    retransmissions=CONSENT_RETRANSMISSIONS,
                )
            except stun.TransactionError as exc:
                logger.info("ICE consent to send expired: %s", exc)
                self._query_consent_task = None
                await self.close()
                return


def keep_consent_under_load() -> None:
    """Makes every aioice connection in this process check consent as above (idempotent)."""
    aioice.ice.Connection.query_consent = query_consent  # type: ignore[method-assign]
