"""The offline evaluator: transparent text features turned into rubric scores, no model needed.

Answers are read as transcripts: fillers and restarts are set apart first (scoring/transcript.py)
and count only towards delivery. Every dimension is a weighted sum of saturating features
(counts of cues found in the answer), scaled by how relevant the answer is to the question and
blended with its substance (`_substance`): how much concrete content it has (figures, names, steps
taken, the answer's own terms rather than words any answer could use), less the generic phrases
that fit any answer ("I always try to", "communication is key"). Length alone earns little. MMI
dilemmas also ask for a stance: weighing both sides without deciding is named as the gap.
One monotone map, fitted on the calibration set (scoring/calibration.py), puts the raw overall
and every raw dimension on the 0–100 scale, so a strong answer lands at 80 or more. Each
dimension's reason quotes the words that earned or lost the points. Deterministic and fast.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from scoring.base import RUBRICS, AnswerInput, AnswerScore, DimensionScore
from scoring.calibration import BAND_FLOORS, confidence_label, half_width, to_scale
from scoring.question_terms import QuestionFit, bank_terms
from scoring.transcript import clean_transcript

SPEAKING_WPM = 130.0
# From this many words an answer has room to show its content; fewer count for less.
FULL_LENGTH_WORDS = 70
# Each dimension's raw value is this share of its own rubric function and the rest of the
# answer's substance (`_substance`), which no one rubric's cue list captures alone.
RUBRIC_SHARE = 0.5
SUBSTANCE_FULL_WORDS = 150  # the little that length alone earns grows up to here
SUBSTANCE_ROOM_SHARE = 0.1  # ... and is this share of substance; the rest is content
SUBSTANCE_SPECIFICS_HALF = 10.0  # concrete details (figures, names, steps) for half marks
SUBSTANCE_TERMS_HALF = 30.0  # distinct content terms for half marks
SUBSTANCE_TERMS_SHARE = 0.7  # how much of content is the answer's own terms, not details
SUBSTANCE_ON_QUESTION_FLOOR = 0.4  # substance an answer far off the question keeps
BREVITY_FLOOR = 0.6  # what a rubric function keeps for an answer of a few words
SUBSTANCE_GENERIC_RATE = 0.1  # substance lost per generic phrase per 100 words ...
SUBSTANCE_GENERIC_CAP = 0.5  # ... up to this much
VAGUE_PENALTY_CAP = 0.2  # the most a dimension loses to vague wording
# An answer's words against its bank question's vocabulary (scoring/question_terms.py).
FIT_FULL = 0.3  # cosine with the question's own vocabulary at which an answer is plainly on it
FIT_RATIO_FULL = 0.7  # ... and its ratio to the closest other question of the category
FIT_RELEVANCE_KEEP = 0.5  # relevance an answer keeps when its words are another question's
FIT_LIFT = 1.0  # relevance, as a share of full, of an answer plainly in its question's words
FIT_LIFT_RATIO = 2.5  # ... when it fits its own question this many times better than any other
NEIGHBOUR_RATIO = 0.6  # own fit over the closest other question below which the answer is a neighbour's
NEIGHBOUR_STORY_RATIO = 0.15  # ... for a story (its words are mostly its own)
NEIGHBOUR_FLOOR = 0.5  # what a plain neighbour's answer keeps of its raw score
NEIGHBOUR_MIN_WORDS = 20  # fewer words are too few to tell
# An answer (not a story) that shares few words with its own question's vocabulary is about
# something else, however well it is said: below OWN_FIT_HIGH cosine its raw scores shrink,
# down to OWN_FIT_FLOOR of themselves at OWN_FIT_LOW or less.
OWN_FIT_LOW = 0.06
OWN_FIT_HIGH = 0.25
OWN_FIT_FLOOR = 0.5
# A story that never names the question's subject (none of its key terms or their synonyms) and
# whose words fit another question of the category better is about something else: it keeps
# STORY_OFF_KEEP of its raw scores ("my favourite collaboration" asked for a disagreement).
STORY_OFF_RATIO = 0.5
STORY_OFF_KEEP = 0.8
FIT_SUBSTANCE_SHARE = 0.3  # share of content that is the question's own vocabulary (not stories)
# Fillers per 100 spoken words: up to FILLERS_NORMAL is ordinary speech; from FILLERS_IN_THE_WAY
# the communication reason names them (their own delivery score is in reports/delivery.py).
FILLERS_NORMAL = 5.0
FILLERS_IN_THE_WAY = 8.0
# Used when neither the question nor the caller gives a time limit.
DEFAULT_TIME_LIMIT_S: dict[str, float] = {
    "behavioral": 120.0,
    "technical": 180.0,
    "system_design": 420.0,
    "case": 240.0,
    "mmi": 180.0,
}
DIMENSION_LABELS: dict[str, str] = {
    "situation": "Situation",
    "task": "Task",
    "action": "Action",
    "result": "Result",
    "accuracy": "Accuracy",
    "depth": "Depth",
    "trade_offs": "Trade-offs",
    "communication": "Communication",
    "requirements": "Requirements",
    "high_level_design": "High-level design",
    "deep_dive": "Deep dive",
    "scalability": "Scalability",
    "structure": "Structure",
    "analysis": "Analysis",
    "quantification": "Quantification",
    "recommendation": "Recommendation",
    "critical_thinking": "Critical thinking",
    "ethical_reasoning": "Ethical reasoning",
    "professionalism": "Professionalism",
}
# Dimensions whose content must answer *this* question: an off-topic answer loses most here.
RELEVANCE_DRIVEN = frozenset(
    {
        "task",
        "action",
        "result",
        "accuracy",
        "depth",
        "trade_offs",
        "requirements",
        "high_level_design",
        "deep_dive",
        "analysis",
        "recommendation",
        "structure",
        "critical_thinking",
        "ethical_reasoning",
    }
)

# --- text units -----------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z0-9]+(?:['\-][A-Za-z0-9]+)*")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
# A recogniser may give no full stops: a "sentence" this long is a run-on transcript, split into
# clause-like units before the discourse markers a speaker starts a new thought with.
RUN_ON_WORDS = 30
UNIT_MIN_WORDS = 6  # ... a unit has at least this many words (shorter pieces join the one before)
_UNIT_MARKER = re.compile(
    r"[\s,;:]+(?=(?:so|and then|then|but|because|after that|afterwards|in the end|eventually|"
    r"the result was|the outcome was|as a result|which meant|that meant|that means|which means|"
    r"and (?:i|we|she|he|they|it|that|the result)|first(?:ly)?|second(?:ly)?|third(?:ly)?|finally|"
    r"next|since then|after this|also|otherwise|however|whereas|say|for example|for instance|"
    r"oh and|ok so|okay so|right so)\b)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![A-Za-z0-9])[$€£]?\d[\d,]*(?:\.\d+)?(?![A-Za-z])")
_NUMBER_WORDS = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    r"fifty|sixty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|"
    r"half|halved|doubled|tripled|twice|a third|a quarter)\b"
)
_QUANTITY = re.compile(
    r"(?:[$€£]\s?\d[\d,.]*|\d[\d,.]*\s?(?:%|percent\b|per ?cent\b|x\b|ms\b|milliseconds?\b|"
    r"seconds?\b|minutes?\b|mins?\b|hours?\b|days?\b|weeks?\b|months?\b|years?\b|quarters?\b|"
    r"euros?\b|dollars?\b|pounds?\b|rupees?\b|k\b|m\b|kb\b|mb\b|gb\b|tb\b|pb\b|km\b|kilomet\w*|"
    r"users?\b|customers?\b|people\b|members?\b|requests?\b|orders?\b|pages?\b|rides?\b|"
    r"patients?\b|units?\b|(?:thousand|million|billion|trillion)\b|per\b|a (?:day|week|month|year)\b))"
)
# A figure with its unit, as quoted back to the candidate ("0.2%", "6 days").
_FIGURE = re.compile(
    _NUMBER.pattern + r"(?:\s?%|\s(?:percent|per cent|[a-z]+ (?:a|per) (?:day|week|month|year|second)"
    r"|ms|milliseconds?|seconds?|minutes?|hours?|days?|weeks?|months?|years?|quarters?|people|"
    r"users?|customers?|patients?|stores?|shops?|requests?|orders?|cups|agents?|rooms?|k|m|gb|tb)\b)?",
    re.IGNORECASE,
)
# Numbers said as words ("forty thousand users", "a hundred and twenty", "two fifteen"): a run of
# two or more number words, or one with a unit, is a figure like "40,000" (recognisers often
# write numbers out); a lone "two" or "three" counts for half, as before.
_NUMBER_WORD = (
    r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|"
    r"ninety|hundred|thousand|million|billion|trillion|half)"
)
_SPOKEN_UNIT = (
    r"(?:percent|per cent|pounds|dollars|euros|k|grand|minutes|hours|days|weeks|months|years|"
    r"seconds|milliseconds|users|customers|people|patients|orders|requests|pages|calls|agents|"
    r"stores|households)"
)
_SPOKEN_FIGURE = re.compile(
    rf"\b(?:a |an )?{_NUMBER_WORD}(?:(?:\s+and)?(?:\s+|-){_NUMBER_WORD})+(?:\s+{_SPOKEN_UNIT})?\b"
    rf"|\b{_NUMBER_WORD}\s+{_SPOKEN_UNIT}\b"
)
_BARE_NUMBERS = re.compile(
    rf"\W*(?:\d[\d,.]*|{_NUMBER_WORD})(?:[\s,.!?-]+(?:\d[\d,.]*|{_NUMBER_WORD})){{0,3}}\W*", re.IGNORECASE
)
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,}[a-z]?\b")
_NOT_PROPER = frozenset("I I'd I'm I've I'll OK Okay".split())

_STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves also one ones get got
    tell me time describe give example walk us talk explain discuss something someone way make
    made do did done think like want know say said go went let us you'd you've you're i'd i'm
    i've it's that's what's there's how's would could should might must shall may use used using
    etc e g i e""".split()
)
# Common words that say little about topic: they count for less in relevance (stemmed below).
_GENERIC_WORDS = frozenset(
    """work team people thing things way ways time times day year new good bad big small important
    problem situation person job role company part lot kind case example question answer approach
    handle deal""".split()
)
# Interview vocabulary and the words candidates use for it (stems on both sides).
_SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("customer", "client", "guest", "user", "buyer", "prospect", "stakeholder", "patient", "account"),
    ("colleague", "teammate", "coworker", "co-worker", "peer", "manager", "senior", "team"),
    ("disagre", "disagreement", "conflict", "argu", "object", "push", "debat", "differ"),
    ("mistak", "error", "wrong", "fault", "bug", "incorrect"),
    ("deadlin", "due", "late", "delay", "launch", "date", "schedul"),
    ("feedback", "review", "criticism", "critic", "told", "advic"),
    ("fail", "failur", "mistak", "flop", "lost", "wrong"),
    ("lead", "led", "leader", "manag", "own"),
    ("improv", "faster", "reduc", "efficien", "streamlin", "fix", "better"),
    ("prioriti", "priorit", "urgent", "order", "first"),
    ("learn", "skill", "tool", "cours", "studi", "practic", "train"),
    ("goal", "target", "aim", "object", "plan"),
    ("influenc", "persuad", "convinc", "buy-in", "authority", "propos", "agre"),
    ("chang", "transition", "mov", "switch", "migrat", "adopt"),
    ("help", "support", "mentor", "pair", "struggl", "coach"),
    ("expens", "price", "pric", "cost", "discount", "budget", "cheap"),
    ("test", "assert", "verifi", "check", "valid"),
    ("slow", "speed", "fast", "latenc", "performanc", "time"),
    ("profit", "margin", "revenu", "cost", "earn"),
    ("market", "demand", "custom", "segment"),
    ("grow", "growth", "increas", "expand", "rais"),
    ("design", "architectur", "build", "system", "servic", "compon"),
    ("stor", "storag", "databas", "persist", "save"),
    ("tell", "inform", "share", "disclos", "explain"),
    ("report", "escalat", "rais", "inform", "flag"),
    ("refus", "declin", "reject", "say"),
    ("concern", "issue", "risk", "problem", "flag", "worri", "warn"),
    ("trust", "believ", "confid", "credib", "reliabl", "promis"),
    ("rebuil", "restor", "regain", "repair", "apologi", "fix"),
    ("ignor", "dismiss", "overlook", "brush"),
    ("decision", "decid", "choic", "chose", "choose", "chosen", "call", "judgement", "judgment"),
    ("unpopular", "pushback", "resist", "object", "annoy", "unhappi"),
)


