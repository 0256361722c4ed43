"""What counts as a word, a filler and a pause in speech: one definition for live signals and reports.

media/speech_signals.py applies these to the recogniser's words as they arrive; reports/delivery.py
to the words stored with each response. Both read a token the same way:

- Tokens: recognised text lower-cased, with the punctuation around it removed and curly
  apostrophes made straight (`normalise`); a token of bare punctuation is no token at all.
- Vocal fillers: "um", "uh", "er", "ah", "hmm" and their spellings ("umm", "uhh", "erm").
  They are spoken, so they count as speaking time, but they are not words.
- Lexical fillers: "like", "you know", "I mean", "basically", "so". They are words, and count
  as fillers only in their discourse-marker use ("it was, like, two hundred", not "like a
  cache"); media/speech_signals.py judges the use from the words and pauses around them.
- Hedges: "kind of", "sort of", "kinda", "sorta" used to soften a claim. They are counted
  apart from fillers.
- Pause: a gap of PAUSE_THRESHOLD_S or more between one word's end and the next one's start.
  Shorter gaps are speaking time.
- Pace: words (vocal fillers left out) per minute of speaking time, so it answers "how fast do
  they talk when talking". Speaking time leaves out the pauses of PACE_PAUSE_S or more (a
  thinking pause); a shorter one (a breath between phrases, a comma) is part of talking, though
  it is reported as a pause. With every pause of 0.25 s left out, the live pace read people's
  recordings 36% fast on average (many 0.25-0.5 s gaps between phrases; bench.turn_taking
  --recordings), where synthetic voices, which leave few such gaps, read about right. Over less
  than MIN_PACE_SPEAKING_S of speaking time a rate is too noisy to report.
"""

from __future__ import annotations

import re
from typing import Literal

FillerKind = Literal["vocal", "lexical"]

PAUSE_THRESHOLD_S = 0.25
PACE_PAUSE_S = 0.5
MIN_PACE_SPEAKING_S = 5.0
LEXICAL_FILLERS = frozenset({"like", "you know", "i mean", "basically", "so"})
YOU_KNOW_SPELLINGS = frozenset({"y'know", "ya'know"})  # "you know" written as one token
HEDGES = frozenset({"kind of", "sort of", "kinda", "sorta"})

# A vocal filler's spellings, as a regex fragment for matching inside text (scoring/transcript.py).
VOCAL_FILLER_PATTERN = r"u+[hm]+|u+h+m+|e+r+m*|e+h+|a+h+|h+m+|m{2,}"

_VOCAL_FILLER = re.compile(rf"^(?:{VOCAL_FILLER_PATTERN})$")
_EDGE_PUNCTUATION = re.compile(r"^[^\w']+|[^\w']+$")


def normalise(token: str) -> str:
    """A token as the definitions read it: lower case, no punctuation around, straight apostrophes."""
    return _EDGE_PUNCTUATION.sub("", token.lower()).replace("\u2019", "'")


def is_token(text: str) -> bool:
    """Whether recognised text holds a token at all, rather than bare punctuation."""
    return bool(normalise(text))


def filler_kind(token: str) -> FillerKind | None:
    """A filler sound is "vocal"; a word or phrase that is a filler as a discourse marker, "lexical"."""
    norm = normalise(token)
    if _VOCAL_FILLER.match(norm):
        return "vocal"
    if norm in LEXICAL_FILLERS or norm in YOU_KNOW_SPELLINGS:
        return "lexical"
    return None


def is_vocal_filler(token: str) -> bool:
    """True for "um", "uh", "erm", "hmm" and their spellings."""
    return filler_kind(token) == "vocal"


def counts_as_word(token: str) -> bool:
    """Whether a token counts towards pace and per-100-word rates: any token but a vocal filler."""
    return not is_vocal_filler(token)


def words_per_minute(words: float, speaking_s: float) -> float | None:
    """Pace: words per minute of speaking time; None without any speaking time."""
    return 60.0 * words / speaking_s if speaking_s > 0 else None
