"""DeliveryConsumer: the filler-aware second hearing feeds the transcript signals, off the critical path."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import numpy as np
import pytest

from agent.stt_whisper import RecognizedUtterance, Transcript, Word
from media.nudges import NudgeRules
import media.delivery_session as delivery_session
import media.filler_pass as filler_pass
from media.delivery_session import DeliveryConsumer
from media.filler_pass import MAX_LAG_S


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


def _signals(store: RecordingStore, transcriber=None, wall_clock=lambda: 100.0) -> DeliveryConsumer:
    return DeliveryConsumer(
        uuid.uuid4(),
        store=store,  # type: ignore[arg-type]
        publish=lambda _event: None,
        rules=NudgeRules(silence_s=5, pace_wpm=160, pace_sustain_s=20, face_missing_s=3),
        face_model_path=None,
        face_sample_fps=10,
        prosody_window_ms=100,
        transcriber=transcriber,
        wall_clock=wall_clock,
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


# -- the filler-aware pass falling behind --------------------------------------------------

RATE = 16_000
WORD_S, GAP_S, LEAD_S = 0.3, 0.2, 0.3


def _spoken(start_at: float, texts: list[str]) -> RecognizedUtterance:
    """An utterance whose audio holds one tone burst per word, and whose live words leave out
    the fillers (as the conversation's recogniser does)."""
    pieces, words, t = [np.zeros(int(LEAD_S * RATE), np.float32)], [], 0.0
    for text in texts:
        pieces += [0.3 * np.sin(np.arange(int(WORD_S * RATE)) / 5.0).astype(np.float32), np.zeros(int(GAP_S * RATE), np.float32)]
        if text != "um,":
            words.append(Word(text, t, t + WORD_S, 0.9))
        t += WORD_S + GAP_S
    pieces.append(np.zeros(int(0.4 * RATE), np.float32))
    return RecognizedUtterance(
        text=" ".join(w.text for w in words), words=tuple(words), speech_start_at=start_at,
        speech_end_at=start_at + t - GAP_S, final_compute_ms=1.0, audio=np.concatenate(pieces), audio_lead_s=LEAD_S,
    )  # fmt: skip


class BurstEars:
    """A prompted recogniser that hears each tone burst as the next word of its script, at the
    burst's place in the audio it is given; a decode waits for `go` when one is given."""

    def __init__(self, script: list[str]) -> None:
        self.script = list(script)
        self.calls: list[float] = []  # seconds of audio per decode
        self.go: asyncio.Event | None = None

    async def __call__(self, samples: np.ndarray) -> Transcript:
        self.calls.append(len(samples) / RATE)
        if self.go is not None:
            await self.go.wait()
        loud = np.abs(samples) > 0.05
        edges = np.flatnonzero(np.diff(loud.astype(np.int8)))
        starts = [0] * bool(loud[0]) + [e + 1 for e in edges if not loud[e]]
        ends = [e + 1 for e in edges if loud[e]] + [len(samples)] * bool(loud[-1])
        # A burst is 0.3 s of a tone that crosses zero: join the crossings within one burst.
        bursts: list[list[float]] = []
        for a, b in zip(starts, ends, strict=True):
            if bursts and a / RATE - bursts[-1][1] < 0.05:
                bursts[-1][1] = b / RATE
            else:
                bursts.append([a / RATE, b / RATE])
        words = tuple(Word(self.script.pop(0), a, b, 0.9) for a, b in bursts)
        return Transcript(text=" ".join(w.text for w in words), words=words, audio_s=len(samples) / RATE, compute_ms=1.0)


def _consumer(store: RecordingStore, ears, wall: list[float]) -> DeliveryConsumer:
    return DeliveryConsumer(
        uuid.uuid4(),
        store=store,  # type: ignore[arg-type]
        publish=lambda _event: None,
        rules=NudgeRules(silence_s=5, pace_wpm=160, pace_sustain_s=20, face_missing_s=3),
        face_model_path=None,
        face_sample_fps=10,
        prosody_window_ms=100,
        transcriber=ears,
        wall_clock=lambda: wall[0],
        origin_wall=100.0,
    )


def _events(store: RecordingStore, kind: str) -> list[tuple[int, Any]]:
    return [(row[1], row[5] if kind == "filler" else row[4]) for table, row in store.rows if table == "speech_events" and row[2] == kind]


async def test_utterances_waiting_for_a_decode_are_heard_together_in_the_next_one() -> None:
    """One decode costs Whisper's full window however short the audio: what queued behind a
    decode is heard in one more, each word back in its own utterance at its own time."""
    ears = BurstEars(["So", "first", "um,", "we", "met", "um,", "then", "we", "shipped"])
    ears.go = asyncio.Event()
    store, wall = RecordingStore(), [200.0]
    signals = _consumer(store, ears, wall)
    signals.on_utterance(_spoken(200.0, ["So", "first"]))
    await asyncio.sleep(0.01)
    assert len(ears.calls) == 1  # heard alone, at once: that counts the most fillers
    signals.on_utterance(_spoken(202.0, ["um,", "we", "met"]))
    signals.on_utterance(_spoken(204.0, ["um,", "then", "we", "shipped"]))
    ears.go.set()  # the first decode ends
    await signals.aclose()

    assert len(ears.calls) == 2  # not three
    assert 4.0 < ears.calls[1] < 5.0  # both, the pause between them shortened
    # Each "um" starts where its utterance's speech starts: 202 s and 204 s (the clock's zero is 100 s).
    assert [label for _t, label in _events(store, "filler")] == ["um", "um"]
    assert [t for t, _label in _events(store, "filler")] == [pytest.approx(102_000, abs=60), pytest.approx(104_000, abs=60)]
    # The pauses between the utterances are the real ones, not the shortened ones in the decode.
    pauses = [duration for _t, duration in _events(store, "pause")]
    assert pauses == [pytest.approx(2.0 - 0.8, abs=0.08), pytest.approx(2.0 - 1.3, abs=0.08)]


async def test_a_backlog_is_heard_in_batches_of_at_most_batch_audio_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filler_pass, "BATCH_AUDIO_S", 3.0)
    ears = BurstEars(["So", "first", "we", "met", "then", "we", "shipped"])
    ears.go = asyncio.Event()
    signals = _consumer(RecordingStore(), ears, [200.0])
    signals.on_utterance(_spoken(200.0, ["So", "first"]))
    await asyncio.sleep(0.01)
    signals.on_utterance(_spoken(202.0, ["we", "met"]))  # 1.7 s of audio
    signals.on_utterance(_spoken(204.0, ["then", "we", "shipped"]))  # 2.2 s: together, over 3 s
    ears.go.set()
    await signals.aclose()
    assert len(ears.calls) == 3


