"""The embedded room server: one aiortc peer connection per participant, rooms keyed by session."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.jitterbuffer import JitterBuffer
from aiortc.mediastreams import MediaStreamTrack
from livekit.agents.utils import aio

from agent.events import AgentStateChanged, QuestionAsked, RoomClosed
from media.ice_consent import keep_consent_under_load
from media.voice_track import VoiceTrack

logger = logging.getLogger(__name__)

SendEvent = Callable[[dict[str, Any]], Awaitable[None]]


class RoomHooks(Protocol):
    """What the rest of Greenroom does when things happen in a room."""

    async def admit(self, session_id: str, identity: str, role: str) -> str | None:
        """None to let the participant in, else the reason they are refused."""

    async def candidate_track(self, room: Room, track: MediaStreamTrack) -> None:
        """A candidate's audio or video track arrived (first join or rejoin)."""

    async def candidate_gone(self, room: Room) -> None:
        """The candidate did not come back within the grace period."""

    async def room_closed(self, room: Room, reason: str) -> None:
        """The room was closed (session ended or deleted)."""


class SignallingError(Exception):
    """A participant's request that the room refuses; `code` goes back on the socket."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


STATE_EVENTS = frozenset({QuestionAsked.WIRE_TYPE, AgentStateChanged.WIRE_TYPE})
"""Room events that say what is going on now; a participant who joins is sent the latest of each."""


@dataclass(eq=False, slots=True)
class Participant:
    """Someone in a room: a candidate who publishes, or a coach who only watches."""

    identity: str
    role: str
    send: SendEvent
    can_publish: bool  # False: offers may only receive (a coach's grant)
    pc: RTCPeerConnection | None = None
    connected: bool = True


@dataclass(eq=False)
class Room:
    """A session's room: its participants, the interviewer's voice, the candidate's tracks."""

    session_id: str
    voice: VoiceTrack = field(default_factory=VoiceTrack)
    relay: MediaRelay = field(default_factory=MediaRelay)
    participants: dict[str, Participant] = field(default_factory=dict)
    candidate_tracks: dict[str, MediaStreamTrack] = field(default_factory=dict)
    grace_task: asyncio.Task[None] | None = None
    closed: bool = False
    # The newest event of each kind that describes the room's state rather than a moment in
    # it, so that whoever joins late (a coach, a reloaded page) starts from the current state.
    current: dict[str, dict[str, Any]] = field(default_factory=dict)

    def subscribe(self, track: MediaStreamTrack) -> MediaStreamTrack:
        """A consumer's own view of a track: video keeps only the newest frame; audio waits.

        Audio consumers read without blocking and bound their own queues; the relay must
        not drop speech frames just because the event loop was busy for a moment.
        """
        return self.relay.subscribe(track, buffered=track.kind == "audio")

    async def broadcast(self, event: dict[str, Any]) -> None:
        if event.get("type") in STATE_EVENTS:
            self.current[event["type"]] = event
        for p in list(self.participants.values()):
            if p.connected:
                try:
                    await p.send(event)
                except Exception:  # a socket closing under us; its own handler cleans up
                    p.connected = False


