"""Synthetic 640x480 face video with known truth per frame (presence, in-plane roll); a Y4M writer.

The face is the real photo `skimage.data.astronaut()` ships with scikit-image: a crop around the
face is scaled, rotated about the face centre by a known angle and placed on a plain wall. Out of
view, the face slides out of the frame, the frame shows the empty wall, or the photo's flag and
shuttle without the person.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from skimage import data

FRAME_WIDTH, FRAME_HEIGHT = 640, 480
FPS = 15

# Where the face is in astronaut() (512x512): the box of MediaPipe's landmarks, chin to brow.
ASTRONAUT_FACE_BOX = (225.0, 71.0, 339.0, 178.0)  # x0, y0, x1, y1 in pixels
# The photo's own head roll (counter-clockwise > 0): -3.4° by MediaPipe's pose, -2.5° by the
# eye line; truth adds it to the rotation applied.
ASTRONAUT_ROLL_DEG = -3.0
CROP = (slice(0, 300), slice(120, 440))  # rows, cols of astronaut() around the face: hair to collar
FACE_SCALE = 1.3  # face height ≈ 139 px, 29% of the frame
# The head reaches past the landmark box (hair, ears): "in view" means the box grown by this
# share of its size on each side lies inside the frame.
HEAD_MARGIN = 0.25
WALL_RGB = (176, 168, 156)
NOISE_SIGMA = 3.0  # per-pixel sensor noise, so no two frames are identical

ROLL_SWEEP_DEG = 25.0
HELD_ROLLS_DEG = (-20.0, -10.0, 0.0, 10.0, 20.0)


@dataclass(frozen=True, slots=True)
class FrameTruth:
    """What one synthetic frame shows."""

    index: int
    face_in_view: bool | None  # None: the face is partly in view (not scored)
    roll_deg: float | None  # the face's in-plane rotation, counter-clockwise > 0; None out of view


@dataclass(frozen=True, slots=True)
class Shot:
    """How to draw one frame: face centre and rotation, or a scene without the person."""

    face_centre: tuple[float, float] | None  # canvas pixels; None: no face drawn
    rotation_deg: float  # applied about the face centre, counter-clockwise > 0
    scene: str  # "wall" or "props" (the photo's flag and shuttle, no person)


@cache
def _astronaut_crop() -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """The scaled face crop, the face centre in it, and the face box half-size (pixels)."""
    rows, cols = CROP
    crop = data.astronaut()[rows, cols]
    crop = cv2.resize(crop, None, fx=FACE_SCALE, fy=FACE_SCALE, interpolation=cv2.INTER_AREA)
    x0, y0, x1, y1 = ASTRONAUT_FACE_BOX
    centre = (((x0 + x1) / 2 - cols.start) * FACE_SCALE, ((y0 + y1) / 2 - rows.start) * FACE_SCALE)
    half = ((x1 - x0) / 2 * FACE_SCALE, (y1 - y0) / 2 * FACE_SCALE)
    return crop, centre, half


@cache
def _wall() -> np.ndarray:
    """An evenly lit wall, a little darker towards the bottom."""
    shade = np.linspace(1.05, 0.85, FRAME_HEIGHT)[:, None, None]
    wall = np.broadcast_to(np.array(WALL_RGB, dtype=np.float32), (FRAME_HEIGHT, FRAME_WIDTH, 3))
    return np.clip(wall * shade, 0, 255).astype(np.uint8)


@cache
def _props() -> np.ndarray:
    """The photo's flag and shuttle side by side, without the person."""
    photo = data.astronaut()
    flag = cv2.resize(photo[:, :100], (FRAME_WIDTH * 2 // 5, FRAME_HEIGHT))
    shuttle = cv2.resize(photo[:330, 340:], (FRAME_WIDTH - flag.shape[1], FRAME_HEIGHT))
    return np.ascontiguousarray(np.hstack([flag, shuttle]))


def render(shot: Shot, rng: np.random.Generator | None = None) -> np.ndarray:
    """One 640x480 RGB uint8 frame of a shot, with sensor noise when rng is given."""
    if shot.face_centre is None:
        frame = (_props() if shot.scene == "props" else _wall()).copy()
    else:
        crop, (cx, cy), _ = _astronaut_crop()
        fx, fy = shot.face_centre
        place = np.array([[1.0, 0.0, fx - cx], [0.0, 1.0, fy - cy], [0.0, 0.0, 1.0]])
        rotate = np.vstack([cv2.getRotationMatrix2D((fx, fy), shot.rotation_deg, 1.0), [0, 0, 1]])
        warp = (rotate @ place)[:2]
        size = (FRAME_WIDTH, FRAME_HEIGHT)
        face = cv2.warpAffine(crop, warp, size, flags=cv2.INTER_LINEAR)
        mask = cv2.warpAffine(np.ones(crop.shape[:2], np.float32), warp, size)[..., None]
        frame = (face * mask + _wall() * (1.0 - mask)).astype(np.uint8)
    if rng is not None:
        noise = rng.normal(0.0, NOISE_SIGMA, frame.shape).astype(np.float32)
        frame = np.clip(frame + noise, 0, 255).astype(np.uint8)
    return frame


def face_frame(rotation_deg: float = 0.0) -> np.ndarray:
    """A single frame with the face centred, rotated counter-clockwise by rotation_deg."""
    return render(Shot((FRAME_WIDTH / 2, FRAME_HEIGHT * 0.42), rotation_deg, "wall"))


def empty_frame() -> np.ndarray:
    """A single frame of the empty wall."""
    return render(Shot(None, 0.0, "wall"))


def camera_frames(n_frames: int = 60, *, seed: int = 0) -> list[np.ndarray]:
    """A looping camera clip with the face always in view: a small drift and the held rolls in turn."""
    rng = np.random.default_rng(seed)
    home_x, home_y = FRAME_WIDTH / 2, FRAME_HEIGHT * 0.42
    return [
        render(
            Shot(
                (home_x + 10 * math.sin(2 * math.pi * i / n_frames), home_y + 5 * math.cos(2 * math.pi * i / n_frames)),
                HELD_ROLLS_DEG[i * len(HELD_ROLLS_DEG) // n_frames],
                "wall",
            ),
            rng,
        )
        for i in range(n_frames)
    ]


def _truth(index: int, shot: Shot) -> FrameTruth:
    """Presence from where the rotated face box lies; roll = applied rotation + the photo's own."""
    if shot.face_centre is None:
        return FrameTruth(index, False, None)
    _, _, (hw, hh) = _astronaut_crop()
    hw, hh = hw * (1 + 2 * HEAD_MARGIN), hh * (1 + 2 * HEAD_MARGIN)
    fx, fy = shot.face_centre
    angle = math.radians(shot.rotation_deg)
    reach_x = abs(hw * math.cos(angle)) + abs(hh * math.sin(angle))
    reach_y = abs(hw * math.sin(angle)) + abs(hh * math.cos(angle))
    inside = reach_x <= fx <= FRAME_WIDTH - reach_x and reach_y <= fy <= FRAME_HEIGHT - reach_y
    touching = -reach_x <= fx <= FRAME_WIDTH + reach_x and -reach_y <= fy <= FRAME_HEIGHT + reach_y
    outside = not touching
    if inside:
        return FrameTruth(index, True, shot.rotation_deg + ASTRONAUT_ROLL_DEG)
    return FrameTruth(index, False if outside else None, None)


def script(n_frames: int = 150) -> list[Shot]:
    """The shots of the video: a roll sweep, slide out, wall, props, slide back, held rolls."""
    parts = {"sweep": 0.30, "out": 0.08, "wall": 0.14, "props": 0.10, "in": 0.08, "held": 0.30}
    counts = {name: max(1, round(n_frames * share)) for name, share in parts.items()}
    counts["held"] = max(1, n_frames - sum(counts.values()) + counts["held"])
    home = (FRAME_WIDTH / 2, FRAME_HEIGHT * 0.42)
    gone_right = FRAME_WIDTH + 260.0  # the whole crop is past the right edge
    gone_left = -260.0
    shots: list[Shot] = []
    n = counts["sweep"]
    for i in range(n):
        roll = ROLL_SWEEP_DEG * math.sin(2 * math.pi * i / max(1, n))
        drift = (home[0] + 12 * math.sin(i / 5), home[1] + 6 * math.cos(i / 7))
        shots.append(Shot(drift, roll, "wall"))
    n = counts["out"]
    for i in range(n):
        x = home[0] + (gone_right - home[0]) * (i + 1) / n
        shots.append(Shot((x, home[1]), 0.0, "wall"))
    shots += [Shot(None, 0.0, "wall")] * counts["wall"]
    shots += [Shot(None, 0.0, "props")] * counts["props"]
    n = counts["in"]
    for i in range(n):
        x = gone_left + (home[0] - gone_left) * (i + 1) / n
        shots.append(Shot((x, home[1]), 0.0, "wall"))
    n = counts["held"]
    for i in range(n):
        roll = HELD_ROLLS_DEG[i * len(HELD_ROLLS_DEG) // n]
        shots.append(Shot(home, roll, "wall"))
    return shots[:n_frames]


def iter_face_video(
    n_frames: int = 150, *, seed: int = 0
) -> Iterator[tuple[np.ndarray, FrameTruth]]:
    """The video's frames one at a time (640x480 RGB uint8), each with its truth."""
    rng = np.random.default_rng(seed)
    for index, shot in enumerate(script(n_frames)):
        yield render(shot, rng), _truth(index, shot)


def face_video(n_frames: int = 150, *, seed: int = 0) -> tuple[list[np.ndarray], list[FrameTruth]]:
    """The whole video in memory (≈ 0.9 MB a frame) and its truth list."""
    frames, truth = [], []
    for frame, frame_truth in iter_face_video(n_frames, seed=seed):
        frames.append(frame)
        truth.append(frame_truth)
    return frames, truth


def write_y4m(path: Path, frames: Iterable[np.ndarray], *, fps: int = FPS) -> int:
    """Write RGB frames as a 4:2:0 Y4M file (e.g. Chromium's fake camera); returns how many."""
    count = 0
    with open(path, "wb") as out:
        for frame in frames:
            height, width = frame.shape[:2]
            if count == 0:
                out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
            count += 1
    return count


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the .y4m file to write")
    parser.add_argument("--frames", type=int, default=150)
    args = parser.parse_args()
    written = write_y4m(args.out, (frame for frame, _ in iter_face_video(args.frames)))
    print(f"wrote {written} frames to {args.out}")