async def test_a_question_end_waits_for_the_utterances_heard_before_it() -> None:
    """The answer's last utterance still waiting for the pass when the next question ends must
    not be taken as the next answer's first words: no latency from it, no pause across the question."""
    ears = BurstEars(["Done", "here", "Next", "answer"])
    ears.go = asyncio.Event()
    store, wall = RecordingStore(), [200.0]
    signals = _consumer(store, ears, wall)
    signals.on_utterance(_spoken(200.0, ["Done", "here"]))
    signals.on_question_end(205.0)  # the interviewer asked the next question meanwhile
    await asyncio.sleep(0.01)
    signals.on_utterance(_spoken(206.5, ["Next", "answer"]))
    ears.go.set()
    await signals.aclose()

    assert len(ears.calls) == 2
    assert _events(store, "response_latency") == [(106_500, pytest.approx(1.5, abs=0.05))]
    assert _events(store, "pause") == []


async def test_utterances_the_pass_reaches_too_late_keep_their_live_words() -> None:
    """On a saturated CPU the events waiting for the pass live in memory only: a batch it would
    reach more than MAX_LAG_S after it fell due is taken as the conversation heard it."""
    ears = BurstEars(["So", "first", "um,", "we", "met"])
    ears.go = asyncio.Event()
    store, wall = RecordingStore(), [201.0]
    signals = _consumer(store, ears, wall)
    signals.on_utterance(_spoken(200.0, ["So", "first"]))
    await asyncio.sleep(0.01)  # its decode starts, and is slow
    second = _spoken(203.0, ["um,", "we", "met"])
    signals.on_utterance(second)
    wall[0] = second.speech_end_at + MAX_LAG_S + 0.5  # the first decode took that long
    ears.go.set()
    await signals.aclose()

    assert len(ears.calls) == 1
    assert _events(store, "filler") == []  # the live words have no "um"
    assert len(_events(store, "pause")) == 1  # the second utterance was taken all the same


async def test_a_failing_second_hearing_loses_no_utterance() -> None:
    async def broken(samples: np.ndarray) -> Transcript:
        raise RuntimeError("decoder crashed")

    store = RecordingStore()
    signals = _consumer(store, broken, [200.0])
    signals.on_utterance(_spoken(200.0, ["So", "first"]))
    signals.on_utterance(_spoken(203.0, ["um,", "we", "met"]))
    await signals.aclose()
    assert len(_events(store, "pause")) == 1  # both utterances counted, on their live words


async def test_at_the_end_a_pass_that_does_not_finish_in_time_loses_no_utterance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery_session, "FILLER_PASS_DRAIN_S", 0.05)
    ears = BurstEars(["So", "first"])
    ears.go = asyncio.Event()  # never set: the decode hangs
    store = RecordingStore()
    signals = _consumer(store, ears, [200.0])
    signals.on_utterance(_spoken(200.0, ["So", "first"]))
    await asyncio.sleep(0.01)
    signals.on_utterance(_spoken(203.0, ["um,", "we", "met"]))
    await signals.aclose()
    assert len(ears.calls) == 1
    assert len(_events(store, "pause")) == 1 and _events(store, "filler") == []


