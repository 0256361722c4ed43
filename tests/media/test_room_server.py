"""The room server's offer check: a watch-only participant's offer may only receive."""

from __future__ import annotations

import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from bench.rtc_client import Camera, Microphone
from media.room_server import offer_only_receives

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
