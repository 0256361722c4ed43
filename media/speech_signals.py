"""Delivery signals from the candidate's word timestamps: pace, pauses, fillers, hedges, response latency.

Definitions (all times are wall-clock seconds, the STT's `speech_start_at` plus word offsets).
What counts as a word, a filler, a pause and pace is scoring/speech.py's, shared with the
reports; here it is applied to the words as they arrive:

- Words: recognised tokens other than vocal fillers (um, uh, er, ah, hmm). Vocal fillers
  count as speaking time but not as words, so pace measures content, and does not depend on
  whether the recogniser happened to write an "um" down. "you know", "like" … are words.
- Pause: a gap of at least `pause_threshold_s` (PAUSE_THRESHOLD_S) between one word's end
  and the next word's start, inside an utterance or between two utterances of the same answer
  (a question ending in between closes the answer; that gap is the response latency, not a
  pause).
- Speaking time: time from a run's first word start to its last word end, where runs are
  separated by pauses of PACE_PAUSE_S (0.5 s) or more; shorter gaps, shorter pauses too (a
  breath between phrases), are speaking time.
- `wpm` (primary): words / speaking time over the most recent `pace_window_s` (30 s) of
  speaking time. Thinking pauses do not dilute it, so it answers "how fast do they talk when talking".
- `articulation_wpm`: words / time inside words (every gap removed, short ones too); higher
  than `wpm`, and more sensitive to the recogniser's word boundaries.
- Fillers (`Filler`): vocal fillers always; "like", "you know", "I mean" only in their
  discourse-marker use (heuristics below); "basically" always; an utterance-initial "so"
  only when `count_initial_so`. `fillers_per_100_words` is fillers per 100 words (as above).
- Hedges (`Hedge`): "sort of", "kind of", "sorta", "kinda" used as hedges ("it was kind of
  hard"), not as nouns ("what kind of role"). They soften a claim rather than break fluency,
  so they are counted apart from fillers, as `hedges_per_100_words`.
- Response latency: from `on_question_end(at)` to the first word of the candidate's next
  utterance; negative when the candidate started before the interviewer had finished.

Word timestamps from Whisper are often a few hundred ms off around silences (a word is
stretched over the pause after it). When the session also feeds the prosody stage's
loudness windows (`on_prosody`), each recognised gap and each utterance edge is moved onto
the silence the audio actually has, to within about half a window; without them the
recogniser's times are used as they are.

Whisper tends to drop disfluencies; `agent.stt_whisper.FILLER_PROMPT`, given to the STT as
its initial prompt, makes it write them down (bench/signals_speech.py measures both ways).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from media.prosody import ProsodyWindow
from scoring.speech import (
    MIN_PACE_SPEAKING_S,
    PACE_PAUSE_S,
    PAUSE_THRESHOLD_S,
    YOU_KNOW_SPELLINGS,
    counts_as_word,
    filler_kind,
    is_token,
    normalise,
    words_per_minute,
)

PACE_WINDOW_S = 30.0
# Word-boundary refinement from the prosody stage's loudness (see SpeechSignals.on_prosody).
LEVELS_KEEP_S = 120.0  # loudness history kept, and used to find the noise floor and speech level
# A window is silent below max(noise + this, speech - the next). A soft voice (-35 dBFS) or a
# noisy room (-35 dBFS under speech at -20) leaves 20-25 dB between them, and the quiet ends of
# words then fell under noise + 10 dB: 55 made-up pauses of 0.25-0.4 s in 8 answers
# (bench.turn_taking --room --voice-db -15); at + 6 dB, 11, with the true pauses found as before
# and none made up on clean audio (offline).
SILENCE_ABOVE_NOISE_DB = 6.0
SILENCE_BELOW_SPEECH_DB = 35.0
MIN_LEVEL_CONTRAST_DB = 15.0  # with less between noise and speech, loudness cannot place pauses
# Quieter than this is digital silence (a muted microphone, a track before its first words), not
# a room: silent, but no measure of the room's noise. Taken as the noise floor, it put the silence
# threshold 35 dB under speech, and a real room's tone (-50 dBFS under speech at -35, or -35 under
# speech at -20) never read as silent: the report lost nine in ten pauses.
DIGITAL_SILENCE_DBFS = -90.0
GAP_SLACK_S = 0.15  # a silence must come this close to the recogniser's gap to be that gap
EDGE_SEARCH_S = 0.5  # how far from an utterance's recognised edge its acoustic edge may lie
MIN_WORD_S = 0.05  # refinement never shrinks a word below this
# An unvoiced sound at least this long between a pause's silence and the voice (a breath in before
# going on, a breath out after stopping) is part of the pause: a word's unvoiced onset or ending
# ("s", "f", "th", a "t"'s release) lasts under 0.2 s, a breath 0.3-0.6 s.
BREATH_MIN_S = 0.3
WORDLESS_KEPT = 64  # the latest spans of speech without words kept (far more than fit in LEVELS_KEEP_S' pauses)

_BREAK_PUNCTUATION = set(",.;:!?…—-")
# A "like" right after these, with no comma between, is a verb or a comparison ("I would like to").
_LIKE_BLOCKERS = frozenset(
    "would 'd i'd you'd we'd they'd he'd she'd i you we they he she people "
    "feel feels felt feeling look looks looked looking sound sounds sounded seem seems seemed "
    "do does did don't doesn't didn't just really something anything nothing everything "
    "things thing more much less".split()
)
# "Like" opening a sentence and going straight on to one of these compares ("Like a normal
# phone, …", "Like my manager said …"); "Like, a lot of people …" breaks after it and is a filler.
_LIKE_COMPARES = frozenset(
    "a an the my our your his her their its this that these those any every most many some "
    "i we you he she they me us him them everyone everybody anyone".split()
)
# "you know" after these is a question or a statement of knowledge ("do you know", "as you know").
_YOU_KNOW_BLOCKERS = frozenset(
    "do does did don't doesn't didn't if whether would could will might as what how now".split()
)
_I_MEAN_BLOCKERS = frozenset("what do did don't didn't".split())
# "kind of" / "sort of" after these is a noun phrase ("the kind of role").
_HEDGE_BLOCKERS = frozenset(
    "a an the this that these those what which whatever any some every no same different one "
    "other another all each my your his her our their its right wrong new certain particular "
    "what's that's".split()
)


class TimedWord(Protocol):
    """A recognised word with times in seconds from the start of its utterance (agent.stt_whisper.Word)."""

    @property
    def text(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Pause:
    """A silence between two words of one answer."""

    start_at: float  # wall clock, end of the word before the pause
    duration_s: float


@dataclass(frozen=True, slots=True)
class Filler:
    """A filler: a vocal one ("um") or a discourse marker used as one ("like", "you know")."""

    at: float  # wall clock, start of the filler's first word
    text: str  # normalised: lower case, no punctuation ("um", "you know")


@dataclass(frozen=True, slots=True)
class Hedge:
    """A hedge softening a claim: "sort of", "kind of"."""

    at: float  # wall clock, start of the hedge's first word
    text: str  # normalised: "kind of", "sort of", "kinda", "sorta"


@dataclass(frozen=True, slots=True)
class ResponseLatency:
    """How long the candidate took to start answering after a question ended."""

    question_end_at: float  # wall clock
    answer_start_at: float  # wall clock, start of the answer's first word
    latency_s: float  # answer_start_at - question_end_at; 0 if they started before it ended


@dataclass(frozen=True, slots=True)
class Pace:
    """Speaking rate over the most recent window of speaking time."""

    at: float  # wall clock, end of the last word counted
    wpm: float  # words per minute of speaking time (pauses excluded)
    articulation_wpm: float  # words per minute of time inside words
    speaking_s: float  # speaking time the rates cover (at most the pace window)
    words: float  # words in that time (the oldest word may count in part)


@dataclass(frozen=True, slots=True)
class SpeechSummary:
    """Whole-session totals of the transcript-side delivery signals."""

    words: int
    speaking_s: float
    wpm: float | None  # words / speaking time over the whole session
    articulation_wpm: float | None
    fillers: int
    fillers_per_100_words: float | None
    hedges: int
    hedges_per_100_words: float | None
    pauses: int
    mean_pause_s: float | None
    longest_pause_s: float | None
    mean_response_latency_s: float | None


SpeechEvent = Pause | Filler | Hedge | ResponseLatency | Pace


@dataclass(frozen=True, slots=True)
class _Token:
    norm: str
    start_at: float
    end_at: float
    punct_after: bool  # the recogniser put a comma, full stop, dash … right after it
    sentence_end_after: bool  # … a full stop, question or exclamation mark
    gap_before: float  # silence before it, inf at the start of an answer
    gap_after: float  # silence after it, inf at the end of the utterance


@dataclass(slots=True)
class _Stretch:
    """One word's share of the speaking time: the word and the short gap after it."""

    speaking_s: float
    word_s: float
    words: int  # 1 for a word, 0 for a vocal filler


