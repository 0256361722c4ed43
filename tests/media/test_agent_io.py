"""livekit-agents I/O over aiortc tracks: candidate audio in, interviewer voice out."""

from __future__ import annotations

import asyncio
import fractions
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame
from livekit import rtc
from livekit.agents.voice.io import PlaybackFinishedEvent, PlaybackStartedEvent

from media.agent_io import INPUT_QUEUE_FRAMES, INPUT_SAMPLE_RATE, TrackAudioInput, VoiceTrackOutput
from media.voice_track import FRAME_SAMPLES, SAMPLE_RATE, SegmentStarted, VoiceTrack

CANDIDATE_RATE = 48_000
CANDIDATE_FRAME_SAMPLES = 960  # 20 ms, as a browser's Opus track decodes


class SineMicrophoneTrack(MediaStreamTrack):
    """A candidate's microphone as aiortc delivers it: 48 kHz stereo s16 sine frames, then the end."""

    kind = "audio"

    def __init__(self, *, frequency_hz: float, frames: int, interval_s: float = 0.0) -> None:
        super().__init__()
        self.frequency_hz = frequency_hz
        self.frames = frames
        self.interval_s = interval_s
        self.recv_calls = 0
        self.ended = asyncio.Event()
        self._sent = 0

    async def recv(self) -> AudioFrame:
        self.recv_calls += 1
        await asyncio.sleep(self.interval_s)
        if self._sent >= self.frames:
            self.ended.set()
            raise MediaStreamError
        start = self._sent * CANDIDATE_FRAME_SAMPLES
        t = (start + np.arange(CANDIDATE_FRAME_SAMPLES)) / CANDIDATE_RATE
        mono = (0.5 * 32767 * np.sin(2 * np.pi * self.frequency_hz * t)).astype(np.int16)
        stereo = np.repeat(mono, 2)  # interleaved L R
        frame = AudioFrame(format="s16", layout="stereo", samples=CANDIDATE_FRAME_SAMPLES)
        frame.planes[0].update(stereo.tobytes())
        frame.sample_rate = CANDIDATE_RATE
        frame.pts = start
        frame.time_base = fractions.Fraction(1, CANDIDATE_RATE)
        self._sent += 1
        return frame


def peak_frequency_hz(samples: np.ndarray, sample_rate: int) -> float:
    windowed = samples.astype(np.float64) * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(windowed))
    return float(np.fft.rfftfreq(len(samples), 1 / sample_rate)[np.argmax(spectrum)])


def pcm_of(frames: list[rtc.AudioFrame]) -> np.ndarray:
    return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])


async def read_frames(audio_in: TrackAudioInput, *, timeout_s: float = 0.5) -> list[rtc.AudioFrame]:
    """Everything the input yields until it has been idle for timeout_s."""
    frames: list[rtc.AudioFrame] = []
    while True:
        try:
            frames.append(await asyncio.wait_for(audio_in.__anext__(), timeout_s))
        except TimeoutError:
            return frames


@pytest.fixture
async def audio_in() -> AsyncIterator[TrackAudioInput]:
    audio_in = TrackAudioInput()
    yield audio_in
    await audio_in.detach()