async def test_audio_waiting_behind_a_decode_that_hangs_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue holds audio (32 KB a second): past MAX_WAITING_AUDIO_S the oldest utterances let
    theirs go and keep their live words, still in order."""
    monkeypatch.setattr(filler_pass, "MAX_WAITING_AUDIO_S", 5.0)
    monkeypatch.setattr(delivery_session, "FILLER_PASS_DRAIN_S", 0.05)
    ears = BurstEars(["So", "first"])
    ears.go = asyncio.Event()  # never set
    store = RecordingStore()
    signals = _consumer(store, ears, [200.0])
    signals.on_utterance(_spoken(200.0, ["So", "first"]))
    await asyncio.sleep(0.01)  # hangs
    for k in range(5):  # 2.2 s of audio each
        signals.on_utterance(_spoken(203.0 + 3 * k, ["um,", "we", "met"]))
    waiting = [u for u in signals._fillers._queue if u.audio is not None]
    assert sum(len(u.audio) for u in waiting) / RATE <= 5.0 and len(waiting) == 2
    assert [u.speech_start_at for u in waiting] == [212.0, 215.0]  # the newest kept theirs
    await signals.aclose()
    assert len(_events(store, "pause")) == 5  # all six utterances taken, in order


async def test_a_fault_taking_one_batch_does_not_end_the_pass() -> None:
    taken: list[float] = []

    def take(utterance: RecognizedUtterance, words) -> None:
        if not taken:
            taken.append(-1.0)
            raise ValueError("a fault in the signals")
        taken.append(utterance.speech_start_at)

    ears = BurstEars(["So", "first", "we", "met"])
    fillers = filler_pass.FillerPass(ears, take=take, question_end=lambda _at: None, wall_clock=lambda: 200.0)
    fillers.add(_spoken(200.0, ["So", "first"]))
    await asyncio.sleep(0.01)
    fillers.add(_spoken(203.0, ["we", "met"]))
    await fillers.aclose(1.0)
    assert taken == [-1.0, 203.0]


# -- the loudness windows' clock ----------------------------------------------------------


class _BackloggedMicrophone:
    """20 ms frames of silence with a loud second from 1.0 s to 2.0 s. The first 0.3 s arrive
    together at wall 100.3 (they queued before the reader began); the rest each when spoken.
    After the last frame it waits until `ready()` before the track ends."""

    FRAME_S = 0.02

    def __init__(self, wall: list[float], ready, seconds: float = 4.0) -> None:
        self._wall, self._ready = wall, ready
        self._frames = int(round(seconds / self.FRAME_S))
        self._sent = 0

    async def recv(self):
        import av
        from aiortc.mediastreams import MediaStreamError

        if self._sent == self._frames:
            for _ in range(500):
                if self._ready():
                    break
                await asyncio.sleep(0.01)
            raise MediaStreamError
        start = self._sent * self.FRAME_S
        self._sent += 1
        self._wall[0] = 100.0 + max(0.3, start + self.FRAME_S)
        loud = 1.0 <= start < 2.0
        t = np.arange(int(RATE * self.FRAME_S)) / RATE + start
        pcm = (0.3 * np.sin(2 * np.pi * 220.0 * t) if loud else 0.0005 * np.sin(2 * np.pi * 50.0 * t)) * 32767
        frame = av.AudioFrame.from_ndarray(pcm.astype(np.int16).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        await asyncio.sleep(0)
        return frame


async def test_loudness_windows_are_timed_when_their_audio_was_spoken_not_when_the_reader_began() -> None:
    """The report places pauses on the loudness record's silences, so that record must sit on
    the words' clock: audio that queued before the reader began is not taken as its start."""
    store, wall = RecordingStore(), [100.0]
    signals = _signals(store, wall_clock=lambda: wall[0])

    def windows() -> list[tuple[int, float]]:
        return [(row[1], row[2]) for table, row in store.rows if table == "prosody_windows"]

    signals.attach_audio(_BackloggedMicrophone(wall, ready=lambda: len(windows()) >= 25))  # type: ignore[arg-type]
    for _ in range(1000):
        if signals._audio_task.done():
            break
        await asyncio.sleep(0.01)
    await signals.aclose()
    loud = [t_ms for t_ms, dbfs in windows() if dbfs > -30]
    assert len(windows()) >= 25 and loud, windows()
    # The loud second began 1.0 s into the stream, spoken at wall 101.0 (t_ms 1000 on the
    # session's clock); timed from the first frame's arrival it read 300 ms late.
    assert abs(loud[0] - 1000) <= 60, loud[:3]
