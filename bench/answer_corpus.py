"""Spoken interview answers shaped like real candidates', with exact truth, for the turn-taking bench.

Sixteen hand-written answer scripts (eight behavioral STAR stories that state their result
near the end, four medical-school MMI / ethics answers that weigh considerations and end on a
conclusion, four complete short answers of about 20 s), each rendered twice: once by espeak-ng
(voice variants en-us, en-gb+m3, en-us+f2, en-us+m7 at 130-175 wpm) and once by Piper's joe
voice (length scale 1.0-1.3, noise scales 0), with thinking pauses of 0.5-4 s drawn anew for
each rendering from a seeded RNG. So 32 answers of 20-60 s with about 300 pauses.

A script is text with marks (`parse_script`):

  |            a thinking pause; its kind comes from what precedes it:
                 sentence     after a piece ending in "." (between sentences)
                 filler       after a vocal filler or a discourse marker ("um |", "like |")
                 conjunction  after a trailing "and", "so", "because", "but", ... ("and, |")
                 inside       anywhere else (mid-phrase)
  {um} {uh} {erm}   a vocal filler (speaking time, not a word)
  <like> <you know> a discourse marker (words, and fillers)

Pieces carry their punctuation to the synthesiser, so a piece before a mid-phrase pause ends
on a continuing "," and a sentence on a falling ".": the prosody a turn detector would hear.
The answer ends on its last word: there is no pause after it (what follows is the bench's).

The truth (bench/speech_media.py's definitions: vocal fillers are not words, discourse
markers are words and fillers; wpm is words per minute of speaking time, pauses left out) is
exact by construction. Answers recorded from people can be added from WAV files and a JSON
truth file with `load_recordings` (`write_corpus` writes that format, so it round-trips).

Run: .venv/bin/python -m bench.answer_corpus [--write DIR] prints a summary (and writes WAVs
and truth.json to DIR).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import wave
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np
from scipy.signal import resample_poly

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.question_bank import CATEGORIES  # noqa: E402
from bench.speech_media import (  # noqa: E402
    SAMPLE_RATE,
    EspeakVoice,
    Marker,
    Part,
    PiperJoeVoice,
    Say,
    Silence,
    Synthesizer,
    TrueFiller,
    TruePause,
    Um,
    build_clip,
)
from scoring.speech import is_token, is_vocal_filler  # noqa: E402

SEED = 20261203
MIN_ANSWER_S, MAX_ANSWER_S = 20.0, 60.0
PAUSE_KINDS = ("sentence", "inside", "filler", "conjunction")
# Pause lengths, drawn per rendering: a bucket from this cycle (a random rotation), then a
# length uniform in it. Two thirds of the pauses fall in 1-3 s, where cutting in hurts most.
PAUSE_BUCKETS_S = ((1.0, 2.0), (2.0, 3.0), (0.5, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 4.0), (0.5, 1.0), (1.0, 2.0), (2.0, 3.0))
ESPEAK_VOICES = ("en-us", "en-gb+m3", "en-us+f2", "en-us+m7")
# Rates: espeak's -s and Piper's length scale as set. Pieces are trimmed of the synthesiser's
# own pauses, so the true rate (words per minute of speaking time) comes out higher than the
# nominal one: these ranges give about 160-230 wpm, a brisk but human articulation rate.
ESPEAK_RATES = (130, 175)
PIPER_LENGTH_SCALES = (1.0, 1.3)
TRAILING_CONJUNCTIONS = frozenset("and so because but or then which that".split())


# -- the scripts -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Script:
    """A hand-written answer: what it is called, what it answers, and its text with marks."""

    name: str
    shape: str  # star | ethics | short
    category: str  # behavioral | mmi: the interview it suits
    text: str


SCRIPTS: tuple[Script, ...] = (
    # -- behavioral STAR stories: situation, task, action, then the result near the end ----
    Script("release-process", "star", "behavioral",
           "At my last job our release process was completely manual. | We shipped once a month {um} | "
           "and almost every release broke something for customers. | My task was to make releases safe "
           "without slowing the team down. | So I started with a checklist, | and then, | we automated the "
           "riskiest steps one at a time. | It was <like> | slow at first because, | people did not trust "
           "the scripts. | As a result we cut release errors by forty percent and we now ship every week."),
    Script("api-disagreement", "star", "behavioral",
           "In my previous team two senior engineers disagreed about how to design a new payments "
           "interface. | {uh} | The argument had gone on for two weeks, | and the project was stuck. | I was "
           "the tech lead so it was my job to, | get us to a decision. | I asked each of them to write "
           "down their design and the risks they saw, | and, | we reviewed both with the whole team. | "
           "<you know> | Once it was written down the differences were small. | In the end we merged the "
           "two designs and shipped the interface a week early."),
    Script("outage", "star", "behavioral",
           "Last year I was on call when our main database ran out of disk space on a Friday night. | "
           "Orders were failing for every customer so, | the first thing I did was, | {erm} | stop the "
           "nightly batch jobs that were filling the disk. | Then I called our database expert because, | "
           "I had never resized a production volume. | We fixed it together in about an hour. | On "
           "Monday I wrote up what happened {um} | and I added an alert at eighty percent full. | Since "
           "then we have had no outages of that kind."),
    Script("mentoring", "star", "behavioral",
           "When I joined my current company I was asked to mentor a new graduate who was struggling. "
           "| He was <like> | afraid to ask questions, | and his pull requests sat for days. | So I set up "
           "short pairing sessions twice a week, | and, | I showed him how I break a problem into small "
           "steps. | {um} | I also asked the team to review his code within a day. | After two months he "
           "was closing tickets on his own, | and the result was that he got the best review in his "
           "group that year."),
    Script("pipeline-bug", "star", "behavioral",
           "A large customer told us that their monthly report was missing about a third of their "
           "data. | {uh} | I owned the data pipeline so, | it was up to me to find out why. | I compared "
           "the raw events with the report, | and, | I found that events arriving after midnight were "
           "dropped by a time zone bug. | I fixed the bug, | {um} | rebuilt the missing reports, | and "
           "called the customer myself to explain. | They renewed their contract that quarter and we "
           "added a test for every time zone."),
    Script("cloud-migration", "star", "behavioral",
           "At a small startup I was asked to move our servers to the cloud with almost no budget. | "
           "Our old machines were, | <you know> | about to run out of support. | I made a list of every "
           "service and ranked them by risk, | and then, | I moved the simple ones first to learn the "
           "tools. | {erm} | For the database we used a read copy because, | we could not afford any "
           "downtime. | The whole move took three months and our hosting costs fell by a third."),
    Script("manager-priorities", "star", "behavioral",
           "My manager once wanted us to build a new dashboard while our error rate was climbing. | I "
           "thought the errors mattered more, | {um} | but I did not want to just refuse. | So I pulled the "
           "numbers, | and showed her that the errors were costing us support tickets every day. | I "
           "suggested we spend one week on the errors first, | and, | then build the dashboard. | She "
           "agreed, | and as a result support tickets dropped by half before the dashboard even "
           "shipped."),
    Script("unwanted-feature", "star", "behavioral",
           "One of my projects was a feature that nobody ended up using. | {uh} | We had spent two months "
           "on an export tool because, | one customer had asked for it. | When I looked at the usage data "
           "it was, | <like> | almost zero. | I owned that mistake, | and, | I started talking to five "
           "customers before we build anything big. | {um} | We now write a one page problem statement "
           "first. | Since then our new features get used by most customers in the first month."),
    # -- medical-school MMI / ethics: weigh considerations, then a clear conclusion ----------
    Script("transfusion", "ethics", "mmi",
           "This is a difficult situation because, | the patient has the right to refuse treatment "
           "even if it might save her life. | {um} | On one hand the doctor has a duty to act in her "
           "best interests. | On the other hand she is an adult with capacity, | and, | she has made "
           "her values clear. | I would first make sure she understands the risks, | {erm} | and "
           "that nobody is pressuring her. | I would also offer alternatives such as, | medicines that "
           "reduce bleeding. | So overall I would respect her decision and keep supporting her care."),
    Script("exam-cheating", "ethics", "mmi",
           "If I saw a friend cheating in an exam I would feel torn, | {uh} | because I care about "
           "the friendship. | But medicine depends on trust | and on doctors being honest about "
           "what they know. | I would speak to my friend first, | <you know> | privately, | and ask "
           "what was going on because, | there might be stress at home. | {um} | I would encourage "
           "them to go to the tutor themselves. | If they refused, | I think I would have to report "
           "it because patient safety has to come first."),
    Script("icu-bed", "ethics", "mmi",
           "With one intensive care bed and two patients the decision should not be about who they "
           "are. | {erm} | It should be based on clinical need, | and on who is likely to benefit "
           "most. | I would want to know, | how sick each patient is, | and whether either could be "
           "safely moved to another hospital. | {um} | I would not make this call alone because, | "
           "these decisions need a senior doctor and a clear policy. | So overall I would follow the "
           "clinical criteria and explain the decision honestly to both families."),
    Script("colleague-alcohol", "ethics", "mmi",
           "If a colleague smelled of alcohol before an operation, | my first concern would be the "
           "patient. | {um} | I would not want to embarrass them in front of others, | so, | I would "
           "speak to them privately and ask if they are alright. | They might be unwell, | <like> | or "
           "it might be something else. | But if there is any doubt that they are safe to operate, | "
           "{uh} | I would tell the senior doctor straight away. | So overall I would put patient "
           "safety first and then make sure my colleague gets support."),
    # -- complete short answers of about 20 s -----------------------------------------------
    Script("strength", "short", "behavioral",
           "I would say my biggest strength is that I stay calm when things go wrong. | {um} | When our "
           "site went down last spring I kept the team focused on one fix at a time, | and we had the site back "
           "up within the hour. | I think that comes from working support shifts early in my career."),
    Script("feedback", "short", "behavioral",
           "I try to treat feedback as information, | not as criticism. | In my last review my manager "
           "said my updates were too long so, | I started writing three bullet points instead. | She "
           "told me later that it made planning much easier. | {um} | I also ask for feedback early now "
           "instead of waiting for my review."),
    Script("why-company", "short", "behavioral",
           "I want to work here because your product is used by people I know. | {uh} | I also like that "
           "your teams own their services from design to support, | <you know> | that is how I work best. | "
           "I have been reading your engineering blog for a year and the posts about testing really stood out."),
    Script("five-years", "short", "behavioral",
           "In five years I hope to be leading a small team. | I enjoy helping other engineers grow, | "
           "{erm} | and I would like to keep writing code as well. | I think this role is a good step "
           "toward that, | because most of all I want to be someone new engineers can come to for help."),
)  # fmt: skip


_TOKEN = re.compile(r"\{(um|uh|erm)\}|<([^>]+)>|(\|)|([^{<|]+)")


def parse_script(text: str, pauses_s: Iterable[float]) -> tuple[Part, ...]:
    """The parts of a script with marks, its pauses given these lengths in order (see the top)."""
    lengths = iter(pauses_s)
    parts: list[Part] = []
    for filler, marker, pause, words in _TOKEN.findall(text):
        if filler:
            parts.append(Um(filler))
        elif marker:
            parts.append(Marker(marker.strip()))
        elif pause:
            parts.append(Silence(next(lengths), _pause_kind(parts[-1])))
        elif words.strip():
            parts.append(Say(" ".join(words.split())))
    if not parts or isinstance(parts[-1], Silence):
        raise ValueError("an answer must end on speech")
    return tuple(parts)


def _pause_kind(before: Part) -> str:
    if isinstance(before, Um | Marker):
        return "filler"
    assert isinstance(before, Say), "two pauses in a row"
    if before.text.endswith("."):
        return "sentence"
    if before.text.rstrip(",").split()[-1].lower() in TRAILING_CONJUNCTIONS:
        return "conjunction"
    return "inside"


def pause_slots(script: Script) -> int:
    return script.text.count("|")


# -- the corpus --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class CorpusAnswer:
    """A spoken answer and the exact truth about it. Times are seconds from the clip's start."""

    name: str  # script@family, e.g. "outage@piper"
    voice: str  # the synthesiser, e.g. "espeak:en-gb+m3@160", "piper:joe@1.05", "recorded:..."
    family: str  # espeak | piper | recorded
    category: str  # behavioral | mmi: the interview it suits
    shape: str  # star | ethics | short | recorded
    samples: np.ndarray  # 16 kHz float32 mono: lead-in silence, the answer, tail silence
    stretches: tuple[tuple[float, float], ...]  # speech between the pauses, (start, end)
    pauses: tuple[TruePause, ...]  # each with its kind (PAUSE_KINDS)
    fillers: tuple[TrueFiller, ...]
    words: int
    speaking_s: float
    transcript: str

    @property
    def speech_start_s(self) -> float:
        return self.stretches[0][0]

    @property
    def speech_end_s(self) -> float:
        """Just after the answer's last speech sample: the answer's end."""
        return self.stretches[-1][1]

    @property
    def answer_s(self) -> float:
        return self.speech_end_s - self.speech_start_s

    @property
    def wpm(self) -> float:
        return 60.0 * self.words / self.speaking_s

    def spoken_samples(self) -> np.ndarray:
        """The samples from the first speech sample to the last: what a microphone should play."""
        return self.samples[round(self.speech_start_s * SAMPLE_RATE) : round(self.speech_end_s * SAMPLE_RATE)]