class SpeechSignals:
    """Per-session state machine turning recognised utterances into delivery events."""

    def __init__(
        self,
        *,
        pause_threshold_s: float = PAUSE_THRESHOLD_S,
        pace_window_s: float = PACE_WINDOW_S,
        min_pace_speaking_s: float = MIN_PACE_SPEAKING_S,
        count_initial_so: bool = False,
        prosody_window_ms: int = 100,
    ) -> None:
        self.pause_threshold_s = pause_threshold_s
        self.pace_pause_s = max(PACE_PAUSE_S, pause_threshold_s)  # shorter ones are speaking time
        self.pace_window_s = pace_window_s
        self.min_pace_speaking_s = min_pace_speaking_s
        self.count_initial_so = count_initial_so
        self._last_word_end_at: float | None = None  # None: no open answer to link a pause to
        self._last_word_start_at = 0.0
        self._levels = _Levels(prosody_window_ms / 1000.0, pause_threshold_s)
        self._question_end_at: float | None = None  # awaiting the answer's first word
        self._stretches: list[_Stretch] = []
        self._words = 0
        self._speaking_s = 0.0
        self._word_s = 0.0
        self._fillers = 0
        self._hedges = 0
        self._pauses: list[float] = []
        self._latencies: list[float] = []

    def on_question_end(self, at: float) -> None:
        """The interviewer finished a question at wall time `at`; the next utterance answers it."""
        self._question_end_at = at
        self._last_word_end_at = None

    def on_prosody(self, windows: Sequence[ProsodyWindow], origin_at: float) -> None:
        """Loudness windows of the candidate's audio; `origin_at` is the wall time of the analyser's t = 0."""
        for w in windows:
            self._levels.add(origin_at + w.t, w.loudness_dbfs, w.voiced)

    def on_sound(self, speech_start_at: float, speech_end_at: float) -> None:
        """The VAD heard speech the recogniser wrote no words for (a cough, a sigh, an "um" it
        left out), from `speech_start_at` to `speech_end_at` (wall clock)."""
        self._levels.heard_wordless(speech_start_at, speech_end_at)

    def on_utterance(
        self, speech_start_at: float, words: Sequence[TimedWord], text: str = ""
    ) -> list[SpeechEvent]:
        """Take one recognised utterance; returns its events in time order (pace last)."""
        del text  # the words carry everything; the parameter mirrors RecognizedUtterance
        tokens = self._tokens(speech_start_at, words)
        if not tokens:
            return []
        events: list[SpeechEvent] = []
        if self._question_end_at is not None and tokens[-1].end_at > self._question_end_at:
            q = self._question_end_at
            # Starting before the question ended (talking over its last words) is no delay.
            latency = ResponseLatency(q, tokens[0].start_at, max(0.0, tokens[0].start_at - q))
            events.append(latency)
            self._latencies.append(latency.latency_s)
            self._question_end_at = None

        if self._last_word_end_at is not None and self._stretches:
            gap = tokens[0].start_at - self._last_word_end_at
            if gap >= self.pause_threshold_s:
                events.append(self._pause(self._last_word_end_at, gap))
            if 0.0 < gap < self.pace_pause_s:  # a short pause is speaking time for pace
                self._stretches[-1].speaking_s += gap
                self._speaking_s += gap

        marks = _classify(tokens, self.pause_threshold_s, count_initial_so=self.count_initial_so)
        for i, tok in enumerate(tokens):
            kind, label = marks[i]
            if kind == "filler":
                events.append(Filler(tok.start_at, label))
                self._fillers += 1
            elif kind == "hedge":
                events.append(Hedge(tok.start_at, label))
                self._hedges += 1
            word_s = max(0.0, tok.end_at - tok.start_at)
            speaking_s = word_s
            if i + 1 < len(tokens):
                if tok.gap_after >= self.pause_threshold_s:
                    events.append(self._pause(tok.end_at, tok.gap_after))
                if 0.0 < tok.gap_after < self.pace_pause_s:
                    speaking_s += tok.gap_after
            lexical = 1 if counts_as_word(tok.norm) else 0
            self._stretches.append(_Stretch(speaking_s, word_s, lexical))
            self._words += lexical
            self._speaking_s += speaking_s
            self._word_s += word_s

        self._last_word_start_at, self._last_word_end_at = tokens[-1].start_at, tokens[-1].end_at
        self._trim_stretches()
        pace = self.pace(at=tokens[-1].end_at)
        if pace is not None:
            events.append(pace)
        return events

    def pace(self, *, at: float | None = None) -> Pace | None:
        """Rates over the last `pace_window_s` of speaking time; None with too little speech yet."""
        speaking = word_time = words = 0.0
        for stretch in reversed(self._stretches):
            room = self.pace_window_s - speaking
            if room <= 0.0:
                break
            share = min(1.0, room / stretch.speaking_s) if stretch.speaking_s > 0 else 1.0
            speaking += stretch.speaking_s * share
            word_time += stretch.word_s * share
            words += stretch.words * share
        if speaking < self.min_pace_speaking_s or word_time <= 0.0:
            return None
        end = at if at is not None else (self._last_word_end_at or 0.0)
        return Pace(end, 60.0 * words / speaking, 60.0 * words / word_time, speaking, words)

    def summary(self) -> SpeechSummary:
        """Totals over every utterance so far."""
        def per_100(count: int) -> float | None:
            return 100.0 * count / self._words if self._words else None

        return SpeechSummary(
            words=self._words,
            speaking_s=self._speaking_s,
            wpm=words_per_minute(self._words, self._speaking_s),
            articulation_wpm=words_per_minute(self._words, self._word_s),
            fillers=self._fillers,
            fillers_per_100_words=per_100(self._fillers),
            hedges=self._hedges,
            hedges_per_100_words=per_100(self._hedges),
            pauses=len(self._pauses),
            mean_pause_s=sum(self._pauses) / len(self._pauses) if self._pauses else None,
            longest_pause_s=max(self._pauses) if self._pauses else None,
            mean_response_latency_s=(
                sum(self._latencies) / len(self._latencies) if self._latencies else None
            ),
        )

    def _pause(self, start_at: float, duration_s: float) -> Pause:
        self._pauses.append(duration_s)
        return Pause(start_at, duration_s)

    def _trim_stretches(self) -> None:
        """Forget stretches older than the pace window (kept: the window, plus one partial)."""
        speaking = 0.0
        for i in range(len(self._stretches) - 1, -1, -1):
            speaking += self._stretches[i].speaking_s
            if speaking >= self.pace_window_s:
                del self._stretches[:i]
                return

    def _tokens(self, speech_start_at: float, words: Sequence[TimedWord]) -> list[_Token]:
        """The utterance's words on the wall clock, boundaries refined by loudness where it is known."""
        raw = [(w.text.strip(), float(speech_start_at + w.start), float(speech_start_at + w.end)) for w in words]
        raw = [(t, s, e) for t, s, e in raw if is_token(t)]  # drop bare punctuation
        if not raw:
            return []
        texts = [t for t, _, _ in raw]
        starts = [s for _, s, _ in raw]
        ends = [max(s, e) for _, s, e in raw]
        levels = self._levels
        if self._last_word_end_at is not None:
            prev_end = self._last_word_end_at
            prev_end, starts[0] = levels.refine_gap(self._last_word_start_at, prev_end, starts[0], ends[0])
            self._move_last_word_end(prev_end)
        else:
            starts[0] = levels.refine_onset(starts[0], ends[0])
        for i in range(len(raw) - 1):
            ends[i], starts[i + 1] = levels.refine_gap(starts[i], ends[i], starts[i + 1], ends[i + 1])
        ends[-1] = levels.refine_offset(starts[-1], ends[-1])

        tokens = []
        for i, text in enumerate(texts):
            if i > 0:
                gap_before = starts[i] - ends[i - 1]
            elif self._last_word_end_at is not None:
                gap_before = starts[i] - self._last_word_end_at
            else:
                gap_before = math.inf
            tokens.append(
                _Token(
                    norm=normalise(text),
                    start_at=starts[i],
                    end_at=ends[i],
                    punct_after=text[-1] in _BREAK_PUNCTUATION,
                    sentence_end_after=text[-1] in ".!?",
                    gap_before=gap_before,
                    gap_after=starts[i + 1] - ends[i] if i + 1 < len(texts) else math.inf,
                )
            )
        return tokens

    def _move_last_word_end(self, end_at: float) -> None:
        """Refinement moved the previous utterance's last word end: keep the speaking time in step."""
        assert self._last_word_end_at is not None
        delta = end_at - self._last_word_end_at
        if delta and self._stretches:
            self._stretches[-1].speaking_s += delta
            self._stretches[-1].word_s += delta
            self._speaking_s += delta
            self._word_s += delta
        self._last_word_end_at = end_at


