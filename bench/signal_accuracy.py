"""Delivery-signal accuracy against known truth: face presence and roll, speech pace, pauses and fillers.

Face figures come from bench/signals_face.py (`face_accuracy`, the synthetic astronaut video);
speech figures from bench/signals_speech.py (`speech_accuracy`, espeak-ng answers with exact
pauses and fillers, Whisper tiny.en as the live STT cuts them, with the filler prompt and the
prosody stage's loudness: its primary "live" mode). The other speech modes are in "speech".

Usage: python bench/signal_accuracy.py [--quick]; progress on stderr, the last stdout line is JSON.
"""

from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before anything imports ONNX Runtime

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

from bench.signals_face import face_accuracy  # noqa: E402
from bench.signals_speech import speech_accuracy  # noqa: E402

PRIMARY_SPEECH = ("wpm_err_pct", "pause_err_ms", "filler_recall", "filler_precision")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames; one answer per speaking rate")
    args = parser.parse_args()
    started = time.monotonic()
    print("[accuracy] face", file=sys.stderr, flush=True)
    face = face_accuracy(150 if args.quick else 450)
    print("[accuracy] speech", file=sys.stderr, flush=True)
    speech = speech_accuracy(args.quick)
    result = {
        "face_presence_acc": face["face_presence_acc"],
        "roll_err_deg": face["roll_err_deg"],
        **{key: speech[key] for key in PRIMARY_SPEECH},
        "speech": {key: value for key, value in speech.items() if key not in PRIMARY_SPEECH},
        "load_1m": round(os.getloadavg()[0], 2),
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