async def test_candidate_audio_arrives_as_16khz_mono_with_its_pitch(
    audio_in: TrackAudioInput,
) -> None:
    track = SineMicrophoneTrack(frequency_hz=440.0, frames=50)  # 1 s
    audio_in.attach(track)

    frames = []
    for _ in range(20):
        frames.append(await asyncio.wait_for(audio_in.__anext__(), 2.0))

    assert all(f.sample_rate == INPUT_SAMPLE_RATE and f.num_channels == 1 for f in frames)
    samples = pcm_of(frames)
    assert len(samples) == pytest.approx(20 * CANDIDATE_FRAME_SAMPLES // 3, rel=0.1)
    assert peak_frequency_hz(samples, INPUT_SAMPLE_RATE) == pytest.approx(440.0, abs=5.0)
    # Both channels carry the sine at half scale; the downmix keeps that level.
    steady = samples[len(samples) // 4 :].astype(np.float64)
    assert np.sqrt(np.mean(steady**2)) == pytest.approx(0.5 * 32767 / np.sqrt(2), rel=0.1)


async def test_unread_audio_stays_bounded_and_drops_the_oldest(audio_in: TrackAudioInput) -> None:
    delivered: list[rtc.AudioFrame] = []
    audio_in.on_frame = delivered.append
    track = SineMicrophoneTrack(frequency_hz=300.0, frames=100)
    audio_in.attach(track)

    await asyncio.wait_for(track.ended.wait(), 5.0)
    await asyncio.sleep(0)

    assert len(delivered) > INPUT_QUEUE_FRAMES
    assert audio_in.dropped_frames == len(delivered) - INPUT_QUEUE_FRAMES
    queued = await read_frames(audio_in, timeout_s=0.1)
    assert len(queued) == INPUT_QUEUE_FRAMES
    assert all(a is b for a, b in zip(queued, delivered[-INPUT_QUEUE_FRAMES:], strict=True))


async def test_end_of_the_track_stops_reading_cleanly(audio_in: TrackAudioInput) -> None:
    track = SineMicrophoneTrack(frequency_hz=300.0, frames=5)
    audio_in.attach(track)

    frames = await read_frames(audio_in, timeout_s=0.3)

    assert track.ended.is_set()
    assert track.recv_calls == 6  # five frames, then the error; never asked again
    assert len(frames) == pytest.approx(5, abs=1)  # the resampler may hold back a sliver
    reader = audio_in._reader
    assert reader is not None and reader.done()
    assert not reader.cancelled() and reader.exception() is None


async def test_attach_replaces_the_previous_track(audio_in: TrackAudioInput) -> None:
    old = SineMicrophoneTrack(frequency_hz=300.0, frames=10_000, interval_s=0.005)
    audio_in.attach(old)
    await asyncio.wait_for(audio_in.__anext__(), 2.0)

    new = SineMicrophoneTrack(frequency_hz=1_000.0, frames=10_000, interval_s=0.005)
    audio_in.attach(new)
    await asyncio.sleep(0.05)
    calls_after_swap = old.recv_calls
    frames = [await asyncio.wait_for(audio_in.__anext__(), 2.0) for _ in range(40)]

    assert old.recv_calls == calls_after_swap  # the old reader is gone
    peaks = [peak_frequency_hz(pcm_of([frame]), INPUT_SAMPLE_RATE) for frame in frames]
    pitches = [min((300.0, 1_000.0), key=lambda tone: abs(tone - peak)) for peak in peaks]
    # What the old track left queued comes first; after that only the new track is heard.
    first_new = pitches.index(1_000.0)
    assert set(pitches[first_new:]) == {1_000.0}
    assert len(pitches) - first_new >= 25


async def test_each_frame_is_offered_to_on_frame_as_it_arrives(audio_in: TrackAudioInput) -> None:
    seen: list[rtc.AudioFrame] = []
    audio_in.on_frame = seen.append
    audio_in.attach(SineMicrophoneTrack(frequency_hz=440.0, frames=10))

    frames = await read_frames(audio_in, timeout_s=0.3)

    assert frames and [id(f) for f in frames] == [id(f) for f in seen]


# --- the interviewer's voice ---


class FakeClock:
    """Wall-clock seconds that only move when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class PlaybackRecorder:
    """The livekit playback events an AudioOutput emits, in order."""

    def __init__(self, output: VoiceTrackOutput) -> None:
        self.events: list[PlaybackStartedEvent | PlaybackFinishedEvent] = []
        output.on("playback_started", self.events.append)
        output.on("playback_finished", self.events.append)

    @property
    def finished(self) -> list[PlaybackFinishedEvent]:
        return [e for e in self.events if isinstance(e, PlaybackFinishedEvent)]


def voice_frame(
    samples: int, *, sample_rate: int = SAMPLE_RATE, channels: int = 1
) -> rtc.AudioFrame:
    rng = np.random.default_rng(samples)
    data = rng.integers(-10_000, 10_000, size=samples * channels, dtype=np.int16)
    return rtc.AudioFrame(
        data=data.tobytes(),
        sample_rate=sample_rate,
        num_channels=channels,
        samples_per_channel=samples,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def voice_track(clock: FakeClock) -> Iterator[VoiceTrack]:
    track = VoiceTrack(clock=clock)
    yield track
    track.stop()


async def test_captured_speech_reports_playback_start_and_finish(
    voice_track: VoiceTrack, clock: FakeClock
) -> None:
    segments: list[SegmentStarted] = []
    output = VoiceTrackOutput(voice_track, on_segment_started=segments.append)
    playback = PlaybackRecorder(output)
    frames = [voice_frame(FRAME_SAMPLES) for _ in range(4)]

    for frame in frames:
        await output.capture_frame(frame)
    output.flush()
    assert playback.events == []  # nothing has been played yet

    out = [await voice_track.recv() for _ in range(5)]

    assert b"".join(bytes(f.planes[0])[: FRAME_SAMPLES * 2] for f in out[:4]) == b"".join(
        bytes(f.data) for f in frames
    )
    assert [type(e) for e in playback.events] == [PlaybackStartedEvent, PlaybackFinishedEvent]
    started, finished = playback.events
    assert started.created_at == clock.now
    assert not finished.interrupted
    assert finished.playback_position == pytest.approx(4 * FRAME_SAMPLES / SAMPLE_RATE)
    assert len(segments) == 1 and segments[0].at == clock.now
    assert await asyncio.wait_for(output.wait_for_playout(), 1.0) == finished


async def test_clear_buffer_interrupts_playback(voice_track: VoiceTrack) -> None:
    output = VoiceTrackOutput(voice_track)
    playback = PlaybackRecorder(output)
    for _ in range(10):
        await output.capture_frame(voice_frame(FRAME_SAMPLES))
    output.flush()
    for _ in range(2):
        await voice_track.recv()

    output.clear_buffer()

    assert len(playback.finished) == 1
    finished = playback.finished[0]
    assert finished.interrupted
    assert finished.playback_position == pytest.approx(2 * FRAME_SAMPLES / SAMPLE_RATE)
    assert bytes((await voice_track.recv()).planes[0]) == bytes(FRAME_SAMPLES * 2)
    playout = await asyncio.wait_for(output.wait_for_playout(), 1.0)
    assert playout.interrupted


@pytest.mark.parametrize(
    ("sample_rate", "channels"), [(24_000, 1), (16_000, 1), (SAMPLE_RATE, 2)]
)
async def test_rejects_frames_the_voice_track_cannot_play(
    voice_track: VoiceTrack, sample_rate: int, channels: int
) -> None:
    output = VoiceTrackOutput(voice_track)

    with pytest.raises(ValueError):
        await output.capture_frame(voice_frame(480, sample_rate=sample_rate, channels=channels))

    assert voice_track.buffered_s == 0