class RoomServer:
    """Rooms, peers and their lifetimes; media routing is the Room's, decisions are the hooks'."""

    def __init__(
        self,
        hooks: RoomHooks,
        *,
        ice_servers: list[str],
        announced_addresses: list[str],
        reconnect_grace_s: float,
    ) -> None:
        keep_consent_under_load()  # a busy loop reads consent answers late (media/ice_consent.py)
        self._hooks = hooks
        self._ice_servers = [RTCIceServer(urls=u) for u in ice_servers]
        self._announced = announced_addresses
        self._grace_s = reconnect_grace_s
        self.rooms: dict[str, Room] = {}
        # Rooms closed without waiting, still finishing (the interview storing its last answers).
        self._closing: dict[str, asyncio.Task[None]] = {}

    def room(self, session_id: str) -> Room | None:
        return self.rooms.get(session_id)

    async def join(
        self, session_id: str, identity: str, role: str, send: SendEvent, *, can_publish: bool
    ) -> tuple[Room, Participant, bool]:
        """Admit a participant; returns (room, participant, resumed)."""
        if (reason := await self._hooks.admit(session_id, identity, role)) is not None:
            raise SignallingError("refused", reason)
        room = self.rooms.get(session_id)
        if room is None or room.closed:
            room = self.rooms[session_id] = Room(session_id)
        previous = room.participants.get(identity)
        # Back within the grace period, or a new connection replacing one still registered.
        resumed = previous is not None or (role == "candidate" and room.grace_task is not None)
        if previous is not None:
            # Same identity again: a reconnect (or a second tab), which replaces the old peer.
            await self._close_peer(previous)
        if room.grace_task is not None and role == "candidate":
            room.grace_task.cancel()
            room.grace_task = None
        participant = Participant(identity=identity, role=role, send=send, can_publish=can_publish)
        room.participants[identity] = participant
        return room, participant, resumed

    async def negotiate(self, room: Room, participant: Participant, sdp: str) -> str:
        """Answer a participant's offer; candidates publish, everyone hears the interviewer."""
        if not participant.connected or room.closed:
            raise SignallingError("not_joined", "this participant is no longer in the room")
        if not participant.can_publish and not offer_only_receives(sdp):
            # Refused before aiortc reads it: no receiver, so nothing of theirs is ever decoded.
            await self._close_peer(participant)
            raise SignallingError(
                "receive_only", "this participant may only receive: offer recvonly audio and video, no data channel"
            )
        if participant.pc is not None:
            await participant.pc.close()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice_servers))
        participant.pc = pc

        if participant.can_publish:

            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                if participant.role != "candidate":
                    return
                room.candidate_tracks[track.kind] = track
                asyncio.ensure_future(self._hooks.candidate_track(room, track))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "failed" and participant.pc is pc:
                await self.leave(room, participant)

        # aiortc accepts some malformed offers (e.g. no media section) and only fails when
        # answering, so the whole exchange counts as reading the offer.
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            pc.addTrack(room.subscribe(room.voice))
            if participant.role == "coach":
                for track in room.candidate_tracks.values():
                    pc.addTrack(room.subscribe(track))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await pc.close()
            participant.pc = None
            raise SignallingError("bad_sdp", f"the offer could not be answered: {type(exc).__name__}") from None
        hear_audio_at_once(pc)  # before any media: it flows only once ICE connects
        if not participant.connected or room.closed:  # left (or was sent away) while we answered
            await pc.close()
            participant.pc = None
            raise SignallingError("not_joined", "this participant is no longer in the room")
        return announce_addresses(pc.localDescription.sdp, self._announced)

    async def leave(self, room: Room, participant: Participant) -> None:
        """A participant's socket or peer went away; a candidate gets a grace period."""
        if room.participants.get(participant.identity) is not participant:
            return  # already replaced by a reconnect
        participant.connected = False
        await self._close_peer(participant)
        del room.participants[participant.identity]
        if participant.role == "candidate" and not room.closed:
            room.grace_task = asyncio.create_task(self._expire(room), name="room-grace")

    async def _expire(self, room: Room) -> None:
        await asyncio.sleep(self._grace_s)
        if any(p.role == "candidate" for p in room.participants.values()):
            return
        room.grace_task = None
        await self._hooks.candidate_gone(room)
        await self.close_room(room.session_id, "abandoned")

    async def close_room(self, session_id: str, reason: str, *, wait: bool = True) -> None:
        """Close a room and every peer in it; the sessions API calls this on end and delete.
        Everyone in it is told at once. What the interview has left to do (storing its last
        answer, heard again whole: seconds) is waited for, unless `wait` is False: then it runs
        on, and a later close_room of the same session (a delete) or aclose waits for it."""
        room = self.rooms.pop(session_id, None)
        if room is None or room.closed:
            closing = self._closing.get(session_id)
            if wait and closing is not None:
                await asyncio.shield(closing)
            return
        room.closed = True
        if room.grace_task is not None and room.grace_task is not asyncio.current_task():
            await aio.cancel_and_wait(room.grace_task)
        await room.broadcast(RoomClosed(reason).to_wire())
        closing = asyncio.create_task(self._finish_closing(room, reason), name="room-closing")
        self._closing[session_id] = closing
        closing.add_done_callback(lambda _t: self._closing.pop(session_id, None))
        if wait:
            await asyncio.shield(closing)

    async def _finish_closing(self, room: Room, reason: str) -> None:
        try:
            await self._hooks.room_closed(room, reason)
        except Exception:
            logger.exception("closing a room's interview failed", extra={"session_id": room.session_id})
        finally:
            for p in list(room.participants.values()):
                await self._close_peer(p)
            room.voice.stop()

    async def aclose(self) -> None:
        for session_id in list(self.rooms):
            await self.close_room(session_id, "server_shutdown")
        for closing in list(self._closing.values()):
            await asyncio.shield(closing)

    @staticmethod
    async def _close_peer(participant: Participant) -> None:
        if participant.pc is not None:
            pc, participant.pc = participant.pc, None
            await pc.close()


