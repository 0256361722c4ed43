"""When a candidate's turn is over: several signals together, tuned for interviews.

Candidates stop to think for one to four seconds in the middle of an answer; an interviewer
who jumps in is far worse than one who waits a second longer. So a pause never ends the turn
by its length alone. At each pause the answer so far is read:

- its last words: a trailing "and", "so", "because", "um", or no closing punctuation means
  more is coming (`continuing`);
- whether it is complete for the question asked: the question's rubric (an example and an
  outcome for a behavioral question, reasoning for an MMI station) and whether its last
  sentence closes (a result, a conclusion, "that's why …");
- the audio end-of-turn model (LiveKit's turn detector, offline), from the intonation of the
  last 1.2 s;
- this speaker's own pauses: a pause they resumed after, in a state that looked finished,
  raises the wait for that state for the rest of the interview.

Together they give how much silence ends the turn. A turn that stays open past
`prompt_after_s` gets a gentle prompt ("Take your time."), never the next question.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import functools
import logging
import math
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from agent.interviewer import MIC_CHECK_MAX_WORDS, assess_answer, is_mic_check
from agent.priority import engine_executor
from agent.question_bank import Question
from scoring.speech import is_vocal_filler
from scoring.transcript import without_restarts

logger = logging.getLogger(__name__)

TextState = Literal["continuing", "open", "likely", "complete"]
STATES: tuple[TextState, ...] = ("continuing", "open", "likely", "complete")

EOT_SAMPLE_RATE = 16000
EOT_WINDOW_S = 1.2  # what the audio end-of-turn model hears: the last 1.2 s
# Speech going on as the recogniser starts hearing is heard to start up to this late: the VAD
# places it 0.07-0.11 s after (test_opening_heard_once, five runs).
HEARD_FROM_MIDDLE_S = 0.25
HEARD_FROM_EARLY_S = 0.1  # the warm-up's timer starts with the interviewer's state, not its first frame
FRAGMENT_MAX_WORDS = MIC_CHECK_MAX_WORDS  # the tail of a "Hello? Can you hear me?" said as the room opens
# A few words under the opening begin the answer that follows them this soon ("Sure. At my
# last job...", spoken over the question; espeak pauses ~0.4 s, people up to a second or so).
HELD_JOIN_GAP_S = 2.0


class Opening(enum.Enum):
    """What becomes of speech heard around the opening (`TurnTaker.opening_speech`)."""

    KEPT = "kept"  # heard as usual
    LET_GO = "let go"  # no answer to anything
    HELD = "held"  # a few words under the opening: kept only if an answer follows at once

# Words after which a speaker who stops has not finished: conjunctions, articles, prepositions
# and the like, and any vocal filler (scoring.speech). Whisper writes "and..." or "and" for
# these, never "and."
_CONTINUATION = frozenset(
    "and but so because or then like which that who to the a an of "
    "with for from in on at by my our their his her your its we i is was were are be been if "
    "when while as also plus than though although since until unless whereas".split()
)
_WORD = re.compile(r"[a-z0-9']+")
# What a candidate says over the interviewer's first words without going on with the answer.
_ACKNOWLEDGEMENTS = frozenset("okay ok yeah yep yes mhm hm right sure sorry oh oops alright".split())
_HUM = re.compile(r"^(h*m+)+$")  # "mm", "hmm", "mhm": assent, where "uh" and "um" hesitate
_SENTENCE_END = re.compile(r"[.!?]['\")\]]*$")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
# A last sentence that closes an answer: a result, a lesson, a reflection, a conclusion.
_CLOSING = re.compile(
    r"\b(as a result|the (result|outcome|impact) (was|is)|in the end|^and the end\b|ultimately|overall|"
    r"(that's|that is|which is|this is) (basically |really |pretty much |kind of |sort of |roughly |just )?(why|how)\b|"
    r"to sum up|in short|in summary|^(and )?so,? on balance\b|"
    # a decision ("So if I had to pick, retention first."), the point of a story ("… which was kind
    # of the point."), a lesson carried on ("And that's something I'd want to carry into medicine.")
    r"if i had to (pick|choose|decide)|which (was|is) (kind of |sort of |really )?the (whole )?point|"
    r"that's (something|what|one thing) i('d| would|'ll| will)? ?(want to |try to |like to )?(carry|take|keep|bring|remember)\b|"
    r"all in all|(^|, )(and |so |but )?at the end of the day\b|in conclusion|(i|we) (have )?learned|taught me|the lesson|"
    r"(^|, )(and |so |but )?looking back\b|in hindsight|that's (it|all)|that is (it|all)|most of all|above all|"
    # "I'd say two months" estimates; "So I'd say …" and "I'd choose …" decide; "I'd say maybe,
    # what, half …" is a step of a sum worked out aloud
    r"so i would|i would (choose|go with|recommend|still|have to)|^(so )?i('d| would) (probably )?say\b(?!,? (maybe|what)\b)|i('d| would) (probably )?choose|"
    r"my (answer|decision|choice|recommendation) (is|would be)|resulted in|which led to|led to|"
    # "by the end of the first week" dates a scene; "By the end, …" tells how it ended
    r"ended up|^(and |so )?by the end\b(?! of)|since then|from then on|ever since|these days|nowadays|to this day|"
    # a figure that measures a change ("cut errors by 40%", "sixty percent faster"), not any
    # figure ("from 82 to 76%", "around 13%", "not 100% sure")
    r"by (\w+ )?\d[\d.,]* ?(%|percent)|by (\w+ ){1,3}percent|(%|percent) (faster|slower|more|less|fewer|higher|lower|"
    r"cheaper|better|smaller|bigger|quicker|shorter|longer)|doubled|halved|tripled|for good|it worked|"
    # how people close out loud: an evaluation of what they told, a thank-you (the wrap-ups
    # that hand the turn back, "So yeah." and "That's about it.", are _HANDOFF's)
    r"that's (my answer|the story|what i('d| would) do)|"
    r"(really )?stood out|made (a|the|all the) (big |huge |real )?difference|paid off|was worth it|"
    r"(i'm|i am|i was|we were|we're|we are) (still )?(really |very |so |quite )?proud of (that|it|this|what|how|the (result|outcome|team|work))|"
    r"that (should|would|will) be (it|all|everything)|that covers (it|everything)|that's everything|"
    r"that's what (i|we) did|that (was|is) (my|the) (experience|example|story)|"
    r"i('d| would) do (it|the same|that) again|(i'm|i am) (really |so |very )?glad (i|we) did|"
    r"think (that|this) answers (your|the) question|"
    r"^(so |and |yeah,? |alright,? |all right,? |okay,? |ok,? )?(thank you|thanks)( (so|very) much)?\W*$|"
    # a thank-you tagged onto the last sentence ("And that should be all, thanks."), not one
    # reported in a story ("She just said, thank you.")
    r"(?<!\bsaid)(?<!\bsays)(?<!\bsay)(?<!\breplied)(?<!\bwrote), (thank you|thanks)( (so|very) much)?\W*$)"
)
_OUTCOME_VERB = re.compile(
    r"\b(we|i|they|it|that|this|which|he|she|costs?|sales|errors?|tickets?)\s+(shipped|reduced|increased|"
    r"improved|cut|grew|saved|launched|delivered|won|closed|hit|exceeded|raised|lowered|decreased|"
    r"boosted|resolved|achieved|finished|completed|passed|released|recovered|retained|kept|fell|"
    # "went up to me" is where a task fell, not a result; "I won't" is not "I won"
    r"dropped|rose|went (up|down)(?!\s+to\s+(me|us|him|her|them|you)\b)|renewed|earned|became|succeeded)\b(?!')"
    # "it worked", "that worked out"; not "I worked out the cost" or "we worked with finance"
    r"|\b(it|that|this|which|everything)\s+(\w+\s+)?worked\b(?!\s+(on|with|at|for|in)\b)"
)
# A priority stated as a conclusion ("patient safety has to come first", "I'd put her safety
# first"): "first" at a sentence's end that ranks, not the first of several steps.
_PRIORITY = re.compile(r"\b(comes?|came|coming|put|puts|putting|rank|ranks)\b(\s+[\w']+){0,4}\s+first\W*$")
# A reflection or wish in the present, after a story told in the past: how people sum up.
_REFLECTION = re.compile(r"^(so |and )?(i think|i believe|i feel|i hope|i want|i'd like|i would like|for me|honestly)\b")
# A story told in the past: what a reflection sums up. An opinion answer ("So I think it's good,
# as long as …", "Honestly you'll lose some reps.") says "I think" all the way through.
_PAST = re.compile(
    r"\b(was|were|had|did|went|got|made|took|said|told|came|saw|knew|thought|felt|found|gave|kept|left|led|ran|"
    r"began|became|brought|built|wrote|spoke|sent|set up|sat|met|lost|won|paid|sold|spent|taught|caught|"
    r"\w{3,}(ed|ied))\b"
)
_NOT_PAST = frozenset("need needed based interested used supposed indeed speed seed red bed feed".split())
STORY_PAST_VERBS = 3
# "So now I …", "These days I …", "I still …": not any "now" or "still" ("it still fell through",
# "he didn't always show up").
_PRESENT_WRAP = re.compile(
    r"^(so |and |but )?(now|today|these days|nowadays)\b|\b(i|we)('m| am|'re| are)? (now|still|always)\b"
    r"|\b(i|we) (\w+ ){1,6}now\b"
)
# The speaker hands the turn back: a wrap-up ("So yeah.", "That's roughly it.", "I'll stop
# there."), a question to the interviewer ("Does that make sense?"), a wish ("Hope that helps.").
# People rarely go on after these, whatever the answer said before them.
_OFFER = (
    r"(i can|i could|happy to|glad to) (go|get|dig|talk|say more|walk (you )?through|expand|elaborate|write|show|"
    r"sketch|draw|break (it|that|this) down|look (at|into)|run through)"
)
_OFFER_IF = (
    r"(if (you('re| are)? (want|wish|like|prefer|need|interested)|(that|it)('s| is| would be|'d be) (helpful|useful|"
    r"of interest)|(that|it) helps)|whichever('s| is) (more )?(interesting|useful|helpful|relevant))"
)
_HANDOFF = re.compile(
    r"\bthat's (roughly |about |pretty much |basically |more or less |kind of |sort of |probably )?"
    r"(it|all|everything|my answer|my (pick|choice|take|view|approach|recommendation|plan|decision)|"
    r"the main (one|thing|point|reason|idea)|the gist( of it)?|the (high level|overview|summary|(short|quick) version)|"
    r"the (core|heart|crux)( of it)?|(me|it) in a nutshell|what i('ve| have) got|my two cents|"
    r"(the|my) (shape|design|approach|plan|option|one|pick) i('d| would) (go with|pick|choose|recommend))"
    r"(,? (at (a|the) high level|in a nutshell|for now|really|i think|i guess))?\W*$"
    r"|\bthat's where i('d| would)? (land|stand|come down)\b|\bthat's,? yeah\W*$"
    r"|\bthat's (roughly |probably |basically |more or less )?(where|how) i('d| would) (start|begin)\W*$"
    r"|\b(those|these) (are|were) (probably |basically |i guess |i think )?(the|my) (main|key|big|biggest) "
    r"(ones|things|points|pieces|risks|reasons|steps|parts)\W*$"
    r"|\bif (that|this|it) makes (any )?sense\W*$"
    r"|\bthat's (the one|the (thing|project|example|story)|what) i('m| am| was) (most |really )?proud(est)? of\W*$"
    # an apology for the answer's length or order: "Sorry, that was a long answer.", "Sorry for
    # rambling.", "Sorry, I've gone on a bit there.", "Sorry, I jumped around a lot."
    r"|\bsorry,? (for (the |my )?(long (answer|one|response)|rambling|going on)|"
    r"(that was|that's|i('ve| have)?) (a |bit |little |quite |very |so )*(long (answer|one|response)|rambl\w*|went on|gone on)|"
    r"i (jumped|was jumping) (around|about))"
    r"|\bi (always |tend to )?get (a bit |a little |quite |so )?carried away\b"
    r"|\bsorry\b[^.?!]*\b(going (on|a bit long|long|over)|rambl\w*|talking too much|went on|gone on|long answer)\b"
    r"|\bi could (honestly |happily )?talk about [^.?!]* for (ages|hours|days|ever)\b"
    # not "Did it help?", which a story asks itself and answers
    r"|\b(does|did) (that|this|it) (make sense|answer (your|the)|cover (it|what you))|\b(do|would) you (want|like) me to\b"
    r"|\b(should|shall|can) i (go on|keep going|continue|elaborate|expand)\b"
    r"|\b(should|shall|can|could) i (go|dig) (deeper|further|into (more )?detail)\b[^.!]*\?\W*$"
    r"|\b(is|was) (that|this) (ok|okay|alright|what you|helpful|enough|clear)\b|\bany questions\?"
    r"|\bi('ll| will) (stop|leave it|pause) (there|here)\b"
    r"|\b(i )?hope (that|this) (helps|answers|makes sense|covers|(was|is) (clear|helpful|useful|ok|okay|easy))"
    r"|\bhopefully (that|this) (helps|answers|makes sense|covers)"
    r"|\bi('m| am) sure i('ve| have) (missed|forgotten|left out)\b"
    # an offer to say more: "I can go deeper on the data side if you want.", "If it helps, I can
    # walk you through it.", and its condition heard as a sentence of its own ("… on the consent
    # side. If that's helpful.")
    rf"|\b{_OFFER}\b[^.?!]*\b{_OFFER_IF}|\b{_OFFER_IF}\b,? {_OFFER}\b|^{_OFFER_IF}\W*$"
)
# A question to the interviewer at the end ("… or were you thinking much bigger?", "Is that the
# kind of example you were looking for?", "Was I meant to focus on the ethics?"), not a story's
# or the generic "you" ("Would she want you to see her record?", "When did you last sign …?"),
# nor one reported ("She asked me, do you want to lead?").
_ASKS_BACK = re.compile(
    r"^(?!.*\b(asked|asks|asking|said|says|wondered|wondering|told)\b).*"
    r"(\b(do|did|would|were|are|have) you (want|wanted|mean|meant|have|had|prefer|like|need|thinking|think|"
    r"looking|expect|expecting)\b|\b(what|the kind of \w+|the sort of \w+) you (want|wanted|mean|meant|were|are|had)\b"
    r"|\bdoes (that|this)( \w+)? (sound|seem|look) (about |roughly )?(right|ok|okay|reasonable|fair|good)\b"
    r"|\b(was|am) i (meant|supposed) to\b|\bis it (ok|okay|alright|all right) if i\b"
    r"|\byou('re| are| were) (thinking|thinking of|looking for|after|asking about)\b).*\?\W*$"
)
# "So yeah.", "So yeah, something like that." wrap up: "yeah" and at most a few words after it
# ("Yeah, so the deadline was two weeks away." goes on). A lone "Yeah." may be an "uh" misheard
# (tiny.en writes one so): it takes a word before or after it.
_YEAH_WRAP = re.compile(r"^(?P<before>((so|and|but|okay|ok),? )*)yeah\b\W*(?P<after>.*)$")
YEAH_WRAP_AFTER_WORDS = 4
_FILLER_WORD = re.compile(r"\b(?P<word>[a-z]+)\b[,.]*\s*")  # "so, um, yeah" reads as "so, yeah"
# "… something like that.", "… because of this.": a phrase that ends where "that" and "this" do
_ENDS_ON_DEMONSTRATIVE = re.compile(r"\b(like|of|about|with|for|on|after|before|from|than) (that|this)\W*$")
# "… and honest about what the job actually is.": a clause that ends where its verb does
_ENDS_ON_WH_CLAUSE = re.compile(r"\b(what|where|who|whatever|wherever|how \w+)( [\w']+){1,4} (is|are|was|were)\W*$")
# Words of _CONTINUATION that also end sentences ("what I'm proud of.", "back then."); not "to",
# which Whisper ends a cut-off phrase with more often than a speaker ends a sentence ("I'd love to.")
_MAY_END_A_SENTENCE = frozenset("that on in with for from at by of then since".split())
# A last sentence that opens or lists: the story is starting or has more steps to come.
_OPENING = re.compile(
    r"^(so |and |but |well )?(one (time|day|of my|of the)|at my|in my (last|previous|current|first|old)|"
    r"when i|last (year|month|week|summer)|a (few|couple)|there (was|were)|my (task|job|role|goal|first)|"
    r"the (problem|issue|challenge|situation|question) (was|is)|first(ly)?|to (start|begin)|"
    r"on (the )?one hand|for (example|instance)|then|next|after that|the first thing)\b"
    # "I would first …", "… my friend first.": the first of several steps
    r"|\b(i|we|you) (would |will |'d |'ll )?first\b|\bfirst\W*$"
)
# What people say before they have begun to answer: thanks, "good question", a request for time.
# An answer of nothing else has not started ("Thank you." and then thinking), whatever "thank you"
# means at the end of one.
_TIME_REQUEST = (
    r"let me (think|see|gather my thoughts)|give me (a|one) (second|moment|sec|minute)|bear with me"
    r"|i need (a|one) (second|moment|minute)"
)
_PREAMBLE = re.compile(
    r"^((thank you|thanks)( (so|very) much)?( for (the|that|this|your|asking)( \w+)?)?"
    r"|(that's|that is|what|it's|it is) (a |an )?(really |very )?(good|great|interesting|tough|hard|difficult|fair|big) "
    r"(one|question)|(good|great|interesting|tough|hard|difficult|fair) (one|question)"
    rf"|({_TIME_REQUEST})( about (that|it|this))?( for a (second|moment|sec|minute))?( to think)?"
    r"|(one|just a) (second|moment|sec|minute))$"
)
# A request for time in the last sentence ("Hmm, let me think how to put this."), and what
# follows it there.
_ASKS_FOR_TIME = re.compile(rf"\b({_TIME_REQUEST})\b(?P<after>.*)$")
_PUNCTUATION_FIRST = re.compile(r"^\s*[,;:\u2013\u2014-]")
HABIT_QUANTILE = 0.9  # the share of a speaker's resumed pauses a learned wait covers
# Answers shorter than this are getting started; longer ones have said something substantial.
EARLY_WORDS = 30
SUBSTANTIAL_WORDS = 50
STORY_SENTENCE_WORDS = 18  # a sentence this long, of several clauses, may hold a whole story
_CLAUSE_JOINT = re.compile(r",|\band\b|\bthen\b")


ENDING_GAP_S = 0.3  # silence put between the last two utterances when they are heard again


def join_ending(previous: np.ndarray | None, last: np.ndarray) -> np.ndarray:
    """The last two utterances' audio (16 kHz float32), a short silence between, to be heard again."""
    if previous is None or not len(previous):
        return last
    gap = np.zeros(int(ENDING_GAP_S * EOT_SAMPLE_RATE), dtype=np.float32)
    return np.concatenate([previous, gap, last]).astype(np.float32, copy=False)


