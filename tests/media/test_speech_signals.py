"""SpeechSignals: pace, pauses, fillers, hedges and response latency from word timestamps."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from agent.stt_whisper import FILLER_PROMPT
from media.prosody import ProsodyWindow
from media.speech_signals import (
    Filler,
    Hedge,
    Pace,
    Pause,
    ResponseLatency,
    SpeechSignals,
)


@dataclass(frozen=True, slots=True)
class W:
    text: str
    start: float
    end: float


def words_at(text: str, *, start: float = 0.0, word_s: float = 0.3, gap_s: float = 0.1,
             pauses: dict[int, float] | None = None) -> list[W]:
    """Words of `text` laid out evenly; pauses[i] replaces the gap after word i."""
    out, t = [], start
    for i, word in enumerate(text.split()):
        out.append(W(word, t, t + word_s))
        t += word_s + (pauses or {}).get(i, gap_s)
    return out


def of(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def test_wpm_is_words_over_speaking_time_without_pauses() -> None:
    signals = SpeechSignals(min_pace_speaking_s=0.0)
    words = words_at(" ".join(["word"] * 20), pauses={9: 1.0})
    events = signals.on_utterance(100.0, words)
    # 20 words of 0.3 s, 18 short gaps of 0.1 s; the 1.0 s pause is not speaking time.
    speaking_s = 20 * 0.3 + 18 * 0.1
    pace = of(events, Pace)[-1]
    assert pace.speaking_s == pytest.approx(speaking_s)
    assert pace.wpm == pytest.approx(60 * 20 / speaking_s)
    assert pace.articulation_wpm == pytest.approx(60 * 20 / 6.0)
    assert pace.at == pytest.approx(100.0 + words[-1].end)
    summary = signals.summary()
    assert summary.words == 20 and summary.wpm == pytest.approx(pace.wpm)


def test_a_breath_between_phrases_is_a_pause_and_speaking_time_a_thinking_pause_only_a_pause() -> None:
    # People leave 0.25-0.5 s between phrases; left out of speaking time, those gaps made
    # recordings of people read 28-31% faster than they spoke.
    signals = SpeechSignals(min_pace_speaking_s=0.0)
    words = words_at(" ".join(["word"] * 20), pauses={4: 0.35, 9: 0.45, 14: 1.2})
    events = signals.on_utterance(0.0, words)
    assert [round(p.duration_s, 2) for p in of(events, Pause)] == [0.35, 0.45, 1.2]
    speaking_s = 20 * 0.3 + 16 * 0.1 + 0.35 + 0.45
    assert of(events, Pace)[-1].speaking_s == pytest.approx(speaking_s)
    # the same across two utterances
    signals = SpeechSignals(min_pace_speaking_s=0.0)
    signals.on_utterance(0.0, words_at("one two three"))
    events = signals.on_utterance(0.0, words_at("four five six", start=0.3 * 3 + 0.1 * 2 + 0.4))
    assert [round(p.duration_s, 2) for p in of(events, Pause)] == [0.4]
    assert of(events, Pace)[-1].speaking_s == pytest.approx(6 * 0.3 + 4 * 0.1 + 0.4)


def test_vocal_fillers_are_speaking_time_but_not_words() -> None:
    signals = SpeechSignals(min_pace_speaking_s=0.0)
    signals.on_utterance(0.0, words_at("so um I think uh that is right"))
    summary = signals.summary()
    assert summary.words == 6
    assert summary.speaking_s == pytest.approx(8 * 0.3 + 7 * 0.1)


def test_pace_covers_only_the_recent_window_of_speaking_time() -> None:
    signals = SpeechSignals(pace_window_s=30.0)
    slow = words_at(" ".join(["slow"] * 100), word_s=0.5, gap_s=0.1)  # 60 s of speech, 100 wpm
    signals.on_utterance(0.0, slow)
    assert signals.pace().wpm == pytest.approx(100.0, rel=0.01)
    fast = words_at(" ".join(["fast"] * 100), word_s=0.3, gap_s=0.1)  # 40 s of speech, 150 wpm
    events = signals.on_utterance(70.0, fast)
    pace = of(events, Pace)[-1]
    assert pace.speaking_s == pytest.approx(30.0)
    assert pace.wpm == pytest.approx(150.0, rel=0.01)


def test_no_pace_until_enough_speech() -> None:
    signals = SpeechSignals(min_pace_speaking_s=5.0)
    assert of(signals.on_utterance(0.0, words_at("just a few words")), Pace) == []
    assert signals.pace() is None


def test_pauses_inside_and_between_utterances() -> None:
    signals = SpeechSignals()
    first = words_at("one two three four five", pauses={1: 0.3, 2: 0.2, 3: 1.5})
    events = signals.on_utterance(10.0, first)
    pauses = of(events, Pause)
    assert [p.duration_s for p in pauses] == pytest.approx([0.3, 1.5])
    assert pauses[0].start_at == pytest.approx(10.0 + first[1].end)
    assert pauses[1].start_at == pytest.approx(10.0 + first[3].end)
    # The next utterance of the same answer starts 2 s after this one's last word.
    last_end = 10.0 + first[-1].end
    events = signals.on_utterance(last_end + 2.0, words_at("six seven"))
    pauses = of(events, Pause)
    assert len(pauses) == 1
    assert (pauses[0].start_at, pauses[0].duration_s) == pytest.approx((last_end, 2.0))
    assert signals.summary().pauses == 3
    assert signals.summary().longest_pause_s == pytest.approx(2.0)


def test_the_gap_around_a_question_is_latency_not_a_pause() -> None:
    signals = SpeechSignals()
    signals.on_utterance(0.0, words_at("my first answer"))
    signals.on_question_end(5.0)
    events = signals.on_utterance(6.0, words_at("second answer", start=0.4))
    assert of(events, Pause) == []
    assert of(events, ResponseLatency) == [ResponseLatency(5.0, 6.4, pytest.approx(1.4))]


def test_response_latency_once_per_question() -> None:
    signals = SpeechSignals()
    signals.on_question_end(100.0)
    first = signals.on_utterance(101.0, words_at("well", start=0.25))
    latency = of(first, ResponseLatency)[0]
    assert latency.question_end_at == 100.0
    assert latency.answer_start_at == pytest.approx(101.25)
    assert latency.latency_s == pytest.approx(1.25)
    assert of(signals.on_utterance(103.0, words_at("and more")), ResponseLatency) == []
    assert signals.summary().mean_response_latency_s == pytest.approx(1.25)


def test_late_transcript_of_speech_before_the_question_end_is_not_the_answer() -> None:
    signals = SpeechSignals()
    signals.on_question_end(50.0)
    assert of(signals.on_utterance(45.0, words_at("end of the last answer")), ResponseLatency) == []
    latency = of(signals.on_utterance(51.0, words_at("answer")), ResponseLatency)
    assert latency[0].latency_s == pytest.approx(1.0)


def test_barge_in_is_an_immediate_answer_not_a_negative_latency() -> None:
    signals = SpeechSignals()
    signals.on_question_end(20.0)
    latency = of(signals.on_utterance(19.5, words_at("sorry I think")), ResponseLatency)
    assert latency[0].latency_s == 0.0 and latency[0].answer_start_at == pytest.approx(19.5)


def fillers(text: str, **kwargs) -> list[str]:
    signals = SpeechSignals(**kwargs)
    return [f.text for f in of(signals.on_utterance(0.0, words_at(text)), Filler)]


def hedges(text: str) -> list[str]:
    return [h.text for h in of(SpeechSignals().on_utterance(0.0, words_at(text)), Hedge)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Um, I think, uh, it went well.", ["um", "uh"]),
        ("Umm... erm, hmm, so", ["umm", "erm", "hmm"]),
        ("I would like to study medicine.", []),
        ("I'd like to add that.", []),
        ("It looks like a good plan and I like it.", []),
        ("It was, like, hard.", ["like"]),
        ("It was like, really hard.", ["like"]),
        ("Like, I said no.", ["like"]),
        ("Um like the team was late", ["um", "like"]),
        ("It helps you start. Like a normal phone you dial digits.", []),
        ("Like my manager said we shipped it.", []),
        ("Like, a lot of people were late.", ["like"]),
        ("We shipped it. Like, the team was late.", ["like"]),
        ("It was hard, you know, for everyone.", ["you know"]),
        ("Do you know, the answer?", []),
        ("As you know, it was late.", []),
        ("I know you know the rules", []),
        ("I mean, it was fine.", ["i mean"]),
        ("I mean it.", []),
        ("That is what I mean, really.", []),
        ("It was basically a cache.", ["basically"]),
        ("So, I started there.", []),
    ],
)
def test_fillers(text: str, expected: list[str]) -> None:
    assert fillers(text) == expected


def test_initial_so_is_a_filler_only_when_asked() -> None:
    assert fillers("So I started there", count_initial_so=True) == ["so"]
    assert fillers("I did so because", count_initial_so=True) == []


def test_like_after_a_pause_is_a_filler() -> None:
    signals = SpeechSignals()
    events = signals.on_utterance(0.0, words_at("it was like hard", pauses={1: 0.5, 2: 0.4}))
    assert [f.text for f in of(events, Filler)] == ["like"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It was kind of hard.", ["kind of"]),
        ("I sort of knew it.", ["sort of"]),
        ("What kind of role is it?", []),
        ("The same sort of thing", []),
        ("It's kinda late", ["kinda"]),
    ],
)
def test_hedges(text: str, expected: list[str]) -> None:
    assert hedges(text) == expected


def test_filler_times_and_rate_per_100_words() -> None:
    signals = SpeechSignals()
    words = words_at("Um, I was, like, nervous but uh it went fine in the end and I learned a lot")
    events = signals.on_utterance(30.0, words)
    found = of(events, Filler)
    assert [f.text for f in found] == ["um", "like", "uh"]
    assert [f.at for f in found] == pytest.approx([30.0 + words[i].start for i in (0, 3, 6)])
    summary = signals.summary()
    assert summary.words == 16  # "um" and "uh" are not words; "like" is
    assert summary.fillers == 3
    assert summary.fillers_per_100_words == pytest.approx(100 * 3 / 16)


def loudness_windows(silences: list[tuple[float, float]], until: float) -> list[ProsodyWindow]:
    """100 ms windows: speech at -20 dBFS except quiet (-70 dBFS) where a silence covers the whole window."""
    out = []
    for i in range(int(until / 0.1)):
        t = i * 0.1
        quiet = any(s <= t and t + 0.1 <= e for s, e in silences)
        out.append(ProsodyWindow(t, -70.0 if quiet else -20.0, not quiet, None if quiet else 120.0, 0.0))
    return out


def test_loudness_moves_pauses_onto_the_real_silence() -> None:
    # The audio is silent from 2.03 s to 2.88 s, but the recogniser stretched "question" over
    # most of it and started "um" early: its gap is only 0.1 s.
    words = [W("thank", 0.5, 0.9), W("you", 0.9, 1.3), W("question.", 1.4, 2.6), W("um,", 2.7, 3.0),
             W("I", 3.2, 3.3), W("think", 3.3, 3.7)]
    signals = SpeechSignals()
    signals.on_prosody(loudness_windows([(2.03, 2.88), (3.05, 3.22)], until=6.0), origin_at=1000.0)
    events = signals.on_utterance(1000.0, words)
    pauses = of(events, Pause)
    assert len(pauses) == 1  # the 0.17 s silence after "um" is below the threshold
    assert pauses[0].start_at == pytest.approx(1002.03, abs=0.06)
    assert pauses[0].duration_s == pytest.approx(0.85, abs=0.1)
    assert of(events, Filler)[0].at == pytest.approx(1002.88, abs=0.06)


def test_without_loudness_the_recognised_gaps_are_used() -> None:
    words = [W("one", 0.0, 0.4), W("two", 1.0, 1.4)]
    pauses = of(SpeechSignals().on_utterance(0.0, words), Pause)
    assert [p.duration_s for p in pauses] == pytest.approx([0.6])


def test_a_recognised_gap_with_no_silence_under_it_is_not_a_pause() -> None:
    words = [W("one", 0.0, 0.4), W("two", 1.0, 1.4)]
    signals = SpeechSignals()
    signals.on_prosody(loudness_windows([(5.0, 6.0)], until=8.0), origin_at=0.0)
    assert of(signals.on_utterance(0.0, words), Pause) == []


def test_pause_between_utterances_uses_loudness_too() -> None:
    signals = SpeechSignals()
    signals.on_prosody(loudness_windows([(1.52, 2.61)], until=5.0), origin_at=10.0)
    signals.on_utterance(10.0, [W("first", 0.2, 0.9), W("part.", 0.9, 1.9)])  # "part." runs on
    events = signals.on_utterance(12.4, [W("second", 0.0, 0.5)])  # the VAD started early
    pauses = of(events, Pause)
    assert [p.duration_s for p in pauses] == pytest.approx([1.09], abs=0.1)
    assert pauses[0].start_at == pytest.approx(11.52, abs=0.06)


@pytest.mark.parametrize("speech_dbfs, room_dbfs", [(-35.0, -50.0), (-20.0, -35.0)])
def test_a_muted_microphone_before_the_answer_does_not_hide_a_rooms_pauses(speech_dbfs: float, room_dbfs: float) -> None:
    # Twenty seconds of digital silence (a muted microphone while the interviewer spoke), then a
    # soft voice in a quiet room or a normal voice in a noisy one, with a 1.5 s pause. The
    # silence is no measure of the room's noise: taken as its floor, the room's tone under the
    # pause read as sound and the pause was lost.
    muted = [ProsodyWindow(t / 10, -120.0, False, None, 0.0) for t in range(200)]
    answer = [
        replace(w, t=w.t + 20.0, loudness_dbfs=room_dbfs if w.loudness_dbfs < -60 else speech_dbfs)
        for w in loudness_windows([(1.5, 3.0)], until=6.0)
    ]
    signals = SpeechSignals()
    signals.on_prosody(muted + answer, origin_at=0.0)
    events = signals.on_utterance(20.0, [W("we", 0.4, 0.9), W("shipped.", 0.9, 1.6), W("then", 2.9, 3.4)])
    assert [p.duration_s for p in of(events, Pause)] == pytest.approx([1.5], abs=0.15)


def test_the_quiet_end_of_a_soft_voices_word_is_not_a_pause() -> None:
    # A soft voice (-35 dBFS) in a room at -52: between two words the level dips to -45 for
    # 0.3 s, 7 dB over the room, where the recogniser has a 0.1 s gap. That is the tail of a
    # word, not silence; the real pause later (the room's own level) still is one.
    windows = [
        replace(w, loudness_dbfs=-52.0 if w.loudness_dbfs < -60 else -45.0 if 0.55 <= w.t < 0.85 else -35.0)
        for w in loudness_windows([(1.5, 3.05), (6.0, 10.05)], until=10.0)  # the pause; the room, between answers
    ]
    signals = SpeechSignals()
    signals.on_prosody(windows, origin_at=0.0)
    words = [W("we", 0.2, 0.65), W("shipped", 0.75, 1.5), W("then", 3.0, 3.5)]
    assert [p.duration_s for p in of(signals.on_utterance(0.0, words), Pause)] == pytest.approx([1.5], abs=0.15)


@pytest.mark.parametrize(
    "voiced, vad_heard_it, pauses",
    [(False, False, [2.5]), (False, True, [2.5]), (True, False, [2.5]), (True, True, [1.1])],
    ids=["breath", "breath-the-vad-heard", "creak", "left-out-um"],
)
def test_a_sound_inside_a_pause_splits_it_only_if_it_may_be_a_left_out_filler(
    voiced: bool, vad_heard_it: bool, pauses: list[float]
) -> None:
    # Silent from 1.0 to 3.5 s but for a sound at 2.0-2.4 s, loud enough not to be silence, in
    # which the recogniser heard no word. Unvoiced (a breath), or voiced but not speech to the
    # VAD (a chair's creak), it is part of one 2.5 s pause. Voiced and heard by the VAD as speech
    # the recogniser wrote nothing for, it may be an "um" left out, and the pause is the longer half.
    windows = [
        replace(w, voiced=voiced, f0_hz=120.0 if voiced else None) if 2.0 <= w.t < 2.4 else w
        for w in loudness_windows([(1.0, 2.0), (2.4, 3.5)], until=6.0)
    ]
    signals = SpeechSignals()
    signals.on_prosody(windows, origin_at=0.0)
    if vad_heard_it:
        signals.on_sound(1.95, 2.5)
    events = signals.on_utterance(0.0, [W("we", 0.4, 0.7), W("shipped.", 0.7, 1.2), W("then", 3.3, 3.8)])
    assert [p.duration_s for p in of(events, Pause)] == pytest.approx(pauses, abs=0.1)


@pytest.mark.parametrize("unvoiced_s, pause_s", [(0.45, 2.0), (0.2, 1.85)])
def test_a_breath_before_going_on_is_part_of_the_pause_and_a_words_onset_is_not(unvoiced_s: float, pause_s: float) -> None:
    # Silent from 1.0 s, then an unvoiced sound loud enough not to be silence, then the voice
    # at 3.0 s. A breath in (0.45 s) belongs to the 2 s pause; an "s" or "f" starting the next
    # word (0.2 s) does not, and the pause ends where the sound begins.
    def sound(w: ProsodyWindow) -> ProsodyWindow:
        if 3.0 - unvoiced_s - 1e-6 <= w.t < 3.0:
            return replace(w, loudness_dbfs=-32.0, voiced=False, f0_hz=None)
        return w

    windows = [sound(w) for w in loudness_windows([(1.0, 3.0)], until=6.0)]
    signals = SpeechSignals()
    signals.on_prosody(windows, origin_at=0.0)
    events = signals.on_utterance(0.0, [W("we", 0.4, 0.7), W("shipped.", 0.7, 1.2), W("so", 2.6, 3.3)])
    assert [p.duration_s for p in of(events, Pause)] == pytest.approx([pause_s], abs=0.06)


def test_a_breath_out_after_the_last_word_is_part_of_the_pause() -> None:
    windows = [
        replace(w, loudness_dbfs=-34.0, voiced=False, f0_hz=None) if 1.2 - 1e-6 <= w.t < 1.7 else w
        for w in loudness_windows([(1.2, 3.0)], until=6.0)
    ]
    signals = SpeechSignals()
    signals.on_prosody(windows, origin_at=0.0)
    events = signals.on_utterance(0.0, [W("we", 0.4, 0.7), W("shipped.", 0.7, 1.5), W("then", 3.0, 3.4)])
    pauses = of(events, Pause)
    assert [p.duration_s for p in pauses] == pytest.approx([1.8], abs=0.1)
    assert pauses[0].start_at == pytest.approx(1.2, abs=0.06)


def test_filler_prompt_is_disfluent() -> None:
    lowered = FILLER_PROMPT.lower()
    assert "um" in lowered and "uh" in lowered and "like," in lowered
