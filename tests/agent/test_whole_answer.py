"""The answer heard whole once it is over: its utterances joined with shortened pauses, heard
again by the filler-prompted recogniser, and its words put back on the answer's own clock."""

from __future__ import annotations

import numpy as np
import pytest

from agent.stt_whisper import FILLER_PROMPT, WHISPER_SAMPLE_RATE, BackgroundWhisper, RecognizedUtterance, Word
from agent.worker import SOUND_BEFORE_S, OpenAnswer, SoundsBefore
from agent.whole_answer import GAP_CAP_S, MAX_AUDIO_S, AnswerAudio, Span, keeps, stitched, voiced_span
from bench.turn_taking import wer_text
from tests.agent.test_stt_whisper import as_float, speak
from tests.words import word_error_rate

RATE = WHISPER_SAMPLE_RATE
T0 = 1_700_000_000.0  # a wall clock


def tone(seconds: float, value: float = 0.1) -> np.ndarray:
    return np.full(int(seconds * RATE), value, dtype=np.float32)


def test_pauses_are_shortened_and_each_piece_keeps_its_wall_time() -> None:
    audio = AnswerAudio()
    audio.add(T0, tone(2.0, 0.1))
    audio.add(T0 + 2.0 + 3.5, tone(1.0, 0.2))  # after a 3.5 s thinking pause
    audio.add(T0 + 6.5 + 0.4, tone(1.0, 0.3))  # after a 0.4 s one
    samples, spans = audio.joined()
    assert len(samples) == pytest.approx((2.0 + GAP_CAP_S + 1.0 + 0.4 + 1.0) * RATE, abs=2)
    assert [(s.offset, s.wall) for s in spans] == [
        (0.0, T0), (pytest.approx(2.0 + GAP_CAP_S), T0 + 5.5), (pytest.approx(4.4), T0 + 6.9)
    ]
    # the gap holds silence, the pieces their own samples
    assert not samples[int(2.2 * RATE) : int(2.8 * RATE)].any()
    assert samples[int(3.5 * RATE)] == pytest.approx(0.2)


def test_padding_that_overlaps_the_piece_before_is_taken_out() -> None:
    audio = AnswerAudio()
    audio.add(T0, tone(2.0, 0.1))
    audio.add(T0 + 1.8, tone(1.0, 0.2))  # its first 0.2 s repeats the end of the first
    samples, spans = audio.joined()
    assert len(samples) == pytest.approx(2.8 * RATE, abs=2)
    assert (spans[1].offset, spans[1].wall) == (pytest.approx(2.0), pytest.approx(T0 + 2.0))


def test_an_utterances_quiet_edges_are_cut_so_the_pause_is_the_real_one() -> None:
    # 0.5 s of VAD padding and room tone, 1 s of speech, 0.6 s of the silence that ended it
    room = np.random.default_rng(1).normal(0, 0.0005, int(2.1 * RATE)).astype(np.float32)
    room[int(0.5 * RATE) : int(1.5 * RATE)] += tone(1.0, 0.1)
    first, last = voiced_span(room)
    assert first / RATE == pytest.approx(0.4, abs=0.03) and last / RATE == pytest.approx(1.65, abs=0.03)
    audio = AnswerAudio()
    audio.add(T0, room)
    assert audio.pieces[0][0] == pytest.approx(T0 + 0.4, abs=0.03)


def test_an_answer_missing_audio_or_too_long_is_not_heard_whole() -> None:
    audio = AnswerAudio()
    audio.add(T0, tone(1.0))
    audio.add(T0 + 2, None)
    audio.add(T0 + 4, tone(1.0))
    assert not audio.complete and not audio.pieces
    long = AnswerAudio()
    long.add(T0, np.zeros(int((MAX_AUDIO_S + 1) * RATE), dtype=np.float32))
    assert not long.complete and not long.pieces


def live(*words: str, at: float = 0.0) -> tuple[dict, ...]:
    return tuple({"w": w, "start": at + i * 0.3, "end": at + i * 0.3 + 0.2, "p": 0.5} for i, w in enumerate(words))