@dataclass(frozen=True, slots=True)
class Rendering:
    """How one answer is spoken: which script, which voice, which pause lengths (cheap to make)."""

    script: Script
    family: str
    voice: Synthesizer
    pauses_s: tuple[float, ...]

    @property
    def name(self) -> str:
        return f"{self.script.name}@{self.family}"


def plan(seed: int = SEED) -> list[Rendering]:
    """Every script by both families, with its voice and pause lengths; no audio is made yet."""
    rng = np.random.default_rng(seed)
    out: list[Rendering] = []
    for i, script in enumerate(SCRIPTS):
        rate = int(rng.integers(ESPEAK_RATES[0], ESPEAK_RATES[1] + 1))
        espeak = EspeakVoice(rate, ESPEAK_VOICES[i % len(ESPEAK_VOICES)])
        piper = PiperJoeVoice(round(float(rng.uniform(*PIPER_LENGTH_SCALES)), 2))
        for family, voice in (("espeak", espeak), ("piper", piper)):
            out.append(Rendering(script, family, voice, _pause_lengths(rng, pause_slots(script))))
    return out


def _pause_lengths(rng: np.random.Generator, n: int) -> tuple[float, ...]:
    rotation = int(rng.integers(len(PAUSE_BUCKETS_S)))
    buckets = [PAUSE_BUCKETS_S[(rotation + k) % len(PAUSE_BUCKETS_S)] for k in range(n)]
    rng.shuffle(buckets)
    return tuple(round(float(rng.uniform(lo, hi)), 2) for lo, hi in buckets)


