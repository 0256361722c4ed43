"""Spoken answers as text: the disfluencies a transcript keeps, set apart from what was said.

Answers arrive from speech recognition, so they carry fillers ("um", "you know,"), restarts
("I, I asked") and discourse markers that a written answer would not. They say how an answer
was delivered, not what it contains: the evaluator reads content from the cleaned text and counts
the disfluencies separately, for the one dimension (communication) that judges delivery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scoring.speech import VOCAL_FILLER_PATTERN

# Sounds (scoring/speech.py's vocal fillers) and set phrases that carry no content where they
# stand. "like", "you know" and "I mean" count only when a comma follows ("it was like, two
# hundred"): "like a cache" is a comparison.
_FILLER = re.compile(
    rf"(?:^|(?<=[\s,.;:!?]))(?:{VOCAL_FILLER_PATTERN})(?=$|[\s,.;:!?])[,.]?"
    r"|\b(?:you know|i mean|like)\s*,"
    r"|(?:(?<=,)|(?<=^)|(?<=[.!?]\s))\s*well\s*,"
    r"|,\s*(?:you know|i mean|like)(?=[,.!?]|$)"
    r"|(?:(?<=,)|(?<=^)|(?<=[.!?,]\s))\s*(?:so,? yeah|yeah,? so)\b,?",
    re.IGNORECASE,
)
# A word or two said twice as the speaker restarts: "I, I asked", "the, the queue", "it's it's".
_RESTART = re.compile(r"\b((?:[\w']+\s){0,1}[\w']+),?\s+\1\b(?=[\s,.;:!?]|$)", re.IGNORECASE)
_SPACES = re.compile(r"\s{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_REPEATED_PUNCT = re.compile(r"([,;:])\s*[,;:]+")
_LEADING_PUNCT = re.compile(r"(^|[.!?]\s+)[,;:]\s*|^[.!?]+\s*")


@dataclass(frozen=True, slots=True)
class CleanTranscript:
    """An answer with its disfluencies taken out, and what was taken out, in order."""

    text: str
    disfluencies: tuple[str, ...]


def without_restarts(text: str) -> str:
    """`text` with each restart said once ("That's, that's it" -> "That's it")."""
    return _RESTART.sub(r"\1", text)


def clean_transcript(text: str) -> CleanTranscript:
    """The answer without fillers and restarts (content unchanged), and the ones removed."""
    removed: list[str] = []

    def drop(match: re.Match[str]) -> str:
        removed.append(match.group(0).strip(" ,.").lower())
        return " "

    def keep_once(match: re.Match[str]) -> str:
        removed.append(match.group(0).lower())
        return match.group(1)

    cleaned = text
    for _ in range(3):  # taking one filler out can leave another at the start of a sentence
        before = cleaned
        cleaned = _LEADING_PUNCT.sub(r"\1", _FILLER.sub(drop, cleaned).strip())
        if cleaned == before:
            break
    cleaned = _RESTART.sub(keep_once, cleaned)
    cleaned = _REPEATED_PUNCT.sub(r"\1", cleaned)
    cleaned = _SPACE_BEFORE_PUNCT.sub(r"\1", cleaned)
    cleaned = _LEADING_PUNCT.sub(r"\1", cleaned.strip())
    cleaned = _SPACES.sub(" ", cleaned).strip(" ,")
    return CleanTranscript(cleaned, tuple(removed))
