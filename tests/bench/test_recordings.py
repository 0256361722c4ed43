"""Recorded answers for the turn-taking bench: their truth is timed from the audio alone."""

from __future__ import annotations

import io
import lzma
import shutil
import tarfile

import numpy as np
import pytest

from bench.answer_corpus import (
    SAMPLE_RATE,
    build_corpus,
    load_recordings,
    truth_for_directory,
    truth_for_recording,
    write_corpus,
)
from bench.human_recordings import aligned, deb_data, tar_members, textgrid_tiers, with_thinking_pauses
from scoring.speech import is_vocal_filler

# An energy boundary falls within this of the synthesiser's: a soft final consonant or the end of a
# filler fades under the threshold up to 0.13 s early (six answers of both voices).
TOLERANCE_S = 0.15


def test_a_recordings_truth_is_timed_from_its_audio(tmp_path) -> None:
    """A synthetic answer written out as a recording with only its words beside it: the truth
    made from its audio finds the same stretches and pauses, words and vocal fillers."""
    [answer] = build_corpus(["outage@espeak"])
    write_corpus([answer], tmp_path / "made")
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    shutil.copy(tmp_path / "made" / "outage-espeak.wav", recordings / "outage.wav")
    (recordings / "outage.txt").write_text(answer.transcript)
    (recordings / "no-words.wav").write_bytes((recordings / "outage.wav").read_bytes())  # skipped

    [found] = load_recordings(truth_for_directory(recordings, "behavioral"))
    assert found.name == "outage" and found.family == "recorded" and found.category == "behavioral"
    assert len(found.stretches) == len(answer.stretches)
    for (a, b), (c, d) in zip(found.stretches, answer.stretches, strict=True):
        assert a == pytest.approx(c, abs=TOLERANCE_S) and b == pytest.approx(d, abs=TOLERANCE_S)
    # a pause's two ends can both be off
    found_pauses, true_pauses = [p.duration_s for p in found.pauses], [p.duration_s for p in answer.pauses]
    assert found_pauses == pytest.approx(true_pauses, abs=2 * TOLERANCE_S)
    assert found.words == answer.words
    assert len(found.fillers) == sum(1 for f in answer.fillers if is_vocal_filler(f.text)) > 0


def test_discourse_fillers_are_marked_as_the_scripts_mark_them(tmp_path) -> None:
    [answer] = build_corpus(["strength@espeak"])
    write_corpus([answer], tmp_path)
    (tmp_path / "strength-espeak.txt").write_text("So, <you know>, um, I listen first and <like> I ask.")
    (tmp_path / "truth.json").unlink()
    [found] = load_recordings(truth_for_directory(tmp_path, "mmi"))
    assert sorted(f.text for f in found.fillers) == ["like", "um", "you know"]
    assert found.transcript == "So, you know, um, I listen first and like I ask."
    assert found.words == 10  # "um" is no word; "like" and "you know" are


def test_a_directory_without_transcripts_is_refused(tmp_path) -> None:
    [answer] = build_corpus(["strength@espeak"])
    write_corpus([answer], tmp_path)
    with pytest.raises(SystemExit, match="no WAV with its transcript"):
        truth_for_directory(tmp_path, "behavioral")


def test_a_forced_alignment_gives_the_stretches_and_short_gaps_join() -> None:
    grid = """File type = "ooTextFile"
Object class = "TextGrid"
item []:
    item [1]:
        class = "IntervalTier"
        name = "speaker"
        intervals [1]:
            xmin = 0
            xmax = 1.0
            text = ""
        intervals [2]:
            xmin = 1.0
            xmax = 3.0
            text = "um so this is"
        intervals [3]:
            xmin = 3.3
            xmax = 5.0
            text = "what I did"
        intervals [4]:
            xmin = 6.5
            xmax = 8.0
            text = "uh and then it worked"
"""
    tiers = textgrid_tiers(grid)
    assert [t[:2] for t in tiers["speaker"]] == [(1.0, 3.0), (3.3, 5.0), (6.5, 8.0)]
    words = " ".join(t for *_, t in tiers["speaker"])
    answer = aligned("x", np.zeros(9 * SAMPLE_RATE, np.float32), words, tiers["speaker"], "behavioral")
    assert answer.stretches == ((1.0, 5.0), (6.5, 8.0))  # the 0.3 s gap is inside a stretch
    assert [(p.start_s, p.duration_s) for p in answer.pauses] == [(5.0, 1.5)]
    assert answer.words == 10 and len(answer.fillers) == 2


def test_gaps_between_sentences_widen_to_thinking_pauses() -> None:
    """A recording's own short gaps become pauses of 0.5-4 s, and the truth read from the result
    finds them."""
    [answer] = build_corpus(["strength@espeak"])
    # the answer with every pause cut to 0.3 s, as a fluent reader's gaps between sentences
    x, at, pieces = answer.samples, 0, []
    for p in answer.pauses:
        start = round(p.start_s * SAMPLE_RATE)
        pieces += [x[at:start], np.zeros(round(0.3 * SAMPLE_RATE), np.float32)]
        at = round(p.end_s * SAMPLE_RATE)
    pieces.append(x[at:])
    fluent = truth_for_recording("fluent", np.concatenate(pieces), answer.transcript, "behavioral")
    assert fluent.pauses == ()
    widened = with_thinking_pauses(fluent, np.random.default_rng(1))
    assert len(widened.pauses) == len(answer.pauses)
    assert all(0.5 <= p.duration_s <= 4.2 for p in widened.pauses)
    # the 0.3 s gaps were inside the fluent stretches; widened, they are pauses
    assert widened.words == fluent.words
    assert widened.speaking_s == pytest.approx(fluent.speaking_s - 0.3 * len(answer.pauses), abs=0.2)


def test_a_debian_package_is_read_without_dpkg() -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        body = b"hello"
        info = tarfile.TarInfo("./usr/share/x/hello.txt")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    xz = lzma.compress(data.getvalue())

    def member(name: str, body: bytes) -> bytes:
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n".encode()
        return header + body + (b"\n" if len(body) % 2 else b"")

    deb = b"!<arch>\n" + member("debian-binary", b"2.0\n") + member("data.tar.xz", xz)
    assert tar_members(deb_data(deb), {"x/hello.txt": "hello"}) == {"hello": b"hello"}
    with pytest.raises(SystemExit, match="not a Debian package"):
        deb_data(b"PK\x03\x04")
