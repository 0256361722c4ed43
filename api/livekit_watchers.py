"""Telling the candidate who watches (GREENROOM_TRANSPORT=livekit).

Coaches join a LiveKit room hidden, so the candidate's browser is never told of them; the API is,
by LiveKit's webhooks (api/livekit_webhook.py). When a coach comes or goes, and when the
candidate joins while coaches watch (a reloaded page), the candidate gets a reliable data message
on the room's events topic, shaped like the room's other events:
{"type": "watchers", "names": [...]}, the coaches' names as their tokens give them.
"""

from __future__ import annotations

import json
import logging

from livekit import api

from api.livekit_rooms import LiveKitRooms, LiveKitUnavailable, role_of

logger = logging.getLogger(__name__)

# The room's events topic (media/livekit_io.py EVENTS_TOPIC): the pages read every event there.
EVENTS_TOPIC = "greenroom.events"
WATCHERS_EVENT = "watchers"
UNNAMED_COACH = "Coach"


def watchers_event(names: list[str]) -> dict[str, object]:
    """The event the candidate's page shows as "Watching: …"."""
    return {"type": WATCHERS_EVENT, "names": names}


async def tell_candidate_watchers(
    rooms: LiveKitRooms, session_id: str, *, gone: frozenset[str] = frozenset(), unless_none: bool = False
) -> list[str] | None:
    """Sends the room's candidate the names of the coaches in it now, leaving out the identities
    in `gone` (a coach who has just left); returns the names, or None when nothing was sent (no
    candidate there, or no coach and `unless_none`). Raises LiveKitUnavailable."""
    participants = await rooms.participants(session_id)
    candidates = [p.identity for p in participants if role_of(p) == "candidate"]
    names = sorted(
        p.name or UNNAMED_COACH for p in participants if role_of(p) == "coach" and p.identity not in gone
    )
    if not candidates or (unless_none and not names):
        return None
    await rooms.send_data(session_id, json.dumps(watchers_event(names)).encode(), to=candidates, topic=EVENTS_TOPIC)
    return names


async def on_participant_event(rooms: LiveKitRooms, event: api.WebhookEvent, session_id: str) -> None:
    """A webhook's follow-up for the candidate's list of watchers: a coach joined or left, or the
    candidate joined. Failing to tell is logged, never raised (the webhook was applied)."""
    role = role_of(event.participant)
    if role == "coach" and event.event in ("participant_joined", "participant_left"):
        gone = frozenset({event.participant.identity}) if event.event == "participant_left" else frozenset()
        unless_none = False
    elif role == "candidate" and event.event == "participant_joined":
        gone, unless_none = frozenset(), True
    else:
        return
    try:
        await tell_candidate_watchers(rooms, session_id, gone=gone, unless_none=unless_none)
    except (LiveKitUnavailable, api.TwirpError) as exc:
        logger.warning("candidate not told who watches", extra={"session_id": session_id, "error": type(exc).__name__})
