"""The answer heard whole, once it is over: the transcript that is stored and scored.

The live recogniser hears each utterance alone, on a short window and with a greedy decode, so
that the interviewer can reply within a second. What it writes is good enough to take turns
by and poor to keep: a quiet or hoarse voice comes out garbled ("uh so this is the sick
corpus" as "for this. so it plays"), and with no prompt Whisper cleans away the "um"s a coach
wants to see. Once the reply to an answer stands, the answer's utterances are joined (their
quiet edges cut, pauses longer than GAP_CAP_S shortened, so Whisper does not invent words in
them) and heard again off the critical path: the whole answer in context, a beam of BEAM_SIZE,
prompted to keep fillers. Its words go back on the answer's clock, each into the utterance its
middle falls in, and replace that utterance's live words, unless there are too few of them (a
decode that loops is cut short, a segment Whisper doubts is dropped) or they miss the opening or
close the live words have: that utterance keeps its live words. An utterance the live recogniser
left without words (a sound, or a decode that wrote nothing) is heard too if the candidate went
on after it, and keeps the words the pass is sure of, unless they are only fillers: a hoarse
voice's opening, faint to the VAD and unsure live, comes back so; a cough's "Thank you." and a
sigh's "Uh..." stay out.

Measured through the room (bench.turn_taking, tiny.en; docs/benchmarks.md): word error 0.084
against 0.132 live on the corpus, 0.07-0.11 (six runs) against 0.127 on people's recordings;
about 0.05-0.1 s of one background thread per second of answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from agent.stt_whisper import WHISPER_SAMPLE_RATE, Word, sure_of
from scoring.speech import is_vocal_filler

GAP_CAP_S = 1.0  # a pause between utterances is heard as at most this much silence
BEAM_SIZE = 5
MAX_AUDIO_S = 600.0  # an answer longer than this keeps its live transcript (memory: 38 MB at most)
# An utterance takes the whole pass's words if it has at least this share of the live ones, and
# the answer's first and last words start where the live ones' do, within EDGE_SLACK_S: fewer,
# or starting later or ending sooner, means the pass lost some (an uncertain decode on a hoarse
# voice under load dropped an opening "Uh, so this is").
MIN_WORD_SHARE = 0.7
EDGE_SLACK_S = 0.75
# An utterance's audio holds the VAD's padding and the silence that ended it: its edges quieter
# than this under its speech are cut (keeping a margin), so the pauses between are the real ones.
EDGE_BELOW_DB = 30.0
EDGE_MARGIN_S = (0.1, 0.15)  # kept before the first and after the last audio above that
# Words the pass puts in the audio's last INVENTED_END_S, more than INVENTED_END_WORDS of them,
# cannot have been said there: an invented sign-off ("Thank you so much for watching and I'll
# see you in the next video," after "in three months.", 14 words in 0.2 s; the browser test's
# answer, 3 runs in 5), which the text check on each segment does not always catch.
INVENTED_END_S = 0.3
INVENTED_END_WORDS = 2
_WINDOW = WHISPER_SAMPLE_RATE // 50  # 20 ms

logger = logging.getLogger(__name__)


def voiced_span(samples: np.ndarray) -> tuple[int, int]:
    """The part of an utterance's audio from its first sound to its last, with margins."""
    n = len(samples) // _WINDOW
    if n == 0:
        return 0, len(samples)
    rms = np.sqrt(np.mean(np.square(samples[: n * _WINDOW].reshape(n, _WINDOW), dtype=np.float64), axis=1))
    loud = np.flatnonzero(rms >= np.quantile(rms, 0.9) * 10 ** (-EDGE_BELOW_DB / 20))
    if not loud.size:
        return 0, len(samples)
    before, after = (int(m * WHISPER_SAMPLE_RATE) for m in EDGE_MARGIN_S)
    return max(0, int(loud[0]) * _WINDOW - before), min(len(samples), (int(loud[-1]) + 1) * _WINDOW + after)


@dataclass(frozen=True, slots=True)
class Span:
    """One utterance in the joined signal: where it starts there (s), its wall time then, its
    length, the words the live recogniser heard in it (as stored), and whether the live
    recogniser took it for a sound (a cough, or speech too faint to be sure of)."""

    offset: float
    wall: float
    seconds: float
    live: tuple[dict[str, Any], ...] = ()
    sound: bool = False