@dataclass(frozen=True, slots=True)
class TurnTakingSettings:
    """How much silence ends a turn in each state, and the prompts for long silences."""

    complete_hold_s: float = 0.8
    likely_hold_s: float = 2.4
    open_hold_s: float = 3.6
    # A learned habit never raises a state's hold above these.
    complete_cap_s: float = 0.9  # past it, one more second of waiting rarely saves a pause (bench.turn_policy)
    likely_cap_s: float = 3.4
    open_cap_s: float = 4.5
    habit_margin_s: float = 0.35
    # Once this many of the speaker's pauses have been seen, a "likely over" answer waits as
    # long as their longest one needs (never under likely_floor_s), not the cautious default.
    learn_after_pauses: int = 8
    likely_floor_s: float = 1.4
    # A "likely over" answer that reads complete when its ending is heard again waits this long.
    reheard_hold_s: float = 1.5
    # A continuing answer is never ended by silence before this; then "Take your time."
    prompt_after_s: float = 5.0
    # After the prompt, this much more silence ends the turn (they have nothing to add).
    give_up_after_s: float = 7.0
    # The interviewer yields if the candidate speaks within this long of its reply starting.
    yield_window_s: float = 3.0
    # An answer this long (x the question's time limit) has likely said what it will.
    long_answer_ratio: float = 1.0
    # The recogniser hears silence for this long after the interviewer's first sound (the
    # session's echo-canceller warm-up, settings.aec_warmup_s), as it does before that sound.
    unheard_after_first_voice_s: float = 1.0