def render(rendering: Rendering, noise_seed: int = SEED) -> CorpusAnswer:
    """Speak one planned answer (espeak-ng or Piper; a few seconds of CPU for Piper)."""
    script = rendering.script
    clip = build_clip(
        rendering.name,
        getattr(rendering.voice, "rate", 0),
        parse_script(script.text, rendering.pauses_s),
        voice=rendering.voice,
        noise_seed=noise_seed + sum(map(ord, rendering.name)),
    )
    return CorpusAnswer(
        name=rendering.name,
        voice=clip.voice,
        family=rendering.family,
        category=script.category,
        shape=script.shape,
        samples=clip.samples,
        stretches=clip.stretches,
        pauses=clip.pauses,
        fillers=clip.fillers,
        words=clip.words,
        speaking_s=clip.speaking_s,
        transcript=clip.transcript,
    )


def build_corpus(names: Sequence[str] | None = None, *, seed: int = SEED) -> list[CorpusAnswer]:
    """The corpus in plan order (or only the named answers, "script@family"); the same every time."""
    renderings = [r for r in plan(seed) if names is None or r.name in names]
    if names is not None and len(renderings) != len(set(names)):
        unknown = set(names) - {r.name for r in renderings}
        raise ValueError(f"unknown answers: {sorted(unknown)}")
    return [render(r) for r in renderings]


