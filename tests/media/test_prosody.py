"""ProsodyAnalyser: pitch, voicing and loudness per window, independent of how audio is chunked."""

from __future__ import annotations

import math

import numpy as np
import pytest

from media.prosody import SILENCE_DBFS, ProsodyAnalyser, ProsodyWindow

SR = 16000


def tone(hz: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def analyse(samples: np.ndarray, chunk_sizes: list[int] | None = None) -> list[ProsodyWindow]:
    analyser = ProsodyAnalyser(SR, 100)
    windows: list[ProsodyWindow] = []
    if chunk_sizes is None:
        windows += analyser.push(samples)
    else:
        i = 0
        for n in chunk_sizes:
            windows += analyser.push(samples[i : i + n])
            i += n
        windows += analyser.push(samples[i:])
    return windows + analyser.flush()


def test_tone_is_voiced_with_its_pitch() -> None:
    windows = analyse(tone(200.0, 2.0))
    assert len(windows) == 20
    for w in windows:
        assert w.voiced
        assert w.f0_hz is not None and abs(w.f0_hz - 200.0) <= 0.03 * 200.0
        assert w.f0_confidence > 0.8
        # A sine of amplitude 0.5 has an RMS of 0.5/sqrt(2): -9.03 dBFS.
        assert w.loudness_dbfs == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=0.05)


@pytest.mark.parametrize("hz", [110.0, 320.0])
def test_other_pitches_are_tracked(hz: float) -> None:
    windows = analyse(tone(hz, 1.5))
    f0 = [w.f0_hz for w in windows if w.voiced]
    assert len(f0) == len(windows)
    assert np.median(f0) == pytest.approx(hz, rel=0.03)


def test_silence_is_unvoiced_and_quiet() -> None:
    digital = analyse(np.zeros(SR * 2, dtype=np.float32))
    assert all(not w.voiced and w.f0_hz is None and w.f0_confidence == 0.0 for w in digital)
    assert all(w.loudness_dbfs == SILENCE_DBFS for w in digital)
    hiss = (np.random.default_rng(1).standard_normal(SR * 2) * 1e-3).astype(np.float32)
    noisy = analyse(hiss)
    assert sum(w.voiced for w in noisy) == 0
    assert all(-65.0 < w.loudness_dbfs < -55.0 for w in noisy)  # RMS 1e-3 is -60 dBFS


def test_tone_then_silence_changes_at_the_boundary() -> None:
    windows = analyse(np.concatenate([tone(200.0, 1.0), np.zeros(SR, np.float32), tone(150.0, 1.0)]))
    voiced = [w.voiced for w in windows]
    assert voiced == [True] * 10 + [False] * 10 + [True] * 10
    assert windows[25].f0_hz == pytest.approx(150.0, rel=0.03)


def test_windows_are_contiguous() -> None:
    windows = analyse(tone(200.0, 3.35))
    assert len(windows) == 33  # the trailing partial window is dropped
    assert [w.t for w in windows] == pytest.approx([i * 0.1 for i in range(33)])


def test_chunk_boundaries_do_not_change_the_result() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(4 * SR) / SR
    gliding = (0.4 * np.sin(2 * np.pi * (150 * t + 20 * t**2))).astype(np.float32)  # 150 → 310 Hz
    audio = np.concatenate([gliding[: 2 * SR], np.zeros(SR // 2, np.float32), gliding[2 * SR :]])
    whole = analyse(audio)
    chunked = analyse(audio, [int(n) for n in rng.integers(1, 3000, size=200)])
    framed = analyse(audio, [320] * 400)  # 20 ms frames, as WebRTC delivers
    for other in (chunked, framed):
        assert len(other) == len(whole)
        for a, b in zip(whole, other, strict=True):
            assert a.t == b.t and a.voiced == b.voiced
            assert a.loudness_dbfs == pytest.approx(b.loudness_dbfs, abs=0.01)
            if a.voiced:
                assert a.f0_hz == pytest.approx(b.f0_hz, rel=0.005)


def test_int16_input_matches_float_input() -> None:
    audio = tone(200.0, 1.5)
    from_float = analyse(audio)
    from_int16 = analyse((audio * 32767).astype(np.int16))
    assert [w.voiced for w in from_int16] == [w.voiced for w in from_float]
    for a, b in zip(from_float, from_int16, strict=True):
        assert a.loudness_dbfs == pytest.approx(b.loudness_dbfs, abs=0.01)


def test_windows_wait_for_a_whole_block_and_the_lookahead() -> None:
    analyser = ProsodyAnalyser(SR, 100)
    assert analyser.latency_s == pytest.approx(1.04)
    audio = tone(200.0, 2.5)
    assert analyser.push(audio[: SR]) == []  # 1 s block, but not the 40 ms after it
    first = analyser.push(audio[SR : SR + int(0.04 * SR)])
    assert [w.t for w in first] == pytest.approx([i * 0.1 for i in range(10)])
    second = analyser.push(audio[SR + int(0.04 * SR) :])  # up to 2.5 s: the 2nd block is whole
    assert [w.t for w in second] == pytest.approx([1.0 + i * 0.1 for i in range(10)])
    assert [w.t for w in analyser.flush()] == pytest.approx([2.0 + i * 0.1 for i in range(5)])
    assert 0.0 < analyser.pitch_ms_per_s < 100.0


def test_stereo_input_is_refused() -> None:
    with pytest.raises(ValueError):
        ProsodyAnalyser().push(np.zeros((160, 2), dtype=np.int16))


async def test_push_async_runs_in_order_off_the_loop() -> None:
    analyser = ProsodyAnalyser(SR, 100)
    audio = tone(200.0, 2.2)
    windows: list[ProsodyWindow] = []
    for i in range(0, len(audio), 320):
        windows += await analyser.push_async(audio[i : i + 320])
    assert [w.t for w in windows] == pytest.approx([i * 0.1 for i in range(len(windows))])
    assert len(windows) == 20