_DIRECTIONS = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})


def offer_only_receives(sdp: str) -> bool:
    """Whether an SDP offer only asks to receive: audio and video sections that are recvonly or
    inactive, and nothing else (no data channel). A section without a direction takes the
    session's, and a session without one is sendrecv (RFC 8866)."""
    session_direction = "sendrecv"
    kinds: list[str] = []
    directions: list[str | None] = []
    for line in (raw.strip() for raw in sdp.splitlines()):
        if line.startswith("m="):
            kinds.append(line[2:].split(" ", 1)[0])
            directions.append(None)
        elif line.startswith("a=") and line[2:] in _DIRECTIONS:
            if kinds:
                directions[-1] = line[2:]
            else:
                session_direction = line[2:]
    return all(
        kind in ("audio", "video") and (direction or session_direction) in ("recvonly", "inactive")
        for kind, direction in zip(kinds, directions, strict=True)
    )


_CANDIDATE = re.compile(r"^(a=candidate:\S+ \d+ \S+ \d+ )(\S+)( \d+ typ host.*)$")


def announce_addresses(sdp: str, addresses: list[str]) -> str:
    """Rewrite host candidates to the configured public addresses (as LiveKit's rtc.node_ip)."""
    if not addresses:
        return sdp
    out: list[str] = []
    for line in sdp.splitlines():
        m = _CANDIDATE.match(line)
        if m is None:
            out.append(line)
            continue
        out.extend(f"{m.group(1)}{addr}{m.group(3)}" for addr in addresses)
    return "\r\n".join(out) + "\r\n"


def restrict_ice_addresses(addresses: list[str]) -> None:
    """Gather ICE host candidates only on these local addresses (a process-wide aioice setting).

    aioice skips 127.0.0.1 by default; naming it here keeps one-machine traffic on loopback.
    """
    import aioice.ice

    chosen = list(addresses)
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(chosen)


# aiortc holds each received audio packet until four more have arrived (its JitterBuffer's
# prefetch of 4): the candidate was heard 80 ms late. Nothing here plays their audio out at a
# steady pace (the VAD, Whisper and the delivery consumer read it as it comes), so that wait
# bought nothing and delayed each yield and each turn's end. With 1, a packet is released as
# soon as the next one shows it complete: 20 ms. Loss and reordering are handled as before.
AUDIO_PREFETCH = 1


def hear_audio_at_once(pc: RTCPeerConnection) -> None:
    """Gives the peer's audio receivers a jitter buffer, of aiortc's size, that releases each packet at once."""
    for transceiver in pc.getTransceivers():  # a watcher's receivers have no track: ask the transceiver
        if transceiver.kind != "audio":
            continue
        receiver = transceiver.receiver
        default = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
        if default is None:  # aiortc changed: say so
            raise RuntimeError("aiortc's RTCRtpReceiver no longer has the jitter buffer this replaces")
        receiver._RTCRtpReceiver__jitter_buffer = JitterBuffer(capacity=default.capacity, prefetch=AUDIO_PREFETCH)
