"""Live signal feeds: per-session fan-out of summaries and nudges to WebSocket subscribers."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

# A subscriber that falls this far behind loses its oldest events, never blocks the producer.
SUBSCRIBER_QUEUE = 64


class LiveFeeds:
    """Subscribers by session; publishing never waits on a slow reader."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self.dropped = 0

    def subscribe(self, session_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self._subscribers[session_id].add(queue)
        return queue

    def unsubscribe(self, session_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        subscribers = self._subscribers.get(session_id)
        if subscribers is not None:
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[session_id]

    def publish(self, session_id: str, event: dict[str, Any]) -> None:
        for queue in self._subscribers.get(session_id, ()):
            self.tell(queue, event)

    def tell(self, queue: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
        """One subscriber's event; a full queue loses its oldest."""
        if queue.full():
            queue.get_nowait()
            self.dropped += 1
        queue.put_nowait(event)
