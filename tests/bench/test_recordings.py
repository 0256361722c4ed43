"""Recorded answers for the turn-taking bench: their truth is timed from the audio alone."""

from __future__ import annotations

import shutil

import pytest

from bench.answer_corpus import build_corpus, load_recordings, truth_for_directory, write_corpus
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
