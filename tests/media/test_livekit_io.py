"""The LiveKit room's I/O pieces that need no server: the voice emptied into an AudioSource, frames adapted."""

from __future__ import annotations

import asyncio

import numpy as np
from livekit import rtc

from media.livekit_io import VoiceSourcePump, to_av_frame
from media.voice_track import FRAME_SAMPLES, SAMPLE_RATE, SegmentFinished, SegmentStarted, VoiceTrack


def speech(seconds: float) -> bytes:
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return (8000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16).tobytes()


async def test_next_speech_hands_out_queued_speech_unpaced_and_waits_when_there_is_none() -> None:
    voice = VoiceTrack()
    started: list[SegmentStarted] = []
    finished: list[SegmentFinished] = []
    sent: list[bytes] = []
    voice.set_listeners(on_started=started.append, on_finished=finished.append)
    voice.on_sent = sent.append

    waiting = asyncio.create_task(voice.next_speech())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # no silence is made up
    await voice.push(speech(0.1))
    voice.end_segment()
    chunks = [await waiting] + [await voice.next_speech() for _ in range(4)]
    assert [len(c) for c in chunks] == [FRAME_SAMPLES * 2] * 5
    assert len(started) == 1 and [(f.played_s, f.interrupted) for f in finished] == [(0.1, False)]
    assert sent == chunks


async def test_the_pump_plays_a_segment_out_in_real_time_and_a_clear_cuts_it_short() -> None:
    voice = VoiceTrack()
    finished: list[SegmentFinished] = []
    voice.set_listeners(on_started=lambda _ev: None, on_finished=finished.append)
    pump = VoiceSourcePump(voice)
    pump.start()
    try:
        loop = asyncio.get_running_loop()
        began = loop.time()
        await voice.push(speech(0.5))
        voice.end_segment()
        while not finished:
            await asyncio.sleep(0.01)
        took = loop.time() - began
        # Paced by the source (a 100 ms queue ahead of playback), not sent in a burst; the upper
        # bound only catches a pump far slower than real time (a loaded machine adds a little).
        assert 0.3 < took < 1.0, took
        assert (finished[0].played_s, finished[0].interrupted) == (0.5, False)

        await voice.push(speech(2.0))
        await asyncio.sleep(0.3)
        pump.clear()
        assert finished[-1].interrupted and finished[-1].played_s < 1.0
        assert pump.source.queued_duration < 0.05
    finally:
        await pump.aclose()


def test_an_i420_frame_becomes_a_yuv420p_frame_with_the_same_picture() -> None:
    rgb = np.zeros((48, 64, 3), dtype=np.uint8)
    rgb[:, :32] = (200, 40, 40)
    rgb[:, 32:] = (40, 40, 200)
    i420 = rtc.VideoFrame(64, 48, rtc.VideoBufferType.RGB24, rgb.tobytes()).convert(rtc.VideoBufferType.I420)
    frame = to_av_frame(i420)
    assert (frame.width, frame.height, frame.format.name) == (64, 48, "yuv420p")
    back = frame.to_ndarray(format="rgb24").astype(int)
    assert np.abs(back[:, 4:28] - rgb[:, 4:28]).max() < 20
    assert np.abs(back[:, 36:60] - rgb[:, 36:60]).max() < 20


def test_an_odd_sized_frame_goes_through_rgb() -> None:
    rgb = np.full((31, 47, 3), 128, dtype=np.uint8)
    i420 = rtc.VideoFrame(47, 31, rtc.VideoBufferType.RGB24, rgb.tobytes()).convert(rtc.VideoBufferType.I420)
    frame = to_av_frame(i420)
    assert (frame.width, frame.height, frame.format.name) == (47, 31, "rgb24")
