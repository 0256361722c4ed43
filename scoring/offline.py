"""The offline evaluator: transparent text features turned into rubric scores, no model needed.

Every dimension is a weighted sum of saturating features (counts of cues found in the answer),
scaled by how relevant the answer is to the question, so each score can be explained in one
sentence that says what was found or what is missing. Deterministic and fast (well under 5 ms).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from scoring.base import RUBRICS, AnswerInput, AnswerScore, DimensionScore

SPEAKING_WPM = 130.0
CALIBRATION_EXPONENT = 1.6
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
    ("decision", "decid", "choic", "chose", "call"),
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
    r"i (?:learned|learnt|realised|realized)",
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
_HYPOTHETICAL = re.compile(r"\b(?:i(?:'d| would| will|'ll| could| might)|if i (?:was|were))\s+\w+")
_REASONING = _cue(
    r"because",
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
_PLATITUDE = _cue(
    r"every (?:situation|case|person|patient|company|project) is different",
    r"it (?:really |all )?depends(?! on (?:whether|how many|the load|the ratio|what the data))",
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
_FILLER = re.compile(
    r"\b(?:um+|uh+|erm?|hmm+|you know|i mean|so yeah|yeah|anyway)\b|\blike,|,\s*like\b|\bright\?"
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
)
_REQUIREMENT_CUES = _cue(
    r"requirements?", r"functional(?:ly)?", r"non-functional(?:ly)?", r"clarify", r"assum\w*",
    r"daily active", r"dau", r"concurrent", r"per second", r"qps", r"rps", r"latency", r"p9[59]",
    r"availab\w*", r"consisten\w*", r"durab\w*", r"read-to-write|read-heavy|write-heavy|ratio",
    r"estimat\w*", r"storage", r"throughput", r"peak", r"sla", r"scope", r"must", r"use cases?",
    r"should (?:take|be|support|handle|never|always)", r"need to (?:support|handle)", r"volume",
    r"users?", r"under \d+", r"within (?:a few )?\w+ (?:seconds|minutes|ms)",
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
)
_SCALE_CUES = _cue(
    r"scal(?:e|es|ing)", r"shard\w*", r"partition\w*", r"replicas?", r"horizontal(?:ly)?",
    r"clusters?", r"throughput", r"bottlenecks?", r"hot (?:spot|key|keys|rows?|partition)",
    r"hot", r"per second", r"millions?", r"billions?", r"capacity", r"regions?",
    r"add(?:ing)? (?:more )?(?:nodes|servers|machines|workers)", r"tb|pb|gb", r"peaks?",
    r"load", r"fleet", r"concurrent", r"edge\w*", r"cdn",
)
_CASE_STRUCTURE = _cue(
    r"structur\w*", r"frame\w*", r"framework", r"break (?:it|this|the problem) (?:down|into)",
    r"split", r"branch\w*", r"levers?", r"buckets?", r"areas?", r"factors?",
    r"(?:two|three|four|five) (?:questions|areas|things|branches|parts|levers|inputs|cuts|steps|"
    r"options|factors|ways)",
    r"demand", r"supply", r"revenue", r"costs?", r"profit\w*", r"(?:is|equals) \w+ (?:minus|times|"
    r"plus|divided by)", r"on one (?:side|hand)", r"internal", r"external", r"options?",
)
_CASE_ANALYSIS = _cue(
    r"hypothes\w*", r"drivers?", r"driven", r"segment\w*", r"cohort\w*", r"compar\w*", r"data",
    r"check\w*", r"caus\w*", r"explain\w*", r"means", r"suggests?", r"indicat\w*", r"root cause",
    r"benchmark\w*", r"trends?", r"mix", r"per (?:store|customer|unit|member|order|flight|visit)",
    r"assum\w*", r"sanity[- ]check\w*", r"if (?:it|this|that|the|we|more|most|customers)",
    r"whether", r"bottleneck\w*", r"interview\w*", r"survey\w*", r"timeline", r"split by",
    r"rather than", r"uncertaint\w*", r"sensitiv\w*",
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
)
_ESCALATION = _cue(
    r"senior\w*", r"supervisor\w*", r"consultant\w*", r"tutor\w*", r"clinical lead",
    r"lead", r"(?:line )?manager", r"report\w*", r"incident\w*", r"escalat\w*",
    r"raise (?:it|this|my concern|the concern)", r"document\w*", r"write (?:it )?down", r"notes",
    r"polic(?:y|ies)", r"process", r"procedure\w*", r"guidance", r"guidelines", r"occupational health",
    r"support services?", r"student support", r"the team", r"inform\w*", r"code", r"record\w*",
    r"medical school", r"course office", r"legal advice", r"safeguarding services?",
)
_CONSIDERATE = _cue(
    r"privately", r"in private", r"discreet\w*", r"calm\w*", r"respectful\w*", r"non-?judgement\w*",
    r"listen\w*", r"explor\w*", r"understand (?:why|what|where|their|her|his)",
    r"ask (?:them|her|him|what|why|how)", r"reassur\w*", r"support\w*", r"apologi[sz]\w*",
    r"gently", r"politely", r"kind(?:ly|ness)?", r"empath\w*", r"plain language", r"explain\w*",
    r"without judgement", r"concerns?", r"offer\w*",
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
)
_SHORTCUT = _cue(
    r"(?:i'?d|i would|i'?ll) (?:probably )?just (?:sign|give|tell|do|like|ignore|leave|let|prescribe|"
    r"accept|go along)",
    r"not (?:a|really a) big deal", r"no big deal", r"doesn'?t really matter", r"everyone does it",
    r"why not\?", r"keep (?:them|him|her|the patient|everyone) happy", r"not (?:really )?my place",
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
    length_fit: float  # 0..1: 1 when the length suits the time limit
    numbers: float
    quantities: int
    proper_nouns: int
    domain_terms: int
    specificity: float  # 0..1
    i_actions: int
    we_actions: int
    hypotheticals: int
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
    vague_terms: int
    platitudes: int
    vagueness: float  # hedges, fillers and vague words per 100 words
    buzzwords: int
    overclaims: int
    coverage: float  # weighted share of the question's key terms the answer uses
    on_topic_share: float  # share of sentences about the question
    relevance: float  # 0..1
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

    def as_factors(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.__slots__}


def _sat(value: float, half: float) -> float:
    """0 at 0, 0.5 at `half`, approaching 1: more of a good thing helps, with diminishing returns."""
    return value / (value + half) if value > 0 else 0.0


def _clamp01(value: float) -> float:
    return 0.0 if value < 0 else 1.0 if value > 1 else value


def _distinct(pattern: re.Pattern[str], text: str) -> int:
    return len({m.group(0) for m in pattern.finditer(text)})


def _count(pattern: re.Pattern[str], text: str) -> int:
    return sum(1 for _ in pattern.finditer(text))


def _length_fit(ratio: float, words: int) -> float:
    """1 inside the comfortable band of the time limit; less when far too short or rambling."""
    if words < 25:
        return 0.1 + 0.3 * words / 25
    if ratio < 0.3:
        return 0.25 + 0.75 * (ratio / 0.3) ** 1.2
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
    stems = set()
    for w in words:
        if w in _STOP_WORDS or len(w) <= 2 or w.isdigit():
            continue
        stem = memo.get(w)
        if stem is None:
            stem = memo[w] = _stem(w)
        stems.add(stem)
    return stems


def _expand(stems: set[str]) -> set[str]:
    expanded = set(stems)
    for s in stems:
        expanded |= _SYNONYMS.get(s, frozenset())
    return expanded


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
    },
}
_CATEGORY_FEATURES = tuple(f for lexicons in _CATEGORY_LEXICONS.values() for f in lexicons)


def extract_features(item: AnswerInput) -> AnswerFeatures:
    """Counts the cues in one answer; pure and deterministic."""
    text = item.answer.replace("\u2019", "'").replace("\u2018", "'")
    lower = text.lower()
    words = [w.lower() for w in _WORD.findall(text)]
    n = len(words)
    sentences = [s for s in _SENTENCE_SPLIT.split(text) if _WORD.search(s)]

    time_limit = item.time_limit_s or DEFAULT_TIME_LIMIT_S.get(item.category, 120.0)
    expected_words = time_limit * SPEAKING_WPM / 60.0
    if item.answer_duration_s:  # a spoken answer: judge its duration, not its word count
        ratio = item.answer_duration_s / time_limit
    else:
        ratio = n / expected_words
    length_fit = _length_fit(ratio, n)

    digit_numbers = len(_NUMBER.findall(text))
    numbers = digit_numbers + 0.5 * len(_NUMBER_WORDS.findall(lower))
    quantities = len(_QUANTITY.findall(lower))

    proper: set[str] = set()
    for sentence in sentences:
        tokens = _WORD.findall(sentence)
        for token in tokens[1:]:
            if token in _NOT_PROPER:
                continue
            if token[0].isupper() or _ACRONYM.fullmatch(token):
                proper.add(token)
    domain_terms = _distinct(_DOMAIN_PATTERN[item.category], lower)

    i_verbs: set[str] = set()
    we_verbs: set[str] = set()
    for subject, verb in _FIRST_PERSON_VERB.findall(lower):
        if _is_past_action(verb):
            (i_verbs if subject == "i" else we_verbs).add(verb)
    hypotheticals = _count(_HYPOTHETICAL, lower)

    # Result numbers: figures in sentences that report an outcome.
    result_numbers = 0
    for sentence in sentences:
        sl = sentence.lower()
        if _RESULT.search(sl):
            result_numbers += len(_NUMBER.findall(sentence)) + len(_NUMBER_WORDS.findall(sl))

    hedges = _count(_HEDGE, lower)
    fillers = _count(_FILLER, lower)
    vague_terms = _count(_VAGUE, lower)
    platitudes = _count(_PLATITUDE, lower)
    vagueness = 100.0 * (hedges + fillers + 0.6 * vague_terms + 2.0 * platitudes) / max(n, 40)

    specific_mass = (
        digit_numbers + 0.5 * (numbers - digit_numbers) + 0.6 * len(proper) + 0.35 * domain_terms
    )
    specificity = _clamp01(_sat(100.0 * specific_mass / max(n, 60), 5.0) * 1.25)

    # Relevance: the question's key terms (and their usual synonyms) in the answer, and the share
    # of sentences that stay on the question or its category's vocabulary.
    question_words = [w.lower() for w in _WORD.findall(item.question)]
    memo: dict[str, str] = {}
    q_stems = _content_stems(question_words, memo)
    answer_stems = _content_stems(words, memo)
    if q_stems:
        weights = {s: (0.5 if s in _GENERIC_TERMS else 1.0) * math.log(1 + len(s)) for s in q_stems}
        hit = sum(
            w
            for s, w in weights.items()
            if _SYNONYMS.get(s, frozenset({s})) & answer_stems or s in answer_stems
        )
        coverage = hit / sum(weights.values())
    else:
        coverage = 0.0
    topic_stems = _expand(q_stems)
    domain_pattern = _DOMAIN_PATTERN[item.category]
    on_topic = 0
    for sentence in sentences:
        sl = sentence.lower()
        s_stems = _content_stems([w.lower() for w in _WORD.findall(sentence)], memo)
        if s_stems & topic_stems:
            on_topic += 1
        elif item.category == "behavioral":
            # Stories rarely repeat the question's words; a sentence of the story is on topic.
            if any(_is_past_action(v) for _, v in _FIRST_PERSON_VERB.findall(sl)):
                on_topic += 1
        elif item.category in _TOPIC_PATTERN and (
            _TOPIC_PATTERN[item.category].search(sl) or len(set(domain_pattern.findall(sl))) >= 2
        ):
            on_topic += 1
    on_topic_share = on_topic / len(sentences) if sentences else 0.0
    # A story rarely repeats the abstract words of a behavioural question, so its sentences
    # count for more there than the question's terms do.
    coverage_weight = 0.3 if item.category == "behavioral" else 0.45
    relevance = (
        _clamp01(coverage_weight * _clamp01(coverage / 0.6) + (1 - coverage_weight) * on_topic_share)
        if n
        else 0.0
    )

    # Category vocabularies run only for their own category; the others stay at zero.
    category_cues = dict.fromkeys(_CATEGORY_FEATURES, 0)
    for feature, pattern in _CATEGORY_LEXICONS.get(item.category, {}).items():
        category_cues[feature] = (
            _count(pattern, lower) if feature == "shortcuts" else _distinct(pattern, lower)
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
        i_actions=len(i_verbs),
        we_actions=len(we_verbs),
        hypotheticals=hypotheticals,
        situation_cues=_distinct(_SITUATION, lower),
        task_cues=_distinct(_TASK, lower),
        result_cues=_distinct(_RESULT, lower),
        result_numbers=result_numbers,
        reflection_cues=_distinct(_REFLECTION, lower),
        reasoning_cues=_distinct(_REASONING, lower),
        trade_off_cues=_distinct(_TRADE_OFF, lower),
        choice_cues=_distinct(_CHOICE, lower),
        example_cues=_distinct(_EXAMPLE, lower),
        signposts=_distinct(_SIGNPOST, lower),
        hedges=hedges,
        fillers=fillers,
        vague_terms=vague_terms,
        platitudes=platitudes,
        vagueness=round(vagueness, 2),
        buzzwords=_distinct(_BUZZWORD, lower),
        overclaims=_count(_OVERCLAIM, lower),
        coverage=round(coverage, 3),
        on_topic_share=round(on_topic_share, 3),
        relevance=round(relevance, 3),
        **category_cues,
    )


# --- dimension scorers ----------------------------------------------------------------------
# Each turns the features into 0..1 (before calibration and relevance scaling) and one reason:
# the most useful thing that is missing, or, when nothing is, what was found.


@dataclass(frozen=True, slots=True)
class Judgement:
    """One dimension before scaling: 0..1, the reason, and whether the reason is a strength."""

    score: float
    reason: str
    met: bool


def _missing(score: float, reason: str) -> Judgement:
    return Judgement(score, reason, False)


def _found(score: float, reason: str) -> Judgement:
    return Judgement(score, reason, True)


def _vague_penalty(f: AnswerFeatures) -> float:
    return min(0.35, max(0.0, f.vagueness - 2.0) * 0.04)


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
            "You describe what you would do in general: tell one real situation, when and where.",
        )
    score -= _vague_penalty(f)
    if f.situation_cues == 0:
        return _missing(
            score, "No clear setting: open with when and where this happened and who was involved."
        )
    if f.proper_nouns + f.numbers < 2:
        return _missing(
            score,
            "The setting is thin: add a concrete detail such as the team, the product or the stakes.",
        )
    return _found(score, "Clear, concrete setting: the listener knows when, where and who.")


def _task(f: AnswerFeatures) -> Judgement:
    score = 0.12 + 0.5 * _sat(f.task_cues, 1.0) + 0.2 * f.relevance + 0.18 * _sat(f.numbers, 4)
    score -= _vague_penalty(f) * 0.5
    if f.task_cues == 0:
        return _missing(
            score, "Your own goal is missing: say what you were responsible for and what success meant."
        )
    if f.numbers < 1:
        return _missing(
            score, "You state your goal; make the stakes concrete, such as a deadline or a target."
        )
    return _found(score, "Your responsibility and the stakes are clear.")


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
    if f.i_actions == 0:
        return _missing(
            score, "No first-person actions: say what you did yourself ('I built', 'I proposed')."
        )
    if f.we_actions > f.i_actions:
        return _missing(score, "Mostly 'we': separate your own steps from the team's.")
    if f.i_actions < 3:
        return _missing(
            score, "Only a step or two of your own: walk through the key things you did and why."
        )
    return _found(
        score, f"Your own actions are specific ({f.i_actions} distinct steps in the first person)."
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
        return _missing(score, "No result: say how it ended and what changed because of what you did.")
    if f.result_numbers == 0:
        return _missing(score, "No measurable result: say what changed and by how much.")
    if f.reflection_cues == 0:
        return _missing(
            score, "A measurable result; add one line on what you learned or would do again."
        )
    return _found(score, "A measurable result and what you learned from it.")


def _accuracy(f: AnswerFeatures) -> Judgement:
    score = 0.2 + 0.4 * _sat(f.domain_terms, 6) + 0.2 * f.specificity + 0.2 * _sat(f.reasoning_cues, 3)
    score -= 0.12 * min(f.overclaims, 3) + min(0.25, f.hedges * 0.04) + _vague_penalty(f) * 0.5
    if f.overclaims:
        return _missing(
            score,
            "Sweeping claims ('always', 'never a problem') suggest gaps: say when they hold and when not.",
        )
    if f.domain_terms < 6:
        return _missing(score, "Few precise terms: name the mechanisms, structures or tools involved.")
    if f.hedges >= 3:
        return _missing(
            score,
            "Hedged throughout: state what you know plainly and flag the one thing you're unsure of.",
        )
    return _found(
        score,
        f"Precise vocabulary ({f.domain_terms} technical terms; offline, terms are checked, not facts).",
    )


def _depth(f: AnswerFeatures) -> Judgement:
    score = (
        0.06
        + 0.3 * _sat(f.reasoning_cues, 3)
        + 0.22 * _sat(f.example_cues + 0.5 * f.numbers, 3)
        + 0.24 * _sat(f.domain_terms, 8)
        + 0.18 * f.length_fit
    )
    score -= _vague_penalty(f)
    if f.reasoning_cues < 2:
        return _missing(
            score, "Says what, not why: explain how it works underneath and why it behaves that way."
        )
    if f.example_cues + f.numbers < 2:
        return _missing(score, "Add a concrete example or figure to show the idea in practice.")
    return _found(score, "Explains the mechanism with reasons and concrete examples.")


def _trade_offs(f: AnswerFeatures) -> Judgement:
    score = 0.06 + 0.6 * _sat(f.trade_off_cues, 1.5) + 0.3 * _sat(f.choice_cues, 1.5)
    score -= _vague_penalty(f) * 0.5
    if f.trade_off_cues == 0:
        return _missing(
            score, "No trade-offs: say what each option costs and when you would choose the other."
        )
    if f.trade_off_cues < 2:
        return _missing(
            score, "One downside mentioned: compare the options on cost, risk and complexity."
        )
    if f.choice_cues == 0:
        return _missing(score, "You weigh downsides; finish with when you would pick each option.")
    return _found(score, f"Weighs options and says when each fits ({f.trade_off_cues} trade-off cues).")


def _communication(f: AnswerFeatures) -> Judgement:
    words_per_sentence = f.word_count / max(f.sentence_count, 1)
    readable = 1.0 if 8 <= words_per_sentence <= 30 else 0.6
    score = (
        0.14 + 0.22 * _sat(f.signposts, 2) + 0.3 * f.length_fit + 0.14 * readable + 0.2 * f.specificity
    )
    score -= min(0.35, f.fillers * 0.06) + _vague_penalty(f)
    if f.fillers >= 2:
        return _missing(score, "Filler words ('um', 'like', 'you know') get in the way: pause instead.")
    if f.length_fit < 0.7:
        if f.length_ratio < 1:
            return _missing(
                score, "Too brief for the time you have: develop the answer with an example or two."
            )
        return _missing(score, "Runs long for the time limit: lead with your point and cut repetition.")
    if f.vagueness > 5:
        return _missing(
            score,
            "Lots of general wording ('really', 'things', 'I think'): be plainer and more concrete.",
        )
    if f.signposts == 0:
        return _missing(score, "Signpost the answer (first, then, finally) so it's easy to follow.")
    return _found(score, "Well organised, with signposting and a length that suits the question.")


def _requirements(f: AnswerFeatures) -> Judgement:
    score = 0.06 + 0.5 * _sat(f.requirement_cues, 4) + 0.4 * _sat(f.quantities + 0.5 * f.numbers, 4)
    if f.requirement_cues < 3:
        return _missing(
            score,
            "Jumps into the design: first pin down what the system must do and how much load it takes.",
        )
    if f.numbers < 2:
        return _missing(
            score,
            "Requirements named but not sized: estimate users, requests per second and data volume.",
        )
    return _found(
        score, "Sets functional and non-functional requirements and sizes the load with numbers."
    )


def _buzz_penalty(f: AnswerFeatures, per_word: float, cap: float) -> float:
    """Buzzwords beyond the concrete mechanisms named cost a little each."""
    return min(cap, per_word * max(0, f.buzzwords - f.mechanism_cues))


def _high_level(f: AnswerFeatures) -> Judgement:
    score = 0.06 + 0.55 * _sat(f.component_cues, 6) + 0.25 * _sat(f.flow_cues, 3) + 0.14 * f.specificity
    score -= _buzz_penalty(f, 0.05, 0.2)
    if f.component_cues < 4:
        return _missing(
            score,
            "No clear architecture: name the main components and how a request flows through them.",
        )
    if f.flow_cues < 2:
        return _missing(score, "Components are listed; walk one request through them end to end.")
    return _found(
        score, f"A clear set of components ({f.component_cues}) and how data flows between them."
    )


def _deep_dive(f: AnswerFeatures) -> Judgement:
    score = (
        0.05 + 0.6 * _sat(f.mechanism_cues, 5) + 0.2 * _sat(f.reasoning_cues, 3) + 0.15 * f.specificity
    )
    score -= _buzz_penalty(f, 0.05, 0.2)
    if f.mechanism_cues < 4:
        return _missing(
            score, "No real deep dive: pick the hardest component and explain exactly how it works."
        )
    if f.reasoning_cues < 2:
        return _missing(score, "Mechanisms are named; explain why they solve the hard part.")
    return _found(score, f"Goes deep on specific mechanisms ({f.mechanism_cues}) and why they work.")


def _scalability(f: AnswerFeatures) -> Judgement:
    score = 0.05 + 0.5 * _sat(f.scale_cues, 4) + 0.35 * _sat(f.quantities + 0.5 * f.numbers, 5)
    score -= _buzz_penalty(f, 0.06, 0.25)
    if f.scale_cues < 3:
        return _missing(
            score,
            "Doesn't say how it grows: name the bottleneck and how you would shard, replicate or cache.",
        )
    if f.numbers < 2:
        return _missing(
            score, "Scaling ideas without numbers: size the load so the choices can be checked."
        )
    return _found(
        score, "Scales with concrete numbers and named techniques (sharding, replication, caching)."
    )


def _case_structure(f: AnswerFeatures) -> Judgement:
    score = (
        0.08 + 0.45 * _sat(f.case_structure_cues, 4) + 0.27 * _sat(f.signposts, 2) + 0.2 * f.length_fit
    )
    score -= _vague_penalty(f) * 0.5
    if f.case_structure_cues < 3:
        return _missing(
            score, "No framework: break the problem into a few clear branches before diving in."
        )
    if f.signposts == 0:
        return _missing(
            score, "Some structure; signpost the branches (first, second, finally) as you go."
        )
    return _found(score, "Breaks the problem into clear branches and signposts them.")


def _case_analysis(f: AnswerFeatures) -> Judgement:
    score = (
        0.06
        + 0.32 * _sat(f.reasoning_cues, 3)
        + 0.37 * _sat(f.case_analysis_cues, 5)
        + 0.25 * f.specificity
    )
    score -= _vague_penalty(f)
    if f.case_analysis_cues < 3:
        return _missing(
            score, "Jumps to ideas: form hypotheses and say what data would confirm or rule each out."
        )
    if f.reasoning_cues < 2:
        return _missing(
            score, "Lists factors; connect them with 'because' and 'which means' to show your logic."
        )
    return _found(score, "Hypothesis-driven analysis with reasons and the data you'd check.")


def _quantification(f: AnswerFeatures) -> Judgement:
    score = 0.04 + 0.55 * _sat(f.numbers, 6) + 0.4 * _sat(f.arithmetic_cues, 4)
    if f.numbers < 3:
        return _missing(
            score, "No real numbers: put rough figures on the size of the problem and the options."
        )
    if f.arithmetic_cues < 2:
        return _missing(score, "Figures without the working: show the calculation (x times y gives z).")
    return _found(score, f"Quantifies the problem and shows the arithmetic ({int(f.numbers)} figures).")


def _recommendation(f: AnswerFeatures) -> Judgement:
    score = (
        0.06
        + 0.5 * _sat(f.recommend_cues, 2)
        + 0.26 * _sat(f.next_step_cues, 3)
        + 0.18 * _sat(f.trade_off_cues + f.choice_cues, 3)
    )
    score -= _vague_penalty(f) * 0.5
    if f.recommend_cues == 0:
        return _missing(score, "No clear recommendation: end with what you would do and why.")
    if f.next_step_cues == 0:
        return _missing(score, "A recommendation; add the main risk and how you'd test or measure it.")
    return _found(score, "A clear recommendation with risks and next steps.")


def _critical_thinking(f: AnswerFeatures) -> Judgement:
    score = (
        0.06
        + 0.36 * _sat(f.reasoning_cues, 3)
        + 0.36 * _sat(f.perspective_cues, 5)
        + 0.16 * _sat(f.choice_cues, 2)
    )
    score -= _vague_penalty(f) + 0.1 * min(f.overclaims, 2) + 0.08 * min(f.platitudes, 3)
    if f.platitudes >= 2:
        return _missing(
            score,
            "Generalities ('it depends', 'every case is different'): say what it depends on, then decide.",
        )
    if f.perspective_cues < 3:
        return _missing(score, "One-sided: consider other viewpoints and what would change your answer.")
    if f.reasoning_cues < 2:
        return _missing(
            score, "Several angles, but little 'because': justify each step of your reasoning."
        )
    return _found(score, "Weighs several perspectives and justifies the conclusion.")


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
            score, "Takes an ethical shortcut: say which principle is at stake and act on it."
        )
    if f.ethics_cues < 3:
        return _missing(
            score,
            "Name the principles at stake, such as autonomy, confidentiality, safety, fairness or honesty.",
        )
    return _found(
        score, f"Identifies the ethical principles at stake ({f.ethics_cues}) and balances them."
    )


def _professionalism(f: AnswerFeatures) -> Judgement:
    score = (
        0.1
        + 0.45 * _sat(f.escalation_cues, 3)
        + 0.27 * _sat(f.considerate_cues, 3)
        + 0.15 * f.length_fit
    )
    score -= 0.3 * min(f.shortcuts, 2) + _vague_penalty(f) + min(0.2, f.fillers * 0.05)
    if f.shortcuts:
        return _missing(
            score, "Bends the rules for convenience: keep the standard and escalate when needed."
        )
    if f.escalation_cues < 2:
        return _missing(
            score, "Say when you would involve a senior, follow policy or document what happened."
        )
    if f.considerate_cues < 2:
        return _missing(
            score, "Show how you'd treat the people involved: privately, calmly, listening first."
        )
    return _found(score, "Involves the right people, follows process and treats others with respect.")


# What to do next on a dimension whose basics are there but whose score is still modest.
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
STRETCH_BELOW = 80


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

_OFF_TOPIC_REASON = "Mostly off the question: answer what was asked before adding detail."
OFF_TOPIC_BELOW = 0.25


def _feedback(
    dimensions: list[DimensionScore], met: dict[str, bool]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Top two strengths (met, 60+) and top two improvements (what's missing, weakest first)."""
    best_first = sorted(dimensions, key=lambda d: (-d.score, d.dimension))
    strengths = tuple(
        f"{DIMENSION_LABELS[d.dimension]}: {d.reason}"
        for d in best_first
        if met[d.dimension] and d.score >= 60
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


def _calibrated(value: float) -> float:
    """Spreads the feature sums over 0..1 so a complete answer lands near 80, a bare one near 15."""
    return 1.0 - (1.0 - _clamp01(value)) ** CALIBRATION_EXPONENT


# The relevance at and above which an answer counts as fully on topic.
_RELEVANCE_FULL_AT = 0.55


def _relevance_scale(f: AnswerFeatures, dimension: str) -> float:
    """Off-topic answers keep 35% on relevance-driven dimensions and 70% on the others."""
    full = _clamp01(f.relevance / _RELEVANCE_FULL_AT)
    return 0.35 + 0.65 * full if dimension in RELEVANCE_DRIVEN else 0.7 + 0.3 * full


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
        features = extract_features(item)
        dimensions: list[DimensionScore] = []
        met: dict[str, bool] = {}
        raw_scores: list[float] = []
        for dimension, scorer in scorers.items():
            judgement = scorer(features)
            reason, met[dimension] = judgement.reason, judgement.met
            value = _calibrated(judgement.score) * _relevance_scale(features, dimension)
            if features.length_ratio < 1.0:  # too short to show much: content counts for less
                value *= 0.6 + 0.4 * features.length_fit
            if features.word_count == 0:
                value, reason, met[dimension] = 0.0, "No answer given.", False
            elif features.relevance < OFF_TOPIC_BELOW and dimension in RELEVANCE_DRIVEN:
                reason, met[dimension] = _OFF_TOPIC_REASON, False
            raw_scores.append(100.0 * value)
            dimensions.append(DimensionScore(dimension, int(round(100.0 * value)), reason))
        overall_raw = sum(raw_scores) / len(raw_scores)
        strengths, improvements = _feedback(dimensions, met)
        factors = features.as_factors()
        factors["overall_raw"] = round(overall_raw, 3)
        return AnswerScore(
            category=item.category,
            dimensions=tuple(dimensions),
            overall=int(round(overall_raw)),
            evaluator=self.name,
            strengths=strengths,
            improvements=improvements,
            stronger_answer=item.example_answer,
            factors=factors,
        )