def check(corpus: Sequence[CorpusAnswer]) -> list[str]:
    """What is wrong with a corpus for the bench (answer lengths, pause lengths), as messages."""
    problems = []
    for answer in corpus:
        if not MIN_ANSWER_S <= answer.answer_s <= MAX_ANSWER_S:
            problems.append(f"{answer.name}: {answer.answer_s:.1f} s is outside {MIN_ANSWER_S:g}-{MAX_ANSWER_S:g} s")
        for pause in answer.pauses:
            if not 0.5 <= pause.duration_s <= 4.0 or pause.kind not in PAUSE_KINDS:
                problems.append(f"{answer.name}: a {pause.kind or 'kindless'} pause of {pause.duration_s} s")
    return problems


def summary(corpus: Sequence[CorpusAnswer]) -> dict[str, object]:
    """Counts and ranges of a corpus (what the bench will play)."""
    pauses = [p for a in corpus for p in a.pauses]
    return {
        "answers": len(corpus),
        "by_family": dict(Counter(a.family for a in corpus)),
        "by_shape": dict(Counter(a.shape for a in corpus)),
        "answer_s": [round(min(a.answer_s for a in corpus), 1), round(max(a.answer_s for a in corpus), 1)],
        "total_answer_min": round(sum(a.answer_s for a in corpus) / 60, 1),
        "wpm": [round(min(a.wpm for a in corpus)), round(max(a.wpm for a in corpus))],
        "pauses": len(pauses),
        "pauses_by_kind": dict(Counter(p.kind for p in pauses)),
        "pauses_by_bucket": dict(Counter(pause_bucket(p.duration_s) for p in pauses)),
        "fillers": sum(len(a.fillers) for a in corpus),
        "words": sum(a.words for a in corpus),
    }


