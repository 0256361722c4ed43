"""DeliveryConsumer: the filler-aware second hearing feeds the transcript signals, off the critical path."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from agent.stt_whisper import RecognizedUtterance, Transcript, Word
from media.nudges import NudgeRules
from media.delivery_session import DeliveryConsumer


class RecordingStore:
    """Stands in for the DeliveryStore: keeps the rows it is given."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, tuple[Any, ...]]] = []

    def submit(self, table: str, row: tuple[Any, ...]) -> bool:
        self.rows.append((table, row))
        return True

    async def flush(self) -> None:
        return None

    def stats_row(self, session_id: uuid.UUID, **counters: int) -> dict[str, Any]:
        return {"session_id": session_id, **counters}


def _signals(store: RecordingStore, transcriber=None) -> DeliveryConsumer:
    return DeliveryConsumer(
        uuid.uuid4(),
        store=store,  # type: ignore[arg-type]
        publish=lambda _event: None,
        rules=NudgeRules(silence_s=5, pace_wpm=160, pace_sustain_s=20, face_missing_s=3),
        face_model_path=None,
        face_sample_fps=10,
        prosody_window_ms=100,
        transcriber=transcriber,
        wall_clock=lambda: 100.0,
    )


def _words(*timed: tuple[str, float, float]) -> tuple[Word, ...]:
    return tuple(Word(text, start, end, 0.9) for text, start, end in timed)


# What the conversation's recogniser heard (no fillers) and what the prompted one heard.
CONVERSATION = _words(("so", 0.5, 0.7), ("I", 1.1, 1.2), ("think", 1.2, 1.5))
PROMPTED = _words(("so", 0.5, 0.7), ("um,", 0.75, 1.05), ("I", 1.1, 1.2), ("think", 1.2, 1.5))


def _utterance() -> RecognizedUtterance:
    lead = 0.5  # the captured audio starts half a second before the speech
    return RecognizedUtterance(
        text="So I think",
        words=tuple(Word(w.text, w.start - lead, w.end - lead, w.probability) for w in CONVERSATION),
        speech_start_at=200.0,
        speech_end_at=201.0,
        final_compute_ms=1.0,
        audio=np.zeros(24_000, dtype=np.float32),
        audio_lead_s=lead,
    )


def _fillers(store: RecordingStore) -> list[tuple[int, str]]:
    return [(row[1], row[5]) for table, row in store.rows if table == "speech_events" and row[2] == "filler"]


async def test_fillers_come_from_the_prompted_second_hearing() -> None:
    store = RecordingStore()
    heard: list[np.ndarray] = []

    async def transcriber(samples: np.ndarray) -> Transcript:
        heard.append(samples)
        return Transcript(text="So, um, I think", words=PROMPTED, audio_s=1.5, compute_ms=1.0)

    signals = _signals(store, transcriber)
    signals.on_utterance(_utterance())
    await signals.aclose()

    assert len(heard) == 1 and heard[0].shape == (24_000,)
    # "um" starts 0.75 s into the audio, 0.25 s after the speech, which began at wall 200.0;
    # the signal clock's zero is wall 100.0.
    assert _fillers(store) == [(100_250, "um")]


async def test_without_a_second_hearing_the_conversations_words_are_used() -> None:
    store = RecordingStore()
    signals = _signals(store)
    signals.on_utterance(_utterance())
    await signals.aclose()

    assert _fillers(store) == []
    assert not any(table == "speech_events" and row[2] == "filler" for table, row in store.rows)


async def test_a_resumed_session_keeps_counting_from_its_start() -> None:
    """After a server restart, new rows carry on after the stored ones instead of reusing t_ms."""
    signals = DeliveryConsumer(
        uuid.uuid4(),
        store=RecordingStore(),  # type: ignore[arg-type]
        publish=lambda _event: None,
        rules=NudgeRules(silence_s=5, pace_wpm=160, pace_sustain_s=20, face_missing_s=3),
        face_model_path=None,
        face_sample_fps=10,
        prosody_window_ms=100,
        clock=lambda: 5.0,
        wall_clock=lambda: 100.0,
        origin_wall=40.0,  # the session started a minute ago
    )
    try:
        assert signals.origin_wall == 40.0
        assert signals._wall_t_ms(100.0) == 60_000
        assert signals._t_ms(5.0) == 60_000  # the monotonic clock agrees with the wall clock
        assert signals._t_ms(5.5) == 60_500
    finally:
        await signals.aclose()


async def test_a_second_hearing_that_falls_behind_is_skipped_so_events_are_not_held_back() -> None:
    """On a saturated CPU the background pass lags more with every utterance, and the events
    waiting for it would be lost to a crash: an utterance it would reach too late is taken as
    the conversation heard it."""
    store = RecordingStore()
    wall = [201.0]
    heard: list[np.ndarray] = []

    async def slow_transcriber(samples: np.ndarray) -> Transcript:
        heard.append(samples)
        wall[0] += 6.0  # one pass takes longer than the lag allowed
        return Transcript(text="So, um, I think", words=PROMPTED, audio_s=1.5, compute_ms=6000.0)

    signals = DeliveryConsumer(
        uuid.uuid4(),
        store=store,  # type: ignore[arg-type]
        publish=lambda _event: None,
        rules=NudgeRules(silence_s=5, pace_wpm=160, pace_sustain_s=20, face_missing_s=3),
        face_model_path=None,
        face_sample_fps=10,
        prosody_window_ms=100,
        transcriber=slow_transcriber,
        wall_clock=lambda: wall[0],
        origin_wall=100.0,
    )
    signals.on_utterance(_utterance())
    signals.on_utterance(_utterance())  # ended at 201 as well: reached at 207, too late
    await signals.aclose()

    assert len(heard) == 1 and signals.utterances_heard_once == 1
    assert _fillers(store) == [(100_250, "um")]  # the second one's words had no "um"
    assert sum(1 for table, _ in store.rows if table == "speech_events") >= 1