class EndOfTurnModel(Protocol):
    """P(turn ended) from the last 1.2 s of 16 kHz int16 audio; blocking, thread-safe."""

    def predict(self, pcm: np.ndarray) -> float: ...


@functools.cache
def _eot_executor() -> concurrent.futures.ThreadPoolExecutor:
    """The end-of-turn model's own thread, shared by every interview in the process."""
    return engine_executor("end-of-turn")


class LocalEndOfTurn:
    """LiveKit's audio end-of-turn detector (`turn-detector-v1-mini`), bundled with
    livekit-agents in `livekit-local-inference`: offline, 15-90 ms per prediction here."""

    def __init__(self) -> None:
        from livekit.local_inference import EOT, EOT_MAX_SAMPLES

        self._model = EOT()
        self._max_samples = EOT_MAX_SAMPLES

    def predict(self, pcm: np.ndarray) -> float:
        return float(self._model.predict(np.ascontiguousarray(pcm[-self._max_samples :], dtype=np.int16)))


@dataclass(frozen=True, slots=True)
class Reading:
    """What the answer so far says about whether it is over."""

    state: TextState
    words: int
    reason: str
    reheard: bool = False  # complete only once its ending was heard a second time


def adds_nothing(text: str) -> bool:
    """Whether an utterance holds only vocal fillers and acknowledgements ("Uh.", "Mm-hm.",
    "Okay.", "Oh, sorry."): nothing that goes on with an answer."""
    words = _WORD.findall(text.lower())
    return all(is_vocal_filler(w) or w in _ACKNOWLEDGEMENTS for w in words)