def pause_bucket(duration_s: float) -> str:
    """The length bucket a pause falls in: "0.5-1", "1-2", "2-3", "3-4", "4+" (s, lower bound included;
    the synthetic corpus has none over 4 s, recordings may)."""
    for lo, hi, label in ((0.0, 1.0, "0.5-1"), (1.0, 2.0, "1-2"), (2.0, 3.0, "2-3"), (3.0, 4.0, "3-4")):
        if lo <= duration_s < hi:
            return label
    return "4+"


# -- recordings: the same format on disk -------------------------------------------------------


def write_corpus(corpus: Sequence[CorpusAnswer], directory: Path) -> Path:
    """Write each answer as a 16 kHz s16 WAV and the truth of all as truth.json (the format
    `load_recordings` reads); returns the JSON's path."""
    directory.mkdir(parents=True, exist_ok=True)
    wavs = []
    for answer in corpus:
        wav_name = f"{answer.name.replace('@', '-')}.wav"
        with wave.open(str(directory / wav_name), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes((np.clip(answer.samples, -1, 1) * 32767).astype(np.int16).tobytes())
        wavs.append(wav_name)
    return write_truth(corpus, wavs, directory)


def write_truth(corpus: Sequence[CorpusAnswer], wavs: Sequence[str], directory: Path) -> Path:
    """truth.json for answers whose audio is in `directory` under the names `wavs`."""
    entries = [
        {
            "name": answer.name,
            "wav": wav_name,
            "voice": answer.voice,
            "category": answer.category,
            "shape": answer.shape,
            "stretches": [list(s) for s in answer.stretches],
            "pauses": [{"start_s": p.start_s, "duration_s": p.duration_s, "kind": p.kind} for p in answer.pauses],
            "fillers": [{"at_s": f.at_s, "end_s": f.end_s, "text": f.text} for f in answer.fillers],
            "words": answer.words,
            "speaking_s": answer.speaking_s,
            "transcript": answer.transcript,
        }
        for answer, wav_name in zip(corpus, wavs, strict=True)
    ]
    path = directory / "truth.json"
    path.write_text(json.dumps({"sample_rate": SAMPLE_RATE, "answers": entries}, indent=1))
    return path


def load_recordings(truth_json: Path) -> list[CorpusAnswer]:
    """Answers recorded from people: audio files (`read_wav`: WAV of any rate, width and channels,
    or FLAC, MP3, …) beside a truth file.

    The truth file: {"answers": [{"name", "wav" (path relative to the file), "category" (a
    question category: behavioral, technical, system_design, case, mmi), "stretches":
    [[start_s, end_s], ...] (speech between the pauses),
    "pauses": [{"start_s", "duration_s", "kind"}], "fillers": [{"at_s", "end_s", "text"}],
    "words", "transcript", optional "voice", "shape", "speaking_s"}]}, times in seconds from
    the file's start. Without "speaking_s", speaking time is the stretches' total."""
    data = json.loads(truth_json.read_text())
    out = []
    for entry in data["answers"]:
        if entry["category"] not in CATEGORIES:
            raise ValueError(f"{entry['name']}: category {entry['category']!r} is not one of {', '.join(CATEGORIES)}")
        samples = read_wav(truth_json.parent / entry["wav"])
        stretches = tuple((float(a), float(b)) for a, b in entry["stretches"])
        out.append(
            CorpusAnswer(
                name=entry["name"],
                voice=entry.get("voice", f"recorded:{entry['name']}"),
                family=entry.get("voice", "recorded").split(":")[0],
                category=entry["category"],
                shape=entry.get("shape", "recorded"),
                samples=samples,
                stretches=stretches,
                pauses=tuple(TruePause(p["start_s"], p["duration_s"], p.get("kind", "")) for p in entry["pauses"]),
                fillers=tuple(TrueFiller(f["at_s"], f["end_s"], f["text"]) for f in entry["fillers"]),
                words=int(entry["words"]),
                speaking_s=float(entry.get("speaking_s") or sum(b - a for a, b in stretches)),
                transcript=entry["transcript"],
            )
        )
    return out


# -- truth for a recording whose words are known but whose timing is not ---------------------

FRAME_S = 0.01
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".webm")  # recordings read
MIN_PAUSE_S = 0.5  # a shorter gap is inside a stretch (every true pause is at least this long)
MIN_STRETCH_S = 0.08  # a shorter burst is a click, not speech
UNDER_VOICE_DB = 40.0  # a frame this far under the voice's level is silence ...
OVER_FLOOR_DB = 10.0  # ... and so is one this close to the room's floor
_MARKER = re.compile(r"<([^>]+)>")


