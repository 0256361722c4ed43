"""The delivery signals' filler-aware hearing: candidate utterances heard again, in order.

The conversation's recogniser hears without a prompt, and Whisper then cleans away the "um"s a
coach wants counted. The delivery signals take each utterance's words from a second hearing,
prompted with fillers, off the critical path, on one background-priority thread all interviews
share. Each decode costs Whisper's full 30 s window however short the audio (a cut window makes
the prompted decoder loop).

Each utterance is heard alone as soon as the pass is free: that counts the most fillers. The
utterances that arrive while a decode runs (several interviews at once) wait, and the next decode
hears them together, up to BATCH_AUDIO_S of audio, joined as the whole-answer pass joins an
answer (agent/whole_answer.py: quiet edges cut, pauses shortened to 1 s). Each heard word goes
back to the utterance its middle falls in; an utterance in which the decode heard fewer than
MIN_WORD_SHARE of its live words keeps its live words (a segment Whisper doubted was dropped).
Batching every answer's utterances on purpose (8 s batches) halved the decodes, but in the room
it counted fillers exactly on 19 of 32 answers against 25 (docs/benchmarks.md): in context,
Whisper writes one "um" twice ("Um... Umm...") or drops it.

Utterances and question ends reach the signals in the order they came; an utterance whose decode
fails, comes too late or is not done when the session ends keeps its live words, in its place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

import numpy as np
from livekit.agents.utils import aio

from agent.stt_whisper import WHISPER_SAMPLE_RATE, RecognizedUtterance, Transcript, Word
from agent.whole_answer import MIN_WORD_SHARE, AnswerAudio, Span, piece_of, wall_time, without_invented_end

logger = logging.getLogger(__name__)

BATCH_AUDIO_S = 8.0  # a backlog is heard in decodes of at most this much audio
# A batch whose decode would start this long after its first utterance ended is taken as the
# conversation's recogniser heard it: the machine is saturated, and the events waiting for the
# pass live in memory only.
MAX_LAG_S = 10.0
# Audio waiting for the pass beyond this (a decode that hangs) is let go, oldest first: those
# utterances keep their live words, in their place in the order (32 KB a second of audio).
MAX_WAITING_AUDIO_S = 120.0

Take = Callable[[RecognizedUtterance, Sequence[Word]], None]


class FillerPass:
    """Hears a session's candidate utterances again with the filler prompt; hands each one's
    words to `take` and each question end to `question_end`, in order."""

    def __init__(
        self,
        transcriber: Callable[[np.ndarray], Awaitable[Transcript]],
        *,
        take: Take,
        question_end: Callable[[float], None],
        wall_clock: Callable[[], float],
    ) -> None:
        self._transcriber = transcriber
        self._take = take
        self._question_end = question_end
        self._wall = wall_clock
        self._queue: list[RecognizedUtterance | float] = []  # a float: a question's end (wall)
        self._changed = asyncio.Event()
        self._closing = False
        self._hearing: list[RecognizedUtterance] = []
        self.decodes = 0
        self.utterances = 0  # utterances they heard
        self.heard_once = 0  # utterances the pass was too far behind for
        self._task = asyncio.create_task(self._run(), name="signals-filler-pass")

    def add(self, utterance: RecognizedUtterance) -> None:
        self._queue.append(utterance)
        waiting = sum(_seconds(u) for u in self._queue if isinstance(u, RecognizedUtterance))
        for i, item in enumerate(self._queue):
            if waiting <= MAX_WAITING_AUDIO_S:
                break
            if isinstance(item, RecognizedUtterance) and item.audio is not None:
                waiting -= _seconds(item)
                self._queue[i] = replace(item, audio=None)
                self.heard_once += 1
        self._changed.set()

    def question_end(self, at: float) -> None:
        if self._queue or self._hearing:
            self._queue.append(at)  # after the utterances before it
            self._changed.set()
        else:
            self._question_end(at)

    async def aclose(self, drain_s: float) -> None:
        """Hear what waits, for `drain_s` at most; what is left then keeps its live words."""
        self._closing = True
        self._changed.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), drain_s)
        except TimeoutError:
            await aio.cancel_and_wait(self._task)
            self.heard_once += len(self._hearing) + sum(isinstance(i, RecognizedUtterance) for i in self._queue)
            for item in [*self._hearing, *self._queue]:
                if isinstance(item, RecognizedUtterance):
                    self._take(item, item.words)
                else:
                    self._question_end(item)
            self._hearing, self._queue = [], []

    async def _run(self) -> None:
        while True:
            while self._queue and not isinstance(self._queue[0], RecognizedUtterance):
                self._question_end(self._queue.pop(0))
            batch = self._batch()
            if not batch:
                if self._closing:
                    return
                self._changed.clear()
                await self._changed.wait()
                continue
            del self._queue[: len(batch)]
            self._hearing = batch
            try:
                await self._hear(batch)
            except Exception:  # noqa: BLE001 - a fault in one batch must not end the pass for the session
                logger.exception("filler-aware pass: a batch could not be taken")
            self._hearing = []  # cancelled, it stays: aclose takes it with its live words

    def _batch(self) -> list[RecognizedUtterance]:
        """The utterances at the head of the queue that one decode takes (at least one)."""
        batch: list[RecognizedUtterance] = []
        seconds = 0.0
        for item in self._queue:
            if not isinstance(item, RecognizedUtterance):
                break
            seconds += _seconds(item)
            if batch and seconds > BATCH_AUDIO_S:
                break
            batch.append(item)
        return batch

    async def _hear(self, batch: list[RecognizedUtterance]) -> None:
        words = await self._words(batch)
        for u in batch:
            self._take(u, words.get(id(u), u.words))

    async def _words(self, batch: list[RecognizedUtterance]) -> dict[int, Sequence[Word]]:
        """The batch's utterances' words from one decode, by id(utterance); none for those that
        keep their live words (all of them if the batch comes too late or the decode fails)."""
        if self._wall() - batch[0].speech_end_at > MAX_LAG_S:
            self.heard_once += len(batch)
            return {}
        with_audio = [u for u in batch if u.audio is not None]
        if not with_audio:
            return {}
        audio = AnswerAudio()
        for u in with_audio:
            audio.add(u.speech_start_at - u.audio_lead_s, u.audio)
        samples, spans = audio.joined()
        if len(spans) != len(with_audio):  # longer than an answer may be: left out
            return {}
        try:
            heard = await self._transcriber(samples)
        except Exception:  # noqa: BLE001 - the live words stand; the signals go on
            logger.exception("filler-aware pass failed: utterances keep their live words")
            return {}
        self.decodes += 1
        self.utterances += len(with_audio)
        per = words_by_utterance(heard.words, spans, [u.speech_start_at for u in with_audio])
        return {id(u): w for u, w in zip(with_audio, per, strict=True) if keeps(u.words, w)}


def _seconds(u: RecognizedUtterance) -> float:
    return 0.0 if u.audio is None else len(u.audio) / WHISPER_SAMPLE_RATE


def words_by_utterance(heard: Sequence[Word], spans: Sequence[Span], speech_starts: Sequence[float]) -> list[list[Word]]:
    """The joined signal's words, each in the utterance (span) its middle falls in, timed from
    that utterance's speech start (`speech_starts`, wall clock)."""
    per: list[list[Word]] = [[] for _ in spans]
    if not spans:
        return per
    for w in without_invented_end(heard, spans):
        i = piece_of((w.start + w.end) / 2, spans)
        start, end = (wall_time(t, spans[i]) - speech_starts[i] for t in (w.start, w.end))
        per[i].append(Word(w.text, max(0.0, start), max(0.0, end), w.probability))
    return per


def keeps(live: Sequence[Word], heard: Sequence[Word]) -> bool:
    """Whether an utterance takes the batch's words: nearly as many as it had live."""
    return bool(heard) and len(heard) >= MIN_WORD_SHARE * len(live)