class _Levels:
    """Recent loudness of the candidate's audio on the wall clock, to place pauses acoustically."""

    def __init__(self, window_s: float, pause_threshold_s: float) -> None:
        self.window_s = window_s
        # A pause shows as a run of wholly silent windows, about one window shorter than it.
        self._min_run = max(1, math.ceil(pause_threshold_s / window_s - 1.0 - 1e-9))
        self._at: deque[float] = deque(maxlen=max(1, int(LEVELS_KEEP_S / window_s)))
        self._dbfs: deque[float] = deque(maxlen=self._at.maxlen)
        self._voiced: deque[bool] = deque(maxlen=self._at.maxlen)
        self._wordless: deque[tuple[float, float]] = deque(maxlen=WORDLESS_KEPT)
        self._snapshot: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # _arrays, until the next add

    def add(self, at: float, dbfs: float, voiced: bool = True) -> None:
        if self._at and at <= self._at[-1]:
            return  # not newer than what we have: a replay or a restarted analyser
        self._snapshot = None
        self._at.append(at)
        self._dbfs.append(dbfs)
        self._voiced.append(voiced)

    def refine_gap(self, a_start: float, a_end: float, b_start: float, b_end: float) -> tuple[float, float]:
        """(a_end, b_start) moved onto the silence between words a and b, or closed if there is none."""
        runs = self._silent_runs(a_start, b_end)
        if runs is None:
            return a_end, b_start
        lo, hi = min(a_end, b_start) - GAP_SLACK_S, max(a_end, b_start) + GAP_SLACK_S
        near = self._through_breaths([(s, e) for s, e in runs if min(hi, e) > max(lo, s)])
        near = [(min(hi, e) - max(lo, s), e - s, s, e) for s, e in near]
        if not near:
            if b_start <= a_end:
                return a_end, b_start
            middle = (a_end + b_start) / 2.0  # the recogniser's gap is not silent: no pause
            return middle, middle
        _, _, s, e = max(near)
        s, e = self._unvoiced_before(s, a_start), self._unvoiced_after(e, b_end)
        a_end = max(a_start + MIN_WORD_S, s)
        b_start = max(a_end, min(b_end - MIN_WORD_S, e))
        return a_end, b_start

    def _through_breaths(self, runs: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Silences either side of a sound the recogniser heard no word in joined into one: an
        unvoiced one (a breath, a sniff, a click, keys), or a voiced one the VAD did not take for
        speech (a sigh, a chair's creak). A voiced sound the VAD heard as speech and
        the recogniser wrote nothing for may be a filler it left out ("um"), so it still parts
        them (heard_wordless)."""
        if len(runs) < 2:
            return runs
        w = self.window_s
        at, voiced, _ = self._arrays()
        joined = [runs[0]]
        for s, e in runs[1:]:
            # the windows after the last silent one of the run before, up to the first of this one
            between = (at > joined[-1][1] - 1.5 * w + 1e-6) & (at < s + w / 2.0 - 1e-6)
            if not voiced[between].any() or not self._wordless_in(joined[-1][1], s):
                joined[-1] = (joined[-1][0], e)
            else:
                joined.append((s, e))
        return joined

    def _unvoiced_after(self, e: float, limit: float) -> float:
        """Where the voice begins after a silence that ends at `e`, if a breath comes between
        (BREATH_MIN_S or more of unvoiced sound before `limit`); else `e`."""
        at, voiced, _ = self._arrays()
        after = np.flatnonzero((at >= e - self.window_s) & (at < limit))
        first_voiced = next((int(i) for i in after if voiced[i]), None)
        if first_voiced is None or at[first_voiced] - e < BREATH_MIN_S:
            return e
        return float(at[first_voiced])

    def _unvoiced_before(self, s: float, limit: float) -> float:
        """Where the voice stopped before a silence that begins at `s`, if a breath came between
        (BREATH_MIN_S or more of unvoiced sound after `limit`); else `s`."""
        at, voiced, _ = self._arrays()
        w = self.window_s
        before = np.flatnonzero((at <= s) & (at > limit))
        last_voiced = next((int(i) for i in before[::-1] if voiced[i]), None)
        if last_voiced is None or s - (at[last_voiced] + w) < BREATH_MIN_S:
            return s
        return float(at[last_voiced] + w)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(window start times, voiced, dBFS) of the loudness history, made once per new window
        (each gap between words reads it up to four times)."""
        if self._snapshot is None:
            n = len(self._at)
            self._snapshot = (
                np.fromiter(self._at, dtype=np.float64, count=n),
                np.fromiter(self._voiced, dtype=bool, count=n),
                np.fromiter(self._dbfs, dtype=np.float64, count=n),
            )
        return self._snapshot

    def heard_wordless(self, start: float, end: float) -> None:
        """The VAD heard speech from `start` to `end` in which the recogniser wrote no words."""
        self._wordless.append((start, end))

    def _wordless_in(self, t0: float, t1: float) -> bool:
        return any(s < t1 and e > t0 for s, e in self._wordless)

    def refine_onset(self, start: float, end: float) -> float:
        """An utterance's first word start moved to where the sound begins after the silence before it."""
        runs = self._silent_runs(start - EDGE_SEARCH_S, end)
        if not runs or runs[-1][1] >= end:
            return start  # no silence near it, or the whole word is silent: leave it be
        return min(end - MIN_WORD_S, runs[-1][1])

    def refine_offset(self, start: float, end: float) -> float:
        """An utterance's last word end moved to where the sound stops."""
        runs = self._silent_runs(start, end + EDGE_SEARCH_S)
        if not runs or runs[0][0] <= start:
            return end
        return max(start + MIN_WORD_S, runs[0][0])

    def _silent_runs(self, t0: float, t1: float) -> list[tuple[float, float]] | None:
        """Estimated (start, end) of each silence in [t0, t1]; None where loudness does not cover it."""
        w = self.window_s
        if not self._at or self._at[0] > t0 or self._at[-1] + w < t1:
            return None
        at, _, dbfs = self._arrays()
        heard = dbfs[dbfs > DIGITAL_SILENCE_DBFS]
        if not len(heard):
            return None
        noise, speech = np.percentile(heard, [10.0, 95.0])
        if speech - noise < MIN_LEVEL_CONTRAST_DB:
            return None
        threshold = max(noise + SILENCE_ABOVE_NOISE_DB, speech - SILENCE_BELOW_SPEECH_DB)
        first = np.searchsorted(at, t0, side="left")
        last = np.searchsorted(at, t1 - w, side="right")
        silent = dbfs[first:last] < threshold
        times = at[first:last]
        if len(times) > 1 and np.any(np.diff(times) > 1.5 * w):
            return None  # a hole in the loudness record
        runs = []
        i = 0
        while i < len(silent):
            if not silent[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(silent) and silent[j + 1]:
                j += 1
            if j - i + 1 >= self._min_run:
                # The silence began somewhere in the window before the run and ended somewhere
                # in the window after it: half a window each side is the unbiased estimate.
                runs.append((max(t0, float(times[i]) - w / 2.0), min(t1, float(times[j]) + 1.5 * w)))
            i = j + 1
        return runs


def _classify(
    tokens: Sequence[_Token], pause_threshold_s: float, *, count_initial_so: bool
) -> list[tuple[str, str]]:
    """Label each token ("filler", "hedge", "" or "part" of a multi-word one) with its normalised text."""
    marks: list[tuple[str, str]] = [("", "")] * len(tokens)
    norms = [t.norm for t in tokens]

    def prev_word(i: int) -> str | None:
        """The word before token i when nothing (comma, pause) separates them."""
        if i == 0 or tokens[i - 1].punct_after or tokens[i].gap_before >= pause_threshold_s:
            return None
        return norms[i - 1]

    def breaks_after(i: int) -> bool:
        return tokens[i].punct_after or tokens[i].gap_after >= pause_threshold_s

    for i, norm in enumerate(norms):
        if filler_kind(norm) == "vocal" or norm == "basically":
            marks[i] = ("filler", norm)
        elif norm == "so" and i == 0 and count_initial_so:
            marks[i] = ("filler", norm)
        elif norm in ("you", "i") and i + 1 < len(tokens):
            pair = f"{norm} {norms[i + 1]}"
            if pair == "you know" and prev_word(i) not in _YOU_KNOW_BLOCKERS and breaks_after(i + 1):
                marks[i], marks[i + 1] = ("filler", pair), ("part", pair)
            elif pair == "i mean" and prev_word(i) not in _I_MEAN_BLOCKERS and breaks_after(i + 1):
                marks[i], marks[i + 1] = ("filler", pair), ("part", pair)
        elif norm in YOU_KNOW_SPELLINGS and prev_word(i) not in _YOU_KNOW_BLOCKERS:
            marks[i] = ("filler", "you know")
        elif norm in ("kind", "sort") and i + 1 < len(tokens) and norms[i + 1] == "of":
            if prev_word(i) not in _HEDGE_BLOCKERS:
                marks[i], marks[i + 1] = ("hedge", f"{norm} of"), ("part", f"{norm} of")
        elif norm in ("kinda", "sorta") and prev_word(i) not in _HEDGE_BLOCKERS:
            marks[i] = ("hedge", norm)

    # "like" last: a neighbouring filler is one of its cues.
    for i, norm in enumerate(norms):
        if norm != "like" or marks[i][0]:
            continue
        before = prev_word(i)
        if before in _LIKE_BLOCKERS:
            continue
        starts_sentence = i == 0 or tokens[i - 1].sentence_end_after
        if starts_sentence and not breaks_after(i) and i + 1 < len(tokens) and norms[i + 1] in _LIKE_COMPARES:
            continue  # "Like a normal phone, it rings.", "Like my manager said, …": a comparison
        separated_before = before is None  # comma, pause, or start of the utterance
        next_is_filler = i + 1 < len(tokens) and marks[i + 1][0] == "filler"
        prev_is_filler = i > 0 and marks[i - 1][0] in ("filler", "part")
        if (separated_before and i > 0) or breaks_after(i) or next_is_filler or prev_is_filler:
            marks[i] = ("filler", "like")
    return marks