def test_words_go_back_on_the_answers_clock_each_inside_its_utterance() -> None:
    spans = [Span(0.0, T0 + 0.2, 2.0, live("so", "and")), Span(3.0, T0 + 8.0, 2.0, live("then", at=7.7))]
    heard = [
        Word("So,", 0.1, 0.3, 0.9),
        Word("and", 1.8, 2.6, 0.7),  # its end strays into the pause after it
        Word("I", 2.7, 3.2, 0.6),  # its start strays into the pause before it
        Word("then", 3.2, 3.5, 0.8),
    ]
    text, words, replaced, _ = stitched(heard, spans, started_at=T0 + 0.3)
    assert (text, replaced) == ("So, and I then", 2)
    assert words == [
        {"w": "So,", "start": 0.0, "end": 0.2, "p": 0.9},
        {"w": "and", "start": 1.7, "end": 1.9, "p": 0.7},
        {"w": "I", "start": 7.7, "end": 7.9, "p": 0.6},
        {"w": "then", "start": 7.9, "end": 8.2, "p": 0.8},
    ]


def test_an_utterance_the_whole_pass_lost_words_in_keeps_its_live_words() -> None:
    # The pass looped on "words words words words" and was cut there: the rest is not in it.
    spans = [
        Span(0.0, T0, 2.0, live("we", "are", "just", "saying", "some", "words")),
        Span(3.0, T0 + 5.0, 4.0, live("here", "are", "more", "words", "words", "words", "um", "that", "is", "all", at=5.0)),
    ]
    heard = [Word(w, 0.1 + 0.3 * i, 0.3 + 0.3 * i, 0.9) for i, w in enumerate("Uh, we're just saying some words.".split())]
    heard += [Word("Here", 3.1, 3.3, 0.9), Word("are", 3.3, 3.5, 0.9), Word("more", 3.5, 3.7, 0.9), Word("words,", 3.7, 3.9, 0.9)]
    text, words, replaced, _ = stitched(heard, spans, started_at=T0)
    assert replaced == 1
    assert text == "Uh, we're just saying some words. here are more words words words um that is all"
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)


def test_a_word_across_the_boundary_of_an_utterance_that_keeps_its_live_words_is_kept_once() -> None:
    # "All" began as the utterance before ended: the whole pass put it there, and the last
    # utterance, which kept its live "All right, thanks.", has it too.
    spans = [
        Span(0.0, T0, 2.0, live("I", "think", "this", "is", "probably", "good.")),
        Span(2.2, T0 + 2.4, 1.0, live("All", "right,", "thanks.", at=2.4)),
    ]
    heard = [Word(w, 0.2 + 0.3 * i, 0.4 + 0.3 * i, 0.9) for i, w in enumerate("I think it's probably All".split())]
    heard += [Word("right,", 2.6, 2.8, 0.9)]
    text, words, replaced, _ = stitched(heard, spans, started_at=T0)
    assert replaced == 1
    assert text == "I think it's probably All right, thanks."


def test_a_hesitation_between_two_utterances_is_kept_once_however_it_is_spelled() -> None:
    # "...save her life. um On one hand": the lone "um" keeps its live word, and the whole pass
    # stretched its "Umm..." into the next utterance. The stored transcript read "Um... Umm...".
    spans = [
        Span(0.0, T0, 1.2, live("save", "her", "life.")),
        Span(1.5, T0 + 1.8, 0.4, live("Um...", at=1.8)),
        Span(2.2, T0 + 2.9, 1.0, live("On", "one", "hand,", at=2.9)),
    ]
    heard = [Word(w, 0.1 + 0.3 * i, 0.3 + 0.3 * i, 0.9) for i, w in enumerate(["save", "her", "life."])]
    heard += [Word("Umm...", 2.0, 2.5, 0.6), Word("On", 2.6, 2.7, 0.9), Word("one", 2.8, 2.9, 0.9), Word("hand,", 3.0, 3.1, 0.9)]
    text, _words, _replaced, _ = stitched(heard, spans, started_at=T0)
    assert text == "save her life. Um... On one hand,"


def _timed(count: int, start: float = 0.0, step: float = 0.3) -> list[dict]:
    return [{"w": f"w{i}", "start": start + i * step, "end": start + i * step + 0.2, "p": 0.9} for i in range(count)]


