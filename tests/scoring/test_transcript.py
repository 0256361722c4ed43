"""Spoken answers as text: fillers and restarts set apart, the content left as it was said."""

from __future__ import annotations

from scoring.transcript import clean_transcript


def test_fillers_and_restarts_are_taken_out_and_listed() -> None:
    spoken = clean_transcript(
        "Um, so, yeah. I was, uh, the shift coordinator, and I, I changed the rota, like, two "
        "weeks later, you know, so nobody came in on the wrong day."
    )
    assert spoken.text == (
        "I was, the shift coordinator, and I changed the rota, two weeks later, so nobody came in "
        "on the wrong day."
    )
    assert spoken.disfluencies == ("um", "so, yeah", "uh", "like", "you know", "i, i")


def test_words_that_carry_content_stay() -> None:
    written = "It works like a cache, so reads are fast. Yes, I would decline it, I mean the watch."
    assert clean_transcript(written).text == written
    assert clean_transcript(written).disfluencies == ()


def test_an_answer_that_is_only_fillers_is_empty() -> None:
    spoken = clean_transcript("Um. Uh, hmm.")
    assert spoken.text == "" and len(spoken.disfluencies) == 3