def _stem(word: str) -> str:
    """A small suffix-stripping stemmer: enough to match 'disagreed' with 'disagreement'."""
    word = word.lower()
    if word.endswith(("'s", "s'")):
        word = word[:-2]
    word = word.replace("'", "")
    for suffix, replacement in (
        ("ational", "ate"),
        ("ations", ""),
        ("ation", ""),
        ("ments", ""),
        ("ment", ""),
        ("ness", ""),
        ("ities", ""),
        ("ity", ""),
        ("ings", ""),
        ("ing", ""),
        ("edly", ""),
        ("ies", "y"),
        ("ied", "y"),
        ("ed", ""),
        ("ers", ""),
        ("er", ""),
        ("ly", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            word = word[: len(word) - len(suffix)] + replacement
            # "dropped" -> "dropp" -> "drop", as "drop" stems
            if suffix in ("ed", "ing", "er", "ers", "ings") and len(word) > 3 and word[-1] == word[-2]:
                if word[-1] not in "lsz":
                    word = word[:-1]
            break
    return word.rstrip("e") if len(word) > 4 else word


def _synonym_index(groups: tuple[tuple[str, ...], ...]) -> dict[str, frozenset[str]]:
    """Each stem mapped to every stem it shares a group with (itself included)."""
    index: dict[str, frozenset[str]] = {}
    for group in groups:
        stems = frozenset(_stem(w) for w in group)
        for stem in stems:
            index[stem] = index.get(stem, frozenset()) | stems
    return index


_SYNONYMS = _synonym_index(_SYNONYM_GROUPS)
_GENERIC_TERMS = frozenset(_stem(w) for w in _GENERIC_WORDS)
# Words that any answer to any question can use: they do not count as the answer's own terms.
_EMPTY_WORDS = frozenset(
    _stem(w)
    for w in """important really different situation situations things thing people person lots
    always experience communication communicate professional professionally definitely everyone
    everybody something someone sometimes obviously generally general basically actually probably
    understand making sure approach handle together overall whatever difficult difficulty issue
    issues stuff think feel maybe quite pretty good great better best right wrong able kind sort
    much many every other another still around however whole picture conclusions learning learn
    learned grow growth value values valuable helps helpful strong honestly course anyway
    everything anything nothing example question answer""".split()
)


def _cue(*phrases: str) -> re.Pattern[str]:
    """One regex matching any of the phrases as whole words (phrases are regex fragments)."""
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b")


# --- cue lexicons (matched against lowercased text) -----------------------------------------
# fmt: off

_SITUATION = _cue(
    r"last (?:year|spring|summer|autumn|fall|winter|month|quarter|term|semester|week)",
    r"(?:in|during) my (?:first|second|third|final|last|previous|current|old) "
    r"(?:year|job|role|week|month|placement|internship|team|company|semester)",
    r"(?:in|during) my (?:placement|internship|summer job|time at|degree|studies)",
    r"when i (?:was|worked|joined|started|ran|managed|led)",
    r"while (?:working|i was)",
    r"(?:at|in|for|with) (?:my|the|a|an|our) (?:[\w-]+ ){0,2}(?:company|firm|agency|start-?up|bank|"
    r"hospital|university|school|library|restaurant|shop|store|hotel|consultancy|clinic|ward|"
    r"charity|office|job|team|client|retailer|business|department|practice|organi[sz]ation|"
    r"society|club|project|placement|internship)",
    r"(?:early|late|later|first year|two years|a year) in(?:to)? my (?:career|job|role|time|degree)",
    r"in my (?:\w+ )?(?:career|role|job|placement|internship)",
    r"i (?:was|worked as) (?:a|an|the) \w+",
    r"i was (?:working|leading|responsible|on|part of|in charge)",
    r"as (?:a|an|the) (?:junior|senior|lead|team lead|student|new|graduate|trainee|project|product|"
    r"software|data|sales|account|shift|ward|staff|support|marketing|research|teaching|finance) ?\w*",
    r"\w+ (?:years?|months?|weeks?) ago",
    r"in (?:19|20)\d\d",
    r"\w+-(?:person|people|member) team",
    r"team of \w+",
    r"one (?:day|time|morning|evening)",
    r"there was (?:a|one) time",
    r"i remember",
    r"(?:at|in) (?:university|college|school|sixth form|work|medical school)",
    r"on (?:a|an|the|my|our) (?:[\w-]+ ){0,3}(?:project|placement|shift|rotation|course|trip|campaign|"
    r"rollout|migration|launch|deal|account|contract)",
    r"(?:before|after|during) (?:a|an|the|our|my) (?:[\w-]+ ){0,2}(?:meeting|launch|deadline|review|"
    r"audit|exam|inspection|release|visit|migration|presentation|pitch|event|conference|season)",
    r"\w+ (?:days?|weeks?|months?) (?:after|before|into)",
    r"(?:as|when i was) (?:head|captain|chair|president|lead|leader|manager|coordinator|organi[sz]er|"
    r"volunteer|member|editor|treasurer|secretary|tutor|mentor) of",
    r"(?:my|our) (?:first|second|third|final) (?:year|week|month|job|role|placement|rotation)",
)
_TASK = _cue(
    r"my (?:goal|task|job|role|aim|responsibility|challenge|brief|objective|priority) (?:was|is|became)",
    r"i (?:needed|had) to",
    r"i was (?:asked|responsible|tasked|expected|in charge)",
    r"i (?:owned|volunteered|set myself|set out|decided to|wanted to make sure)",
    r"(?:responsible|accountable) for",
    r"the (?:goal|aim|challenge|problem|task|objective|brief|deadline|target) (?:was|is)",
    r"to make sure",
    r"so that we could",
    r"(?:was|were) due",
    r"set (?:myself )?(?:the|a) (?:goal|target)",
    r"it was my job",
    r"(?:i|we) (?:wanted|was asked|were asked|agreed|offered|promised) to",
    r"(?:needed|had) to (?:be|get|find|make|deliver|decide|choose|hit|meet|cut|keep|fix|win|explain)",
    r"it was (?:up to|down to) me",
    r"(?:my|our) (?:main |first |only )?(?:priority|concern|job|role|remit|worry) (?:was|became)",
    r"(?:the|a) (?:question|risk|stake|stakes|pressure|constraint) (?:was|were)",
    r"(?:was|were) (?:supposed|expected|due|meant) to",
    r"(?:asked|told|pressured|pushed) (?:me|us) to",
    r"in charge of",
    r"(?:i|we) owned",
)
_RESULT = _cue(
    r"as a result",
    r"result(?:ed|s)? in",
    r"(?:which|that|this|it) led to",
    r"in the end",
    r"by the end",
    r"ended up",
    r"the (?:outcome|result|impact|effect) (?:was|is)",
    r"afterwards",
    r"(?:fell|dropped|rose|grew|went|increased|decreased|reduced|improved|cut|saved|doubled|halved|"
    r"climbed|shrank|moved) (?:from|to|by)",
    r"increased|decreased|reduced|improved|saved|shipped|launched|delivered|passed|renewed|won|"
    r"accepted|approved|rolled out|adopted|promoted|exceeded|completed|recovered|fell|dropped|rose|"
    r"grew|finished|stopped|referred|returned|came back|agreed|signed|hired|transferred",
    r"thanked|praised|recogni[sz]ed|extended|retained|kept|went live|no longer|from then on|"
    r"has since|have since|later|eventually|within (?:a|two|three|\d+) (?:days?|weeks?|months?)",
    r"(?:was|were) (?:adopted|accepted|approved|chosen|used|rolled out|launched|delayed|changed|"
    r"fixed|added|resolved|cancelled|reversed|published|funded)",
)
_REFLECTION = _cue(
    r"i(?:'ve| have)? (?:learned|learnt|realised|realized)",
    r"(?:the|a|my) lesson",
    r"taught me",
    r"since then",
    r"next time",
    r"i now",
    r"now i",
    r"i still",
    r"looking back",
    r"in hindsight",
    r"(?:what|which) i took",
    r"i would (?:now|do it differently)",
)
_IRREGULAR_PAST = frozenset(
    """led built ran wrote made took chose found saw spoke gave sent set drove began brought caught
    taught thought told sold met won kept left put got did went came knew heard held paid rebuilt
    rewrote oversaw undertook split cut sat spent bought dealt drew fought lent meant shut stood
    struck swept understood withdrew forgave""".split()
)
_NOT_ACTION = frozenset(
    """need feed proceed succeed exceed seed speed bleed breed heed embed wanted needed liked loved
    enjoyed hoped believed felt thought supposed seemed guessed wished used tried was were had got
    went came""".split()
)
_FIRST_PERSON_VERB = re.compile(
    r"\b(i|we)\s+(?:then\s+|also\s+|quickly\s+|first\s+|finally\s+|immediately\s+|personally\s+|"
    r"later\s+|eventually\s+|initially\s+|carefully\s+|instead\s+|still\s+|even\s+|next\s+|"
    r"again\s+|myself\s+|just\s+|actually\s+)?([a-z]+)\b"
)
# A question that asks for an experience, in any category ("Tell me about a time you ...").
_STORY_QUESTION = re.compile(
    r"\b(?:tell me about|describe|give me an example of|walk me through|talk me through|share)"
    r" (?:a |an |the |one )?(?:\w+ )?(?:time|situation|occasion|moment|example|experience|week|"
    r"decision|project|mistake|failure|conflict)\b|\bhave you ever\b|\bwhen (?:have|did) you\b",
    re.IGNORECASE,
)
# A question that asks the candidate to perform something rather than discuss a topic.
_PERFORMANCE_QUESTION = re.compile(
    r"\b(?:write me|draft|pitch (?:it|me|this|that|an?|the)|sell me|role-?play|pretend|"
    r"explain [\w ,-]{0,60}?(?:as if|as though|to (?:me as|a child|a twelve|a non-?technical|"
    r"someone who)))",
    re.IGNORECASE,
)
# A sentence that tells part of a story: the speaker in it, or something that happened.
_NARRATIVE = re.compile(
    r"\b(?:i|my|me|we|our|us)\b|\b[a-z]{3,}ed\b|\b(?:" + "|".join(sorted(_IRREGULAR_PAST)) + r")\b"
)
_PAST_VERB = re.compile(
    r"\b(?:[a-z]{3,}ed|" + "|".join(sorted(_IRREGULAR_PAST)) + r"|was|were|had)\b"
)
_ALL_OR_NONE = re.compile(r"\b(?:no|none|nobody|every|everyone|everybody|all|zero|each)\b")
# A change of how often, said without a number ("from monthly releases to weekly ones", "from
# days to hours"), is a measured result as much as "from 30 to 7 days" is.
_RATE = (
    r"(?:hourly|daily|nightly|weekly|fortnightly|monthly|quarterly|yearly|annual(?:ly)?|"
    r"seconds|minutes|hours|days|weeks|months|years)"
)
_RATE_CHANGE = re.compile(
    rf"\bfrom (?:[\w-]+ ){{0,2}}?{_RATE}\b(?:[\s,]+[\w-]+){{0,4}}?[\s,]+to (?:[\w-]+ ){{0,2}}?{_RATE}\b"
)
_HYPOTHETICAL = re.compile(r"\b(?:i(?:'d| would| will|'ll| could| might)|if i (?:was|were))\s+\w+")
# A step the speaker would take ("I'd bleep the on-call doctor", "we'd shard by user id"): a
# concrete verb, not a wish, a habit or a stance ("I'd want to", "I'd make sure", "I'd say").
_STEP = re.compile(
    r"\b(?:i|we)(?:'d| would| will|'ll)(?: not|n't)?\s+(?:then |also |first |still |probably |"
    r"just |immediately |straight away |quickly |politely |privately |calmly |gently |"
    r"definitely |actually |really |always |usually )*([a-z]+)"
)
_NOT_STEP = frozenset(
    """want like love try make think say be have need feel hope imagine guess suppose do go get
    probably just really definitely also see know prefer wish expect rather agree mean argue
    consider worry care come keep""".split()
)
_REASONING = _cue(
    r"because",
    r"(?:makes?|made|helps?|helped|lets?|allows?|allowed) (?:me|us|them|people|him|her) (?:to )?\w+",
    r"so that",
    r"therefore",
    r"(?:which|this|that) means",
    r"that'?s why",
    r"the reason",
    r"thus",
    r"hence",
    r"given that",
    r"in order to",
    r"which is why",
    r"it follows",
    r"as long as",
    r"otherwise",
    r"the key (?:question|issue|point|step|is)",
    r"this (?:matters|is important) because",
    r"so (?:the|i|we|it|that|a|an|this|you|they|my|our|for|in|on|if|even|each|every|any|no|only)",
    r"(?:which|that|this|it) (?:makes|lets|gives|allows|keeps|stops|causes|forces|avoids|prevents|"
    r"drives|explains|matters)",
    r"since (?:the|it|they|there|we|a|an|this|that|every|each|most|many)",
    r"means that",
    r"the (?:main|real|core|central) (?:issue|problem|question|point|tension|risk|reason)",
)
# "It depends" with nothing after it, or only "on the situation": specific conditions are fine.
_IT_DEPENDS = (
    r"it (?:really |all )?depends"
    r"(?: on (?:the |your |their )?(?:situation|circumstances|context|person|case))?(?! on)"
)
_PLATITUDE = _cue(
    r"every (?:situation|case|person|patient|company|project) is different",
    _IT_DEPENDS,
    r"there'?s no (?:one )?(?:right|single|perfect) answer",
    r"at the end of the day",
    r"do (?:their|our|my|your) best",
    r"it'?s not ideal",
    r"(?:is|are) (?:really|very|so|super) important",
    r"(?:the|a) (?:key|big|huge) (?:thing|part|factor)",
    r"(?:the|that'?s the) best practice",
    r"(?:lots|a lot) of (?:things|factors|reasons|ways) to (?:consider|think about)",
    r"(?:a lot|lots) of (?:possible |different )?(?:reasons|causes|options|things)",
    r"(?:i'?m|i am) (?:a )?(?:very |really |quite |pretty )?"
    r"(?:good at|passionate|hard-working|a people person)",
    r"that'?s just how",
    # Generic phrases that fit any answer to any question (the issue's examples, and the kinds
    # found in the tuning part's vague answers): they fill time without saying what happened.
    r"i (?:always |usually |generally |really )?try (?:my best )?to",
    r"(?:communication|honesty|teamwork|balance|transparency|trust|marketing|\w+ness) is "
    r"(?:also |really |always )?(?:key|everything|vital|crucial)",
    r"(?:the|that'?s the|overall the) key (?:is|here)",
    r"in general",
    r"generally speaking",
    r"(?:in|for) any (?:job|team|role|business|company|organi[sz]ation|situation|workplace)",
    r"the (?:most )?important thing (?:is|was|would be|here)",
    r"it'?s (?:also |really |very |always |so )?important (?:to|that|not to)",
    r"(?:the )?(?:whole|bigger|big|full) picture",
    r"jump(?:ing)? to conclusions",
    r"(?:talk to|involve|speak to) the right people",
    r"(?:do|doing|did) the right thing",
    r"(?:i'?m|i am) (?:quite |very |really |pretty )?(?:comfortable with|the kind of person|"
    r"a (?:\w+ )?person who|naturally)",
    r"stay(?:ing)? (?:really |very )?calm",
    r"(?:handle|deal with|approach) (?:it|this|things|the situation) (?:\w+ly )?(?:and )?"
    r"(?:sensitively|professionally|carefully|appropriately)",
    r"tells? (?:a|the) story",
    r"improv\w* things",
    r"(?:part of|a) (?:learning|growth) (?:experience|opportunity|curve)|part of learning",
)
_TRADE_OFF = _cue(
    r"trade-?offs?",
    r"trade off",
    r"at the (?:cost|expense) of",
    r"the cost (?:is|of)",
    r"downsides?",
    r"drawbacks?",
    r"on the other hand",
    r"however",
    r"whereas",
    r"versus",
    r"vs",
    r"but (?:it|that|this|they|the|we|a|an)",
    r"in exchange",
    r"the catch",
    r"the risk",
    r"risks?",
    r"alternatively",
    r"instead of",
    r"rather than",
    r"pros and cons",
    r"(?:cheaper|simpler|faster|slower|safer|easier|harder|heavier|lighter) (?:but|than)",
    r"compromise",
    r"in return",
    r"not free",
    r"costs? (?:more|less)",
    r"we accept",
    r"trading",
)
_CHOICE = _cue(
    r"(?:i'?d|i would|we'?d|we would) (?:also |then |first |still )?(?:use|choose|pick|go with|"
    r"prefer|recommend|start with|keep|avoid|rather|record|add|put|store|go for|opt for|default to)",
    r"the (?:simplest|safest|cheapest|fastest|best|right) (?:is|fix|option|choice|approach|way)",
    r"(?:fits|suits|works) (?:better|best)",
    r"depends on",
    r"if (?:the|it|you|we|there|a|an|conflicts|contention)",
    r"when (?:the|it|you|we|there|a|an|conflicts|contention)",
    r"unless",
    r"for (?:something|things|cases) like",
    r"where (?:isolation|consistency|latency|ordering|it) matters",
    r"(?:is|are) (?:better|best|worse) (?:for|when|if)",
)
_EXAMPLE = _cue(r"for example", r"for instance", r"such as", r"e\.g", r"say,?", r"like a", r"imagine")
_SIGNPOST = _cue(
    r"first(?:ly)?",
    r"second(?:ly)?",
    r"third(?:ly)?",
    r"next",
    r"finally",
    r"lastly",
    r"to start",
    r"let me start",
    r"(?:i'?d|i'?ll|i would|i will) (?:start|begin|first)",
    r"to begin",
    r"after that",
    r"on balance",
    r"in summary",
    r"to sum up",
    r"in short",
    r"so my (?:answer|recommendation|view)",
    r"(?:two|three|four|five) (?:things|areas|branches|questions|parts|steps|reasons|options|levers|"
    r"inputs|cuts|factors|ways|reasons|considerations|principles)",
    r"break (?:it|this|the problem) (?:down|into)",
    r"(?:high level|deep dive|requirements)",
)
_HEDGE = _cue(
    r"i think",
    r"i guess",
    r"i suppose",
    r"i feel",
    r"probably",
    r"maybe",
    r"kind of",
    r"kinda",
    r"sort of",
    r"basically",
    r"honestly",
    r"to be honest",
    r"i don'?t (?:really |fully )?(?:know|remember)",
    r"not sure",
    r"more or less",
    r"somewhat",
    r"i'?d say",
    r"or something",
    r"or so on",
)
_FILLER = re.compile(  # "like," is a filler; ", like the index of a book" is a comparison
    r"\b(?:um+|uh+|erm?|hmm+|you know|i mean|so yeah|yeah|anyway)\b|\blike,|\bright\?"
)
_VAGUE = _cue(
    r"really",
    r"very",
    r"a lot",
    r"lots of",
    r"loads of",
    r"things?",
    r"stuff",
    r"something",
    r"somehow",
    r"everyone",
    r"everybody",
    r"always",
    r"definitely",
    r"super",
    r"great",
    r"amazing",
    r"generally",
    r"in general",
    r"at the end of the day",
    r"and so on",
    r"etc",
    r"pretty",
    r"quite",
    r"obviously",
    r"nowadays",
    r"these days",
    r"overall",
    r"all of that",
    r"whatever",
)
_BUZZWORD = _cue(
    r"microservices?",
    r"(?:the )?cloud",
    r"auto-?scal\w*",
    r"scalable",
    r"robust",
    r"modern",
    r"best practices?",
    r"ai",
    r"machine learning",
    r"future-?proof\w*",
    r"cutting[- ]edge",
    r"seamless\w*",
    r"smart",
    r"state of the art",
)
_OVERCLAIM = _cue(
    r"definitely",
    r"obviously",
    r"of course",
    r"basically (?:doesn'?t|never|always)",
    r"don'?t (?:really )?(?:need|have) to worry",
    r"can'?t really",
    r"no need to",
    r"(?:is|are) always right",
    r"that should be enough",
    r"(?:it'?s|is) (?:quite |pretty |really )?straightforward",
    r"doesn'?t really (?:happen|matter)",
    r"the best on the market",
    r"always (?:faster|better)",
)

_TECH_TERMS = _cue(
    # computing
    r"algorithm\w*", r"o\(\w+(?: \w+)?\)", r"complexity", r"amortised|amortized", r"hash\w*",
    r"array\w*", r"bucket\w*", r"linked list\w*", r"tree\w*", r"b-tree", r"graph\w*", r"heap\w*",
    r"stack\w*", r"queue\w*", r"pointer\w*", r"memory", r"address space", r"cpu", r"core\w*",
    r"thread\w*", r"process\w*", r"lock\w*", r"mutex\w*", r"deadlock\w*", r"concurren\w*",
    r"synchroni\w*", r"async\w*", r"i/o", r"io-bound|i/o-bound|cpu-bound", r"gil|global interpreter lock",
    r"ipc", r"pipe\w*", r"socket\w*", r"kernel", r"operating system", r"garbage collect\w*",
    r"reference count\w*", r"generation\w*", r"mark\w*", r"compil\w*", r"interpret\w*",
    r"runtime", r"cache\w*", r"index\w*", r"quer\w+", r"sql", r"join\w*", r"transaction\w*",
    r"isolation", r"schema\w*", r"row\w*", r"column\w*", r"table\w*", r"planner", r"explain analyze",
    r"sequential scan", r"statistics", r"materiali[sz]ed view", r"normali[sz]\w*", r"replica\w*",
    r"shard\w*", r"partition\w*", r"tcp", r"udp", r"ip", r"http\w*", r"quic", r"dns", r"tls",
    r"handshake", r"packet\w*", r"datagram\w*", r"latency", r"throughput", r"bandwidth",
    r"congestion control", r"retransmi\w*", r"protocol\w*", r"api\w*", r"endpoint\w*", r"rest",
    r"json", r"oauth", r"token\w*", r"jwt", r"401|403|404|429|500", r"encrypt\w*", r"password\w*",
    r"role-based", r"permission\w*", r"identity", r"session\w*", r"cookie\w*", r"load balanc\w*",
    r"server\w*", r"client\w*", r"service\w*", r"microservice\w*", r"message\w*", r"broker\w*",
    r"kafka", r"rabbitmq", r"sqs", r"redis", r"memcached", r"postgres\w*", r"mysql", r"mongodb",
    r"dynamodb", r"cassandra", r"s3", r"cdn", r"kubernetes", r"docker", r"python", r"java",
    r"javascript", r"node", r"c\+\+", r"go", r"rust", r"pandas", r"excel", r"pytest", r"hypothesis",
    r"unit tests?", r"integration tests?", r"property-based", r"regression", r"edge cases?",
    r"boundar\w*", r"equivalence class\w*", r"mock\w*", r"assert\w*", r"idempoten\w*",
    r"at-least-once", r"exactly-once", r"dead-letter", r"retr(?:y|ies)", r"backoff",
    r"timeout\w*", r"consisten\w*", r"availab\w*", r"durab\w*", r"leak\w*", r"profil\w*",
    r"snapshot\w*", r"tracemalloc", r"jmap", r"allocat\w*", r"metric\w*", r"monitor\w*",
    r"log\w*", r"soak test", r"load test", r"staging", r"canary", r"ttl", r"version\w*",
    r"optimistic", r"pessimistic", r"select", r"update", r"insert\w*", r"delete\w*", r"commit\w*",
    r"parse\w*|parsing", r"iso 8601", r"time zones?", r"locale\w*", r"format\w*", r"regex\w*",
    r"duplicat\w*", r"dedup\w*", r"null\w*", r"missing values?", r"imput\w*", r"bias\w*",
    r"reproducib\w*", r"pipeline\w*", r"dataset\w*", r"outlier\w*",
    # product, data and sales
    r"retention", r"churn\w*", r"cohort\w*", r"segment\w*", r"conversion", r"funnel\w*",
    r"rice", r"prioriti[sz]\w*", r"roadmap\w*", r"prototype\w*", r"a/b test\w*", r"experiment\w*",
    r"kpi\w*", r"roi", r"licen[cs]e\w*", r"tier\w*", r"seat\w*", r"billing", r"discount\w*",
    r"onboarding", r"integrations?", r"stakeholders?", r"exit surveys?", r"user research",
    r"north star", r"activation", r"adoption", r"engagement", r"dau|mau|wau", r"nps", r"csat",
    r"usability", r"mvp", r"personas?", r"jobs to be done", r"backlog", r"sprints?", r"okrs?",
    r"guardrail\w*", r"holdout", r"control group", r"significan\w*", r"p-values?",
    r"confidence intervals?", r"sample size", r"causal\w*", r"difference-in-differences",
    r"propensity", r"matched", r"matching", r"seasonal\w*", r"baseline", r"median", r"mean",
    r"average", r"skew\w*", r"distribution\w*", r"percentiles?", r"variance", r"standard deviation",
    r"correlat\w*", r"confound\w*", r"pipeline", r"champion", r"decision-?makers?", r"procurement",
    r"objections?", r"discovery", r"qualif\w*", r"bant", r"meddic", r"renewals?", r"upsell\w*",
    r"quota", r"crm", r"deals?", r"contracts?", r"pilots?", r"proof of concept", r"calibrat\w*",
    r"performance reviews?", r"rubrics?", r"competenc\w*", r"360", r"objectives", r"headcount",
    r"redundanc\w*", r"consultation", r"employment law", r"severance", r"attrition", r"engagement surveys?",
    r"job descriptions?", r"structured interviews?", r"scorecards?", r"compensation", r"pay bands?",
    r"promotion\w*", r"1:1s?|one-to-ones?", r"diversity", r"inclusion", r"accessib\w*",
    r"wireframes?", r"prototyp\w*", r"user interviews?", r"analogy", r"metaphor", r"index",
)
_REQUIREMENT_CUES = _cue(
    r"requirements?", r"functional(?:ly)?", r"non-functional(?:ly)?", r"clarify", r"assum\w*",
    r"daily active", r"dau", r"concurrent", r"per second", r"qps", r"rps", r"latency", r"p9[59]",
    r"availab\w*", r"consisten\w*", r"durab\w*", r"read-to-write|read-heavy|write-heavy|ratio",
    r"estimat\w*", r"storage", r"throughput", r"peak", r"sla", r"scope", r"must", r"use cases?",
    r"should (?:take|be|support|handle|never|always)", r"need to (?:support|handle)", r"volume",
    r"users?", r"under \d+", r"within (?:a few )?\w+ (?:seconds|minutes|ms)",
    r"needs? to", r"should", r"(?:per|a) (?:day|month|second|minute|hour)", r"daily", r"monthly",
    r"(?:never|must not|cannot) (?:lose|double|miss|drop|leak)", r"privacy", r"secur\w*",
    r"out of scope", r"in scope", r"(?:core|main|key) (?:flows?|features?|use cases?)", r"p50",
)
_COMPONENT_CUES = _cue(
    r"services?", r"apis?", r"databases?", r"db", r"stores?", r"caches?", r"queues?",
    r"load balancers?", r"cdn", r"gateways?", r"workers?", r"clients?", r"object storage", r"s3",
    r"blob", r"indexes", r"index", r"streams?", r"kafka", r"redis", r"postgres\w*", r"mysql",
    r"cassandra", r"dynamodb", r"websockets?", r"replicas?", r"scheduler", r"pipeline",
    r"metadata", r"search index", r"frontend", r"backend", r"middleware", r"proxy", r"ring",
    r"nodes?", r"clusters?", r"table", r"data model", r"schema", r"event\w*", r"notifications?",
    r"elasticsearch|opensearch|solr", r"spark|flink|airflow|bigquery|warehouse", r"lambda",
    r"object store", r"blob store", r"message bus", r"broker", r"calendar service", r"search service",
    r"cells?", r"control plane", r"data plane", r"router", r"regions?", r"topics?", r"consumers?",
    r"producers?", r"ledger", r"journal", r"data lake", r"feature store", r"models?", r"cron",
    r"batch jobs?", r"stream processor", r"cache layer", r"app", r"mobile clients?", r"dashboards?",
    r"web server", r"application servers?", r"sessions?", r"push (?:service|notifications?)",
    r"email (?:service|provider)", r"payment (?:service|provider)", r"identity provider", r"auth\w*",
    r"tables?", r"partitions?", r"logs?", r"outbox", r"inbox", r"ranker", r"index(?:er|ing)",
)
_FLOW_CUES = _cue(
    r"writes? (?:to|the)", r"reads? (?:from|the)", r"sends?", r"calls?", r"forwards?",
    r"consum\w+", r"publish\w*", r"push\w*", r"fetch\w*", r"looks? up", r"goes to", r"go to",
    r"stor(?:e|es|ed) (?:in|the)", r"hands? out", r"returns?", r"queries", r"routes?",
)
_MECHANISM_CUES = _cue(
    r"consistent hashing", r"hash\w*", r"token bucket", r"sliding (?:window|log)", r"fixed window",
    r"leaky bucket", r"shard\w*", r"partition\w*", r"replicat\w*", r"quorum", r"idempoten\w*",
    r"locks?", r"locking", r"transactions?", r"atomic\w*", r"compare-and-set", r"lua",
    r"bloom filter", r"lsm", r"sstables?", r"memtable", r"commit log", r"fan(?:-| )?out",
    r"ttl", r"invalidat\w*", r"backoff", r"retr(?:y|ies)", r"dead-letter", r"vector clocks?",
    r"merkle", r"gossip", r"base ?62", r"dedup\w*", r"chunk\w*", r"conflict\w*",
    r"hinted handoff", r"long polling", r"sorted sets?", r"geo\w*", r"h3", r"quadtree",
    r"counters?", r"snowflake", r"ordering", r"exactly-once", r"at-least-once", r"write-ahead",
    r"cache-aside", r"write-through", r"write-back", r"stampede", r"coalesc\w*", r"evict\w*",
    r"lru", r"manifest\w*", r"transcod\w*", r"bitrate", r"hls", r"state machine", r"simhash",
    r"priority queues?", r"rate limit\w*", r"algorithm\w*", r"content-addressed", r"versioning",
    r"select for update", r"jitter\w*", r"compaction", r"rehash\w*", r"heartbeat\w*",
    r"leader election", r"consensus", r"raft", r"paxos", r"pre-?allocat\w*", r"histogram",
    r"percentile", r"approximat\w*", r"zadd|zrevrank|zrevrange", r"websockets?",
    r"retrieval", r"rank(?:ing|er)", r"inverted index", r"embeddings?", r"vector\w*",
    r"cold[- ]start", r"a/b tests?", r"two[- ]stage", r"candidate generation", r"filter(?:s|ing)",
    r"pagination|cursor", r"precomput\w*", r"batch\w*", r"denormali[sz]\w*", r"sync\w*",
    r"schema", r"data model", r"primary key", r"secondary index", r"read replicas?",
    r"circuit breaker", r"failover", r"checkpoint\w*", r"encod\w*",
    r"row-level security", r"encrypt\w*", r"access control", r"audit (?:log|trail)s?", r"signed urls?",
    r"pre-?signed", r"crdts?", r"operational transform\w*", r"outbox", r"sagas?", r"two-phase commit",
    r"double-entry", r"append-only", r"immutable", r"reconcil\w*", r"back-?pressure", r"tiles?",
    r"pre-?aggregat\w*", r"roll-?ups?", r"window\w*", r"watermarks?", r"leases?", r"fencing tokens?",
    r"optimistic (?:locking|concurrency)", r"version (?:numbers?|vectors?)", r"compare-and-swap",
    r"cursor", r"offsets?", r"acknowledg\w*", r"acks?", r"retention", r"ttls?", r"expir\w*",
    r"tokeni[sz]\w*", r"consent", r"anonymi[sz]\w*", r"pseudonymi[sz]\w*", r"residency",
    r"unique (?:constraint|index)", r"foreign keys?", r"materiali[sz]ed views?", r"queues? per",
    r"priority", r"scor(?:e|ing) (?:function|model)", r"features?", r"gradient", r"embeddings?",
)
_SCALE_CUES = _cue(
    r"scal(?:e|es|ing)", r"shard\w*", r"partition\w*", r"replicas?", r"horizontal(?:ly)?",
    r"clusters?", r"throughput", r"bottlenecks?", r"hot (?:spot|key|keys|rows?|partition)",
    r"hot", r"per second", r"millions?", r"billions?", r"capacity", r"regions?",
    r"add(?:ing)? (?:more )?(?:nodes|servers|machines|workers)", r"tb|pb|gb", r"peaks?",
    r"load", r"fleet", r"concurrent", r"edge\w*", r"cdn",
    r"stateless", r"more (?:workers|nodes|servers|instances|partitions|shards|replicas|consumers)",
    r"cach(?:e|es|ed|ing)", r"grow(?:s|th)?", r"queue depth", r"fan-?out", r"back-?pressure",
    r"per (?:region|tenant|shard|partition|user)", r"latency", r"thousands?", r"qps|rps", r"spikes?",
    r"bursts?", r"autoscal\w*",
)
_CASE_STRUCTURE = _cue(
    r"structur\w*", r"frame\w*", r"framework", r"break (?:it|this|the problem) (?:down|into)",
    r"split", r"branch\w*", r"levers?", r"buckets?", r"areas?", r"factors?",
    r"(?:two|three|four|five) (?:questions|areas|things|branches|parts|levers|inputs|cuts|steps|"
    r"options|factors|ways)",
    r"demand", r"supply", r"revenue", r"costs?", r"profit\w*", r"(?:is|equals) \w+ (?:minus|times|"
    r"plus|divided by)", r"on one (?:side|hand)", r"internal", r"external", r"options?",
    # product and strategy cases: who it is for, what they need, what comes first, how to judge it
    r"users?", r"needs", r"goals?", r"constraints?", r"segments?", r"priorit\w*",
    r"success (?:metrics?|measures?|criteria)", r"go-to-market", r"distribution", r"features?",
    r"(?:first|second|third|final) (?:version|phase|step|question|group|branch)", r"markets?",
    r"economics", r"capabilit\w*", r"risks?", r"who (?:would|will) use",
)
_CASE_ANALYSIS = _cue(
    r"hypothes\w*", r"drivers?", r"driven", r"segment\w*", r"cohort\w*", r"compar\w*", r"data",
    r"check\w*", r"caus\w*", r"explain\w*", r"means", r"suggests?", r"indicat\w*", r"root cause",
    r"benchmark\w*", r"trends?", r"mix", r"per (?:store|customer|unit|member|order|flight|visit)",
    r"assum\w*", r"sanity[- ]check\w*", r"if (?:it|this|that|the|we|more|most|customers)",
    r"whether", r"bottleneck\w*", r"interview\w*", r"survey\w*", r"timeline", r"split by",
    r"rather than", r"uncertaint\w*", r"sensitiv\w*",
    r"research", r"evidence", r"(?:usage|practice|existing|till|sales|customer|booking) data",
    r"most (?:frequent|common)", r"(?:the )?(?:main|real|biggest|key) (?:barrier|driver|risk|prize|"
    r"problem|question|constraint)", r"because", r"depends on", r"measur\w*", r"tests?",
)
_ARITHMETIC = _cue(
    r"times", r"multipl\w*", r"divided by", r"minus", r"plus", r"gives?", r"giving",
    r"that'?s (?:about|roughly|around|\d)", r"so (?:about|roughly|around)", r"roughly",
    r"about \d", r"around \d", r"approximately", r"total\w*", r"break-?even", r"margins?",
    r"percent", r"out of", r"ratio", r"(?:a|per) (?:year|month|day|week|shift|flight|order)",
    r"payback", r"\d+ ?%", r"load factor", r"equals",
)
_RECOMMEND = _cue(
    r"recommend\w*", r"(?:i'?d|i would|i) (?:advise|suggest|propose)",
    r"(?:so )?my (?:answer|advice|recommendation|view) (?:is|would be)",
    r"so (?:yes|no)", r"yes, but", r"(?:should|shouldn'?t) (?:not )?(?:launch|build|close|enter|go|"
    r"invest|accept|start|join|open|do|sell)",
    r"(?:i'?d|i would|we should) (?:launch|build|close|enter|start|focus|go|prioriti[sz]e|invest|"
    r"join|open|not)",
    r"the (?:best|right) (?:option|move|choice)", r"on balance", r"my conclusion",
)
_NEXT_STEP = _cue(
    r"next steps?", r"pilot\w*", r"test\w*", r"trial\w*", r"measur\w*", r"track\w*",
    r"monitor\w*", r"review\w* (?:after|against|it)", r"within (?:\w+ )?(?:months?|weeks?|quarters?|"
    r"years?)", r"kpis?", r"metrics?", r"targets?", r"goal of", r"risks?", r"phase\w*",
)
_ETHICS = _cue(
    r"autonom\w*", r"beneficen\w*", r"non-?maleficen\w*", r"do no harm", r"harm\w*",
    r"justice", r"fair\w*", r"unfair\w*", r"confidential\w*", r"privacy", r"consent\w*",
    r"capacity", r"competen\w*", r"gillick", r"fraser", r"safeguard\w*", r"duty", r"candou?r",
    r"honest\w*", r"dishonest\w*", r"integrity", r"trust\w*", r"patient safety", r"safe\w*",
    r"best interests?", r"conflicts? of interest", r"dignity", r"respect\w*", r"wellbeing",
    r"welfare", r"equit\w*", r"disadvantaged", r"vulnerable", r"transparen\w*", r"accountab\w*",
    r"rights?", r"law", r"legal\w*", r"guidance", r"gmc", r"professional\w*", r"ethic\w*",
    r"paternalis\w*", r"deception", r"reciprocity", r"evidence", r"risks?", r"exploitation",
    r"coercion|pressure", r"abuse",
    r"duty of care", r"equalit\w*", r"inequalit\w*", r"stigma\w*", r"public health", r"access",
    r"resources?", r"rationing", r"cost-?effective\w*", r"qal(?:y|ys)", r"compassion\w*",
    r"empath\w*", r"patient-?cent(?:red|ered)", r"responsib\w*", r"openness", r"probity",
    r"informed (?:choice|decision)", r"benefits?", r"paternalism", r"discriminat\w*", r"prejudice",
    r"boundar(?:y|ies)", r"self-?care", r"burnout", r"reflect\w*", r"humility",
)
_ESCALATION = _cue(
    r"senior\w*", r"supervisor\w*", r"consultant\w*", r"tutor\w*", r"clinical lead",
    r"lead", r"(?:line )?manager", r"report\w*", r"incident\w*", r"escalat\w*",
    r"raise (?:it|this|my concern|the concern)", r"document\w*", r"write (?:it )?down", r"notes",
    r"polic(?:y|ies)", r"process", r"procedure\w*", r"guidance", r"guidelines", r"occupational health",
    r"support services?", r"student support", r"the team", r"inform\w*", r"code", r"record\w*",
    r"medical school", r"course office", r"legal advice", r"safeguarding services?",
    r"(?:gp|nurse|pharmacist|doctor|clinician|educational supervisor|mentor|colleagues?)",
    r"feedback", r"apologi[sz]\w*", r"learn(?:ed|t|ing)", r"i now", r"checklists?", r"protocols?",
    r"standards?", r"evidence", r"nice", r"gmc", r"accountab\w*", r"follow(?:ed|ing)? up",
    r"handover", r"on time", r"punctual\w*", r"reliab\w*",
)
_CONSIDERATE = _cue(
    r"privately", r"in private", r"discreet\w*", r"calm\w*", r"respectful\w*", r"non-?judgement\w*",
    r"listen\w*", r"explor\w*", r"understand (?:why|what|where|their|her|his)",
    r"ask (?:them|her|him|what|why|how)", r"reassur\w*", r"support\w*", r"apologi[sz]\w*",
    r"gently", r"politely", r"kind(?:ly|ness)?", r"empath\w*", r"plain language", r"explain\w*",
    r"without judgement", r"concerns?", r"offer\w*",
    r"respect\w*", r"dignity", r"patient'?s? (?:wishes|views|needs|choice)", r"(?:their|her|his) (?:wishes|views|needs|choice|feelings)",
    r"thank\w*", r"check(?:ed|ing)? in", r"clearly", r"honest(?:ly)?", r"open(?:ly)?", r"kindly",
)
_PERSPECTIVE = _cue(
    r"on the other hand", r"however", r"but", r"both sides", r"balance\w*", r"weigh\w*",
    r"whereas", r"alternatively", r"arguments?", r"the case (?:for|against)", r"depends on",
    r"tension", r"distinguish", r"exception\w*", r"different (?:for|if|when)", r"if (?:it|they|there|"
    r"the|she|he|i)", r"although", r"even (?:if|though|then)", r"in practice", r"evidence",
    r"on balance", r"consider\w*", r"might", r"could be", r"while", r"compromise",
    r"it'?s (?:reasonable|understandable|fair)", r"understand(?:ing)? (?:why|their|her|his)",
    r"(?:their|her|his|the patient'?s) (?:reasons|perspective|point of view|wishes|view)",
    r"at the same time", r"equally", r"unless", r"as long as", r"instead", r"rather than",
    r"i wouldn'?t", r"not necessarily", r"whatever (?:they|she|he) decide", r"sometimes",
    r"on the one hand", r"(?:some|many|other) (?:people|patients|doctors|colleagues|would argue)",
    r"others (?:argue|say|feel|would)", r"critics", r"supporters", r"opponents", r"that said",
    r"then again", r"the (?:other|opposite) side", r"the (?:counter-?argument|downside|danger|catch)",
    r"i can see (?:why|both|the)", r"from (?:their|the patient'?s|the family'?s|a|his|her) "
    r"(?:point of view|perspective|side)", r"(?:a|one|another) (?:reason|argument|concern) (?:for|against)",
    r"the risk (?:is|of)", r"whether", r"(?:pros|benefits|advantages) and (?:cons|risks|drawbacks|harms)",
    r"(?:cons|risks|drawbacks|harms) and (?:pros|benefits|advantages)", r"trade-?offs?", r"equally",
)
# A stance on a dilemma: yes or no, what should happen, what the speaker would do.
_DECISION = _cue(
    r"(?:^|(?<=[.!?] ))(?:yes|no)\b",
    r"on balance",
    r"(?:so|overall),? (?:i think |i'd say )?(?:yes|no)\b",
    r"(?:i'?d|i would) say (?:yes|no|not)\b",
    r"i (?:think|believe|feel|would say|'d say) (?:that )?(?:it|they|we|you|he|she|this|that|the \w+|"
    r"doctors?|governments?|patients?|people) (?:should|shouldn'?t|must|mustn'?t|can'?t|cannot|ought)",
    r"(?:they|he|she|it|we|the \w+|(?:a|any) (?:good )?\w+|doctors?|governments?|patients?) "
    r"(?:should|shouldn'?t|must|mustn'?t|ought to|needs to|has to)\b",
    r"i (?:support|oppose|agree with it|disagree with it|don'?t agree|do not agree|am against|'m against)",
    r"i'?m (?:in favour|for it|against it)",
    r"(?:i|we)(?:'d| would| will|'ll)(?: not|n't)? (?:\w+ )?(?:sign|report|refuse|decline|accept|"
    r"escalate|raise it|intervene|step in|speak up|say no|tell)",
    r"(?:it'?s|that'?s|this is) (?:just )?(?:wrong|unacceptable|not acceptable|acceptable|fine|right)",
)
# A question that asks for a stance on a dilemma ("What do you do?", "Should ...?").
_DILEMMA_QUESTION = re.compile(
    r"\bshould\b|\bwhat (?:do|would) you do\b|\bwhat should\b|\bhow (?:do|would) you respond\b|"
    r"\bis (?:it|this) (?:ever )?(?:acceptable|ethical|right|fair|a good)\b|\bhelp or harm\b",
    re.IGNORECASE,
)
# Weighing without landing: what an answer that never decides says instead.
_UNDECIDED = _cue(
    _IT_DEPENDS,
    r"(?:(?<=see )|(?<=are )|(?<=were )|(?<=with ))(?:good |valid |strong )?(?:points|arguments) "
    r"(?:on|for) (?:both|either)(?: sides?| way)?",
    r"(?:arguments|points) on both sides",
    r"(?:difficult|hard|tricky|complex|tough) (?:one|question|issue|balance|call)",
    r"no (?:easy|right|simple|clear) answer",
    r"either way",
)
_SHORTCUT = _cue(
    r"(?:i'?d|i would|i'?ll) (?:probably )?just (?:sign|give|tell|do|like|ignore|leave|let|prescribe|"
    r"accept|go along)",
    r"not (?:a|really a) big deal", r"no big deal", r"doesn'?t really matter", r"everyone does it",
    r"why not\?", r"keep (?:them|him|her|the patient|everyone) happy", r"not (?:really )?my place(?! to (?:interpret|diagnose|break|explain|give|share|discuss))",
    r"wouldn'?t make a fuss", r"get (?:me |myself )?(?:in|into) trouble", r"doctors know best",
    r"first come,? first served", r"(?:their|his|her) business what", r"turn a blind eye",
    r"cover for (?:them|him|her)", r"they'?d do the same", r"(?:tell|inform) (?:the \w+ )?anyway",
    r"who can pay", r"not worth the drama", r"get (?:the|their) family to persuade",
)


_BUSINESS_TERMS = _cue(
    r"customers?", r"clients?", r"competit\w*", r"market\w*", r"pric\w*", r"costs?", r"revenue\w*",
    r"profit\w*", r"margins?", r"sales", r"demand", r"supply", r"growth", r"grow", r"brand\w*",
    r"products?", r"stores?", r"branch\w*", r"members?", r"users?", r"share", r"invest\w*",
    r"budget\w*", r"fund\w*", r"suppliers?", r"staff\w*", r"capacity", r"operations?",
    r"churn\w*", r"retention", r"acquisition", r"segments?", r"channels?", r"strateg\w*",
    r"expan\w*", r"launch\w*", r"volume", r"unit", r"fees?", r"commission", r"discount\w*",
)
_MMI_TOPIC = _cue(
    r"patients?", r"doctors?", r"friends?", r"colleagues?", r"famil(?:y|ies)", r"parents?",
    r"team", r"senior", r"classmates?", r"students?", r"medical", r"clinical", r"hospital",
    r"treatment", r"care", r"health\w*", r"decision\w*", r"public", r"society", r"people",
)
# fmt: on


# --- features -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerFeatures:
    """What the offline evaluator found in one answer; every score is built from these."""

    word_count: int
    sentence_count: int
    expected_words: float
    length_ratio: float
    length_fit: float  # 0..1: 1 when the length suits the question
    numbers: float
    quantities: int
    proper_nouns: int
    domain_terms: int
    specificity: float  # 0..1
    i_words: int  # how many times the answer says "I"
    we_words: int  # ... and "we"
    i_actions: int
    we_actions: int
    hypotheticals: int
    named_steps: int  # distinct concrete steps the speaker would take ("I'd bleep", "we'd shard")
    situation_cues: int
    task_cues: int
    result_cues: int
    result_numbers: int
    reflection_cues: int
    reasoning_cues: int
    trade_off_cues: int
    choice_cues: int
    example_cues: int
    signposts: int
    hedges: int
    fillers: int
    filler_rate: float  # fillers and restarts per 100 words spoken
    vague_terms: int
    platitudes: int
    vagueness: float  # hedges, vague words and platitudes per 100 words (fillers are delivery)
    specifics: float  # concrete details: figures, names, terms, things done or to be done
    distinct_terms: int  # different content words (5+ letters, not words any answer could use)
    specific_density: float  # ... per 100 words
    generic_density: float  # generic phrases that fit any answer, per 100 words
    buzzwords: int
    overclaims: int
    coverage: float  # weighted share of the question's key terms the answer uses
    on_topic_share: float  # share of sentences about the question
    relevance: float  # 0..1
    # tf-idf cosine of the answer with its bank question's vocabulary (text, hints, example),
    # and that over the closest other question of the category; -1 when the question is not
    # in the bank (and the cosine -1 for stories, whose words are their own).
    question_fit: float
    fit_score: float  # 0..1: plainly this question's words (stories: no neighbour's words)
    neighbour: float  # what an answer in another question's words keeps of its score (1: all)
    own_gate: float  # what an answer with few of its own question's words keeps (1: all)
    fit_ratio: float
    # Category-specific cue counts (distinct cues; zero outside their own category).
    # shortcuts counts every occurrence.
    requirement_cues: int
    component_cues: int
    flow_cues: int
    mechanism_cues: int
    scale_cues: int
    case_structure_cues: int
    case_analysis_cues: int
    arithmetic_cues: int
    recommend_cues: int
    next_step_cues: int
    ethics_cues: int
    escalation_cues: int
    considerate_cues: int
    perspective_cues: int
    shortcuts: int
    decision_cues: int  # a stance taken: yes or no, what should happen, what I would do
    stance_needed: bool  # the question asks for a stance on a dilemma
    performance: bool  # the question asks for a performance (a pitch, an explanation for a child)
    undecided_cues: int  # "it depends", "both sides", "a difficult one" (with no stance)
    # The answer's own words behind the counts (cue name -> matches in order), for the reasons.
    evidence: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def as_factors(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.__slots__ if name != "evidence"}

    def said(self, cue: str) -> tuple[str, ...]:
        """The answer's words that matched a cue, in the order they were said."""
        return self.evidence.get(cue, ())


def _sat(value: float, half: float) -> float:
    """0 at 0, 0.5 at `half`, approaching 1: more of a good thing helps, with diminishing returns."""
    return value / (value + half) if value > 0 else 0.0


def _clamp01(value: float) -> float:
    return 0.0 if value < 0 else 1.0 if value > 1 else value


def _in_order(pattern: re.Pattern[str], lower: str, text: str) -> tuple[str, ...]:
    """The distinct matches of a pattern in the lowercased text, in the order they first appear,
    as the answer wrote them."""
    source = text if len(text) == len(lower) else lower
    found: dict[str, str] = {}
    for m in pattern.finditer(lower):
        key = m.group(0).strip()
        if key not in found:
            found[key] = source[m.start() : m.end()].strip()
    return tuple(found.values())


def _count(pattern: re.Pattern[str], text: str) -> int:
    return sum(1 for _ in pattern.finditer(text))


def _length_fit(ratio: float, words: int) -> float:
    """1 from about 70 words up to the time limit; less for a few words or for rambling.

    A written or spoken answer that says what it needs to in 80 words is not too short, however
    long the question allows: brevity only costs when there is too little to show content.
    """
    if words < 25:
        return 0.1 + 0.3 * words / 25
    if words < FULL_LENGTH_WORDS:
        return 0.4 + 0.6 * (words - 25) / (FULL_LENGTH_WORDS - 25)
    if ratio <= 1.15:
        return 1.0
    if ratio <= 2.0:
        return 1.0 - 0.6 * (ratio - 1.15) / 0.85
    return 0.4


def _is_past_action(verb: str) -> bool:
    """'built', 'proposed', 'led': a past-tense verb that reports something done, not felt."""
    is_past = (verb.endswith("ed") and len(verb) > 3) or verb in _IRREGULAR_PAST
    return is_past and verb not in _NOT_ACTION


def _content_stems(words: list[str], memo: dict[str, str]) -> set[str]:
    """Stems of the words that carry content; `memo` saves stemming a word twice per answer."""
    return set(_term_counts(words, memo))


def _own_terms(words: list[str], memo: dict[str, str]) -> set[str]:
    """The answer's own content terms: stems of words of 5+ letters that any answer could not
    equally use ("important", "situation", "communication")."""
    stems = set()
    for w in words:
        if len(w) >= 5 and w not in _STOP_WORDS and not w.isdigit():
            stem = memo.get(w)
            if stem is None:
                stem = memo[w] = _stem(w)
            stems.add(stem)
    return stems - _EMPTY_WORDS


def term_counts(text: str) -> Counter[str]:
    """Stemmed content words of a text and how often each comes: what question vocabularies hold."""
    return _term_counts([w.lower() for w in _WORD.findall(text)], {})


def _term_counts(words: list[str], memo: dict[str, str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for w in words:
        if w in _STOP_WORDS or len(w) <= 2 or w.isdigit():
            continue
        stem = memo.get(w)
        if stem is None:
            stem = memo[w] = _stem(w)
        counts[stem] += 1
    return counts


def _question_fit(item: AnswerInput, words: list[str]) -> QuestionFit | None:
    """How the answer's words fit its bank question against the category's other questions."""
    terms = bank_terms()
    if terms is None or not words:
        return None
    question_id = terms.question_id(item.question_id, item.question)
    if question_id is None:
        return None
    return terms.fit(question_id, item.category, _term_counts(words, {}))


def _fit_score(fit: QuestionFit | None, story: bool) -> float:
    """0..1: how plainly the answer's words are its own question's and not a neighbour's. A story
    has its own vocabulary, so only a neighbour fitting it better counts against it."""
    if fit is None:
        return 1.0
    by_ratio = _clamp01(fit.ratio / FIT_RATIO_FULL)
    if story:
        return by_ratio
    return _clamp01(fit.own / FIT_FULL)


def _neighbour_scale(fit: QuestionFit | None, story: bool, words: int) -> float:
    """Below 1 when another question of the category fits the answer's words several times better
    than its own: a full answer to the neighbouring question, whatever its quality."""
    if fit is None or words < NEIGHBOUR_MIN_WORDS:
        return 1.0
    limit = NEIGHBOUR_STORY_RATIO if story else NEIGHBOUR_RATIO
    if limit <= 0:
        return 1.0
    plain = _clamp01(fit.ratio / limit)
    return NEIGHBOUR_FLOOR + (1.0 - NEIGHBOUR_FLOOR) * plain


def _own_gate(fit: QuestionFit | None, story: bool, coverage: float, words: int) -> float:
    """Below 1 when an answer shares few words with its question's vocabulary: on another
    subject, even in the category's terms. A story's words are its own, so a story only when it
    never names the question's subject and fits a neighbouring question better."""
    if fit is None or words < NEIGHBOUR_MIN_WORDS and story:
        return 1.0
    if story:
        return STORY_OFF_KEEP if coverage == 0 and fit.ratio < STORY_OFF_RATIO else 1.0
    share = _clamp01((fit.own - OWN_FIT_LOW) / (OWN_FIT_HIGH - OWN_FIT_LOW))
    return OWN_FIT_FLOOR + (1.0 - OWN_FIT_FLOOR) * share


def _expand(stems: set[str]) -> set[str]:
    expanded = set(stems)
    for s in stems:
        expanded |= _SYNONYMS.get(s, frozenset())
    return expanded


def _clip(text: str, words: int) -> str:
    """The first `words` words of a text, with an ellipsis when it goes on."""
    tokens = text.strip().split()
    clipped = " ".join(tokens[:words]).rstrip(",;:")
    return clipped + "…" if len(tokens) > words else clipped.rstrip(".!?")


def _units(text: str) -> list[str]:
    """The answer's sentences; a run-on one (no full stops from the recogniser) split into
    clause-like units at discourse markers ("so", "and then", "because", "the result was")."""
    units: list[str] = []
    for sentence in _SENTENCE_SPLIT.split(text):
        sentence = sentence.strip()
        if not _WORD.search(sentence):
            continue
        if len(sentence.split()) <= RUN_ON_WORDS:
            units.append(sentence)
            continue
        pieces: list[str] = []
        for piece in _UNIT_MARKER.split(sentence):
            if pieces and len(pieces[-1].split()) < UNIT_MIN_WORDS:
                pieces[-1] = f"{pieces[-1]} {piece}"
            else:
                pieces.append(piece)
        if len(pieces) > 1 and len(pieces[-1].split()) < UNIT_MIN_WORDS // 2:
            last = pieces.pop()
            pieces[-1] = f"{pieces[-1]} {last}"
        units.extend(p.strip(" ,;:") for p in pieces)
    return units


def _result_quote(sentences: list[str]) -> tuple[str, ...]:
    """The answer's words that report its result: from the result cue of the last sentence that
    has one and a figure (else of the last result sentence), clipped to a dozen words."""
    fallback: tuple[str, ...] = ()
    for sentence in reversed(sentences):
        lower = sentence.lower()
        match = _RESULT.search(lower)
        if match is None:
            continue
        start = match.start() if len(lower) == len(sentence) else 0
        quote = (_clip(sentence[start:], 12),)
        if _NUMBER.search(sentence) or _NUMBER_WORDS.search(lower):
            return quote
        fallback = fallback or quote
    return fallback


# The vocabulary that counts as specific detail, per category.
_DOMAIN_PATTERN: dict[str, re.Pattern[str]] = {
    "behavioral": _TECH_TERMS,
    "technical": _TECH_TERMS,
    "system_design": _MECHANISM_CUES,
    "case": _CASE_ANALYSIS,
    "mmi": _ETHICS,
}
# Sentences with at least one of these (or the question's own terms) stay on topic.
_TOPIC_PATTERN: dict[str, re.Pattern[str]] = {
    "technical": _TECH_TERMS,
    "system_design": _COMPONENT_CUES,
    "case": _BUSINESS_TERMS,
    "mmi": _MMI_TOPIC,
}
# Cues counted in every answer: feature name -> (evidence name, pattern).
_COMMON_CUES: dict[str, tuple[str, re.Pattern[str]]] = {
    "situation_cues": ("situation", _SITUATION),
    "task_cues": ("task", _TASK),
    "result_cues": ("result", _RESULT),
    "reflection_cues": ("reflection", _REFLECTION),
    "reasoning_cues": ("reasoning", _REASONING),
    "trade_off_cues": ("trade_off", _TRADE_OFF),
    "choice_cues": ("choice", _CHOICE),
    "example_cues": ("example", _EXAMPLE),
    "signposts": ("signpost", _SIGNPOST),
    "buzzwords": ("buzzword", _BUZZWORD),
}
_CATEGORY_LEXICONS: dict[str, dict[str, re.Pattern[str]]] = {
    "system_design": {
        "requirement_cues": _REQUIREMENT_CUES,
        "component_cues": _COMPONENT_CUES,
        "flow_cues": _FLOW_CUES,
        "mechanism_cues": _MECHANISM_CUES,
        "scale_cues": _SCALE_CUES,
    },
    "case": {
        "case_structure_cues": _CASE_STRUCTURE,
        "case_analysis_cues": _CASE_ANALYSIS,
        "arithmetic_cues": _ARITHMETIC,
        "recommend_cues": _RECOMMEND,
        "next_step_cues": _NEXT_STEP,
    },
    "mmi": {
        "ethics_cues": _ETHICS,
        "escalation_cues": _ESCALATION,
        "considerate_cues": _CONSIDERATE,
        "perspective_cues": _PERSPECTIVE,
        "shortcuts": _SHORTCUT,
        "decision_cues": _DECISION,
        "undecided_cues": _UNDECIDED,
    },
}
_CATEGORY_FEATURES = tuple(f for lexicons in _CATEGORY_LEXICONS.values() for f in lexicons)


def _evidence_name(feature: str) -> str:
    return "shortcut" if feature == "shortcuts" else feature.removesuffix("_cues")


def extract_features(item: AnswerInput) -> AnswerFeatures:
    """Counts the cues in one answer, and keeps the words behind them; pure and deterministic."""
    spoken = clean_transcript(item.answer.replace("\u2019", "'").replace("\u2018", "'"))
    # Content is read without the fillers and restarts of speech, nor numbers said on their own
    # ("2. 3.", a microphone check the recogniser kept), which are no detail of the answer.
    text = spoken.text
    pieces = _SENTENCE_SPLIT.split(text)
    if any(_BARE_NUMBERS.fullmatch(p) for p in pieces):
        text = " ".join(p for p in pieces if not _BARE_NUMBERS.fullmatch(p))
    lower = text.lower()
    tokens = _WORD.findall(text)
    words = [w.lower() for w in tokens]
    n = len(words)
    sentences = _units(text)
    evidence: dict[str, tuple[str, ...]] = {}

    time_limit = item.time_limit_s or DEFAULT_TIME_LIMIT_S.get(item.category, 120.0)
    expected_words = time_limit * SPEAKING_WPM / 60.0
    if item.answer_duration_s:  # a spoken answer: judge its duration, not its word count
        ratio = item.answer_duration_s / time_limit
    else:
        ratio = n / expected_words
    length_fit = _length_fit(ratio, n)

    spoken_figures = [m.group(0) for m in _SPOKEN_FIGURE.finditer(lower)]
    # Figures said in words count as figures; their number words are not counted again.
    number_matches = _NUMBER.findall(text) + spoken_figures
    number_words = _NUMBER_WORDS.findall(_SPOKEN_FIGURE.sub(" ", lower))
    numbers = len(number_matches) + 0.5 * len(number_words)
    evidence["numbers"] = tuple(
        dict.fromkeys([m.group(0).strip().rstrip(",") for m in _FIGURE.finditer(text)] + spoken_figures)
    )
    quantities = len(_QUANTITY.findall(lower)) + len(spoken_figures)

    proper: dict[str, None] = {}
    for sentence in sentences:
        for token in _WORD.findall(sentence)[1:]:
            if token in _NOT_PROPER:
                continue
            if token[0].isupper() or _ACRONYM.fullmatch(token):
                proper[token] = None
    evidence["proper"] = tuple(proper)
    evidence["domain"] = _in_order(_DOMAIN_PATTERN[item.category], lower, text)
    domain_terms = len(evidence["domain"])

    i_verbs: dict[str, None] = {}
    we_verbs: dict[str, None] = {}
    i_other: dict[str, None] = {}  # "I think", "I always": first person, but nothing done
    for match in _FIRST_PERSON_VERB.finditer(lower):
        subject, verb = match.groups()
        if _is_past_action(verb):
            (i_verbs if subject == "i" else we_verbs)[verb] = None
        elif subject == "i":
            i_other["I" + match.group(0)[1:]] = None
    evidence["i_actions"] = tuple(f"I {v}" for v in i_verbs)
    evidence["i_other"] = tuple(i_other)
    evidence["we_actions"] = tuple(f"we {v}" for v in we_verbs)
    evidence["hypothetical"] = tuple(dict.fromkeys(m.group(0) for m in _HYPOTHETICAL.finditer(lower)))
    hypotheticals = _count(_HYPOTHETICAL, lower)
    steps: dict[str, None] = {}
    for match in _STEP.finditer(lower):
        if match.group(1) not in _NOT_STEP and len(match.group(1)) > 2:
            steps[match.group(0)] = None
    evidence["steps"] = tuple(steps)

    # Result numbers: figures in sentences that report an outcome. After the first thing the
    # speaker did, a sentence in the past tense with a figure or an "every"/"no" is an outcome
    # too, whatever its verb ("We paid everyone on the Friday with no corrections").
    result_numbers = 0
    outcomes: list[str] = []
    acted = False
    for sentence in sentences:
        sl = sentence.lower()
        figures = len(_NUMBER.findall(sentence)) + len(_NUMBER_WORDS.findall(sl)) + len(_RATE_CHANGE.findall(sl))
        i_acts = any(s == "i" and _is_past_action(v) for s, v in _FIRST_PERSON_VERB.findall(sl))
        if _RESULT.search(sl):
            result_numbers += figures
        elif acted and not i_acts and _PAST_VERB.search(sl) and (figures or _ALL_OR_NONE.search(sl)):
            # ("and I asked the lead to sign off each region" is a step, not an outcome)
            result_numbers += max(figures, 1)  # "no corrections", "everyone": a measure too
            outcomes.append(_clip(sentence, 12))
        acted = acted or any(_is_past_action(v) for _, v in _FIRST_PERSON_VERB.findall(sl))
    evidence["outcome"] = tuple(outcomes)
    evidence["result_quote"] = _result_quote(sentences) or tuple(outcomes[-1:])
    evidence["opening"] = (_clip(sentences[0], 10),) if sentences else ()
    evidence["closing"] = (_clip(sentences[-1], 12),) if sentences else ()

    common: dict[str, int] = {}
    for feature, (name, pattern) in _COMMON_CUES.items():
        evidence[name] = _in_order(pattern, lower, text)
        common[feature] = len(evidence[name])
    common["result_cues"] += len(outcomes)
    for name, pattern in (
        ("hedge", _HEDGE),
        ("filler", _FILLER),  # what is left after cleaning: "yeah", "anyway", "right?"
        ("vague", _VAGUE),
        ("platitude", _PLATITUDE),
        ("overclaim", _OVERCLAIM),
    ):
        evidence[name] = _in_order(pattern, lower, text)
    hedges = _count(_HEDGE, lower)
    evidence["filler"] = tuple(dict.fromkeys(spoken.disfluencies)) + evidence["filler"]
    fillers = len(spoken.disfluencies) + _count(_FILLER, lower)
    vague_terms = _count(_VAGUE, lower)
    platitudes = _count(_PLATITUDE, lower)
    # Fillers are delivery (reports/delivery.py scores them), not vagueness of content.
    vagueness = 100.0 * (hedges + 0.6 * vague_terms + 2.0 * platitudes) / max(n, 40)

    specific_mass = (
        len(number_matches) + 0.25 * len(number_words) + 0.6 * len(proper) + 0.35 * domain_terms
    )
    specificity = _clamp01(_sat(100.0 * specific_mass / max(n, 60), 5.0) * 1.25)
    # Concrete detail, counted: what an answer that says something has and a vague one lacks.
    specifics = (
        len(number_matches)
        + 0.5 * len(number_words)
        + len(proper)
        + 0.5 * domain_terms
        + len(i_verbs)
        + 0.5 * len(we_verbs)
        + 0.75 * len(steps)
    )

    # Relevance: the question's key terms (and their usual synonyms) in the answer, and the share
    # of sentences that stay on the question or its category's vocabulary.
    question_words = [w.lower() for w in _WORD.findall(item.question)]
    memo: dict[str, str] = {}
    q_stems = _content_stems(question_words, memo)
    # Code words in capitals ("WHERE", "HAVING") are key terms even when they are common words.
    code_words = {w.lower() for w in _WORD.findall(item.question) if w.isupper() and len(w) > 1}
    for w in code_words:
        memo[w] = w
    q_stems |= code_words
    answer_stems = _content_stems(words, memo) | (code_words & set(words))
    missing_terms: dict[str, None] = {}
    if q_stems:
        weights = {s: (0.5 if s in _GENERIC_TERMS else 1.0) * math.log(1 + len(s)) for s in q_stems}
        found = {s for s in q_stems if _SYNONYMS.get(s, frozenset({s})) & answer_stems or s in answer_stems}
        coverage = sum(weights[s] for s in found) / sum(weights.values())
        for w in question_words:
            stem = memo.get(w)
            if stem in q_stems and stem not in found and stem not in _GENERIC_TERMS:
                missing_terms[w] = None
    else:
        coverage = 0.0
    evidence["missing_terms"] = tuple(missing_terms)
    topic_stems = _expand(q_stems)
    story = item.category == "behavioral" or bool(_STORY_QUESTION.search(item.question))
    domain_pattern = _DOMAIN_PATTERN[item.category]
    on_topic = 0
    for sentence in sentences:
        sl = sentence.lower()
        s_stems = _content_stems([w.lower() for w in _WORD.findall(sentence)], memo)
        if s_stems & topic_stems:
            on_topic += 1
        elif story:
            # Stories rarely repeat the question's words; a sentence of the story is on topic.
            if _NARRATIVE.search(sl):
                on_topic += 1
        elif item.category in _TOPIC_PATTERN and (
            _TOPIC_PATTERN[item.category].search(sl) or len(set(domain_pattern.findall(sl))) >= 2
        ):
            on_topic += 1
        elif item.category == "mmi" and (_STEP.search(sl) or _DECISION.search(sl)):
            on_topic += 1  # "I'd tell them to find someone who saw it": the dilemma, by pronoun
    on_topic_share = on_topic / len(sentences) if sentences else 0.0
    # A story rarely repeats the abstract words of a behavioural question, so its sentences
    # count for more there than the question's terms do; so does a stance on a dilemma.
    takes_stance = item.category == "mmi" and bool(steps or _DECISION.search(lower))
    coverage_weight = 0.3 if story or takes_stance else 0.45
    relevance = (
        _clamp01(coverage_weight * _clamp01(coverage / 0.6) + (1 - coverage_weight) * on_topic_share)
        if n
        else 0.0
    )
    if n and _PERFORMANCE_QUESTION.search(item.question):
        # The answer is the performance asked for (the email, the pitch, the explanation for a
        # child): its words need not echo the question's.
        relevance = max(relevance, _RELEVANCE_FULL_AT)

    fit = _question_fit(item, words)
    question_fit = _fit_score(fit, story)
    # A performance (the explanation for a child, the pitch) is on any subject it chooses: its
    # words need not be its question's, so the own-vocabulary gate does not apply.
    performance = bool(_PERFORMANCE_QUESTION.search(item.question))
    relevance *= FIT_RELEVANCE_KEEP + (1.0 - FIT_RELEVANCE_KEEP) * question_fit
    if fit is not None and not story and fit.ratio >= FIT_LIFT_RATIO:
        # Words plainly this question's, and no neighbour's, are on it in any phrasing.
        relevance = max(relevance, FIT_LIFT * _RELEVANCE_FULL_AT * question_fit)

    # Category vocabularies run only for their own category; the others stay at zero.
    category_cues = dict.fromkeys(_CATEGORY_FEATURES, 0)
    for feature, pattern in _CATEGORY_LEXICONS.get(item.category, {}).items():
        name = _evidence_name(feature)
        evidence[name] = _in_order(pattern, lower, text)
        category_cues[feature] = (
            _count(pattern, lower) if feature == "shortcuts" else len(evidence[name])
        )

    return AnswerFeatures(
        word_count=n,
        sentence_count=len(sentences),
        expected_words=round(expected_words, 1),
        length_ratio=round(ratio, 3),
        length_fit=round(length_fit, 3),
        numbers=numbers,
        quantities=quantities,
        proper_nouns=len(proper),
        domain_terms=domain_terms,
        specificity=round(specificity, 3),
        i_words=words.count("i"),
        we_words=words.count("we"),
        i_actions=len(i_verbs),
        we_actions=len(we_verbs),
        hypotheticals=hypotheticals,
        named_steps=len(steps),
        stance_needed=item.category == "mmi" and bool(_DILEMMA_QUESTION.search(item.question)),
        performance=performance,
        result_numbers=result_numbers,
        hedges=hedges,
        fillers=fillers,
        filler_rate=round(100.0 * fillers / max(n + fillers, 40), 2),
        vague_terms=vague_terms,
        platitudes=platitudes,
        vagueness=round(vagueness, 2),
        specifics=round(specifics, 2),
        distinct_terms=len(_own_terms(words, memo)),
        specific_density=round(100.0 * specifics / max(n, 60), 2),
        generic_density=round(100.0 * platitudes / max(n, 40), 2),
        overclaims=_count(_OVERCLAIM, lower),
        coverage=round(coverage, 3),
        on_topic_share=round(on_topic_share, 3),
        relevance=round(relevance, 3),
        question_fit=round(fit.own, 4) if fit and not story else -1.0,
        fit_score=round(question_fit, 3) if fit else -1.0,
        neighbour=round(_neighbour_scale(fit, story, n), 3),
        own_gate=round(_own_gate(fit, story, coverage, n), 3) if not performance else 1.0,
        fit_ratio=round(min(fit.ratio, 9.0), 3) if fit else -1.0,
        evidence=evidence,
        **common,
        **category_cues,
    )


@dataclass(frozen=True, slots=True)
class AnswerMarkers:
    """Whether an answer gives what a probing follow-up asks for when it is missing."""

    words: int  # the answer's words, fillers and restarts left out
    example: bool  # something the speaker did, a "for example", or a setting (when and where)
    outcome: bool  # results or what changed, a lesson, or a figure
    reasoning: bool  # a reason, a trade-off, when a choice applies, steps, or a case's analysis


def answer_markers(item: AnswerInput) -> AnswerMarkers:
    """An answer's example, outcome and reasoning markers, read from the features it is scored on."""
    f = extract_features(item)
    return AnswerMarkers(
        words=f.word_count,
        example=bool(f.i_actions or f.we_actions or f.example_cues or f.situation_cues >= 2),
        # Two result cues: one alone is often the story's setting ("our checkout kept timing out").
        outcome=bool(f.result_cues >= 2 or f.reflection_cues or f.said("numbers")),
        reasoning=bool(
            f.reasoning_cues
            or f.trade_off_cues
            or f.choice_cues
            or f.signposts >= 2
            or f.case_analysis_cues >= 2
        ),
    )


# --- dimension scorers ----------------------------------------------------------------------
# Each turns the features into a raw 0..1 value and one reason that cites the answer: the words
# that earned the points, or the most useful thing that is missing and what was said instead.


@dataclass(frozen=True, slots=True)
class Judgement:
    """One dimension before scaling: raw 0..1, the reason, and whether the reason is a strength."""

    score: float
    reason: str
    met: bool


def _missing(score: float, reason: str) -> Judgement:
    return Judgement(score, reason, False)


def _found(score: float, reason: str) -> Judgement:
    return Judgement(score, reason, True)


def _quote(items: Sequence[str], limit: int = 3) -> str:
    """'a', 'b' and 'c': the first few of the answer's own words, quoted."""
    shown = [f"'{item}'" for item in items[:limit]]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _times(count: int) -> str:
    return {0: "never", 1: "once", 2: "twice"}.get(count, f"{count} times")


def _vague_words(f: AnswerFeatures) -> tuple[str, ...]:
    return f.said("platitude") + f.said("hedge") + f.said("vague")


def _filler_penalty(f: AnswerFeatures) -> float:
    """Spoken answers carry some fillers; only many of them get in the way of the content."""
    return min(0.15, max(0.0, f.filler_rate - FILLERS_NORMAL) * 0.02)


def _vague_penalty(f: AnswerFeatures) -> float:
    return min(VAGUE_PENALTY_CAP, max(0.0, f.vagueness - 2.0) * 0.04)


def _situation(f: AnswerFeatures) -> Judgement:
    score = (
        0.12
        + 0.45 * _sat(f.situation_cues, 1.2)
        + 0.25 * _sat(f.proper_nouns + 0.5 * f.numbers, 3)
        + 0.18 * f.specificity
    )
    if f.i_actions + f.we_actions == 0 and f.hypotheticals:
        return _missing(
            score * 0.5,
            f"You describe what you would do ({_quote(f.said('hypothetical'), 2)}), not what "
            "happened: tell one real situation, when and where.",
        )
    score -= _vague_penalty(f)
    if f.situation_cues == 0:
        return _missing(
            score,
            f"No clear setting: you open with {_quote(f.said('opening'))}; say when and where "
            "this happened and who was involved.",
        )
    if f.proper_nouns + f.numbers < 2:
        return _missing(
            score,
            f"The setting ({_quote(f.said('situation'), 2)}) is thin: add a concrete detail such "
            "as the team, the product or the stakes.",
        )
    details = f.said("proper") + f.said("numbers")
    return _found(
        score,
        f"Clear, concrete setting: {_quote(f.said('situation'), 2)}, with details such as "
        f"{_quote(details, 2)}.",
    )


def _task(f: AnswerFeatures) -> Judgement:
    score = 0.12 + 0.5 * _sat(f.task_cues, 1.0) + 0.2 * f.relevance + 0.18 * _sat(f.numbers, 4)
    score -= _vague_penalty(f) * 0.5
    if f.task_cues == 0:
        return _missing(
            score,
            "Your own goal is missing: nothing like 'my goal was' or 'I had to'; say what you "
            "were responsible for and what success meant.",
        )
    if f.numbers < 1:
        return _missing(
            score,
            f"You state your goal ({_quote(f.said('task'), 2)}); make the stakes concrete, such "
            "as a deadline or a target.",
        )
    return _found(
        score,
        f"Your responsibility ({_quote(f.said('task'), 2)}) and the stakes "
        f"({_quote(f.said('numbers'), 2)}) are clear.",
    )


def _action(f: AnswerFeatures) -> Judgement:
    score = (
        0.08
        + 0.55 * _sat(f.i_actions, 3.0)
        + 0.15 * _sat(f.reasoning_cues + f.example_cues, 3)
        + 0.2 * f.specificity
    )
    if f.we_actions > f.i_actions:
        score -= 0.12
    if f.i_actions == 0 and f.hypotheticals:
        score -= 0.1
    score -= _vague_penalty(f)
    if f.platitudes >= 2 and f.i_actions < 3:
        return _missing(
            score,
            f"General statements ({_quote(f.said('platitude'), 3)}) in place of one real time: "
            "tell what happened and what you did ('I built', 'I proposed').",
        )
    if f.i_actions == 0:
        if f.we_actions:
            return _missing(
                score,
                f"You said 'we' {_times(f.we_words)} and 'I' {_times(f.i_words)} "
                f"({_quote(f.said('we_actions'), 2)}): say which steps you took yourself.",
            )
        if f.said("i_other"):
            return _missing(
                score,
                f"No steps you took: {_quote(f.said('i_other'))} describe views or habits; tell "
                "one time and what you did ('I built', 'I proposed').",
            )
        return _missing(
            score, "No first-person actions: say what you did yourself ('I built', 'I proposed')."
        )
    if f.we_actions > f.i_actions:
        return _missing(
            score,
            f"Mostly 'we': you said 'we' {_times(f.we_words)} and 'I' {_times(f.i_words)} "
            f"({_quote(f.said('we_actions'), 2)}): separate your own steps from the team's.",
        )
    if f.i_actions < 3:
        return _missing(
            score,
            f"Only {_quote(f.said('i_actions'), 2)} in the first person: walk through the key "
            "things you did and why.",
        )
    return _found(
        score,
        f"Your own actions are specific: {_quote(f.said('i_actions'))} "
        f"({f.i_actions} steps in the first person).",
    )


def _result(f: AnswerFeatures) -> Judgement:
    score = (
        0.06
        + 0.4 * _sat(f.result_cues, 2.0)
        + 0.4 * _sat(f.result_numbers, 1.5)
        + 0.14 * _sat(f.reflection_cues, 1)
    )
    score -= _vague_penalty(f) * 0.5
    if f.result_cues == 0:
        return _missing(
            score,
            f"No result: you end on {_quote(f.said('closing'))}; say how it ended and what "
            "changed because of what you did.",
        )
    if f.result_numbers == 0:
        return _missing(
            score,
            f"No measurable result: {_quote(f.said('result_quote'))} says what happened; say "
            "what changed and by how much.",
        )
    if f.reflection_cues == 0:
        return _missing(
            score,
            f"A measurable result ({_quote(f.said('result_quote'))}); add one line on what you "
            "learned or would do again.",
        )
    return _found(
        score,
        f"A measurable result ({_quote(f.said('result_quote'))}) and what you learned "
        f"({_quote(f.said('reflection'), 1)}).",
    )


def _hedge_penalty(f: AnswerFeatures) -> float:
    """Speakers say 'I think' and 'probably' now and then; only a hedge in every other sentence
    reads as unsure."""
    return min(0.25, max(0.0, 100.0 * f.hedges / max(f.word_count, 60) - 2.0) * 0.05)


def _explained_terms(f: AnswerFeatures) -> float:
    """Precise terms, or for an explanation pitched at a layperson, the analogies that replace
    them ("imagine a huge library", "like the index at the back of a book")."""
    return f.domain_terms + (3.0 * f.example_cues if f.performance else 0.0)


def _accuracy(f: AnswerFeatures) -> Judgement:
    terms = _explained_terms(f)
    score = 0.2 + 0.4 * _sat(terms, 6) + 0.2 * f.specificity + 0.2 * _sat(f.reasoning_cues, 3)
    score -= 0.12 * min(f.overclaims, 3) + _hedge_penalty(f) + _vague_penalty(f) * 0.5
    if f.overclaims:
        return _missing(
            score,
            f"Sweeping claims ({_quote(f.said('overclaim'), 2)}) suggest gaps: say when they "
            "hold and when not.",
        )
    if terms < 6:
        found = f"only {_quote(f.said('domain'), 4)}" if f.domain_terms else "none"
        return _missing(
            score,
            f"Few precise terms ({found}): name the mechanisms, structures or tools involved.",
        )
    if f.hedges >= 3:
        return _missing(
            score,
            f"Hedged throughout ({_quote(f.said('hedge'))}): state what you know plainly and "
            "flag the one thing you're unsure of.",
        )
    return _found(
        score,
        f"Precise vocabulary: {_quote(f.said('domain'), 4)} ({f.domain_terms} technical terms; "
        "offline, terms are checked, not facts).",
    )


def _depth(f: AnswerFeatures) -> Judgement:
    score = (
        0.06
        + 0.3 * _sat(f.reasoning_cues, 3)
        + 0.22 * _sat(f.example_cues + 0.5 * f.numbers, 3)
        + 0.24 * _sat(_explained_terms(f), 8)
        + 0.18 * f.length_fit
    )
    score -= _vague_penalty(f)
    if f.reasoning_cues < 2:
        found = f"only {_quote(f.said('reasoning'))}" if f.reasoning_cues else "no 'because'"
        return _missing(
            score,
            f"Says what, not why ({found}): explain how it works underneath and why it "
            "behaves that way.",
        )
    if f.example_cues + f.numbers < 2:
        return _missing(
            score,
            f"You explain why ({_quote(f.said('reasoning'), 2)}); add a concrete example or "
            "figure to show the idea in practice.",
        )
    shown = f.said("example") + f.said("numbers")
    return _found(
        score,
        f"Explains the mechanism with reasons ({_quote(f.said('reasoning'), 2)}) and concrete "
        f"examples ({_quote(shown, 2)}).",
    )


def _trade_offs(f: AnswerFeatures) -> Judgement:
    score = 0.06 + 0.6 * _sat(f.trade_off_cues, 1.5) + 0.3 * _sat(f.choice_cues, 1.5)
    score -= _vague_penalty(f) * 0.5
    if f.trade_off_cues == 0:
        return _missing(
            score,
            "No trade-offs: nothing like 'but', 'at the cost of' or 'rather than'; say what each "
            "option costs and when you would choose the other.",
        )
    if f.trade_off_cues < 2:
        return _missing(
            score,
            f"One downside ({_quote(f.said('trade_off'))}): compare the options on cost, risk "
            "and complexity.",
        )
    if f.choice_cues == 0:
        return _missing(
            score,
            f"You weigh downsides ({_quote(f.said('trade_off'), 2)}); finish with when you would "
            "pick each option.",
        )
    return _found(
        score,
        f"Weighs options ({_quote(f.said('trade_off'))}) and says when each fits "
        f"({_quote(f.said('choice'), 2)}).",
    )


def _communication(f: AnswerFeatures) -> Judgement:
    words_per_sentence = f.word_count / max(f.sentence_count, 1)
    readable = 1.0 if 8 <= words_per_sentence <= 30 else 0.6
    score = (
        0.14 + 0.22 * _sat(f.signposts, 2) + 0.3 * f.length_fit + 0.14 * readable + 0.2 * f.specificity
    )
    score -= _filler_penalty(f) + _vague_penalty(f)
    if f.filler_rate >= FILLERS_IN_THE_WAY:
        return _missing(
            score,
            f"Fillers get in the way ({_quote(f.said('filler'))}, {f.fillers} in all): pause "
            "instead.",
        )
    if f.length_fit < 0.7:
        if f.length_ratio < 1:
            return _missing(
                score,
                f"Too brief to show much ({f.word_count} words): develop the answer with an "
                "example or two.",
            )
        return _missing(
            score,
            f"Runs long ({f.word_count} words where about {round(f.expected_words)} fit the "
            "time): lead with your point and cut repetition.",
        )
    if f.vagueness > 5:
        return _missing(
            score,
            f"Lots of general wording ({_quote(_vague_words(f))}): be plainer and more concrete.",
        )
    if f.signposts == 0 and words_per_sentence > 30:
        return _missing(
            score,
            f"Long sentences ({round(words_per_sentence)} words on average) and no signposts such "
            "as 'first' or 'finally': break it up so it's easy to follow.",
        )
    if f.signposts == 0:
        return _missing(
            score,
            f"No signposts: you go from {_quote(f.said('opening'))} to "
            f"{_quote(f.said('closing'))} without 'first', 'then' or 'finally'; add them.",
        )
    return _found(
        score,
        f"Well organised: signposts such as {_quote(f.said('signpost'), 2)} and a length "
        f"({f.word_count} words) that suits the question.",
    )


def _requirements(f: AnswerFeatures) -> Judgement:
    score = 0.06 + 0.5 * _sat(f.requirement_cues, 4) + 0.4 * _sat(f.quantities + 0.5 * f.numbers, 4)
    if f.requirement_cues < 3:
        found = f"only {_quote(f.said('requirement'))}" if f.requirement_cues else "none stated"
        return _missing(
            score,
            f"Jumps into the design (requirements: {found}): first pin down what the system "
            "must do and how much load it takes.",
        )
    if f.numbers < 2:
        return _missing(
            score,
            f"Requirements named ({_quote(f.said('requirement'))}) but not sized: estimate "
            "users, requests per second and data volume.",
        )
    return _found(
        score,
        f"Sets requirements ({_quote(f.said('requirement'))}) and sizes the load "
        f"({_quote(f.said('numbers'), 3)}).",
    )


def _buzz_penalty(f: AnswerFeatures, per_word: float, cap: float) -> float:
    """Buzzwords beyond the concrete mechanisms named cost a little each."""
    return min(cap, per_word * max(0, f.buzzwords - f.mechanism_cues))


def _high_level(f: AnswerFeatures) -> Judgement:
    score = 0.06 + 0.55 * _sat(f.component_cues, 6) + 0.25 * _sat(f.flow_cues, 3) + 0.14 * f.specificity
    score -= _buzz_penalty(f, 0.05, 0.2)
    if f.component_cues < 4:
        found = f"only {_quote(f.said('component'))}" if f.component_cues else "none named"
        return _missing(
            score,
            f"No clear architecture (components: {found}): name the main components and how a "
            "request flows through them.",
        )
    if f.flow_cues < 2:
        return _missing(
            score,
            f"Components are listed ({_quote(f.said('component'))}); walk one request through "
            "them end to end.",
        )
    return _found(
        score,
        f"A clear set of components ({_quote(f.said('component'))}) and how data flows "
        f"between them ({_quote(f.said('flow'), 2)}).",
    )


def _deep_dive(f: AnswerFeatures) -> Judgement:
    score = (
        0.05 + 0.6 * _sat(f.mechanism_cues, 5) + 0.2 * _sat(f.reasoning_cues, 3) + 0.15 * f.specificity
    )
    score -= _buzz_penalty(f, 0.05, 0.2)
    if f.mechanism_cues < 4:
        if f.buzzwords > f.mechanism_cues:
            return _missing(
                score,
                f"Buzzwords ({_quote(f.said('buzzword'))}) instead of mechanisms: pick the "
                "hardest component and explain exactly how it works.",
            )
        found = f"only {_quote(f.said('mechanism'))}" if f.mechanism_cues else "none named"
        return _missing(
            score,
            f"No real deep dive (mechanisms: {found}): pick the hardest component and explain "
            "exactly how it works.",
        )
    if f.reasoning_cues < 2:
        return _missing(
            score,
            f"Mechanisms are named ({_quote(f.said('mechanism'))}); explain why they solve the "
            "hard part.",
        )
    return _found(
        score,
        f"Goes deep on specific mechanisms ({_quote(f.said('mechanism'))}) and why they work.",
    )


def _scalability(f: AnswerFeatures) -> Judgement:
    score = 0.05 + 0.5 * _sat(f.scale_cues, 4) + 0.35 * _sat(f.quantities + 0.5 * f.numbers, 5)
    score -= _buzz_penalty(f, 0.06, 0.25)
    if f.scale_cues < 3:
        found = f"only {_quote(f.said('scale'))}" if f.scale_cues else "nothing"
        return _missing(
            score,
            f"Doesn't say how it grows ({found}): name the bottleneck and how you would shard, "
            "replicate or cache.",
        )
    if f.numbers < 2:
        return _missing(
            score,
            f"Scaling ideas ({_quote(f.said('scale'))}) without numbers: size the load so the "
            "choices can be checked.",
        )
    return _found(
        score,
        f"Scales with numbers ({_quote(f.said('numbers'), 2)}) and named techniques "
        f"({_quote(f.said('scale'))}).",
    )


def _case_structure(f: AnswerFeatures) -> Judgement:
    score = (
        0.08 + 0.45 * _sat(f.case_structure_cues, 4) + 0.27 * _sat(f.signposts, 2) + 0.2 * f.length_fit
    )
    score -= _vague_penalty(f) * 0.5
    if f.case_structure_cues < 3:
        found = f"only {_quote(f.said('case_structure'))}" if f.case_structure_cues else "none"
        return _missing(
            score,
            f"No framework (branches: {found}): break the problem into a few clear branches "
            "before diving in.",
        )
    if f.signposts == 0:
        return _missing(
            score,
            f"Some structure ({_quote(f.said('case_structure'))}); signpost the branches "
            "(first, second, finally) as you go.",
        )
    return _found(
        score,
        f"Breaks the problem into branches ({_quote(f.said('case_structure'))}) and signposts "
        f"them ({_quote(f.said('signpost'), 2)}).",
    )


def _case_analysis(f: AnswerFeatures) -> Judgement:
    score = (
        0.06
        + 0.32 * _sat(f.reasoning_cues, 3)
        + 0.37 * _sat(f.case_analysis_cues, 5)
        + 0.25 * f.specificity
    )
    score -= _vague_penalty(f)
    if f.case_analysis_cues < 3:
        found = f"only {_quote(f.said('case_analysis'))}" if f.case_analysis_cues else "none"
        return _missing(
            score,
            f"Jumps to ideas (hypotheses and data: {found}): say what data would confirm or rule "
            "each one out.",
        )
    if f.reasoning_cues < 2:
        return _missing(
            score,
            f"Lists factors ({_quote(f.said('case_analysis'))}); connect them with 'because' and "
            "'which means' to show your logic.",
        )
    return _found(
        score,
        f"Hypothesis-driven analysis ({_quote(f.said('case_analysis'))}) with reasons "
        f"({_quote(f.said('reasoning'), 2)}).",
    )


def _quantification(f: AnswerFeatures) -> Judgement:
    score = 0.04 + 0.55 * _sat(f.numbers, 6) + 0.4 * _sat(f.arithmetic_cues, 4)
    if f.numbers < 3:
        found = f"only {_quote(f.said('numbers'))}" if f.said("numbers") else "no figures"
        return _missing(
            score,
            f"No real numbers ({found}): put rough figures on the size of the problem and the "
            "options.",
        )
    if f.arithmetic_cues < 2:
        return _missing(
            score,
            f"Figures ({_quote(f.said('numbers'))}) without the working: show the calculation "
            "(x times y gives z).",
        )
    return _found(
        score,
        f"Quantifies the problem ({_quote(f.said('numbers'))}) and shows the working "
        f"({_quote(f.said('arithmetic'), 2)}).",
    )


def _recommendation(f: AnswerFeatures) -> Judgement:
    score = (
        0.06
        + 0.5 * _sat(f.recommend_cues, 2)
        + 0.26 * _sat(f.next_step_cues, 3)
        + 0.18 * _sat(f.trade_off_cues + f.choice_cues, 3)
    )
    score -= _vague_penalty(f) * 0.5
    if f.recommend_cues == 0:
        return _missing(
            score,
            f"No clear recommendation: you end on {_quote(f.said('closing'))}; end with what you "
            "would do and why.",
        )
    if f.next_step_cues == 0:
        return _missing(
            score,
            f"A recommendation ({_quote(f.said('recommend'), 2)}); add the main risk and how "
            "you'd test or measure it.",
        )
    return _found(
        score,
        f"A clear recommendation ({_quote(f.said('recommend'), 2)}) with risks and next steps "
        f"({_quote(f.said('next_step'), 2)}).",
    )


def _critical_thinking(f: AnswerFeatures) -> Judgement:
    decided = f.decision_cues + f.named_steps > 0 or not f.stance_needed
    # A dilemma asks for the other side; a reflective question asks what the speaker took from it.
    angles = f.perspective_cues if f.stance_needed else f.perspective_cues + 2 * f.reflection_cues
    score = (
        0.06
        + 0.3 * _sat(f.reasoning_cues, 3)
        + 0.3 * _sat(angles, 5)
        + 0.12 * _sat(f.choice_cues, 2)
        + (0.2 if decided else 0.0)
    )
    score -= _vague_penalty(f) + 0.1 * min(f.overclaims, 2) + 0.08 * min(f.platitudes, 3)
    if f.platitudes >= 2:
        return _missing(
            score,
            f"Generalities ({_quote(f.said('platitude'), 2)}): say what it depends on, then "
            "decide.",
        )
    if not decided and f.perspective_cues >= 2:
        landing = f" and land on {_quote(f.said('undecided'), 1)}" if f.undecided_cues else ""
        return _missing(
            score,
            f"You weigh both sides ({_quote(f.said('perspective'))}){landing} but never say what "
            "you would do: decide, and say why.",
        )
    if angles < 3:
        if not f.stance_needed:
            return _missing(
                score,
                "Little reflection: say what you took from it, what you would do differently, "
                "and why.",
            )
        found = f"only {_quote(f.said('perspective'))}" if f.perspective_cues else "none"
        return _missing(
            score,
            f"One-sided (other views: {found}): consider other viewpoints and what would change "
            "your answer.",
        )
    if f.reasoning_cues < 2:
        return _missing(
            score,
            f"Several angles ({_quote(f.said('perspective'))}), but little 'because': justify "
            "each step of your reasoning.",
        )
    return _found(
        score,
        f"Weighs several perspectives ({_quote(f.said('perspective'))}) and justifies the "
        f"conclusion ({_quote(f.said('reasoning'), 2)}).",
    )


def _ethical_reasoning(f: AnswerFeatures) -> Judgement:
    score = (
        0.06
        + 0.6 * _sat(f.ethics_cues, 5)
        + 0.2 * _sat(f.perspective_cues, 4)
        + 0.14 * _sat(f.considerate_cues, 3)
    )
    score -= 0.3 * min(f.shortcuts, 2)
    if f.shortcuts:
        return _missing(
            score,
            f"Takes an ethical shortcut ({_quote(f.said('shortcut'), 2)}): say which principle is "
            "at stake and act on it.",
        )
    if f.ethics_cues < 3:
        found = f"only {_quote(f.said('ethics'))}" if f.ethics_cues else "none"
        return _missing(
            score,
            f"Name the principles at stake (so far: {found}), such as autonomy, confidentiality, "
            "safety, fairness or honesty.",
        )
    return _found(
        score,
        f"Identifies the principles at stake ({_quote(f.said('ethics'), 4)}) and balances them.",
    )


def _professionalism(f: AnswerFeatures) -> Judgement:
    score = (
        0.1
        + 0.35 * _sat(f.escalation_cues, 3)
        + 0.22 * _sat(f.considerate_cues, 3)
        + 0.2 * _sat(f.named_steps, 3)
        + 0.1 * f.length_fit
    )
    score -= 0.3 * min(f.shortcuts, 2) + _vague_penalty(f) + _filler_penalty(f)
    if f.shortcuts:
        return _missing(
            score,
            f"Bends the rules for convenience ({_quote(f.said('shortcut'), 2)}): keep the "
            "standard and escalate when needed.",
        )
    if f.escalation_cues < 2:
        found = f"only {_quote(f.said('escalation'))}" if f.escalation_cues else "no one"
        return _missing(
            score,
            f"Say when you would involve a senior, follow policy or document what happened "
            f"(so far: {found}).",
        )
    if f.considerate_cues < 2:
        return _missing(
            score,
            f"You involve the right people ({_quote(f.said('escalation'), 2)}); show how you'd "
            "treat those involved: privately, calmly, listening first.",
        )
    return _found(
        score,
        f"Involves the right people ({_quote(f.said('escalation'), 2)}) and treats others with "
        f"respect ({_quote(f.said('considerate'), 2)}).",
    )


# What to do next on a dimension whose basics are there but whose score is not yet strong.
_STRETCH_TIPS: dict[str, str] = {
    "situation": "Set the scene in one sentence: where, when, who, and what was at stake.",
    "task": "Make your own goal explicit, with the deadline or target it had to meet.",
    "action": "Add the one decision that mattered most and why you made it.",
    "result": "Quantify the outcome against where things started.",
    "accuracy": "Tighten the key definitions and name the mechanism precisely.",
    "depth": "Go one level deeper: what happens underneath, and a case where it breaks.",
    "trade_offs": "Compare two concrete options head to head and say when each wins.",
    "communication": "Lead with a one-line answer, then support it in clearly signposted steps.",
    "requirements": "Add numbers: users, requests per second, data size, latency target.",
    "high_level_design": "Walk one request end to end through the components.",
    "deep_dive": "Pick the hardest component and explain its algorithm and failure modes.",
    "scalability": "Name the first bottleneck at 10x load and how you would remove it.",
    "structure": "State your framework up front, then take the branches in order.",
    "analysis": "Tie each hypothesis to the data that would confirm or rule it out.",
    "quantification": "Show the arithmetic step by step and sanity-check the total.",
    "recommendation": "Close with one clear decision, its main risk and the next step.",
    "critical_thinking": "Give the strongest opposing view and say why you still land where you do.",
    "ethical_reasoning": "Name the principles in tension and how you balance them.",
    "professionalism": "Say who you would involve, when, and what you would record.",
}
STRETCH_BELOW = BAND_FLOORS[0][1]  # below the strong band, a met dimension still gets a tip
STRENGTH_FROM = BAND_FLOORS[1][1]  # a met dimension counts as a strength from the adequate band


_SCORERS: dict[str, dict[str, Callable[[AnswerFeatures], Judgement]]] = {
    "behavioral": {"situation": _situation, "task": _task, "action": _action, "result": _result},
    "technical": {
        "accuracy": _accuracy,
        "depth": _depth,
        "trade_offs": _trade_offs,
        "communication": _communication,
    },
    "system_design": {
        "requirements": _requirements,
        "high_level_design": _high_level,
        "deep_dive": _deep_dive,
        "scalability": _scalability,
        "trade_offs": _trade_offs,
    },
    "case": {
        "structure": _case_structure,
        "analysis": _case_analysis,
        "quantification": _quantification,
        "recommendation": _recommendation,
    },
    "mmi": {
        "communication": _communication,
        "critical_thinking": _critical_thinking,
        "ethical_reasoning": _ethical_reasoning,
        "professionalism": _professionalism,
    },
}
assert {c: tuple(s) for c, s in _SCORERS.items()} == RUBRICS, "scorers must follow RUBRICS"

OFF_TOPIC_BELOW = 0.25


def _off_topic_reason(f: AnswerFeatures) -> str:
    missing = f.said("missing_terms")
    if missing:
        return (
            f"Mostly off the question: the answer never gets to {_quote(missing)}; answer what "
            "was asked before adding detail."
        )
    return (
        f"Mostly off the question: few of your {f.sentence_count} sentences are about it; answer "
        "what was asked before adding detail."
    )


def _feedback(
    dimensions: list[DimensionScore], met: dict[str, bool]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Top two strengths (met, adequate band or better) and top two improvements."""
    best_first = sorted(dimensions, key=lambda d: (-d.score, d.dimension))
    strengths = tuple(
        f"{DIMENSION_LABELS[d.dimension]}: {d.reason}"
        for d in best_first
        if met[d.dimension] and d.score >= STRENGTH_FROM
    )[:2]
    improvements: list[str] = []
    for d in reversed(best_first):
        if not met[d.dimension]:
            improvements.append(f"{DIMENSION_LABELS[d.dimension]}: {d.reason}")
        elif d.score < STRETCH_BELOW:
            improvements.append(f"{DIMENSION_LABELS[d.dimension]}: {_STRETCH_TIPS[d.dimension]}")
        if len(improvements) == 2:
            break
    return strengths, tuple(improvements)


# The relevance at and above which an answer counts as fully on topic.
_RELEVANCE_FULL_AT = 0.55


# What an answer far off the question keeps of its relevance-driven dimensions: relevance is
# read from words alone, so it costs some of the points, never all of them.
RELEVANCE_FLOOR = 0.6


def _relevance_scale(f: AnswerFeatures, dimension: str) -> float:
    """Off-topic answers keep 60% on relevance-driven dimensions and 70% on the others."""
    full = _clamp01(f.relevance / _RELEVANCE_FULL_AT)
    if dimension in RELEVANCE_DRIVEN:
        return RELEVANCE_FLOOR + (1 - RELEVANCE_FLOOR) * full
    return 0.7 + 0.3 * full


def _brevity_scale(f: AnswerFeatures) -> float:
    """A few words can't show much content: they count for less, whatever cues they hit."""
    return BREVITY_FLOOR + (1.0 - BREVITY_FLOOR) * _clamp01(f.word_count / FULL_LENGTH_WORDS)


def _substance(f: AnswerFeatures) -> float:
    """How much the answer says (0..1), whatever the rubric: concrete content (figures, names,
    steps, and the answer's own terms rather than words any answer could use), on the question,
    without generic filler phrases. Shared by every dimension; length earns little by itself."""
    room = min(f.word_count, SUBSTANCE_FULL_WORDS) / SUBSTANCE_FULL_WORDS
    content = (1.0 - SUBSTANCE_TERMS_SHARE) * _sat(f.specifics, SUBSTANCE_SPECIFICS_HALF) + (
        SUBSTANCE_TERMS_SHARE * _sat(f.distinct_terms, SUBSTANCE_TERMS_HALF)
    )
    plain = 1.0 - min(SUBSTANCE_GENERIC_CAP, SUBSTANCE_GENERIC_RATE * f.generic_density)
    floor = SUBSTANCE_ON_QUESTION_FLOOR
    on_question = floor + (1.0 - floor) * _clamp01(f.relevance / _RELEVANCE_FULL_AT)
    if f.question_fit >= 0:
        content = (1.0 - FIT_SUBSTANCE_SHARE) * content + FIT_SUBSTANCE_SHARE * _sat(f.question_fit, 0.25)

    return on_question * plain * (SUBSTANCE_ROOM_SHARE * room + (1.0 - SUBSTANCE_ROOM_SHARE) * content)


def _uncertainty(f: AnswerFeatures, raw: Sequence[float]) -> float:
    """How much harder than a typical tuning answer this one is to score (1 = typical).

    Short answers give the features little to count; answers on the edge of the question's
    topic may be scored as on or off it; rubric dimensions that disagree widely mean the
    overall hides a mixed answer.
    """
    factor = 1.0
    if f.word_count < FULL_LENGTH_WORDS:
        factor *= math.sqrt(FULL_LENGTH_WORDS / max(f.word_count, 15))
    if OFF_TOPIC_BELOW <= f.relevance < _RELEVANCE_FULL_AT:
        factor *= 1.25
    spread = max(raw) - min(raw)
    if spread > 0.45:
        factor *= 1.0 + (spread - 0.45)
    return factor


def _reason_for(reason: str, met: bool, score: float) -> str:
    """A gap named on a dimension that still scores strong reads as the one thing to add."""
    if met or score < STRETCH_BELOW:
        return reason
    return f"Strong, with one gap: {reason[0].lower()}{reason[1:]}"


class OfflineEvaluator:
    """The default evaluator: rubric scores from text features, no model and no network."""

    name = "offline"

    async def evaluate(self, item: AnswerInput) -> AnswerScore:
        return self.score(item)

    def score(self, item: AnswerInput) -> AnswerScore:
        """The same as `evaluate`, synchronously (for the bench and for fallbacks)."""
        scorers = _SCORERS.get(item.category)
        if scorers is None:
            raise ValueError(f"unknown category {item.category!r}; expected one of {', '.join(RUBRICS)}")
        if item.rubric:
            scorers = {d: f for d, f in scorers.items() if d in item.rubric} or scorers
        features = extract_features(item)
        substance = _substance(features)
        raw: dict[str, float] = {}
        reasons: dict[str, str] = {}
        met: dict[str, bool] = {}
        for dimension, scorer in scorers.items():
            judgement = scorer(features)
            reasons[dimension], met[dimension] = judgement.reason, judgement.met
            rubric = _clamp01(judgement.score) * _relevance_scale(features, dimension)
            rubric *= _brevity_scale(features)
            value = RUBRIC_SHARE * rubric + (1.0 - RUBRIC_SHARE) * substance
            if features.word_count == 0:
                value, reasons[dimension], met[dimension] = 0.0, "No answer given.", False
            elif features.relevance < OFF_TOPIC_BELOW and dimension in RELEVANCE_DRIVEN:
                reasons[dimension], met[dimension] = _off_topic_reason(features), False
            raw[dimension] = value * features.neighbour * features.own_gate
        overall_raw = sum(raw.values()) / len(raw)
        dimensions = [
            DimensionScore(d, int(round(to_scale(value))), _reason_for(reasons[d], met[d], to_scale(value)))
            for d, value in raw.items()
        ]
        overall = int(round(to_scale(overall_raw)))
        if features.word_count == 0:
            low = high = 0
        else:
            half = half_width(_uncertainty(features, list(raw.values())))
            low, high = max(0, math.floor(overall - half)), min(100, math.ceil(overall + half))
        strengths, improvements = _feedback(dimensions, met)
        factors = features.as_factors()
        factors["raw_overall"] = round(overall_raw, 6)
        factors["substance"] = round(substance, 4)
        return AnswerScore(
            category=item.category,
            dimensions=tuple(dimensions),
            overall=overall,
            evaluator=self.name,
            strengths=strengths,
            improvements=improvements,
            stronger_answer=item.example_answer,
            factors=factors,
            band_low=low,
            band_high=high,
            confidence=confidence_label((high - low) / 2),
        )
