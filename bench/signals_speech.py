"""Measure the speech signals: Praat's cost, and pace, pause and filler accuracy against known truth.

The truth comes from bench/speech_media.py (espeak-ng speech with exact silences and
fillers, over -60 dBFS noise). Recognition is the product's own: WhisperEngine (tiny.en,
word timestamps), with FILLER_PROMPT and without it. Modes (the JSON has each):

- live (the primary numbers): the answer is cut at silences of at least VAD_MIN_SILENCE_S,
  as the live STT's VAD cuts utterances; each utterance is transcribed on its own (with the
  prompt), as the product's filler pass hears them when it keeps up, and fed to SpeechSignals
  with its own speech start, together with the prosody stage's loudness windows that would
  have arrived by then;
- backlog: the same utterances all waiting for the product's filler pass (media/filler_pass.py),
  as when it has fallen behind: heard together in batches of up to its BATCH_AUDIO_S, with all
  the loudness; "decodes" says how many;
- live_no_prosody: the same transcripts without loudness (Whisper's word times only);
- live_no_prompt: transcribed without FILLER_PROMPT;
- whole, whole_no_prosody, whole_no_prompt: each ~20 s answer transcribed in one call.

Metrics: wpm_err_pct, mean |wpm - true| / true over the clips; pause_err_ms, mean absolute
duration error of the true pauses >= 0.5 s, each matched to the detected pause overlapping
it most; filler recall and precision, a detected filler matching a true one when it starts
within 0.5 s of it (one to one).

Usage: python bench/signals_speech.py [--quick] [--spellings]; the last stdout line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.speech_media import (  # noqa: E402
    RATES,
    SAMPLE_RATE,
    SyntheticSpeech,
    interview_clips,
    synthesize,
)
from agent.stt_whisper import RecognizedUtterance  # noqa: E402
from media.filler_pass import FillerPass  # noqa: E402
from media.prosody import ProsodyAnalyser  # noqa: E402
from media.speech_signals import Filler, Pause, SpeechSignals  # noqa: E402

FILLER_MATCH_S = 0.5  # a detected filler counts if it starts within this of a true one
PAUSE_MATCH_MIN_S = 0.5  # pause_err_ms covers true pauses at least this long
VAD_MIN_SILENCE_S = 0.3  # greenroom.settings.Settings.vad_min_silence_s
VAD_PADDING_S = 0.2  # audio kept around each utterance, as the VAD's prefix padding does
VAD_FLOOR_DBFS = -45.0  # the synthetic audio is clean: anything above this is speech
CHUNK_S = 0.02  # audio arrives in 20 ms frames
UTTERANCE_DELAY_S = 0.45  # speech end → final transcript: VAD silence 0.3 s + the last transcription


def pitch_cost(seconds: float = 20.0) -> dict[str, float]:
    """Praat's cost per second of speech, fed in 20 ms chunks as the media consumer would."""
    speech = synthesize(
        "I have always wanted to work with people in a practical way and this role lets me do that",
        150,
    )
    audio = np.tile(np.concatenate([speech, np.zeros(SAMPLE_RATE // 2, np.float32)]), 10)
    audio = audio[: int(seconds * SAMPLE_RATE)]
    analyser = ProsodyAnalyser(SAMPLE_RATE, 100)
    chunk = int(CHUNK_S * SAMPLE_RATE)
    started = time.perf_counter()
    windows = []
    for i in range(0, len(audio), chunk):
        windows.extend(analyser.push(audio[i : i + chunk]))
    windows.extend(analyser.flush())
    total_s = time.perf_counter() - started
    voiced = [w for w in windows if w.voiced]
    return {
        "pitch_ms_per_s": round(analyser.pitch_ms_per_s, 2),
        "prosody_ms_per_s": round(1000.0 * total_s / (len(audio) / SAMPLE_RATE), 2),
        "prosody_latency_s": analyser.latency_s,
        "voiced_fraction": round(len(voiced) / len(windows), 3),
        "median_f0_hz": round(float(np.median([w.f0_hz for w in voiced])), 1),
    }


def utterance_spans(clip: SyntheticSpeech) -> list[tuple[float, float]]:
    """(start, end) seconds of each utterance, cut where the audio is silent for VAD_MIN_SILENCE_S."""
    frame = int(CHUNK_S * SAMPLE_RATE)
    n = len(clip.samples) // frame
    rms = np.sqrt(np.mean(clip.samples[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1))
    speech = 20 * np.log10(rms + 1e-12) > VAD_FLOOR_DBFS
    spans: list[tuple[float, float]] = []
    start = last = None
    for i, is_speech in enumerate(speech):
        if not is_speech:
            continue
        if start is not None and (i - last - 1) * CHUNK_S >= VAD_MIN_SILENCE_S:
            spans.append((start * CHUNK_S, (last + 1) * CHUNK_S))
            start = None
        if start is None:
            start = i
        last = i
    if start is not None:
        spans.append((start * CHUNK_S, (last + 1) * CHUNK_S))
    return spans


def _analyse(engine, clip: SyntheticSpeech, prompt: str | None, live: bool, prosody: bool, cache: dict) -> dict:
    """Transcribe one clip, run SpeechSignals over it (with or without loudness), score it against the truth."""
    signals = SpeechSignals(min_pace_speaking_s=0.0)
    analyser = ProsodyAnalyser(SAMPLE_RATE, 100)
    fed = 0  # samples pushed into the prosody analyser so far
    events = []
    windows = padded_utterances(clip) if live else [(0.0, clip.duration_s, 0.0, clip.duration_s)]
    words_heard = []
    for start, end, lo, hi in windows:
        key = (clip.name, lo, hi, prompt)
        if key not in cache:
            audio = clip.samples[int(lo * SAMPLE_RATE) : int(hi * SAMPLE_RATE)]
            cache[key] = engine.transcribe_sync(audio, prompt=prompt)
        result = cache[key]
        lead = start - lo
        words = [_Shifted(w.text, w.start - lead, w.end - lead) for w in result.words]
        words_heard.extend(w.text for w in words)
        if prosody:
            # Only the loudness that would have arrived by then: the utterance is final after the
            # VAD's silence and the last transcription; prosody lags by its block.
            arrived = min(len(clip.samples), int((end + UTTERANCE_DELAY_S) * SAMPLE_RATE)) if live else len(clip.samples)
            windows = analyser.push(clip.samples[fed:arrived])
            fed = arrived
            if not live:
                windows += analyser.flush()
            signals.on_prosody(windows, 0.0)
        events.extend(signals.on_utterance(start, words, result.text))
    summary = signals.summary()
    pauses = [e for e in events if isinstance(e, Pause)]
    fillers = [e for e in events if isinstance(e, Filler)]
    matched_pauses = _match_pauses(clip, pauses)
    filler_hits = _match_fillers(clip, fillers)
    return {
        "wpm_true": clip.wpm,
        "wpm": summary.wpm or 0.0,
        "pause_errors_s": [abs(d - t) for t, d in matched_pauses],
        "pauses_true": sum(1 for p in clip.pauses if p.duration_s >= PAUSE_MATCH_MIN_S),
        "pauses_false": sum(1 for p in pauses if not _overlaps_truth(clip, p)),
        "fillers_true": len(clip.fillers),
        "fillers_found": len(fillers),
        "filler_hits": filler_hits,
        "heard": " ".join(words_heard),
        "filler_times": [round(float(f.at), 2) for f in fillers],
    }


def _analyse_backlog(engine, clip: SyntheticSpeech, prompt: str | None, cache: dict) -> dict:
    """As `_analyse` live, with every utterance waiting for the product's filler pass at once."""
    signals = SpeechSignals(min_pace_speaking_s=0.0)
    analyser = ProsodyAnalyser(SAMPLE_RATE, 100)
    signals.on_prosody(analyser.push(clip.samples) + analyser.flush(), 0.0)
    events: list = []
    words_heard: list[str] = []
    compute = [0.0]

    def take(utterance: RecognizedUtterance, words) -> None:
        words_heard.extend(w.text for w in words)
        events.extend(signals.on_utterance(utterance.speech_start_at, words))

    async def transcriber(samples: np.ndarray):
        started = time.perf_counter()
        heard = engine.transcribe_sync(samples, prompt=prompt)
        compute[0] += time.perf_counter() - started
        return heard

    async def run() -> int:
        fillers = FillerPass(transcriber, take=take, question_end=signals.on_question_end, wall_clock=lambda: 0.0)
        for start, end, lo, hi in padded_utterances(clip):
            audio = clip.samples[int(lo * SAMPLE_RATE) : int(hi * SAMPLE_RATE)]
            key = (clip.name, lo, hi, "live")
            if key not in cache:  # what the conversation's recogniser heard: its short window, no prompt
                cache[key] = engine.transcribe_sync(audio, short_context=True)
            live, lead = cache[key], start - lo
            words = tuple(_Shifted(w.text, w.start - lead, w.end - lead) for w in live.words)
            fillers.add(RecognizedUtterance(live.text, words, start, end, 0.0, audio=audio, audio_lead_s=lead))
        await fillers.aclose(600.0)
        return fillers.decodes

    decodes = asyncio.run(run())
    pauses = [e for e in events if isinstance(e, Pause)]
    found = [e for e in events if isinstance(e, Filler)]
    return {
        "wpm_true": clip.wpm,
        "wpm": signals.summary().wpm or 0.0,
        "pause_errors_s": [abs(d - t) for t, d in _match_pauses(clip, pauses)],
        "pauses_true": sum(1 for p in clip.pauses if p.duration_s >= PAUSE_MATCH_MIN_S),
        "pauses_false": sum(1 for p in pauses if not _overlaps_truth(clip, p)),
        "fillers_true": len(clip.fillers),
        "fillers_found": len(found),
        "filler_hits": _match_fillers(clip, found),
        "heard": " ".join(words_heard),
        "filler_times": [round(float(f.at), 2) for f in found],
        "decodes": decodes,
        "decode_s": compute[0],
    }


class _Shifted:
    """A word moved onto the utterance's speech start (what WhisperSTT does with its lead)."""

    __slots__ = ("text", "start", "end")

    def __init__(self, text: str, start: float, end: float) -> None:
        self.text, self.start, self.end = text, max(0.0, start), max(0.0, end)


def _match_pauses(clip: SyntheticSpeech, pauses: Sequence[Pause]) -> list[tuple[float, float]]:
    """(true, detected) durations of true pauses ≥ PAUSE_MATCH_MIN_S and the detected pause overlapping most."""
    pairs = []
    used: set[int] = set()
    for truth in clip.pauses:
        if truth.duration_s < PAUSE_MATCH_MIN_S:
            continue
        t0, t1 = truth.start_s, truth.start_s + truth.duration_s
        best, best_overlap = None, 0.0
        for i, p in enumerate(pauses):
            overlap = min(t1, p.start_at + p.duration_s) - max(t0, p.start_at)
            if i not in used and overlap > best_overlap:
                best, best_overlap = i, overlap
        if best is not None:
            used.add(best)
            pairs.append((truth.duration_s, pauses[best].duration_s))
    return pairs


def _overlaps_truth(clip: SyntheticSpeech, pause: Pause) -> bool:
    """Whether a detected pause overlaps any inserted silence (if not, it is a false pause)."""
    end = pause.start_at + pause.duration_s
    return any(min(end, t.start_s + t.duration_s) > max(pause.start_at, t.start_s) for t in clip.pauses)


def _match_fillers(clip: SyntheticSpeech, fillers: Sequence[Filler]) -> int:
    """How many detected fillers start within FILLER_MATCH_S of a true one (one to one, nearest first)."""
    candidates = sorted(
        (abs(f.at - t.at_s), i, j)
        for i, f in enumerate(fillers)
        for j, t in enumerate(clip.fillers)
        if abs(f.at - t.at_s) <= FILLER_MATCH_S
    )
    used_found: set[int] = set()
    used_true: set[int] = set()
    for _, i, j in candidates:
        if i not in used_found and j not in used_true:
            used_found.add(i)
            used_true.add(j)
    return len(used_true)


def _score(results: Sequence[dict]) -> dict[str, float]:
    errors = [e for r in results for e in r["pause_errors_s"]]
    found = sum(r["fillers_found"] for r in results)
    hits = sum(r["filler_hits"] for r in results)
    true_fillers = sum(r["fillers_true"] for r in results)
    true_pauses = sum(r["pauses_true"] for r in results)
    return {
        "wpm_err_pct": round(
            100.0 * float(np.mean([abs(r["wpm"] - r["wpm_true"]) / r["wpm_true"] for r in results])), 2
        ),
        "wpm_err_max_pct": round(
            100.0 * max(abs(r["wpm"] - r["wpm_true"]) / r["wpm_true"] for r in results), 2
        ),
        "pause_err_ms": round(1000.0 * float(np.mean(errors)), 1) if errors else math.nan,
        "pause_err_p90_ms": round(1000.0 * float(np.percentile(errors, 90)), 1) if errors else math.nan,
        "pause_recall": round(len(errors) / true_pauses, 3) if true_pauses else math.nan,
        "pauses_false": sum(r["pauses_false"] for r in results),
        "filler_recall": round(hits / true_fillers, 3) if true_fillers else math.nan,
        "filler_precision": round(hits / found, 3) if found else math.nan,
    }


def speech_accuracy(quick: bool = False, *, verbose: bool = True) -> dict:
    """Pace, pause and filler accuracy of Whisper tiny.en + SpeechSignals on synthetic answers."""
    from agent.stt_whisper import FILLER_PROMPT, WhisperEngine

    if quick:
        clips = quick_clips()
    else:
        clips = interview_clips()
    # As the product's filler pass hears the candidate: the full 30 s window (two threads here).
    engine = WhisperEngine("tiny.en", threads=2, short_context=False)
    report: dict = {"clips": len(clips), "audio_s": round(sum(c.duration_s for c in clips), 1)}
    # (name, cut like the live STT, prompt, loudness from the prosody stage)
    modes = [
        ("live", True, FILLER_PROMPT, True),
        ("live_no_prosody", True, FILLER_PROMPT, False),
        ("live_no_prompt", True, None, True),
        ("whole", False, FILLER_PROMPT, True),
        ("whole_no_prosody", False, FILLER_PROMPT, False),
        ("whole_no_prompt", False, None, True),
    ]
    cache: dict = {}
    results = [_analyse_backlog(engine, clip, FILLER_PROMPT, cache) for clip in clips]
    report["backlog"] = _score(results) | {
        "compute_s": round(sum(r["decode_s"] for r in results), 1),
        "decodes": sum(r["decodes"] for r in results),
        "utterances": sum(len(padded_utterances(clip)) for clip in clips),
    }
    if verbose:
        _print_clips("backlog", clips, results)
    for mode, live, prompt, prosody in modes:
        started = time.perf_counter()
        results = [_analyse(engine, clip, prompt, live, prosody, cache) for clip in clips]
        report[mode] = _score(results) | {"compute_s": round(time.perf_counter() - started, 1)}
        if verbose:
            _print_clips(mode, clips, results)
    # Decodes that looped and had to be cut: 0 unless the decoder guard is hiding a regression.
    report["loops_cut"] = engine.loops_cut
    primary = report["live"]
    return {key: primary[key] for key in ("wpm_err_pct", "pause_err_ms", "filler_recall", "filler_precision")} | report


def _print_clips(mode: str, clips: Sequence[SyntheticSpeech], results: Sequence[dict]) -> None:
    for clip, r in zip(clips, results, strict=True):
        print(
            f"[{mode}] {clip.name}: wpm {r['wpm']:.0f}/{r['wpm_true']:.0f} "
            f"fillers {r['filler_hits']}/{r['fillers_true']} (found {r['fillers_found']} "
            f"at {r['filler_times']}, true {[round(f.at_s, 2) for f in clip.fillers]}) "
            f"pause err ms {[round(1000 * e) for e in r['pause_errors_s']]} | {r['heard']}",
            file=sys.stderr,
        )


def quick_clips() -> list[SyntheticSpeech]:
    """The --quick set: every speaking rate, one answer each."""
    from bench.speech_media import ANSWERS

    return [c for i, rate in enumerate(RATES) for c in interview_clips([rate], [ANSWERS[i % len(ANSWERS)][0]])]


def padded_utterances(clip: SyntheticSpeech) -> list[tuple[float, float, float, float]]:
    """(speech start, speech end, audio from, audio to) in seconds of each utterance as the live
    STT's VAD cuts it, the audio with the VAD's padding around the speech."""
    return [
        (start, end, max(0.0, start - VAD_PADDING_S), min(clip.duration_s, end + VAD_PADDING_S))
        for start, end in utterance_spans(clip)
    ]


def filler_spellings() -> dict[str, dict[str, str]]:
    """What Whisper writes for each espeak spelling of a filler between two phrases, without and with the prompt."""
    from agent.stt_whisper import FILLER_PROMPT, WhisperEngine

    engine = WhisperEngine("tiny.en", threads=2, short_context=False)
    before, after = synthesize("I think the answer is", 160), synthesize("that we should plan ahead", 160)
    gap = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)
    heard = {}
    for spelling in ("um", "umm", "uh", "uhh", "er", "erm", "hmm", "ah"):
        audio = np.concatenate([gap, before, gap, synthesize(spelling, 110), gap, after, gap])
        heard[spelling] = {
            "no_prompt": engine.transcribe_sync(audio).text,
            "prompt": engine.transcribe_sync(audio, prompt=FILLER_PROMPT).text,
        }
    return heard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one answer per rate instead of four")
    parser.add_argument("--spellings", action="store_true", help="only compare filler spellings")
    args = parser.parse_args()
    if args.spellings:
        print(json.dumps(filler_spellings()))
        return
    result = pitch_cost() | speech_accuracy(args.quick)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
