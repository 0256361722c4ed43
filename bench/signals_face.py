"""Face signal benchmarks on the synthetic astronaut video: time per frame, presence, roll error.

Importable (bench/signals.py uses `face_timing` and `face_accuracy`) and runnable:
`python bench/signals_face.py [--quick]` prints one JSON object on its last line.
"""

from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from bench.face_media import FPS, HELD_ROLLS_DEG, Shot, iter_face_video, render  # noqa: E402
from media.face import FaceAnalyser  # noqa: E402

FRAME_INTERVAL_MS = 1000 // FPS
WARMUP_FRAMES = 5


def face_timing(n_frames: int = 200) -> dict[str, float]:
    """Per-frame `analyse` time in ms (p50, p95) at 640x480 with the face in view."""
    rng = np.random.default_rng(1)
    rolls = HELD_ROLLS_DEG
    shots = [
        Shot((320.0 + 10 * np.sin(i / 6), 200.0), rolls[i // 10 % len(rolls)], "wall")
        for i in range(n_frames + WARMUP_FRAMES)
    ]
    frames = [render(shot, rng) for shot in shots]
    times_ms: list[float] = []
    with FaceAnalyser() as analyser:
        for index, frame in enumerate(frames):
            start = time.perf_counter()
            analyser.analyse(frame, index * FRAME_INTERVAL_MS)
            if index >= WARMUP_FRAMES:
                times_ms.append((time.perf_counter() - start) * 1000.0)
    return {
        "face_ms_p50": round(float(np.percentile(times_ms, 50)), 2),
        "face_ms_p95": round(float(np.percentile(times_ms, 95)), 2),
    }


def face_accuracy(n_frames: int = 300) -> dict[str, float]:
    """Presence accuracy over in/out-of-view frames, and mean |roll error| in degrees in view."""
    correct = scored = 0
    roll_errors: list[float] = []
    with FaceAnalyser() as analyser:
        for frame, truth in iter_face_video(n_frames):
            sample = analyser.analyse(frame, truth.index * FRAME_INTERVAL_MS)
            if truth.face_in_view is None:
                continue  # partly in view: no right answer
            scored += 1
            correct += sample.face_present == truth.face_in_view
            if truth.face_in_view and sample.roll is not None and truth.roll_deg is not None:
                roll_errors.append(abs(sample.roll - truth.roll_deg))
    return {
        "face_presence_acc": round(correct / scored, 4),
        "roll_err_deg": round(float(np.mean(roll_errors)), 2) if roll_errors else float("nan"),
    }


def main() -> None:
    """Run both benchmarks and print their results as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames (a few seconds)")
    args = parser.parse_args()
    results = {
        **face_timing(60 if args.quick else 300),
        **face_accuracy(150 if args.quick else 450),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