def frame_db(samples: np.ndarray) -> np.ndarray:
    """The level of each FRAME_S frame of `samples` (16 kHz), in dBFS."""
    hop = round(FRAME_S * SAMPLE_RATE)
    frames = samples[: len(samples) // hop * hop].astype(np.float64).reshape(-1, hop)
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, past last) index of each run of True in `mask`."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def truth_for_recording(
    name: str, samples: np.ndarray, transcript: str, category: str, voice: str = ""
) -> CorpusAnswer:
    """The truth of a recorded answer from its audio and what was said, for the turn-taking bench.

    Speech stretches come from the signal's energy, not from any model the product uses: 10 ms
    frames louder than both the voice's level (their 95th percentile) less UNDER_VOICE_DB and the
    floor (10th percentile) plus OVER_FLOOR_DB are speech; bursts under MIN_STRETCH_S are dropped
    and gaps under MIN_PAUSE_S joined, so every pause is at least 0.5 s, as in the synthetic
    corpus. Words and fillers come from the transcript (`recorded_answer`)."""
    db = frame_db(samples)
    threshold = max(float(np.percentile(db, 95)) - UNDER_VOICE_DB, float(np.percentile(db, 10)) + OVER_FLOOR_DB)
    runs = [(a * FRAME_S, b * FRAME_S) for a, b in runs_of(db > threshold)]
    speech = [(a, b) for a, b in runs if b - a >= MIN_STRETCH_S]
    return recorded_answer(name, samples, speech, transcript, category, voice)


def recorded_answer(
    name: str,
    samples: np.ndarray,
    speech: Sequence[tuple[float, float]],
    transcript: str,
    category: str,
    voice: str = "",
) -> CorpusAnswer:
    """A recording's truth from where its speech is (`speech`, (start s, end s) in order; gaps
    under MIN_PAUSE_S are joined into one stretch) and what was said. "um", "uh", "erm" and "hmm"
    are vocal fillers (not words); a discourse filler is marked as the scripts mark it, "<like>"
    or "<you know>" (a word and a filler). Pause kinds and filler times are unknown ("" and -1)."""
    stretches: list[tuple[float, float]] = []
    for start, end in speech:
        if stretches and start - stretches[-1][1] < MIN_PAUSE_S:
            stretches[-1] = (stretches[-1][0], end)
        else:
            stretches.append((start, end))
    if not stretches:
        raise ValueError(f"{name}: no speech found")
    pauses = tuple(TruePause(round(a[1], 3), round(b[0] - a[1], 3)) for a, b in zip(stretches, stretches[1:]))
    tokens = _MARKER.sub(r"\1", transcript).split()
    fillers = [TrueFiller(-1.0, -1.0, t.strip(",.;:!?")) for t in tokens if is_vocal_filler(t)]
    fillers += [TrueFiller(-1.0, -1.0, m) for m in _MARKER.findall(transcript)]
    return CorpusAnswer(
        name=name,
        voice=voice or f"recorded:{name}",
        family="recorded",
        category=category,
        shape="recorded",
        samples=samples.astype(np.float32),
        stretches=tuple((round(a, 3), round(b, 3)) for a, b in stretches),
        pauses=pauses,
        fillers=tuple(fillers),
        words=sum(1 for t in tokens if is_token(t) and not is_vocal_filler(t)),
        speaking_s=round(sum(b - a for a, b in stretches), 3),
        transcript=_MARKER.sub(r"\1", transcript).strip(),
    )