def test_the_whole_pass_replaces_the_live_one_only_if_it_lost_no_words() -> None:
    assert keeps(_timed(40), _timed(43, step=0.28))
    assert keeps(_timed(40), _timed(30, step=0.4))
    assert not keeps(_timed(40), _timed(20, step=0.6))  # a decode cut short by a loop, a segment dropped
    assert not keeps(_timed(3), [])
    assert keeps([], _timed(2))  # the live recogniser heard nothing there
    # As many words, but over less of the answer: the pass missed its opening or its close.
    assert not keeps(_timed(11), _timed(9, start=1.2), opening=True)  # "Uh, so this is" lost
    assert not keeps(_timed(11), _timed(9, step=0.25), close=True)  # the last word 1 s early
    assert keeps(_timed(11), _timed(10, start=0.5), opening=True, close=True)  # times differ a little
    # Between utterances a word said across the pause may go to the next one: no edge is held.
    assert keeps(_timed(11), _timed(9, start=1.2)) and keeps(_timed(11), _timed(9, step=0.25))


@pytest.fixture(scope="module")
def ears() -> BackgroundWhisper:
    whisper = BackgroundWhisper("tiny.en", prompt=FILLER_PROMPT)
    yield whisper
    whisper.close()


SENTENCES = (
    "At my last job our checkout kept timing out during the holiday sales.",
    "I profiled the service and found a missing index on the orders table.",
    "As a result pages loaded sixty percent faster and we kept the launch date.",
)


async def test_an_answer_with_thinking_pauses_is_heard_whole_with_its_words_in_place(ears: BackgroundWhisper) -> None:
    clips = [as_float(speak(s)) for s in SENTENCES]
    pauses = (2.5, 4.0)  # thinking pauses between the sentences
    audio, starts, at = AnswerAudio(), [], T0
    for i, clip in enumerate(clips):
        audio.add(at, clip, live(*SENTENCES[i].split(), at=at - T0))
        starts.append(at)
        at += len(clip) / RATE + (pauses[i] if i < len(pauses) else 0)
    samples, spans = audio.joined()
    heard = await ears.transcribe(samples, beam_size=5)
    text, words, replaced, _ = stitched(heard.words, spans, started_at=T0)
    assert replaced == 3
    assert word_error_rate(wer_text(" ".join(SENTENCES)), wer_text(text)) <= 0.2, text
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)
    # the first word after each pause starts after the pause, on the answer's clock
    for k in (1, 2):
        first = next(w for w in words if w["start"] >= starts[k] - T0 - 0.3)
        before = max(w["end"] for w in words if w["start"] < first["start"])
        assert first["start"] - before >= pauses[k - 1] - 0.6, (k, first, before)


def test_a_sound_the_whole_pass_is_sure_of_opens_the_answer_and_moves_its_start() -> None:
    # A hoarse "Uh, so this is" was faint to the VAD and unsure live: dropped as a sound, kept
    # for the whole pass, which hears it in context and is sure of it.
    spans = [
        Span(0.0, T0, 1.2, sound=True),
        Span(2.2, T0 + 2.5, 2.0, live("the", "sick", "corpus", at=0.0)),
    ]
    heard = [Word(w, 0.1 + 0.25 * i, 0.3 + 0.25 * i, 0.8) for i, w in enumerate("Uh, so this is".split())]
    heard += [Word(w, 2.3 + 0.3 * i, 2.5 + 0.3 * i, 0.9) for i, w in enumerate("the sick corpus.".split())]
    text, words, replaced, started_at = stitched(heard, spans, started_at=T0 + 2.5)
    assert text == "Uh, so this is the sick corpus."
    assert replaced == 2
    assert started_at == pytest.approx(T0 + 0.1)
    assert words[0]["start"] == 0.0 and words[4]["start"] == pytest.approx(2.5, abs=0.01)
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)


def test_a_sound_the_whole_pass_is_unsure_of_stays_out_and_the_answer_keeps_its_start() -> None:
    # A cough Whisper wrote "Thank you." for, live and whole alike, without conviction.
    spans = [
        Span(0.0, T0, 2.0, live("I", "started", "there", at=0.0)),
        Span(3.0, T0 + 4.0, 0.6, sound=True),
        Span(4.6, T0 + 6.0, 1.0, live("and", "stayed", at=6.0)),
    ]
    heard = [Word(w, 0.2 + 0.3 * i, 0.4 + 0.3 * i, 0.9) for i, w in enumerate("I started there".split())]
    heard += [Word("Thank", 3.1, 3.3, 0.3), Word("you.", 3.3, 3.5, 0.2)]
    heard += [Word("and", 4.7, 4.9, 0.9), Word("stayed.", 4.9, 5.3, 0.9)]
    text, words, replaced, started_at = stitched(heard, spans, started_at=T0)
    assert text == "I started there and stayed."
    assert (replaced, started_at) == (2, T0)
    # A sigh the pass writes as a sure "Uh..." stays out too: only fillers are not words.
    sigh = [*heard[:3], Word("Uh...", 3.1, 3.5, 0.8), *heard[5:]]
    assert stitched(sigh, spans, started_at=T0).text == "I started there and stayed."
    # with the live words left alone, the start is where it was
    assert stitched([], spans, started_at=T0) == ("I started there and stayed", list(spans[0].live + spans[2].live), 0, T0)


