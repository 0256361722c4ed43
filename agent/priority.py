"""Background priority for the signal consumer's threads, so the conversation always comes first."""

from __future__ import annotations

import concurrent.futures
import os
import threading

# The interviewer (VAD, Whisper, Piper) runs at normal priority; delivery analysis yields
# to it whenever the two cores are busy. Threads a library starts from a background
# thread inherit its priority (Linux nice values are per thread).
BACKGROUND_NICE = 10


def background_priority() -> None:
    """Lower the calling thread's scheduling priority (never fails the caller)."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, BACKGROUND_NICE))
    except (AttributeError, OSError):  # not Linux, or not permitted: run at normal priority
        pass


def engine_executor(name: str, workers: int = 1) -> concurrent.futures.ThreadPoolExecutor:
    """Threads of one model's own (Whisper, Piper, the end-of-turn model), at normal priority.

    A model's calls queue here, not in the event loop's default executor: that one runs the
    VAD's inference every 32 ms and aiortc's Opus encoding every 20 ms for every interview,
    and a transcription waiting its turn there held one of its few threads (at three
    interviews the VAD fell behind real time and replies came tens of seconds late).
    """
    return concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)


def background_executor(name: str) -> concurrent.futures.ThreadPoolExecutor:
    """A one-thread executor whose thread runs at background priority."""
    return concurrent.futures.ThreadPoolExecutor(
        max_workers=1, thread_name_prefix=name, initializer=background_priority
    )
