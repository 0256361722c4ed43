"""The LiveKit server the tests run is real: its API makes rooms, and media crosses it."""

from __future__ import annotations

import asyncio
import math
import uuid

import numpy as np
from livekit import api, rtc

from greenroom.settings import Settings

SAMPLE_RATE = 48000
FRAME_SAMPLES = 480  # 10 ms
TONE_HZ = 440.0


def _token(settings: Settings, room: str, identity: str) -> str:
    assert settings.livekit_api_key and settings.livekit_api_secret
    return (
        api.AccessToken(settings.livekit_api_key, settings.livekit_api_secret.get_secret_value())
        .with_identity(identity)
        .with_grants(api.VideoGrants(room_join=True, room=room))
        .to_jwt()
    )


def _http_url(settings: Settings) -> str:
    assert settings.livekit_url
    return settings.livekit_url.replace("ws://", "http://", 1)


async def test_the_api_creates_a_room_and_lists_it(livekit_settings: Settings) -> None:
    name = f"room-{uuid.uuid4().hex[:8]}"
    secret = livekit_settings.livekit_api_secret
    assert secret is not None
    async with api.LiveKitAPI(
        _http_url(livekit_settings), livekit_settings.livekit_api_key, secret.get_secret_value()
    ) as lkapi:
        created = await lkapi.room.create_room(api.CreateRoomRequest(name=name, empty_timeout=60))
        assert created.name == name and created.sid.startswith("RM_")
        listed = await lkapi.room.list_rooms(api.ListRoomsRequest())
        assert name in {room.name for room in listed.rooms}
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=name))
        listed = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[name]))
        assert not listed.rooms


async def test_a_wrong_secret_is_refused(livekit_settings: Settings) -> None:
    async with api.LiveKitAPI(
        _http_url(livekit_settings), livekit_settings.livekit_api_key, "not-the-secret-" * 3
    ) as lkapi:
        try:
            await lkapi.room.list_rooms(api.ListRoomsRequest())
        except api.TwirpError as exc:
            assert exc.status == 401, (exc.status, exc.code)
        else:
            raise AssertionError("the server accepted a token signed with the wrong secret")


async def test_audio_published_by_one_participant_reaches_another(livekit_settings: Settings) -> None:
    room_name = f"room-{uuid.uuid4().hex[:8]}"
    assert livekit_settings.livekit_url
    publisher, listener = rtc.Room(), rtc.Room()
    subscribed: asyncio.Future[rtc.RemoteAudioTrack] = asyncio.get_running_loop().create_future()

    @listener.on("track_subscribed")
    def _on_track(track: rtc.Track, _pub: rtc.RemoteTrackPublication, who: rtc.RemoteParticipant) -> None:
        if isinstance(track, rtc.RemoteAudioTrack) and who.identity == "publisher" and not subscribed.done():
            subscribed.set_result(track)

    await listener.connect(livekit_settings.livekit_url, _token(livekit_settings, room_name, "listener"))
    await publisher.connect(livekit_settings.livekit_url, _token(livekit_settings, room_name, "publisher"))
    source = rtc.AudioSource(SAMPLE_RATE, 1)
    sending = True

    async def send_tone() -> None:
        n = 0
        while sending:
            t = (np.arange(FRAME_SAMPLES) + n) / SAMPLE_RATE
            pcm = (0.3 * 32767 * np.sin(2 * math.pi * TONE_HZ * t)).astype(np.int16)
            await source.capture_frame(rtc.AudioFrame(pcm.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES))
            n += FRAME_SAMPLES

    sender = asyncio.create_task(send_tone())
    try:
        track = rtc.LocalAudioTrack.create_audio_track("tone", source)
        await publisher.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        )
        remote = await asyncio.wait_for(subscribed, 20)
        stream = rtc.AudioStream(remote, sample_rate=SAMPLE_RATE, num_channels=1)
        received: list[np.ndarray] = []

        async def collect() -> None:
            async for event in stream:
                pcm = np.frombuffer(event.frame.data, dtype=np.int16).astype(np.float32) / 32768
                if np.abs(pcm).max() > 0.05:  # skip the silence before the first decoded packet
                    received.append(pcm)
                if sum(len(p) for p in received) >= SAMPLE_RATE:
                    return

        await asyncio.wait_for(collect(), 20)
        await stream.aclose()
    finally:
        sending = False
        await sender
        await publisher.disconnect()
        await listener.disconnect()

    audio = np.concatenate(received)
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(audio)
    assert abs(peak_hz - TONE_HZ) < 5, f"the listener heard a peak at {peak_hz:.0f} Hz, not {TONE_HZ:.0f} Hz"