def hesitates(text: str) -> bool:
    """Whether an utterance holds a hesitation ("uh", "um", "er"), not only hums and words."""
    return any(is_vocal_filler(w) and not _HUM.match(w) for w in _WORD.findall(text.lower()))


def no_answer_yet(text: str) -> bool:
    """Whether an answer so far holds only what people say before answering: thanks,
    acknowledgements, fillers, "good question", a request for time."""
    for sentence in _SENTENCES.split(text.strip()):
        words = [w for w in _WORD.findall(sentence.lower()) if not (is_vocal_filler(w) or w in _ACKNOWLEDGEMENTS)]
        if words and not _PREAMBLE.match(" ".join(words)):
            return False
    return True


def asks_for_time(sentence: str) -> bool:
    """Whether a sentence ends on a request for time: "let me think (how to put this)", not
    "it took, let me see, about two months", where what they thought of follows."""
    m = _ASKS_FOR_TIME.search(sentence.lower())
    if m is None:
        return False
    if not _PUNCTUATION_FIRST.match(m["after"]):
        return True  # "let me think how to put this", "give me a second to…"
    said = [w for w in _WORD.findall(m["after"]) if not is_vocal_filler(w)]
    return len(said) < 2


# A reply to "Is there anything you'd like to add?" that adds nothing: they have finished.
_NOTHING_TO_ADD = re.compile(
    r"^(no|nope|nah|nothing|not really|i think that'?s (it|all|everything)|that'?s (it|all|everything)|"
    r"i'?m (done|good|finished|all set)|i think i'?m (done|good)|that covers it)\b"
)


def adds_nothing_more(text: str) -> bool:
    """Whether what was said after being asked for more declines ("No, that's all.", "Not
    really.", "I think I'm done."), rather than going on ("No, but one more thing: …")."""
    words = [w for w in _WORD.findall(text.lower()) if not is_vocal_filler(w)]
    said = " ".join(words)
    return 0 < len(words) <= 8 and "but" not in words and bool(_NOTHING_TO_ADD.match(said))


def _last_sentence(text: str) -> str:
    sentences = [s for s in _SENTENCES.split(text.strip()) if s]
    return sentences[-1] if sentences else ""


