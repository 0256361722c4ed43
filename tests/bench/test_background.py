"""Another voice in the room for the turn-taking bench: under everything the microphone sends."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from agent.voice_level import speech_level
from bench.answer_corpus import SAMPLE_RATE as CLIP_RATE
from bench.answer_corpus import build_corpus
from bench.rtc_client import FRAME_SAMPLES, Microphone, Speech
from bench.turn_taking import BURST_GAP_S, BURST_S, background_bed, in_bursts


async def test_the_bed_plays_under_speech_and_silence_and_loops() -> None:
    bed = np.arange(1, 2 * FRAME_SAMPLES + 1, dtype=np.int16)  # two frames long, then again
    microphone = Microphone(bed)
    first = (await microphone.recv()).to_ndarray().ravel()
    assert np.array_equal(first, bed[:FRAME_SAMPLES])  # silence: the bed alone
    microphone.say(Speech("x", np.full(FRAME_SAMPLES, 1000, np.int16)))
    second = (await microphone.recv()).to_ndarray().ravel()
    assert np.array_equal(second, bed[FRAME_SAMPLES:] + 1000)  # speech over the bed
    third = (await microphone.recv()).to_ndarray().ravel()
    assert np.array_equal(third, bed[:FRAME_SAMPLES])  # looped
    microphone.stop()


def test_the_background_is_set_against_the_answers_level(tmp_path) -> None:
    answers = build_corpus(["strength@espeak"])
    voice = speech_level(answers[0].spoken_samples(), CLIP_RATE)
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal(CLIP_RATE * 3) * 0.3 * 32767).clip(-32768, 32767).astype(np.int16)
    path = tmp_path / "bg.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(CLIP_RATE)
        w.writeframes(noise.tobytes())
    bed = background_bed(path, answers, -20.0)
    assert len(bed) == 3 * 48000
    level = speech_level(bed[::3].astype(np.float64) / 32767, CLIP_RATE)  # back at 16 kHz, roughly
    assert 20 * np.log10(level / voice) == pytest.approx(-20.0, abs=1.0)


def test_a_voice_in_bursts_comes_and_goes() -> None:
    samples = np.ones(CLIP_RATE * 60, dtype=np.float32)
    cut = in_bursts(samples)
    on = cut > 0.5
    starts = np.flatnonzero(on[1:] & ~on[:-1]) + 1
    ends = np.flatnonzero(~on[1:] & on[:-1]) + 1
    assert len(starts) >= 4
    lengths = (ends[: len(starts)] - starts[: len(ends)]) / CLIP_RATE
    assert all(BURST_S[0] - 0.1 <= s <= BURST_S[1] + 0.1 for s in lengths), lengths
    gaps = (starts[1:] - ends[: len(starts) - 1]) / CLIP_RATE
    assert all(BURST_GAP_S[0] - 0.1 <= g <= BURST_GAP_S[1] + 0.1 for g in gaps), gaps
