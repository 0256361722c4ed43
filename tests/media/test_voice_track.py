"""The interviewer's outbound VoiceTrack: framing, playout, segment events, barge-in, pacing."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Iterator

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from media.voice_track import (
    FRAME_SAMPLES,
    MAX_BUFFERED_S,
    SAMPLE_RATE,
    SegmentFinished,
    SegmentStarted,
    VoiceTrack,
)

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


class FakeClock:
    """Wall-clock seconds that only move when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Recorder:
    """Collects a track's segment events in the order they fire."""

    def __init__(self, track: VoiceTrack) -> None:
        self.started: list[SegmentStarted] = []
        self.finished: list[SegmentFinished] = []
        track.set_listeners(on_started=self.started.append, on_finished=self.finished.append)


def speech_pcm(samples: int, *, seed: int = 0) -> bytes:
    """Non-silent s16 mono audio that differs sample to sample, so misordering shows."""
    rng = np.random.default_rng(seed)
    values = rng.integers(-20_000, 20_000, size=samples, dtype=np.int16)
    values[values == 0] = 1  # never mistakable for padding
    return values.tobytes()


def frame_bytes(frame: AudioFrame) -> bytes:
    return bytes(frame.planes[0])[: frame.samples * 2]


async def recv_n(track: VoiceTrack, count: int) -> list[AudioFrame]:
    return [await track.recv() for _ in range(count)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def track(clock: FakeClock) -> Iterator[VoiceTrack]:
    track = VoiceTrack(clock=clock)
    yield track
    track.stop()


async def test_frames_are_20ms_s16_mono_48khz_with_increasing_pts(track: VoiceTrack) -> None:
    frames = await recv_n(track, 5)

    for frame in frames:
        assert frame.format.name == "s16"
        assert frame.layout.name == "mono"
        assert frame.samples == 960
        assert frame.sample_rate == 48_000
        assert frame.time_base == fractions.Fraction(1, 48_000)
    pts = [frame.pts for frame in frames]
    assert all(b - a == frame.samples for a, b, frame in zip(pts, pts[1:], frames, strict=False))


async def test_silence_when_nothing_is_queued(track: VoiceTrack) -> None:
    frames = await recv_n(track, 3)

    assert all(frame_bytes(f) == bytes(FRAME_SAMPLES * 2) for f in frames)


async def test_pushed_audio_comes_out_byte_exact_in_order_then_silence(track: VoiceTrack) -> None:
    first, second = speech_pcm(1_500, seed=1), speech_pcm(900, seed=2)  # 2.5 frames in all
    await track.push(first)
    await track.push(second)

    out = b"".join(frame_bytes(f) for f in await recv_n(track, 4))

    sent = first + second
    assert out[: len(sent)] == sent
    assert out[len(sent) :] == bytes(len(out) - len(sent))
    assert track.buffered_s == 0


async def test_segment_started_fires_once_when_the_first_audio_frame_goes_out(
    track: VoiceTrack, clock: FakeClock
) -> None:
    events = Recorder(track)
    await recv_n(track, 2)  # silence is not a segment
    await track.push(speech_pcm(FRAME_SAMPLES * 3))
    assert events.started == []  # queued is not yet played

    clock.advance(2.5)
    await track.recv()
    assert len(events.started) == 1
    assert events.started[0].at == clock.now

    clock.advance(1.0)
    await recv_n(track, 3)
    assert len(events.started) == 1


async def test_segment_finishes_when_its_last_audio_goes_out_after_end_segment(
    track: VoiceTrack,
) -> None:
    events = Recorder(track)
    await track.push(speech_pcm(FRAME_SAMPLES * 3))
    track.end_segment()

    await recv_n(track, 2)
    assert events.finished == []
    await track.recv()

    assert len(events.finished) == 1
    finished = events.finished[0]
    assert finished.segment_id == events.started[0].segment_id
    assert not finished.interrupted
    assert finished.played_s == pytest.approx(3 * FRAME_S)
    await recv_n(track, 2)
    assert len(events.finished) == 1


async def test_segment_finishes_on_end_segment_when_already_drained(track: VoiceTrack) -> None:
    events = Recorder(track)
    await track.push(speech_pcm(1_000))  # a frame and a bit: the tail is padded with silence

    await recv_n(track, 4)
    assert events.finished == []  # the agent may still be producing this utterance

    track.end_segment()

    assert [(f.interrupted, f.played_s) for f in events.finished] == [
        (False, pytest.approx(1_000 / SAMPLE_RATE))
    ]


async def test_clear_mid_segment_interrupts_and_goes_silent_at_once(track: VoiceTrack) -> None:
    events = Recorder(track)
    duration_s = 10 * FRAME_S
    await track.push(speech_pcm(10 * FRAME_SAMPLES))
    track.end_segment()
    await recv_n(track, 3)

    track.clear()

    assert len(events.finished) == 1
    finished = events.finished[0]
    assert finished.interrupted
    assert finished.played_s == pytest.approx(3 * FRAME_S)
    assert finished.played_s < duration_s
    assert frame_bytes(await track.recv()) == bytes(FRAME_SAMPLES * 2)
    await recv_n(track, 2)
    assert len(events.finished) == 1  # no second report for the dropped audio


async def test_next_utterance_after_barge_in_is_a_new_segment(track: VoiceTrack) -> None:
    events = Recorder(track)
    await track.push(speech_pcm(5 * FRAME_SAMPLES))
    await track.recv()
    track.clear()

    reply = speech_pcm(2 * FRAME_SAMPLES, seed=7)
    await track.push(reply)
    track.end_segment()
    out = b"".join(frame_bytes(f) for f in await recv_n(track, 2))

    assert out == reply
    assert len(events.started) == 2
    assert events.started[1].segment_id != events.started[0].segment_id
    assert [f.interrupted for f in events.finished] == [True, False]
    assert events.finished[1].segment_id == events.started[1].segment_id
    assert events.finished[1].played_s == pytest.approx(2 * FRAME_S)


async def test_clear_with_nothing_queued_reports_nothing(track: VoiceTrack) -> None:
    events = Recorder(track)
    await track.push(speech_pcm(FRAME_SAMPLES))
    track.end_segment()
    await recv_n(track, 1)

    track.clear()

    assert [f.interrupted for f in events.finished] == [False]


async def test_frames_are_paced_in_real_time(track: VoiceTrack) -> None:
    await track.push(speech_pcm(8 * FRAME_SAMPLES))
    await track.recv()  # the clock starts with the first frame
    started = time.monotonic()

    await recv_n(track, 15)

    elapsed = time.monotonic() - started
    assert 15 * FRAME_S * 0.8 <= elapsed <= 15 * FRAME_S + 0.25


async def test_after_a_consumer_stall_frames_are_paced_not_burst(track: VoiceTrack) -> None:
    await recv_n(track, 2)
    await asyncio.sleep(0.3)  # e.g. the sender was stuck behind a reconnect

    started = time.monotonic()
    await recv_n(track, 6)

    assert time.monotonic() - started >= 4 * FRAME_S


async def test_pts_keep_increasing_after_a_consumer_stall(track: VoiceTrack) -> None:
    """The Opus encoder turns pts into RTP timestamps, which must never run backwards."""
    frames = await recv_n(track, 3)
    await asyncio.sleep(0.3)
    frames += await recv_n(track, 3)

    pts = [f.pts for f in frames]
    assert all(b > a for a, b in zip(pts, pts[1:], strict=False)), pts


async def test_push_waits_while_the_buffer_is_full_until_cleared(track: VoiceTrack) -> None:
    full = bytes(int((MAX_BUFFERED_S + 0.1) * SAMPLE_RATE) * 2)
    await track.push(full)
    more = speech_pcm(FRAME_SAMPLES)

    pending = asyncio.create_task(track.push(more))
    await asyncio.sleep(0.05)
    assert not pending.done()

    track.clear()
    await asyncio.wait_for(pending, 1.0)
    assert track.buffered_s == pytest.approx(FRAME_S)


async def test_stopped_track_ends_the_stream(track: VoiceTrack) -> None:
    track.stop()

    with pytest.raises(MediaStreamError):
        await track.recv()


async def test_back_to_back_utterances_each_finish_in_order(track: VoiceTrack) -> None:
    events = Recorder(track)
    first, second = speech_pcm(FRAME_SAMPLES * 2, seed=1), speech_pcm(FRAME_SAMPLES * 3, seed=2)
    await track.push(first)
    track.end_segment()
    await track.push(second)  # queued while the first is still playing
    track.end_segment()

    out = b"".join(frame_bytes(f) for f in await recv_n(track, 5))

    assert out == first + second
    assert [e.segment_id for e in events.started] == [1, 2]
    assert [(e.segment_id, e.interrupted) for e in events.finished] == [(1, False), (2, False)]
    assert [e.played_s for e in events.finished] == pytest.approx([2 * FRAME_S, 3 * FRAME_S])