def test_sounds_join_the_answer_only_if_the_candidate_goes_on() -> None:
    def heard(at: float, text: str = "") -> RecognizedUtterance:
        words = tuple(Word(w, 0.1 * i, 0.1 * i + 0.1, 0.9) for i, w in enumerate(text.split()))
        return RecognizedUtterance(text, words, at, at + 1.0, 0.0, audio=tone(1.0), audio_lead_s=0.0)

    answer = OpenAnswer(started_at=T0, question_id=None)
    answer.add(heard(T0, "I started there"))
    answer.sounds.append(heard(T0 + 2.0))  # a sound in a pause, then more words
    answer.add(heard(T0 + 4.0, "and stayed"))
    answer.sounds.append(heard(T0 + 6.0))  # a sound after the last words
    assert [sound for *_, sound in answer.audio.pieces] == [False, True, False]
    assert answer.transcript == "I started there and stayed"


def test_only_sounds_just_before_an_answers_first_words_open_it() -> None:
    def sound(at: float) -> RecognizedUtterance:
        return RecognizedUtterance("", (), at, at + 0.5, 0.0, audio=tone(0.5), audio_lead_s=0.0)

    held = SoundsBefore()
    for at in (T0, T0 + 5.0, T0 + 7.0):  # a cough long before, then a hoarse opening in two parts
        held.heard(sound(at))
    opening = held.take(T0 + 7.5 + SOUND_BEFORE_S - 1.0)
    assert [s.speech_start_at for s in opening] == [T0 + 7.0]
    assert held.take(T0 + 8.0) == []  # taken once
    held.heard(sound(T0 + 20.0))
    held.clear()  # the interviewer spoke since
    assert held.take(T0 + 21.0) == []


def test_a_word_stretched_into_a_sound_stays_with_the_utterance_it_began_in() -> None:
    # "because..." is said at the end of an utterance, and Whisper stretches it over the pause
    # into the cough after it: its middle falls in the cough, but it is the utterance's word.
    spans = [
        Span(0.0, T0, 2.0, live("I", "left", "because", at=0.0)),
        Span(3.0, T0 + 3.5, 0.8, sound=True),
        Span(4.8, T0 + 6.0, 1.0, live("it", "moved", at=6.0)),
    ]
    heard = [Word("I", 0.2, 0.4, 0.9), Word("left", 0.5, 0.8, 0.9), Word("because...", 1.6, 3.6, 0.9)]
    heard += [Word("it", 4.9, 5.1, 0.9), Word("moved.", 5.1, 5.5, 0.9)]
    text, words, replaced, started_at = stitched(heard, spans, started_at=T0)
    assert text == "I left because... it moved."
    assert replaced == 2 and started_at == T0
    assert words[2]["start"] == pytest.approx(1.6)  # not moved to the cough's start (3.5)


def test_a_sign_off_squeezed_into_the_end_of_the_audio_is_invented() -> None:
    # Heard whole, the browser test's answer gained "Thank you so much for watching and I'll see
    # you in the next video," in the last 0.2 s of its audio: nobody says 14 words there.
    spans = [Span(0.0, T0, 13.42, live("in", "three", "months.", at=12.3))]
    heard = [Word("in", 12.32, 12.6, 0.99), Word("three", 12.6, 12.84, 0.7), Word("months.", 12.84, 13.2, 0.99)]
    invented = "Thank you so much for watching and I'll see you in the next video,".split()
    squeezed = [Word(w, 13.22 if i == 0 else 13.42, 13.42, 0.5) for i, w in enumerate(invented)]
    assert stitched(heard + squeezed, spans, started_at=T0).text == "in three months."
    # A last word or two that start near the end are said words.
    assert stitched(heard + squeezed[:1], spans, started_at=T0).text == "in three months. Thank"
