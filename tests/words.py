"""Word error rate as the tests measure it: case, punctuation and contractions do not count."""

from __future__ import annotations

import re

import jiwer

CONTRACTIONS = {
    "you're": "you are", "i'm": "i am", "it's": "it is", "we're": "we are", "they're": "they are",
    "don't": "do not", "didn't": "did not", "can't": "cannot", "i've": "i have", "that's": "that is",
    "what's": "what is", "let's": "let us", "i'd": "i would", "i'll": "i will", "won't": "will not",
}
NUMBERS = {"40%": "forty percent"}


def normalise(text: str) -> str:
    text = text.lower()
    for written, spoken in NUMBERS.items():
        text = text.replace(written, f" {spoken} ")
    words = re.sub(r"[^a-z' ]", " ", text.replace("\u2019", "'")).split()
    return " ".join(CONTRACTIONS.get(word, word) for word in words)


def word_error_rate(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))


def inserted_words(reference: str, hypothesis: str) -> int:
    """Words the hypothesis has that the reference does not (jiwer's insertions)."""
    return int(jiwer.process_words(normalise(reference), normalise(hypothesis)).insertions)