def hands_back(sentence: str, *, first: bool = False) -> bool:
    """Whether a last sentence hands the turn back to the interviewer (a wrap-up, a question to
    them, "I'll stop there"). As an answer's `first` sentence, "Yeah, this happens everywhere."
    begins it."""
    s = _FILLER_WORD.sub(lambda m: "" if is_vocal_filler(m["word"]) else m[0], sentence.lower().strip())
    s = without_restarts(s).replace("that is ", "that's ")  # "That's, that's the shape …"
    if _HANDOFF.search(s) or _ASKS_BACK.search(s):
        return True
    if first or (yeah := _YEAH_WRAP.match(s)) is None:
        return False
    after = len(_WORD.findall(yeah["after"]))
    return 0 < len(_WORD.findall(yeah["before"])) + after and after <= YEAH_WRAP_AFTER_WORDS


def told_in_past(text: str) -> bool:
    """Whether `text` tells something that happened (at least STORY_PAST_VERBS past-tense verbs)."""
    found = (m[0] for m in _PAST.finditer(text.lower()))
    return sum(1 for w in found if w not in _NOT_PAST) >= STORY_PAST_VERBS


def closes(sentence: str, before: str = "") -> bool:
    """Whether a sentence sounds like the close of an answer (a result, lesson or conclusion).
    A reflection ("I think that comes from …") closes only a story told `before` it."""
    s = sentence.lower().strip()
    if s.endswith("?"):  # "… are we still up in absolute users?": a question asked, not answered
        return False
    return bool(
        _CLOSING.search(s) or _OUTCOME_VERB.search(s) or _PRESENT_WRAP.search(s) or _PRIORITY.search(s)
        or (_REFLECTION.search(s) and told_in_past(before))
    )


def _tells_a_story(sentence: str) -> bool:
    """A long sentence of several clauses: a scene and what happened next, in one breath."""
    words = _WORD.findall(sentence)
    joints = len(_CLAUSE_JOINT.findall(sentence))
    return len(words) >= STORY_SENTENCE_WORDS and joints >= 2


def read_answer(answer: str, question: Question | None) -> Reading:
    """Reads an answer so far for signs that the speaker has finished or will go on."""
    text = answer.strip()
    words = _WORD.findall(text.lower())
    n = len(words)
    if not words:
        return Reading("continuing", 0, "nothing said yet")
    last = _last_sentence(text).lower()
    if is_mic_check(text):  # "Can you hear me?": a quick "Yes, I can hear you", not 3.6 s of silence
        return Reading("complete", n, "a mic check")
    if no_answer_yet(text):  # "Thank you." and then thinking: the prompt, never a reply
        return Reading("continuing", n, "nothing answered yet: thanks, an acknowledgement, a request for time")
    if asks_for_time(last):
        return Reading("continuing", n, "they asked for time")
    # "So yeah..." trails off to hand the turn back; "So yeah," goes on
    if _SENTENCE_END.search(text) and hands_back(last, first=last == text.lower()):
        return Reading("complete", n, "the last sentence hands the turn back")
    if text.endswith(("...", "…", ",", "-", "—", ":", ";")) or not _SENTENCE_END.search(text):
        return Reading("continuing", n, "the sentence is unfinished")
    # "… the kind of example you were looking for?" ends: a question closes on any word
    trails = (
        words[-1] in _CONTINUATION and not _ENDS_ON_DEMONSTRATIVE.search(last) and not _ENDS_ON_WH_CLAUSE.search(last)
        and not text.endswith("?")
    )
    if trails or is_vocal_filler(words[-1]):
        if words[-1] in _MAY_END_A_SENTENCE and text.endswith("."):
            # "… the problem we were stuck on." ends; "… we moved the job to." may not. Not
            # silence for ever (a prompt, then the next question 12 s on), but the open wait.
            return Reading("open", n, f"it ends on {words[-1]!r}, which may end a sentence")
        return Reading("continuing", n, f"it ends on {words[-1]!r}")
    told_before = text[: len(text) - len(_last_sentence(text))]
    closing = closes(last, told_before)
    # One sentence that sets a scene and goes on to what was done ("Last year I broke some
    # reports, so I told my manager, fixed it that night, and we added checks.") tells a
    # whole story, not just its opening.
    whole_story = last == text.lower() and (closing or _tells_a_story(last))
    if _OPENING.search(last) and not _PRIORITY.search(last) and not whole_story:
        return Reading("open", n, "the last sentence opens or lists")
    if n < EARLY_WORDS:
        # A short answer is complete when it gives what the question asks for and closes on it
        # ("... so I added an index, and as a result pages loaded sixty percent faster.").
        answers_it = question is not None and not assess_answer(question, text).thin
        if closing and answers_it:
            return Reading("complete", n, "short, but it answers the question and closes")
        if closing or (answers_it and whole_story):
            return Reading("likely", n, "short, and it closes or tells its story whole")
        return Reading("open", n, "just started")
    if closing:
        return Reading("complete", n, "the last sentence closes")
    if n >= SUBSTANTIAL_WORDS or (question is not None and not assess_answer(question, text).thin):
        return Reading("likely", n, "substantial, the last sentence does not close")
    return Reading("open", n, "short, the last sentence does not close")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)]


@dataclass(slots=True)
class PauseHabits:
    """This speaker's pauses that looked final but were not: they went on (or we yielded)."""

    resumed: dict[TextState, list[float]] = field(default_factory=lambda: {s: [] for s in STATES})

    def add(self, state: TextState, pause_s: float) -> None:
        self.resumed[state].append(pause_s)

    def longest(self, state: TextState, *, at_least: int) -> float | None:
        """The longest resumed pause in `state` or a more final-looking one, once `at_least`
        were seen; None before."""
        seen = [p for s in STATES[STATES.index(state) :] for p in self.resumed[s]]
        return max(seen) if len(seen) >= at_least else None

    def covering(self, state: TextState) -> float | None:
        """A pause length that covers most of this speaker's resumed pauses in `state` or a more
        final-looking one; None before any were seen."""
        index = STATES.index(state)
        seen = [p for s in STATES[index:] for p in self.resumed[s]]
        return _quantile(seen, HABIT_QUANTILE) if seen else None


