"""The room server's offer check: a watch-only participant's offer may only receive."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtp import RtpPacket

from bench.rtc_client import Camera, Microphone
from media.room_server import Room, RoomServer, hear_audio_at_once, offer_only_receives

SESSION = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
AUDIO = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
VIDEO = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
DATA = "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"


@pytest.mark.parametrize(
    ("sdp", "only_receives"),
    [
        (SESSION + AUDIO + "a=recvonly\r\n" + VIDEO + "a=inactive\r\n", True),
        (SESSION + AUDIO, False),  # no direction anywhere: sendrecv
        (SESSION + "a=recvonly\r\n" + AUDIO + VIDEO, True),  # the session's direction is the default
        (SESSION + "a=recvonly\r\n" + AUDIO + "a=sendonly\r\n", False),  # a section's own wins
        (SESSION + "a=inactive\r\n" + AUDIO + "a=sendrecv\r\n", False),
        (SESSION + AUDIO + "a=recvonly\r\n" + VIDEO + "a=sendrecv\r\n", False),
        (SESSION + AUDIO + "a=recvonly\r\n" + DATA, False),  # a data channel
        (SESSION + DATA + "a=recvonly\r\n", False),
        (SESSION + "m=text 9 RTP/AVP 98\r\na=recvonly\r\n", False),  # only audio and video
        (SESSION.replace("\r\n", "\n") + AUDIO.replace("\r\n", "\n") + "a=recvonly\n", True),
    ],
    ids=[
        "recvonly-and-inactive",
        "no-direction",
        "session-recvonly",
        "section-sendonly",
        "section-sendrecv",
        "one-of-two-sends",
        "data-channel",
        "data-channel-recvonly",
        "other-media",
        "bare-newlines",
    ],
)
def test_an_offer_only_receives_when_every_section_says_so(sdp: str, only_receives: bool) -> None:
    assert offer_only_receives(sdp) is only_receives


async def _offer(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


async def test_what_a_watching_browser_offers_passes_and_publishing_does_not() -> None:
    watching = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    for kind in ("audio", "audio", "video"):
        watching.addTransceiver(kind, direction="recvonly")
    assert offer_only_receives(await _offer(watching))

    publishing = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    publishing.addTransceiver("audio", direction="recvonly")
    publishing.addTrack(Camera([np.zeros((48, 64, 3), dtype=np.uint8)]))
    assert not offer_only_receives(await _offer(publishing))

    talking = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    talking.addTrack(Microphone())
    assert not offer_only_receives(await _offer(talking))

    data = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    data.addTransceiver("audio", direction="recvonly")
    data.createDataChannel("chat")
    assert not offer_only_receives(await _offer(data))


async def test_the_candidates_audio_is_released_as_soon_as_the_next_packet_shows_it_whole() -> None:
    candidate = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    candidate.addTrack(Microphone())
    candidate.addTrack(Camera([np.zeros((48, 64, 3), dtype=np.uint8)]))
    server = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    await server.setRemoteDescription(RTCSessionDescription(sdp=await _offer(candidate), type="offer"))

    hear_audio_at_once(server)

    (audio,) = [t.receiver for t in server.getTransceivers() if t.kind == "audio"]
    buffer = audio._RTCRtpReceiver__jitter_buffer  # what decodes the candidate's packets
    released = [buffer.add(_opus_packet(seq))[1] for seq in range(6)]
    # aiortc's default held each packet until four more had come (80 ms of 20 ms packets)
    assert released[0] is None
    assert [frame.timestamp for frame in released[1:]] == [960 * seq for seq in range(5)]
    await server.close()


async def test_a_watchers_offer_receives_nothing_and_passes_through() -> None:
    # A coach's offer only receives: the server's receivers for it have no track.
    watching = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    for kind in ("audio", "audio", "video"):
        watching.addTransceiver(kind, direction="recvonly")
    server = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    await server.setRemoteDescription(RTCSessionDescription(sdp=await _offer(watching), type="offer"))

    hear_audio_at_once(server)

    assert [t.kind for t in server.getTransceivers()] == ["audio", "audio", "video"]
    await server.close()


def _opus_packet(seq: int) -> RtpPacket:
    """One 20 ms Opus packet as the receiver hands it to its jitter buffer (payload depacketized)."""
    packet = RtpPacket(payload_type=111, sequence_number=seq, timestamp=960 * seq, payload=b"opus")
    packet._data = packet.payload
    return packet


class _SlowToStore:
    """Room hooks whose interview takes until `stored` is set to store its last answer."""

    def __init__(self) -> None:
        self.stored = asyncio.Event()
        self.closed: list[str] = []

    async def admit(self, session_id: str, identity: str, role: str) -> str | None:
        return None

    async def candidate_track(self, room: Room, track: object) -> None:
        pass

    async def candidate_gone(self, room: Room) -> None:
        pass

    async def room_closed(self, room: Room, reason: str) -> None:
        await self.stored.wait()
        self.closed.append(reason)


async def test_ending_tells_everyone_at_once_and_a_delete_waits_for_the_last_answer() -> None:
    hooks = _SlowToStore()
    server = RoomServer(hooks, ice_servers=[], announced_addresses=[], reconnect_grace_s=1.0)
    told: list[dict] = []

    async def send(event: dict) -> None:
        told.append(event)

    await server.join("s1", "candidate-1", "candidate", send, can_publish=True)
    # The candidate ends: the room closes for everyone now, the interview stores on.
    await asyncio.wait_for(server.close_room("s1", "ended_by_candidate", wait=False), 1.0)
    assert server.room("s1") is None and told[-1]["type"] == "room_closed"
    assert hooks.closed == []
    # A delete right after waits until the last answer is stored, so nothing lands after it.
    deleting = asyncio.create_task(server.close_room("s1", "deleted"))
    await asyncio.sleep(0.1)
    assert not deleting.done()
    hooks.stored.set()
    await asyncio.wait_for(deleting, 1.0)
    assert hooks.closed == ["ended_by_candidate"]
    await server.aclose()


async def test_shutting_down_waits_for_rooms_still_storing() -> None:
    hooks = _SlowToStore()
    server = RoomServer(hooks, ice_servers=[], announced_addresses=[], reconnect_grace_s=1.0)

    async def send(event: dict) -> None:
        pass

    await server.join("s2", "candidate-1", "candidate", send, can_publish=True)
    await server.close_room("s2", "ended_by_candidate", wait=False)
    closing = asyncio.create_task(server.aclose())
    await asyncio.sleep(0.1)
    assert not closing.done()
    hooks.stored.set()
    await asyncio.wait_for(closing, 1.0)
    assert hooks.closed == ["ended_by_candidate"]
