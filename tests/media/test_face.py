"""Face signals: model integrity, presence, roll, blinks, stability, quality; the consumer."""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from bench.face_media import ASTRONAUT_ROLL_DEG, empty_frame, face_frame, face_video, write_y4m
from media.face import (
    BUNDLED_MODEL_SHA256,
    IMAGE_LEFT_EYE,
    NO_FACE,
    POOR_LIGHT,
    SMALL_FACE,
    BlinkDetector,
    FaceAnalyser,
    FaceModelError,
    FaceModelIntegrityError,
    FaceSample,
    StabilityTracker,
    bundled_model_path,
    eye_direction,
    load_bundled_model,
    view_quality,
)
from media.face_consumer import FaceConsumer


@pytest.fixture
def analyser() -> Iterator[FaceAnalyser]:
    with FaceAnalyser() as face_analyser:
        yield face_analyser


# --- the model -------------------------------------------------------------------------------


def test_bundled_model_is_found_and_verified() -> None:
    model = load_bundled_model()
    assert bundled_model_path().name == "face_landmarker.task"
    assert hashlib.sha256(model).hexdigest() == BUNDLED_MODEL_SHA256


def test_tampered_bundled_model_is_refused(tmp_path: Path) -> None:
    tampered = tmp_path / "face_landmarker.task"
    model = bytearray(bundled_model_path().read_bytes())
    model[len(model) // 2] ^= 0x01
    tampered.write_bytes(model)

    with pytest.raises(FaceModelIntegrityError, match="sha256"):
        load_bundled_model(tampered)


def test_configured_model_must_exist(tmp_path: Path) -> None:
    with pytest.raises(FaceModelError, match="does not exist"):
        FaceAnalyser(tmp_path / "missing.task")


# --- frames through the real landmarker ------------------------------------------------------


def test_face_found_on_the_astronaut(analyser: FaceAnalyser) -> None:
    sample = analyser.analyse(face_frame(), timestamp_ms=0, t=12.5)

    assert sample.t == 12.5
    assert sample.face_present and sample.num_faces == 1
    assert sample.quality > 0.9 and sample.quality_reasons == ()
    assert sample.eye_open is not None and sample.eye_open > 0.7
    assert sample.smile is not None and sample.smile > 0.5  # she smiles in the photo
    assert sample.gaze_on_camera is not None and sample.gaze_on_camera > 0.6
    assert sample.yaw is not None and abs(sample.yaw) < 10
    assert not sample.blink


def test_no_face_on_an_empty_frame(analyser: FaceAnalyser) -> None:
    sample = analyser.analyse(empty_frame(), timestamp_ms=0)

    assert not sample.face_present and sample.num_faces == 0
    assert sample.quality == 0.0 and sample.quality_reasons == (NO_FACE,)
    assert sample.roll is None and sample.gaze_on_camera is None and sample.stability is None


@pytest.mark.parametrize("rotation_deg", [-20.0, 20.0])
def test_roll_follows_in_plane_rotation_with_its_sign(rotation_deg: float) -> None:
    with FaceAnalyser() as face_analyser:
        sample = face_analyser.analyse(face_frame(rotation_deg), timestamp_ms=0)

    assert sample.roll is not None
    assert math.copysign(1.0, sample.roll) == math.copysign(1.0, rotation_deg)
    assert abs(sample.roll - (rotation_deg + ASTRONAUT_ROLL_DEG)) <= 3.5


def test_repeated_timestamps_are_tolerated(analyser: FaceAnalyser) -> None:
    frame = face_frame()
    first = analyser.analyse(frame, timestamp_ms=100)
    again = analyser.analyse(frame, timestamp_ms=100)
    earlier = analyser.analyse(frame, timestamp_ms=50)

    assert first.face_present and again.face_present and earlier.face_present


def test_frames_must_be_rgb_uint8(analyser: FaceAnalyser) -> None:
    with pytest.raises(ValueError):
        analyser.analyse(np.zeros((48, 64), np.uint8), timestamp_ms=0)


# --- signals with state, driven directly -----------------------------------------------------


def test_blink_reported_when_openness_drops_then_recovers() -> None:
    blinks = BlinkDetector()
    openness = [0.9, 0.9, 0.2, 0.1, 0.3, 0.9, 0.9]
    events = [blinks.update(value, t=i * 0.1) for i, value in enumerate(openness)]

    assert events == [False, False, False, False, False, True, False]


def test_blink_needs_the_eyes_to_reopen_past_the_upper_threshold() -> None:
    blinks = BlinkDetector(closed_below=0.35, open_above=0.55)
    events = [blinks.update(value, t=i * 0.1) for i, value in enumerate([0.9, 0.3, 0.5, 0.4, 0.6])]

    assert events == [False, False, False, False, True]


def test_no_blink_from_half_closed_eyes_or_long_closures() -> None:
    blinks = BlinkDetector(max_s=1.0)
    half_closed = [blinks.update(value, t=i * 0.1) for i, value in enumerate([0.9, 0.45, 0.9])]
    long_closure = [blinks.update(0.1, t=1.0 + i * 0.1) for i in range(15)]
    reopened = blinks.update(0.9, t=2.6)

    assert not any(half_closed) and not any(long_closure) and not reopened


def test_losing_the_face_cancels_a_blink_in_progress() -> None:
    blinks = BlinkDetector()
    assert not blinks.update(0.9, t=0.0)
    assert not blinks.update(0.1, t=0.1)
    assert not blinks.update(None, t=0.2)
    assert not blinks.update(0.9, t=0.3)


def _pose(yaw_deg: float, x_cm: float = 0.0) -> np.ndarray:
    yaw = math.radians(yaw_deg)
    pose = np.eye(4)
    cos, sin = math.cos(yaw), math.sin(yaw)
    pose[:3, :3] = [[cos, 0, sin], [0, 1, 0], [-sin, 0, cos]]
    pose[:3, 3] = [x_cm, 0.0, -60.0]
    return pose


def test_stability_stays_high_when_still_and_falls_when_the_head_moves() -> None:
    still, moving = StabilityTracker(), StabilityTracker()
    for i in range(20):
        still_value = still.update(_pose(0.3 * (i % 2)), t=i * 0.1)  # jitter only
        moving_value = moving.update(_pose(15.0 * math.sin(i)), t=i * 0.1)

    assert still_value is not None and still_value > 0.95
    assert moving_value is not None and moving_value < 0.3
    assert moving.update(None, t=2.0) is None
    assert moving.update(_pose(0.0), t=2.1) == 1.0  # a face found again starts still


def test_eye_direction_sign_follows_the_iris() -> None:
    points = np.zeros((478, 2))
    start, end, iris = IMAGE_LEFT_EYE
    points[start], points[end] = (100.0, 200.0), (130.0, 200.0)
    points[iris] = (121.0, 200.0)  # towards the image's right
    sideways, up = eye_direction(points, IMAGE_LEFT_EYE)
    assert sideways > 15 and abs(up) < 1e-6

    points[iris] = (115.0, 196.0)  # centred, raised
    sideways, up = eye_direction(points, IMAGE_LEFT_EYE)
    assert abs(sideways) < 1e-6 and up > 10


def _box_points(x0: float, y0: float, x1: float, y1: float, size: tuple[int, int]) -> np.ndarray:
    xs, ys = np.meshgrid(np.linspace(x0, x1, 20), np.linspace(y0, y1, 24))
    points = np.stack([xs.ravel(), ys.ravel()], axis=1)
    return points / size


def test_quality_flags_small_dark_and_cut_off_faces() -> None:
    size = (640, 480)
    bright = np.full((480, 640, 3), 140, np.uint8)
    good = _box_points(250, 150, 390, 330, size)
    assert view_quality(bright, good * size, good) == (1.0, ())

    small = _box_points(300, 200, 330, 230, size)
    quality, reasons = view_quality(bright, small * size, small)
    assert reasons == (SMALL_FACE,) and quality < 0.7

    dark = np.full((480, 640, 3), 15, np.uint8)
    quality, reasons = view_quality(dark, good * size, good)
    assert reasons == (POOR_LIGHT,) and quality < 0.5

    cut = _box_points(560, 150, 700, 330, size)
    quality, reasons = view_quality(bright, cut * size, cut)
    assert reasons == ("partly_out_of_frame",) and quality < 0.7


def test_dim_face_is_still_found_but_flagged(analyser: FaceAnalyser) -> None:
    dim = (face_frame().astype(np.float32) * 0.22).astype(np.uint8)
    sample = analyser.analyse(dim, timestamp_ms=0)

    assert sample.face_present
    assert POOR_LIGHT in sample.quality_reasons and sample.quality < 0.9


# --- the consumer ----------------------------------------------------------------------------


class FakeVideoTrack(MediaStreamTrack):
    """Frames numbered in their top-left pixel, every interval_s of real time, then the end."""

    kind = "video"

    def __init__(self, count: int | None, interval_s: float, size: tuple[int, int] = (64, 48)):
        super().__init__()
        self._count, self._interval_s, self._size = count, interval_s, size
        self.produced = -1  # index of the newest frame handed out

    async def recv(self) -> VideoFrame:
        if self._count is not None and self.produced + 1 >= self._count:
            raise MediaStreamError
        await asyncio.sleep(self._interval_s)
        self.produced += 1
        width, height = self._size
        rgb = np.zeros((height, width, 3), np.uint8)
        rgb[:8, :8] = self.produced % 256
        return VideoFrame.from_ndarray(rgb, format="rgb24")


class SlowAnalyser(FaceAnalyser):
    """Takes delay_s per frame, remembers what it saw and how many calls overlapped."""

    def __init__(self, track: FakeVideoTrack, delay_s: float, fail: bool = False) -> None:
        self._track, self._delay_s, self._fail = track, delay_s, fail
        self._lock = threading.Lock()
        self._running = 0
        self.max_running = 0
        self.seen: list[tuple[int, int]] = []  # (frame index analysed, newest index then)
        self.shapes: list[tuple[int, ...]] = []

    def analyse(self, rgb: np.ndarray, timestamp_ms: int, t: float | None = None) -> FaceSample:
        with self._lock:
            self._running += 1
            self.max_running = max(self.max_running, self._running)
        try:
            self.seen.append((int(rgb[0, 0, 0]), self._track.produced))
            self.shapes.append(rgb.shape)
            time.sleep(self._delay_s)
            if self._fail:
                raise RuntimeError("scripted failure")
            return FaceSample.absent(t or 0.0)
        finally:
            with self._lock:
                self._running -= 1

    def close(self) -> None:
        pass


class FakeClock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_consumer_drops_due_frames_while_busy_and_analyses_only_fresh_ones() -> None:
    track = FakeVideoTrack(count=40, interval_s=0.01)
    analyser = SlowAnalyser(track, delay_s=0.045)
    samples: list[FaceSample] = []
    consumer = FaceConsumer(track, analyser, sample_fps=1000.0, on_sample=samples.append)

    await asyncio.wait_for(consumer.run(), timeout=10)

    assert consumer.frames_received == 40 and consumer.frames_sampled == 40
    assert consumer.frames_dropped >= 15
    assert consumer.frames_analysed == len(samples) == len(analyser.seen) >= 3
    assert consumer.frames_analysed + consumer.frames_dropped == consumer.frames_sampled
    assert analyser.max_running == 1
    # No backlog: each analysed frame was (about) the newest one when its analysis began.
    assert all(newest - analysed <= 3 for analysed, newest in analyser.seen)


async def test_consumer_samples_at_the_set_rate_by_its_clock() -> None:
    clock = FakeClock()

    class TickingTrack(FakeVideoTrack):
        async def recv(self) -> VideoFrame:
            frame = await super().recv()
            clock.now += 1 / 30  # a 30 fps camera, on virtual time
            return frame

    track = TickingTrack(count=30, interval_s=0.01)
    analyser = SlowAnalyser(track, delay_s=0.0)
    samples: list[FaceSample] = []
    consumer = FaceConsumer(
        track, analyser, sample_fps=10.0, on_sample=samples.append, clock=clock
    )

    await asyncio.wait_for(consumer.run(), timeout=10)

    assert consumer.frames_received == 30
    assert consumer.frames_sampled == 10
    assert consumer.frames_analysed + consumer.frames_dropped == 10
    assert consumer.frames_analysed >= 7
    times = [sample.t for sample in samples]
    assert times == sorted(times) and all(b - a >= 0.099 for a, b in zip(times, times[1:]))


async def test_consumer_downscales_wide_frames() -> None:
    track = FakeVideoTrack(count=2, interval_s=0.02, size=(1280, 720))
    analyser = SlowAnalyser(track, delay_s=0.0)
    consumer = FaceConsumer(track, analyser, sample_fps=1000.0, on_sample=lambda _: None)

    await asyncio.wait_for(consumer.run(), timeout=10)

    assert analyser.shapes and all(shape == (360, 640, 3) for shape in analyser.shapes)


async def test_consumer_stops_when_the_track_ends_and_counts_failures() -> None:
    track = FakeVideoTrack(count=5, interval_s=0.02)
    analyser = SlowAnalyser(track, delay_s=0.0, fail=True)
    consumer = FaceConsumer(track, analyser, sample_fps=1000.0, on_sample=lambda _: None)

    await asyncio.wait_for(consumer.run(), timeout=10)  # returns on MediaStreamError

    assert consumer.frames_received == 5
    assert consumer.frames_failed == consumer.frames_sampled - consumer.frames_dropped >= 1
    assert consumer.frames_analysed == 0


async def test_cancelling_the_consumer_waits_for_the_analysis_in_flight() -> None:
    track = FakeVideoTrack(count=None, interval_s=0.01)
    analyser = SlowAnalyser(track, delay_s=0.1)
    samples: list[FaceSample] = []
    consumer = FaceConsumer(track, analyser, sample_fps=1000.0, on_sample=samples.append)
    task = asyncio.create_task(consumer.run())
    await asyncio.sleep(0.05)  # an analysis is in flight now

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert not consumer.busy
    assert len(samples) == len(analyser.seen) == consumer.frames_analysed


async def test_consumer_with_the_real_analyser_sees_the_face() -> None:
    class AstronautTrack(MediaStreamTrack):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self._frame = cv2.cvtColor(face_frame(), cv2.COLOR_RGB2YUV_I420)
            self._left = 4

        async def recv(self) -> VideoFrame:
            if self._left == 0:
                raise MediaStreamError
            self._left -= 1
            await asyncio.sleep(0.05)
            return VideoFrame.from_ndarray(self._frame, format="yuv420p")

    samples: list[FaceSample] = []
    with FaceAnalyser() as face_analyser:
        consumer = FaceConsumer(
            AstronautTrack(), face_analyser, sample_fps=1000.0, on_sample=samples.append
        )
        await asyncio.wait_for(consumer.run(), timeout=20)

    assert samples and all(sample.face_present for sample in samples)


# --- the synthetic video ---------------------------------------------------------------------


def test_synthetic_video_has_in_and_out_of_view_stretches_and_a_readable_y4m(
    tmp_path: Path,
) -> None:
    frames, truth = face_video(40)
    path = tmp_path / "face.y4m"
    assert write_y4m(path, frames) == 40

    in_view = {t.face_in_view for t in truth}
    assert in_view >= {True, False}
    assert all((t.roll_deg is not None) == (t.face_in_view is True) for t in truth)
    with av.open(str(path)) as container:
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(decoded) == 40 and decoded[0].shape == (480, 640, 3)
    assert np.abs(decoded[0].astype(int) - frames[0]).mean() < 4  # 4:2:0 round trip