def hold_for(
    reading: Reading,
    eot_probability: float | None,
    habits: PauseHabits,
    settings: TurnTakingSettings,
    *,
    answer_s: float = 0.0,
    time_limit_s: float | None = None,
) -> float:
    """Silence (s, from the end of speech) that ends the turn; inf: wait for a prompt."""
    state = reading.state
    if state == "continuing":
        return math.inf
    if time_limit_s and answer_s >= settings.long_answer_ratio * time_limit_s and state != "complete":
        state = "likely" if state == "open" else "complete"  # at its time limit: likely done
    base, cap = {
        "open": (settings.open_hold_s, settings.open_cap_s),
        "likely": (settings.likely_hold_s, settings.likely_cap_s),
        "complete": (settings.complete_hold_s, settings.complete_cap_s),
    }[state]
    if eot_probability is not None:  # a clearly falling close shortens, a rising one lengthens
        factor = 1.25 - 0.5 * min(1.0, max(0.0, eot_probability))
        # ... but never a "likely over" wait: a finished sentence before a thinking pause falls
        # as an answer's last one does (people's recordings: the model told ends from pauses
        # inside answers no better than AUC 0.64), and shortened to 2.1-2.2 s the wait cut pauses
        # of 2.2-2.4 s that the default waits out.
        base *= max(1.0, factor) if state == "likely" else factor
    if state == "likely" and (longest := habits.longest(state, at_least=settings.learn_after_pauses)) is not None:
        # A speaker whose own pauses are all short is not kept waiting for a cautious default.
        base = min(base, max(settings.likely_floor_s, longest + settings.habit_margin_s))
    habit = habits.covering(state)
    if habit is not None:
        base = max(base, min(cap, habit + settings.habit_margin_s))
    if reading.reheard:  # the first hearing and the second disagreed: not quite as sure
        base = max(base, settings.reheard_hold_s)
    return base


@dataclass(frozen=True, slots=True)
class PauseDecision:
    """How long the pause that began at `speech_end_at` may last before the turn ends."""

    speech_end_at: float
    hold_s: float  # inf: not ended by silence; prompt after settings.prompt_after_s
    reading: Reading
    eot_probability: float | None


