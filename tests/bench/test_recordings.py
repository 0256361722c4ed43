"""Recorded answers for the turn-taking bench: their truth is timed from the audio alone."""

from __future__ import annotations

import io
import lzma
import shutil
import tarfile

import av
import numpy as np
import pytest

from bench.answer_corpus import (
    SAMPLE_RATE,
    build_corpus,
    load_recordings,
    read_wav,
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


def _encode(samples: np.ndarray, path, codec: str, sample_format: str, rate: int, layout: str) -> None:
    """`samples` (16 kHz mono float) written by FFmpeg at another rate, layout and sample format."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1).astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for resampled in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(resampled):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


@pytest.mark.parametrize(
    ("suffix", "codec", "sample_format", "rate", "layout"),
    [
        (".wav", "pcm_s24le", "s32", 48000, "stereo"),  # 24-bit, as field recorders write
        (".wav", "pcm_f32le", "flt", 44100, "mono"),  # float, as editors export
        (".flac", "flac", "s16", 16000, "mono"),  # as speech corpora ship
        (".mp3", "libmp3lame", "fltp", 44100, "stereo"),
    ],
)
def test_recordings_in_other_formats_read_as_the_same_audio(tmp_path, suffix, codec, sample_format, rate, layout) -> None:
    """People's recordings come as 24-bit or float WAV, FLAC or MP3, not only 16-bit WAV: each
    reads as the same 16 kHz mono audio, and a directory of them gets its truth."""
    [answer] = build_corpus(["strength@espeak"])
    path = tmp_path / f"strength{suffix}"
    _encode(answer.samples, path, codec, sample_format, rate, layout)
    (tmp_path / "strength.txt").write_text(answer.transcript)

    samples = read_wav(path)
    # a lossy codec and its encoder delay (MP3: about 1,100 samples at the source rate) aside
    n = min(len(samples), len(answer.samples))
    assert abs(len(samples) - len(answer.samples)) < 0.1 * SAMPLE_RATE
    lag = int(np.argmax(np.correlate(samples[:SAMPLE_RATE * 4], answer.samples[:SAMPLE_RATE * 4], "full"))) - (SAMPLE_RATE * 4 - 1)
    a, b = (samples[lag:n], answer.samples[: n - lag]) if lag >= 0 else (samples[: n + lag], answer.samples[-lag:n])
    assert abs(lag) < 0.1 * SAMPLE_RATE
    assert float(np.corrcoef(a, b)[0, 1]) > 0.95

    [found] = load_recordings(truth_for_directory(tmp_path, "technical"))
    assert found.category == "technical" and len(found.pauses) == len(answer.pauses)


def test_a_file_that_is_no_recording_gets_a_clear_error(tmp_path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are my notes, not audio")
    with pytest.raises(ValueError, match="notes.wav: not a recording FFmpeg can read"):
        read_wav(path)


def test_a_recording_of_an_unknown_category_is_refused(tmp_path) -> None:
    [answer] = build_corpus(["strength@espeak"])
    write_corpus([answer], tmp_path)
    truth = tmp_path / "truth.json"
    truth.write_text(truth.read_text().replace('"behavioral"', '"interview"'))
    with pytest.raises(ValueError, match="category 'interview' is not one of behavioral"):
        load_recordings(truth)


def test_a_directory_without_transcripts_is_refused(tmp_path) -> None:
    [answer] = build_corpus(["strength@espeak"])
    write_corpus([answer], tmp_path)
    with pytest.raises(SystemExit, match="no recording with its transcript"):
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