@dataclass(slots=True)
class AnswerAudio:
    """An answer's utterances: each one's audio (16 kHz float32) from the wall time of its first
    sample, and its live words."""

    pieces: list[tuple[float, np.ndarray, tuple[dict[str, Any], ...], bool]] = field(default_factory=list)
    seconds: float = 0.0
    complete: bool = True  # False once a piece was left out (too long, or no audio)

    def add(
        self, starts_at: float, samples: np.ndarray | None, live: Sequence[dict[str, Any]] = (), *, sound: bool = False
    ) -> None:
        if samples is None and sound:
            return  # a sound is heard again only if its audio is there; the answer's words are
        if samples is None or not self.complete or self.seconds + len(samples) / WHISPER_SAMPLE_RATE > MAX_AUDIO_S:
            self.complete = False
            self.pieces.clear()  # the answer keeps its live transcript
            return
        first, last = voiced_span(samples)
        self.pieces.append((starts_at + first / WHISPER_SAMPLE_RATE, samples[first:last], tuple(live), sound))
        self.seconds += (last - first) / WHISPER_SAMPLE_RATE

    def joined(self) -> tuple[np.ndarray, list[Span]]:
        """The pieces in one signal, pauses shortened to GAP_CAP_S and overlaps taken out; with
        where each piece lies in it, to map word times back."""
        rate = WHISPER_SAMPLE_RATE
        parts: list[np.ndarray] = []
        spans: list[Span] = []
        offset = 0  # samples
        end_at: float | None = None  # wall time of the last sample placed
        for starts_at, samples, live, sound in self.pieces:
            if end_at is not None:
                gap = starts_at - end_at
                if gap < 0:  # padding before this utterance repeats the end of the one before
                    samples = samples[int(round(-gap * rate)) :]
                    starts_at = end_at
                silence = int(round(min(max(gap, 0.0), GAP_CAP_S) * rate))
                parts.append(np.zeros(silence, dtype=np.float32))
                offset += silence
            spans.append(Span(offset / rate, starts_at, len(samples) / rate, live, sound))
            parts.append(samples.astype(np.float32, copy=False))
            offset += len(samples)
            end_at = starts_at + len(samples) / rate
        return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)), spans


def piece_of(t: float, spans: Sequence[Span]) -> int:
    """The piece a moment of the joined signal belongs to; in a pause, the nearer one."""
    best = 0
    for i, span in enumerate(spans):
        if t < span.offset:
            before = spans[best]
            return best if t - (before.offset + before.seconds) < span.offset - t else i
        best = i
    return best


def wall_time(t: float, span: Span) -> float:
    """The wall time of moment `t` (s) of the joined signal, held inside `span`'s piece."""
    return span.wall + min(max(t - span.offset, 0.0), span.seconds)


class Stitched(NamedTuple):
    text: str
    words: list[dict[str, Any]]  # seconds from `started_at`
    replaced: int  # utterances (and sounds) that took the whole pass's words
    started_at: float  # wall clock of the answer's first word: earlier if a sound before it was words