def truth_for_directory(directory: Path, category: str) -> Path:
    """Every recording `NAME.wav` (or .flac, .mp3, … : AUDIO_SUFFIXES) in `directory` with its
    words in `NAME.txt`: their truth, written as `directory/truth.json` (the format
    `load_recordings` and `bench.turn_taking --recordings` read)."""
    answers, wavs = [], []
    for wav in sorted(p for p in directory.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
        words = wav.with_suffix(".txt")
        if not words.exists():
            print(f"{wav.name}: no {words.name} beside it; skipped", file=sys.stderr)
            continue
        answers.append(truth_for_recording(wav.stem, read_wav(wav), words.read_text(), category))
        wavs.append(wav.name)
    if not answers:
        raise SystemExit(f"{directory}: no recording with its transcript (NAME.wav and NAME.txt)")
    return write_truth(answers, wavs, directory)


def read_wav(source: Path | BinaryIO, name: str = "") -> np.ndarray:
    """16 kHz float32 mono from a recording: a 16-bit PCM WAV file (any rate, mono or stereo)
    read directly, anything else FFmpeg decodes (24- or 32-bit or float WAV, FLAC, MP3, Ogg,
    M4A) through PyAV."""
    label = name or getattr(source, "name", "") or "the recording"
    try:
        with wave.open(str(source) if isinstance(source, Path) else source) as w:
            if w.getsampwidth() == 2:
                rate, channels = w.getframerate(), w.getnchannels()
                pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, channels)
                return _to_rate(pcm.mean(axis=1) / 32768.0, rate)
    except (wave.Error, EOFError):
        pass  # not a WAV the wave module reads (WAVE_FORMAT_EXTENSIBLE, float, FLAC, …)
    if not isinstance(source, Path):
        source.seek(0)
    return _decode(source, label)


def _decode(source: Path | BinaryIO, label: str) -> np.ndarray:
    try:
        with av.open(str(source) if isinstance(source, Path) else source) as container:
            if not container.streams.audio:
                raise ValueError(f"{label}: no audio in it")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            chunks = [
                out.to_ndarray().reshape(-1)
                for frame in container.decode(audio=0)
                for out in resampler.resample(frame)
            ]
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    except av.FFmpegError as e:
        raise ValueError(f"{label}: not a recording FFmpeg can read ({e})") from None
    if not chunks:
        raise ValueError(f"{label}: no audio in it")
    return np.concatenate(chunks).astype(np.float32)


def _to_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate != SAMPLE_RATE:
        g = np.gcd(SAMPLE_RATE, rate)
        samples = resample_poly(samples, SAMPLE_RATE // g, rate // g)
    return samples.astype(np.float32)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.answer_corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, help="write the WAVs and truth.json here")
    parser.add_argument(
        "--truth-for",
        type=Path,
        metavar="DIR",
        help="recordings: write DIR/truth.json for each NAME.wav (.flac, .mp3, …) in DIR with its words in NAME.txt",
    )
    parser.add_argument("--category", choices=CATEGORIES, default="behavioral", help="with --truth-for")
    args = parser.parse_args(argv)
    if args.truth_for:
        path = truth_for_directory(args.truth_for, args.category)
        corpus = load_recordings(path)
        for a in corpus:
            line = f"{a.name:28s} {a.answer_s:5.1f} s {a.wpm:5.0f} wpm {a.words:4d} words {len(a.pauses):2d} pauses"
            print(line, file=sys.stderr)
        print(f"wrote {path}", file=sys.stderr)
        print(json.dumps(summary(corpus)))
        return
    corpus = build_corpus()
    for a in corpus:
        print(
            f"{a.name:28s} {a.voice:22s} {a.answer_s:5.1f} s {a.wpm:5.0f} wpm {a.words:4d} words "
            f"{len(a.pauses):2d} pauses {len(a.fillers):2d} fillers",
            file=sys.stderr,
        )
    for problem in check(corpus):
        print(f"problem: {problem}", file=sys.stderr)
    if args.write:
        print(f"wrote {write_corpus(corpus, args.write)}", file=sys.stderr)
    print(json.dumps(summary(corpus)))


if __name__ == "__main__":
    main()