class TurnTaker:
    """One interview's turn-taking: the open answer, the pause decisions, yields and prompts.

    The STT stream reports speech starts and each utterance's end; it asks `decide` how long the
    following pause may last and ends the turn when that much silence has passed. The
    interviewer side reports when a reply starts playing; if the candidate speaks within
    `yield_window_s` of that, `on_yield` is called and the answer stays open. If what they said
    then adds nothing to it (a throat clear Whisper writes nothing for, an "Uh." or "Okay."), the
    answer is read as before, and once the turn ends again `on_reply_again` asks for the reply
    again when the session has no new words to reply to.
    """

    def __init__(
        self,
        settings: TurnTakingSettings,
        *,
        question: Callable[[], Question | None],
        eot_model: EndOfTurnModel | None = None,
        on_yield: Callable[[], None] = lambda: None,
        on_long_silence: Callable[[bool], None] = lambda _offer_more: None,
        on_pause: Callable[[str], None] = lambda _answer: None,
        on_reply_again: Callable[[], None] = lambda: None,
        is_echo: Callable[[], bool] = lambda: False,
        reread: Callable[[np.ndarray], Awaitable[str]] | None = None,
    ) -> None:
        self.settings = settings
        self._question = question
        self._eot_model = eot_model
        self._on_yield = on_yield
        self._on_long_silence = on_long_silence
        self._on_pause = on_pause
        self._on_reply_again = on_reply_again
        self._is_echo = is_echo
        self._reread = reread
        self.habits = PauseHabits()
        self._parts: list[str] = []  # the open answer's utterances
        self._answer_started_at: float | None = None
        self._last: PauseDecision | None = None  # the pause now running, if any
        self._ending: PauseDecision | None = None  # the pause that ended the turn
        self._ended_at: float | None = None  # when the turn was ended, until the reply is confirmed
        self._reply_started_at: float | None = None
        self._first_voice_at: float | None = None  # when the interviewer was first heard
        self._opening_ended_at: float | None = None  # when its first speech (the opening) stopped
        # The reply was withdrawn for speech that has added no words yet (a throat clear, a
        # chair): if the turn ends again so, the reply is made again (see end_turn).
        self._withdrawn = False
        # The long-silence prompt asked whether they had more to add (long_silence): once an
        # answer, and its reply is read for "No, that's all." while pending.
        self._offer_made = self._offer_pending = False
        # Takes back the last speech start, should that speech prove to be a sound (on_sound).
        self._undo_start: Callable[[], None] | None = None
        self._start_since_end: float | None = None  # the latest speech start since the turn ended
        self.yields = 0
        self.turns_ended = 0

    # -- the candidate's side (from the STT stream) ---------------------------------------

    @property
    def answer(self) -> str:
        """What the candidate has said in the open answer."""
        return " ".join(self._parts)

    @property
    def awaiting_reply(self) -> bool:
        """The turn has ended and the interviewer's reply is not yet past its yield window."""
        return self._ended_at is not None

    def on_speech_start(self, at: float, *, may_yield: bool = True) -> bool:
        """The candidate started speaking at `at`; True if the interviewer must yield. Speech
        that may not be theirs (`may_yield` False: too soft so far) yields only once it proves
        theirs (`yield_late`)."""
        since_reply = None if self._reply_started_at is None else round(at - self._reply_started_at, 2)
        logger.debug("speech start", extra={"ended": self._ended_at is not None, "since_reply_s": since_reply})
        answer_started_at, last = self._answer_started_at, self._last
        self._undo_start = lambda: self._restore(answer_started_at, last)
        if self._answer_started_at is None and not self.may_be_let_go(at):
            self._answer_started_at = at
        self._last = None
        if self._ended_at is not None:
            self._undo_start = None  # a yield is not taken back (see the STT stream's _finalize)
            self._start_since_end = at
            return may_yield and self._yield_in_window(at)
        if last is not None:  # they went on after a pause that did not end the turn
            self.habits.add(last.reading.state, max(0.0, at - last.speech_end_at))
        return False

    def yield_late(self, at: float) -> bool:
        """Speech that began at `at`, too soft at first to be sure it was the candidate's, has
        proved theirs; True if the interviewer must yield."""
        return self._ended_at is not None and self._yield_in_window(at)

    def talked_over(self) -> bool:
        """The session stopped the reply's audio for speech over it: its own interruption, which
        takes speech this reading held back as too soft to be sure of (6-10 dB under the
        candidate) once it has lasted long enough. The reply is cut either way; True if the
        interviewer yields, so that the cut question is not counted as asked and the answer goes
        on (within the window, and not for the interviewer's own voice coming back)."""
        if self._ended_at is None:
            return False
        return self._yield_in_window(self._start_since_end if self._start_since_end is not None else time.time())

    def _yield_in_window(self, at: float) -> bool:
        window_end = (self._reply_started_at or at) + self.settings.yield_window_s
        if at > window_end:
            return False
        if self._is_echo():
            logger.info("speech start ignored: it is the interviewer's own voice coming back")
            return False
        ending, self._ending = self._ending, None
        self.yields += 1
        # how long the speech had run when the VAD reported it: most of the talk-over
        heard_after_s = time.time() - at
        if ending is not None:  # that pause looked final and was not: wait longer next time
            pause_s = max(0.0, at - ending.speech_end_at)
            self.habits.add(ending.reading.state, pause_s)
            logger.info(
                "interviewer yields: speech heard %.2f s after it began, a %.2f s pause read %s",
                heard_after_s, pause_s, ending.reading.state,
            )
        else:
            logger.info("interviewer yields: speech heard %.2f s after it began", heard_after_s)
        self._ended_at = self._reply_started_at = None
        self._withdrawn = True
        self._on_yield()
        return True

    def on_sound(self) -> PauseDecision | None:
        """The speech that started last was a sound, not words (a cough, a sigh, a chair): as
        if it had not happened. Returns the pause it interrupted, which runs on from where it
        began (None if none was running)."""
        undo, self._undo_start = self._undo_start, None
        if undo is None:
            return None
        undo()
        return self._last

    def _restore(self, answer_started_at: float | None, last: PauseDecision | None) -> None:
        if last is not None and self.habits.resumed[last.reading.state]:
            self.habits.resumed[last.reading.state].pop()  # it was not a resumption
        self._answer_started_at = answer_started_at
        self._last = last

    def heard(self, text: str) -> bool:
        """An utterance's transcript: its words join the open answer. Also for an utterance the
        candidate spoke on from before it was transcribed (no pause to decide then), or the answer
        would be read without it. False if they did not go on with the answer."""
        # A sigh heard as "Uh.", an "Okay." or "Mm-hm." over the reply's first words: they did not
        # go on, and the answer is read as it was (the session still hears the words).
        went_on = bool(text) and not (self._withdrawn and adds_nothing(text))
        if text:
            self._withdrawn = False  # the session replies to words
        if went_on:
            self._parts.append(text)
            if not adds_nothing(text):
                self._offer_pending = False  # one reply to the offer (past an "Um."); then as usual
        return went_on

    async def decide(
        self, text: str, speech_end_at: float, tail_pcm16k: np.ndarray | None, ending: np.ndarray | None = None
    ) -> PauseDecision:
        """An utterance ended at `speech_end_at` saying `text`; how long may the pause be?
        `ending` (16 kHz float32) is the audio of this utterance and the one before it."""
        declines = self._offer_pending and adds_nothing_more(text)
        went_on = self.heard(text)
        question = self._question()
        reading = read_answer(self.answer, question)
        if went_on and declines:
            reading = Reading("complete", reading.words, "asked for more, they have nothing to add")
        if text and not went_on and reading.state == "complete" and hesitates(text):
            # A lone "Uh." may be a sigh, or the start of more after a breath: not the prompt's
            # long wait, but not the short one either.
            reading = Reading("likely", reading.words, "a hesitation over the reply")
        if self._reread is not None and reading.state == "likely" and went_on and ending is not None and len(self._parts) >= 2:
            reading = await self._second_listen(self._reread, reading, ending, question)
        eot = None
        hear_close = (
            self._eot_model is not None and tail_pcm16k is not None and len(tail_pcm16k) > 0
            and reading.state != "continuing"
            and (went_on or not text)  # an "Uh." over the reply has no answer's intonation
        )
        if hear_close:
            eot = await asyncio.get_running_loop().run_in_executor(_eot_executor(), self._eot_model.predict, tail_pcm16k)
        answer_s = speech_end_at - self._answer_started_at if self._answer_started_at is not None else 0.0
        hold = hold_for(
            reading, eot, self.habits, self.settings,
            answer_s=answer_s, time_limit_s=question.time_limit_s if question else None,
        )
        self._last = PauseDecision(speech_end_at, hold, reading, eot)
        # The speech was words, and a start heard while this was decided (a second listen takes
        # a while) would give back a pause older than this one: no start is taken back now.
        self._undo_start = None
        logger.debug(
            "pause decision",
            extra={"state": reading.state, "hold_s": hold, "eot": eot, "words": reading.words},
        )
        if reading.state != "continuing":
            self._on_pause(self.answer)
        return self._last

    async def _second_listen(
        self, reread: Callable[[np.ndarray], Awaitable[str]], reading: Reading, ending: np.ndarray, question: Question | None
    ) -> Reading:
        """A substantial answer whose last sentence does not read as closing may only have been
        misheard: its last two utterances are heard again together, on the recogniser's full
        window, which gets a garbled close right more often ("our hosting costs will be
        deferred" becomes "… fell by a third"). The pause is waited out meanwhile."""
        heard = (await reread(ending)).strip()
        if not heard:
            return reading
        again = read_answer(" ".join([*self._parts[:-2], heard]), question)
        logger.debug("second listen", extra={"state": again.state})
        if again.state == "complete":
            return Reading("complete", reading.words, f"heard again: {again.reason}", reheard=True)
        return reading

    def still_pausing(self, decision: PauseDecision) -> bool:
        """Whether `decision`'s pause is still the one running (no speech since)."""
        return self._last is decision

    def long_silence(self) -> None:
        """The open answer has been silent for prompt_after_s: offer a gentle prompt. After an
        answer with substance (whose last words only read unfinished, or were misheard) the prompt
        asks whether they have more to add, which they can close with "No, that's all."; before
        one, and a second time, it gives them time."""
        answer = self.answer
        substance = len(_WORD.findall(answer.lower())) >= EARLY_WORDS and not no_answer_yet(answer)
        offer = substance and not self._offer_made
        self._offer_made |= offer
        self._offer_pending = offer
        self._on_long_silence(offer)

    def end_turn(self, at: float) -> None:
        """The turn ends now (the STT stream tells the session so)."""
        self._ending, self._last = self._last, None
        self._ended_at = at
        self._reply_started_at = self._start_since_end = None
        self.turns_ended += 1
        if self._withdrawn:
            # The session replies to words, and none came since the reply was withdrawn: without
            # this the interviewer would fall silent, the candidate waiting for it.
            self._withdrawn = False
            logger.info("the speech that stopped the reply said nothing: the reply is made again")
            self._on_reply_again()

    def before_the_interviewer(self, speech_start_at: float) -> bool:
        """Whether speech that began at `speech_start_at` came before the interviewer's first
        words ("Hello? Can you hear me?", the tail of a mic check): not an answer to anything,
        it is let go, and the answer starts with the next speech."""
        return self._first_voice_at is None or speech_start_at < self._first_voice_at

    def heard_from_its_middle(self, speech_start_at: float) -> bool:
        """Whether speech that the recogniser heard start at `speech_start_at` may have begun
        unheard: the session gives it silence until the opening's first sound and for the echo
        canceller's warm-up after it, so speech heard to start as that ends ("…hear me?", which
        Whisper writes as "There, I mean…") was going on before (`opening_speech` says what is kept)."""
        if self._first_voice_at is None:
            return False
        heard_from = self._first_voice_at + self.settings.unheard_after_first_voice_s
        return heard_from - HEARD_FROM_EARLY_S <= speech_start_at <= heard_from + HEARD_FROM_MIDDLE_S

    def during_the_opening(self, speech_start_at: float) -> bool:
        """Whether speech began while the interviewer was saying its opening (the greeting and
        the first question): nothing had been asked yet."""
        if self._first_voice_at is None or speech_start_at < self._first_voice_at:
            return False
        return self._opening_ended_at is None or speech_start_at < self._opening_ended_at

    def may_be_let_go(self, speech_start_at: float) -> bool:
        """Whether speech that began at `speech_start_at` may be let go at its end (`opening_speech`):
        no answer starts with it, and it has no caption until then."""
        return (
            self.before_the_interviewer(speech_start_at)
            or self.heard_from_its_middle(speech_start_at)
            or self.during_the_opening(speech_start_at)
        )

    def opening_speech(self, text: str, speech_start_at: float, speech_end_at: float) -> Opening:
        """What becomes of an utterance heard around the opening. It is let go, no answer to
        anything, if it began before the interviewer's first words, or if it is a few words that
        are not a mic check (that is answered as one) and are the tail of a sentence heard only
        from its middle as the opening began ("There, I mean...").

        A few such words said under the opening, which ended after them, are held: an aside,
        the "three" ending a count, an "Okay." as it goes on, said before any question, or the
        "Sure." that begins an answer talked over the question (`joins_held`). Longer speech is
        an answer begun over the opening, kept though its first words were not heard (it stops
        the opening)."""
        if self.before_the_interviewer(speech_start_at):
            return Opening.LET_GO
        words, mic_check = len(text.split()), is_mic_check(text)
        if words <= FRAGMENT_MAX_WORDS and not mic_check:
            if self.heard_from_its_middle(speech_start_at):
                return Opening.LET_GO
            if self.during_the_opening(speech_start_at) and (
                self._opening_ended_at is None or speech_end_at <= self._opening_ended_at
            ):
                return Opening.HELD
        if self.may_be_let_go(speech_start_at):  # begun in the opening, kept: say why
            logger.info(
                "speech begun in the opening kept",
                extra={
                    "words": words,
                    "mic_check": mic_check,
                    "start_after_first_voice_s": round(speech_start_at - (self._first_voice_at or 0.0), 2),
                    "end_after_opening_s": None
                    if self._opening_ended_at is None
                    else round(speech_end_at - self._opening_ended_at, 2),
                },
            )
        return Opening.KEPT

    def joins_held(self, held_end_at: float, speech_start_at: float) -> bool:
        """Whether speech kept as an answer, begun at `speech_start_at`, carries on from words
        held under the opening that ended at `held_end_at`: it began soon after them. "Sure.",
        then "At my last job...": the "Sure." stops the opening, but the interviewer falls
        silent only as it ends (CI, 0.04 s after). Held words it does not join (a count's
        "three" before the question was asked) are let go."""
        return 0.0 <= speech_start_at - held_end_at <= HELD_JOIN_GAP_S

    def held_times(self, held_end_at: float, speech_start_at: float) -> dict[str, float | None]:
        return {
            "gap_s": round(speech_start_at - held_end_at, 2),
            "start_after_opening_s": None
            if self._opening_ended_at is None
            else round(speech_start_at - self._opening_ended_at, 2),
        }

    # -- the interviewer's side ---------------------------------------------------------

    def heard_interviewer(self, at: float) -> None:
        """The interviewer's voice began playing at `at` (each reply and prompt)."""
        if self._first_voice_at is None:
            self._first_voice_at = at

    def interviewer_stopped(self, at: float) -> None:
        """The interviewer stopped speaking at `at` (played out or cut): the first time, its
        opening ended."""
        if self._first_voice_at is not None and self._opening_ended_at is None:
            self._opening_ended_at = at

    def on_reply_started(self, at: float) -> None:
        """The interviewer's reply to the ended turn began playing at `at`."""
        if self._ended_at is not None and self._reply_started_at is None:
            self._reply_started_at = at

    def confirm_reply(self) -> None:
        """The reply is past its yield window: the answer is closed, the next one starts fresh."""
        self._ended_at = self._reply_started_at = None
        self._withdrawn = self._offer_made = self._offer_pending = False
        self._parts = []
        self._answer_started_at = None

    def reply_window_ends_at(self) -> float | None:
        """When the playing reply's yield window closes (None: no reply playing)."""
        if self._ended_at is None or self._reply_started_at is None:
            return None
        return self._reply_started_at + self.settings.yield_window_s


def habits_summary(habits: PauseHabits) -> dict[str, float]:
    """Median resumed pause per state, for logs and benches."""
    return {s: round(statistics.median(v), 2) for s, v in habits.resumed.items() if v}