def stitched(heard: Sequence[Word], spans: Sequence[Span], started_at: float) -> Stitched:
    """The answer's transcript and words from the whole pass, each utterance's live words kept
    where the pass heard too few of them, and a sound's words kept only if the pass is sure of
    them and they are more than fillers. Each heard word goes to the utterance its middle falls
    in (Whisper lets a word's edge stray into the silence next to it), or, begun before a sound,
    to the utterance beside it; and stays inside it. `started_at` is the wall clock of
    the live words' start; a sound before them that the pass heard as words moves it earlier."""
    spoken = [i for i, span in enumerate(spans) if not span.sound]
    by_piece: list[list[tuple[float, float, Word]]] = [[] for _ in spans]
    for w in without_invented_end(heard, spans):
        middle = (w.start + w.end) / 2
        i = piece_of(middle, spans)
        if spans[i].sound and spoken and w.start < spans[i].offset - EDGE_MARGIN_S[0]:
            # begun before the sound: a word of the utterance next to it, stretched ("because...")
            i = spoken[piece_of(middle, [spans[j] for j in spoken])]
        by_piece[i].append((wall_time(w.start, spans[i]), wall_time(w.end, spans[i]), w))
    first, last = (spoken[0], spoken[-1]) if spoken else (-1, -1)

    def takes(i: int) -> bool:
        if spans[i].sound:  # words, not a lone "Uh..." (a sigh or a breath is written so too)
            words = [w for *_, w in by_piece[i]]
            return sure_of(words) and not all(is_vocal_filler(w.text) for w in words)
        whole = [_word(w, start, end, started_at) for start, end, w in by_piece[i]]
        kept = keeps(spans[i].live, whole, opening=i == first, close=i == last)
        if not kept:
            live = spans[i].live
            logger.info(
                "an utterance keeps its live words: the whole pass heard too few of them",
                extra={
                    "utterance": i,
                    "live_words": len(live),
                    "whole_words": len(whole),
                    "first_start_s": (live[0]["start"], whole[0]["start"]) if live and whole else None,
                    "last_start_s": (live[-1]["start"], whole[-1]["start"]) if live and whole else None,
                },
            )
        return kept

    taken = [takes(i) for i in range(len(spans))]
    begin = min([started_at, *(by_piece[i][0][0] for i in range(len(spans)) if taken[i] and spans[i].sound)])
    shift = started_at - begin  # the live words count from `started_at`
    chosen = [
        [_word(w, start, end, begin) for start, end, w in by_piece[i]]
        if taken[i]
        else [_later(w, shift) for w in span.live]
        for i, span in enumerate(spans)
    ]
    # A word said across the boundary of an utterance that keeps its live words may have gone to
    # the utterance next to it in the whole pass as well: it is kept once, in the live words.
    for i in range(len(chosen)):
        if taken[i] or not chosen[i]:
            continue
        if i > 0 and taken[i - 1] and chosen[i - 1] and _same(chosen[i - 1][-1], chosen[i][0]):
            chosen[i - 1] = chosen[i - 1][:-1]
        if i + 1 < len(chosen) and taken[i + 1] and chosen[i + 1] and _same(chosen[i + 1][0], chosen[i][-1]):
            chosen[i + 1] = chosen[i + 1][1:]
    words = [w for piece in chosen for w in piece]
    return Stitched(" ".join(w["w"] for w in words if w["w"]), words, sum(taken), begin)


def without_invented_end(heard: Sequence[Word], spans: Sequence[Span]) -> Sequence[Word]:
    """The heard words, less a run of more than INVENTED_END_WORDS in the joined signal's last
    INVENTED_END_S (a sign-off Whisper invented after the speech)."""
    if not spans:
        return heard
    end = spans[-1].offset + spans[-1].seconds
    kept = len(heard)
    while kept and heard[kept - 1].start >= end - INVENTED_END_S:
        kept -= 1
    return heard[:kept] if len(heard) - kept > INVENTED_END_WORDS else heard


def _word(w: Word, start: float, end: float, begin: float) -> dict[str, Any]:
    """A heard word as stored: its wall times `start` and `end` in seconds from `begin`."""
    return {
        "w": w.text,
        "start": round(max(0.0, start - begin), 3),
        "end": round(max(0.0, end - begin), 3),
        "p": round(w.probability, 3),
    }


def _later(word: dict[str, Any], seconds: float) -> dict[str, Any]:
    if not seconds:
        return word
    return {**word, "start": round(word["start"] + seconds, 3), "end": round(word["end"] + seconds, 3)}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two words are the same word, case and punctuation aside. Two vocal fillers are
    one hesitation, however each pass spelled it ("Um..." live, "Umm..." whole)."""
    if is_vocal_filler(a["w"]) and is_vocal_filler(b["w"]):
        return True
    return _bare(a["w"]) == _bare(b["w"]) != ""


def _bare(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum() or c == "'")


def keeps(
    live: Sequence[dict[str, Any]], whole: Sequence[dict[str, Any]], *, opening: bool = False, close: bool = False
) -> bool:
    """Whether an utterance takes the whole pass's words: nearly as many as the live ones and,
    for the answer's first (`opening`) and last (`close`) utterance, starting and ending where
    they do (word times in seconds on one clock). Between utterances a word said across the
    pause may go either side ("sales, | and... I found"), so only the answer's edges are held."""
    if not whole or len(whole) < MIN_WORD_SHARE * len(live):
        return False
    if not live:
        return True
    # Starts, not ends: Whisper stretches a last word into the silence after it ("and...").
    if opening and whole[0]["start"] > live[0]["start"] + EDGE_SLACK_S:
        return False
    return not (close and whole[-1]["start"] < live[-1]["start"] - EDGE_SLACK_S)
