"""The scripted interviewer: plans, asks, probes thin answers and keeps to time, with no LLM."""

from __future__ import annotations

import logging
import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from agent.catalog import (
    DEFAULT_PERSONA,
    DIFFICULTIES,
    PANEL_SIZES,
    PERSONAS,
    ROLE_TRACKS,
    ROUND_TYPE_PHRASES,
    ROUND_TYPES,
    Persona,
)
from agent.question_bank import Question, QuestionBank
from agent.tailoring import Tailoring
from scoring.base import AnswerInput
from scoring.offline import answer_markers
from scoring.speech import is_vocal_filler

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
QuestionSource = Literal["bank", "follow_up"]
UtteranceKind = Literal[
    "opening", "question", "follow_up", "repeat", "nudge", "mic_check", "pleasantry", "wrap_up", "closing", "ended"
]
# Replies to words that answer nothing (a mic check, a greeting back): the words are taken back
# from the stored answers and the question stands, said again.
ASIDE_KINDS = frozenset({"mic_check", "pleasantry"})
Reason = Literal["too_short", "no_example", "no_outcome", "no_reasoning"]

MIN_ANSWER_WORDS = 25
QUESTION_OVERHEAD_S = 15.0
"""Time the interviewer needs to ask a question, on top of the answer's time limit."""
CLOSING_RESERVE_S = 20.0
"""Time kept back when planning, for the closing line."""
FOLLOW_UP_MIN_S = 60.0
"""A follow-up is only asked when at least this much time remains."""
WRAP_UP_MIN_S = 60.0
"""The 'anything to add?' prompt is only offered when at least this much time remains."""
OPENER_TIME_S = 90.0 + QUESTION_OVERHEAD_S
"""Time kept back when planning, for the opener tailored to the candidate's CV."""
OPENER_CATEGORY = "behavioral"
"""The opener asks for a story from the CV: a behavioral question."""

NUDGE_TEXT = "Take your time — would you like me to repeat the question?"
MIC_CHECK_TEXT = "Yes, I can hear you clearly."
MIC_CHECK_MAX_WORDS = 10
PLEASANTRY_MAX_WORDS = 12
WAIT_TEXT = "Of course, take your time. Go ahead whenever you're ready."
SKIP_TEXT = "No problem, let's move on."
WRAP_UP_TEXT = (
    "Before we wrap up, is there anything you'd like to add, or anything you'd like to ask me?"
)
ENDED_TEXT = "Our interview has finished. Thank you again — you can leave whenever you're ready."
PRACTICE_INTRO_TEXT = "Let's practise one question."
PRACTICE_CLOSING_TEXT = "That's the end of this practice question. Thank you for practising!"
RESUME_TEXT = "Welcome back — let's pick up where we left off."
RESUME_CLOSING_LEAD = "Welcome back."
PANEL_WELCOME_TEXT = "Hello, and thank you for joining us today. There are {count} of us on the panel."
PANEL_START_TEXT = "Let's begin."
PANEL_CUT_IN_TEXT = "If I may come in here, {name}."
PANEL_BACK_TEXT = "Back to you, {name}."
PANEL_HANDOVER_TEXT = "I'll hand you to {name} for {topic}."
PANEL_CROSS_FOLLOW_UP_SHARE = 0.3
"""On a panel, the share of follow-ups another member asks (which ones: by the plan's seed)."""
HANDOVER_TOPICS = {
    "behavioral": "a question about your experience",
    "technical": "the technical part",
    "system_design": "the system design part",
    "case": "a case question",
    "mmi": "the next station",
}

ROLE_LABELS = {
    "software_engineer": "software engineering",
    "product_manager": "product management",
    "data_analyst": "data analysis",
    "sales": "sales",
    "hr": "HR",
    "medical_school_mmi": "medical school",
    "general": "general",
}


@dataclass(frozen=True, slots=True)
class InterviewPlan:
    """What the candidate chose: role, round, difficulty, length, persona, seed, CV and JD."""

    role_track: str
    round_type: str
    difficulty: str
    duration_s: float
    persona_id: str = DEFAULT_PERSONA
    seed: int = 0
    practice_question_id: str | None = None
    """A bank question to practise on its own; None for a full interview."""
    cv_text: str | None = field(default=None, repr=False)
    jd_text: str | None = field(default=None, repr=False)
    panel: tuple[str, ...] = ()
    """A panel's persona ids, the lead (persona_id) first; empty for one interviewer."""

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("role_track", self.role_track, ROLE_TRACKS),
            ("round_type", self.round_type, ROUND_TYPES),
            ("difficulty", self.difficulty, DIFFICULTIES),
            ("persona_id", self.persona_id, tuple(PERSONAS)),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        if self.duration_s <= 0:
            raise ValueError("duration_s must be positive")
        if self.panel:
            problem = panel_problem(self.panel)
            if problem is not None:
                raise ValueError(problem)
            if self.panel[0] != self.persona_id:
                raise ValueError("a panel's first member must be the plan's persona")

    @property
    def persona(self) -> Persona:
        """The interviewer persona this plan names (a panel's lead)."""
        return PERSONAS[self.persona_id]

    @property
    def members(self) -> tuple[Persona, ...]:
        """Who interviews: the panel's personas, or the one persona."""
        return tuple(PERSONAS[p] for p in self.panel) if self.panel else (self.persona,)


def panel_problem(panel: Sequence[str]) -> str | None:
    """Why these persona ids make no panel (None: they do)."""
    if len(panel) not in PANEL_SIZES:
        return f"a panel has {' or '.join(map(str, PANEL_SIZES))} personas; got {len(panel)}"
    unknown = [p for p in panel if p not in PERSONAS]
    if unknown:
        return f"unknown persona {unknown[0]!r}; choose from {', '.join(PERSONAS)}"
    if len(set(panel)) != len(panel):
        return "a panel's personas must be distinct"
    return None


def panel_asker(
    members: Sequence[Persona], planned_count: int, bank_askers: Sequence[str], question: Question
) -> Persona:
    """Who on a panel asks a bank question, given who asked the bank questions before it.

    The members whose focus includes the question's category lead it, each up to a fair
    share of the planned questions, the one already asking first (fewer handovers); when
    none is left, the members take turns (whoever has asked fewest, in panel order).
    """
    counts = Counter(bank_askers)
    share = max(1, math.ceil(planned_count / len(members)))
    matching = [m for m in members if question.category in m.focus and counts[m.id] < share]
    previous = bank_askers[-1] if bank_askers else None
    for member in matching:
        if member.id == previous:
            return member
    pool = matching or list(members)
    return min(pool, key=lambda m: (counts[m.id], members.index(m)))


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """A question the interviewer put to the candidate, from the bank or as a follow-up."""

    seq: int
    text: str
    source: QuestionSource
    bank_question_id: str
    persona: str
    category: str
    asked_at: float = 0.0
    """Monotonic clock reading when it was asked."""


@dataclass(frozen=True, slots=True)
class PreviousQuestion:
    """A question already asked in this session, by an earlier run of its interviewer."""

    seq: int
    text: str
    source: QuestionSource
    bank_question_id: str | None
    answered: bool
    """Whether a response to it is stored."""
    persona: str | None = None
    """Who asked it (None: the plan's persona)."""


@dataclass(frozen=True, slots=True)
class SpokenPart:
    """Sentences one persona says, in that persona's voice."""

    persona: str
    text: str


@dataclass(frozen=True, slots=True)
class Utterance:
    """What the interviewer says next, and which question (if any) it puts to the candidate."""

    text: str
    question: AskedQuestion | None = None
    closing: bool = False
    kind: UtteranceKind = "question"
    persona: str = DEFAULT_PERSONA
    """Who speaks (on a panel, who speaks last: the one whose question it is)."""
    parts: tuple[SpokenPart, ...] = ()
    """Who says which sentences, in order; empty: `persona` says all of `text`."""

    @property
    def spoken(self) -> tuple[SpokenPart, ...]:
        """Who says which sentences, in order."""
        return self.parts or (SpokenPart(self.persona, self.text),)


@dataclass(frozen=True, slots=True)
class AnswerAssessment:
    """Rubric markers found in an answer; `thin` when the question's rubric finds it lacking."""

    word_count: int
    has_example: bool
    has_outcome: bool
    has_reasoning: bool
    thin: bool
    reasons: tuple[Reason, ...] = ()
    """Why it is thin: too_short, no_example, no_outcome, no_reasoning."""


@dataclass(frozen=True, slots=True)
class ScriptCheckpoint:
    """The script's whole progress; restoring one undoes every reply made after it."""

    started_at: float | None = None
    phase: Literal["new", "asking", "wrap_up", "closed"] = "new"
    next_index: int = 0
    extras_asked: tuple[str, ...] = ()
    current: Question | None = None
    followed_up: bool = False
    last_question: AskedQuestion | None = None
    last_prompt: str = ""
    asked: tuple[AskedQuestion, ...] = ()
    awaiting_repeat_answer: bool = False
    acknowledgements_used: int = 0


_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)?")
# Words that answer nothing, besides vocal fillers (scoring.speech): backchannels, discourse words.
_NO_ANSWER_WORDS = frozenset("mhm oh like so well okay ok yeah right oops sorry hello hi hey".split())
# Words that carry no answer by themselves: a microphone check ("testing, one, two, three",
# "can you hear me?"), function words and numbers, which is what noise and mumbling are heard as.
_NO_SUBSTANCE_WORDS = _NO_ANSWER_WORDS | frozenset(
    "testing test tested mic microphone hear hearing me you can is this on working "
    "a an the as to of in at it be and or but i we my for with that "
    "zero one two three four five six seven eight nine ten".split()
)
_REPEAT_REQUEST = re.compile(
    r"\b(repeat|say (that|it) again|come again|pardon|didn'?t (catch|hear|get) (that|it|the "
    r"question)|one more time|what was the question|rephrase)\b"
)
_SKIP_REQUEST = re.compile(
    r"\b(skip( (this|that|it))?|next question|move on|pass on (this|that)|rather not answer)\b"
)
_THINKING = re.compile(
    r"\b(let me think|give me a (moment|second|sec|minute)|one (moment|second|sec)|hold on|"
    r"just a (moment|second|sec|minute)|need a (moment|second|minute))\b"
)
# What a candidate says to check that they are heard, over the greeting or after a glitch.
_MIC_CHECK = re.compile(
    r"\b(can you (hear|see) me|(do|did) you hear me|hear me|is (this|it) (on|working)|"
    r"mic(rophone)? check|testing|am i (audible|coming through)|hello)\b"
)
# What a candidate says back to the greeting before answering: "Hi, nice to meet you.",
# "Thanks for having me.", "Good morning! How are you?"
_PLEASANTRY = re.compile(
    r"\b(((it's|it is|i'm|i am) )?((so|really|very) )?(nice|good|great|lovely|pleased|glad|happy) to "
    r"((meet|see) you( too| as well)?|be here)|thank(s| you)( so much| very much)?"
    r"( for (having me|the opportunity|the invitation|inviting me))?|good (morning|afternoon|evening)|"
    r"how are you( doing)?( today)?|i'm (good|fine|well|great|doing (well|good|great))|likewise|you too|"
    r"same here|(hi|hello|hey)( there)?)\b"
)
_AFFIRMATIVE = frozenset("yes yeah yep yup sure please ok okay go".split())
_NEGATIVE = frozenset("no nope nah".split())
_SENTENCE_END = re.compile(r"[.!?]$")


def _words(text: str) -> list[str]:
    return [w.lower().replace("\u2019", "'") for w in _WORD.findall(text)]


_COUNTING = {w: n for n, w in enumerate(("one", "two", "three", "four", "five"), start=1)} | {str(n): n for n in range(1, 6)}


def _counts(words: list[str]) -> bool:
    """Whether the words are nothing but counting ("one, two, three", or the tail "two, three" of a
    count said as the room opened)."""
    numbers = [_COUNTING.get(w) for w in words]
    return len(numbers) >= 2 and None not in numbers and all(b == a + 1 for a, b in zip(numbers, numbers[1:]))


def is_mic_check(text: str) -> bool:
    """A microphone check ("Hello? Can you hear me?", "Testing, one, two, three."): short, asks
    whether the candidate is heard, and has nothing in it that answers a question."""
    words = _words(text)
    if not words or len(words) > MIC_CHECK_MAX_WORDS:
        return False
    if _counts(words):
        return True
    lowered = " ".join(words)
    if not _MIC_CHECK.search(lowered):
        return False
    rest = _MIC_CHECK.sub(" ", lowered).split()  # what is said besides the check itself
    substance = [w for w in rest if not is_vocal_filler(w) and w not in _NO_SUBSTANCE_WORDS and not w.isdigit()]
    return len(substance) < 2


def pleasantry_reply(text: str) -> str | None:
    """What a courteous interviewer says back to a greeting, thanks or "how are you" that has
    nothing in it that answers a question; None if `text` is more than that."""
    words = _words(text)
    lowered = " ".join(words)
    if not words or len(words) > PLEASANTRY_MAX_WORDS or not _PLEASANTRY.search(lowered):
        return None
    rest = _PLEASANTRY.sub(" ", lowered).split()
    if any(not is_vocal_filler(w) and w not in _NO_SUBSTANCE_WORDS for w in rest):
        return None
    if "how are you" in lowered:
        return "I'm well, thank you."
    if re.search(r"\b(meet|see) you\b", lowered):
        return "Nice to meet you too."
    if "thank" in lowered:
        return "It's a pleasure."
    if (greeting := re.search(r"\bgood (morning|afternoon|evening)\b", lowered)) is not None:
        return f"Good {greeting.group(1)}."
    return "Hello."


def _expected_criteria(question: Question) -> tuple[Reason, ...]:
    """Which missing pieces make an answer to this question thin (besides length)."""
    if question.category == "behavioral":
        return ("no_example", "no_outcome")
    if question.category == "case":
        return ("no_reasoning", "no_outcome")
    if question.category == "mmi" and question.subcategory == "personal_reflection":
        return ("no_example",)
    return ("no_reasoning",)


def assess_answer(question: Question, transcript: str) -> AnswerAssessment:
    """Checks an answer against its question's rubric: length, an example, an outcome, reasoning.

    The markers are the offline scorer's features (`scoring.offline.answer_markers`), so a
    follow-up asks for what the answer's scores would find missing.
    """
    markers = answer_markers(AnswerInput(question.text, transcript, question.category))
    present = {
        "no_example": markers.example,
        "no_outcome": markers.outcome,
        "no_reasoning": markers.reasoning,
    }
    reasons: list[Reason] = []
    if markers.words < MIN_ANSWER_WORDS:
        reasons.append("too_short")
    reasons += [r for r in _expected_criteria(question) if not present[r]]
    return AnswerAssessment(
        word_count=markers.words,
        has_example=markers.example,
        has_outcome=markers.outcome,
        has_reasoning=markers.reasoning,
        thin=bool(reasons),
        reasons=tuple(reasons),
    )


def missing_piece_prompt(question: Question, reasons: tuple[Reason, ...]) -> str:
    """The sentence that asks for what a thin answer left out."""
    missing = set(reasons)
    if {"no_example", "no_outcome"} <= missing:
        return (
            "Can you give me one specific example from your own experience, "
            "and tell me what the result was?"
        )
    if "no_example" in missing:
        return (
            "Can you give me one specific example, a real situation you were in, "
            "and walk me through what you did?"
        )
    if "no_reasoning" in missing:
        if question.category == "mmi":
            return "Talk me through your reasoning: which considerations are you weighing, and why?"
        return (
            "Talk me through your reasoning: why that approach, "
            "and what trade-offs are you weighing?"
        )
    if "no_outcome" in missing:
        if question.category == "case":
            return (
                "Where does that leave you? "
                "What would you recommend, and what result would you expect?"
            )
        return (
            "What was the result? "
            "What changed because of what you did, in numbers if you have them?"
        )
    return "Could you expand on that a little?"


def expected_time_s(question: Question) -> float:
    """How long asking and answering this question is expected to take."""
    return question.time_limit_s + QUESTION_OVERHEAD_S


def plan_questions(
    candidates: list[Question], duration_s: float
) -> tuple[list[Question], list[Question]]:
    """Splits ranked candidates into those that fit the duration and a reserve for spare time."""
    budget = duration_s - CLOSING_RESERVE_S
    planned: list[Question] = []
    reserve: list[Question] = []
    used = 0.0
    for question in candidates:
        if used + expected_time_s(question) <= budget:
            planned.append(question)
            used += expected_time_s(question)
        else:
            reserve.append(question)
    if not planned and reserve:
        planned.append(reserve.pop(0))
    return planned, reserve


def interviewer_instructions(plan: InterviewPlan) -> str:
    """The system instructions that describe this interview and its persona to a language model."""
    persona = plan.persona
    minutes = max(1, round(plan.duration_s / 60))
    return (
        f"You are {persona.name}, {persona.title}, running a {minutes}-minute "
        f"{ROUND_TYPE_PHRASES[plan.round_type]} mock interview for a candidate preparing for "
        f"{ROLE_LABELS[plan.role_track]} roles, at {plan.difficulty} difficulty. "
        "Your words are spoken aloud: keep each turn short and ask one question at a time. "
        "When an answer is vague, ask one probing follow-up for a concrete example, the "
        "outcome, or the reasoning, then move on. Do not score or coach during the interview. "
        "Keep to time and close politely when it is up."
        + (
            " You lead a panel with "
            + ", ".join(f"{m.name} ({m.role})" for m in plan.members[1:])
            + ": each introduces themselves, and questions in a member's focus are theirs."
            if plan.panel
            else ""
        )
        + (
            " This is a one-question practice session: ask the one question, at most one "
            "follow-up, then close."
            if plan.practice_question_id
            else ""
        )
    )


class InterviewScript:
    """The interview's brain: opening, follow-ups on thin answers, pacing and closing."""

    def __init__(
        self, plan: InterviewPlan, bank: QuestionBank, clock: Clock = time.monotonic
    ) -> None:
        self._plan = plan
        self._persona = plan.persona
        self._clock = clock
        self._practice = _practice_question(plan, bank)
        self._opener: str | None = None
        if self._practice is not None:
            planned, reserve = [self._practice], []
        else:
            tailoring = Tailoring.from_texts(plan.cv_text, plan.jd_text)
            self._opener = tailoring.opener
            candidates = bank.select(
                plan.role_track,
                plan.round_type,
                plan.difficulty,
                count=len(bank),
                seed=plan.seed,
                relevance=tailoring.relevance if tailoring.active else None,
            )
            opener_time_s = OPENER_TIME_S if self._opener is not None else 0.0
            planned, reserve = plan_questions(candidates, plan.duration_s - opener_time_s)
        if not planned:
            raise ValueError("the question bank has no questions for this plan")
        self._planned = tuple(planned)
        self._reserve = tuple(reserve)
        # A practice question is put by the lead alone.
        self._members = plan.members if self._practice is None else (plan.persona,)
        self._state = ScriptCheckpoint()
        self._resumed = False
        self._resume_last_answered = False

    @property
    def plan(self) -> InterviewPlan:
        """The plan this script follows."""
        return self._plan

    @property
    def persona(self) -> Persona:
        """The persona whose words the script speaks."""
        return self._persona

    @property
    def members(self) -> tuple[Persona, ...]:
        """Who interviews: a panel's personas, lead first, or the one persona."""
        return self._members

    @property
    def panel(self) -> bool:
        """Whether more than one persona interviews."""
        return len(self._members) > 1

    @property
    def planned_questions(self) -> tuple[Question, ...]:
        """The bank questions planned for the duration, in asking order."""
        return self._planned

    @property
    def practice(self) -> bool:
        """Whether this is a one-question practice session."""
        return self._practice is not None

    @property
    def tailored_opener(self) -> str | None:
        """The opening question drawn from the candidate's CV, if there is one."""
        return self._opener

    @property
    def prepared_lines(self) -> tuple[str, ...]:
        """Lines the interviewer is sure to say, to synthesise ahead of time."""
        persona = self._persona
        if self._practice is not None:
            greeting, closing = _practice_greeting(persona), PRACTICE_CLOSING_TEXT
        else:
            greeting, closing = persona.greeting, persona.closing
        opener = (self._opener,) if self._opener is not None else ()
        questions = tuple(q.text for q in self._planned)
        return (greeting, *opener, *persona.acknowledgements, *questions, closing)

    @property
    def prepared_speech(self) -> tuple[SpokenPart, ...]:
        """Lines the interviewers are likely to say, each with its speaker, to synthesise ahead."""
        if not self.panel:
            return tuple(SpokenPart(self._persona.id, line) for line in self.prepared_lines)
        lead = self._persona.id
        parts = list(self.opening_preview().spoken)
        parts += [SpokenPart(m.id, a) for m in self._members for a in m.acknowledgements]
        askers: list[str] = []
        for question in self._planned:
            askers.append(panel_asker(self._members, len(self._planned), askers, question).id)
            parts.append(SpokenPart(askers[-1], question.text))
        return (*parts, SpokenPart(lead, self._persona.closing))

    def opening_preview(self) -> Utterance:
        """What opening() would say now, without saying it."""
        checkpoint = self._state
        try:
            return self.opening()
        finally:
            self._state = checkpoint

    @property
    def questions_total(self) -> int:
        """Bank questions planned for the duration, plus any asked in spare time."""
        return len(self._planned) + len(self._state.extras_asked)

    @property
    def asked(self) -> list[AskedQuestion]:
        """Every question asked so far, bank questions and follow-ups, in order."""
        return list(self._state.asked)

    @property
    def started(self) -> bool:
        """Whether the opening has been spoken."""
        return self._state.phase != "new"

    @property
    def finished(self) -> bool:
        """Whether the closing line has been spoken."""
        return self._state.phase == "closed"

    @property
    def current_question(self) -> AskedQuestion | None:
        """The question the candidate is answering now."""
        return self._state.last_question

    def elapsed_s(self) -> float:
        """Seconds since the opening; zero before it."""
        started_at = self._state.started_at
        return 0.0 if started_at is None else self._clock() - started_at

    def remaining_s(self) -> float:
        """Seconds left in the planned duration."""
        return self._plan.duration_s - self.elapsed_s()

    def checkpoint(self) -> ScriptCheckpoint:
        """The current progress, to restore if a reply is thrown away and regenerated."""
        return self._state

    def restore(self, checkpoint: ScriptCheckpoint) -> None:
        """Returns to an earlier checkpoint of this same script."""
        self._state = checkpoint

    def resume(self, previous: Sequence[PreviousQuestion], elapsed_s: float) -> None:
        """Continues an interview begun by an earlier run, before opening() is called.

        `previous` are the questions already stored, in seq order, and `elapsed_s` the time
        since the interview began. Bank questions among them are not asked again, the next
        question takes the seq after the last stored one, and opening() welcomes the
        candidate back instead of greeting them.
        """
        if self.started:
            raise RuntimeError("resume() must come before opening()")
        if not previous:
            return
        previous = sorted(previous, key=lambda p: p.seq)
        asked = tuple(self._previously_asked(p) for p in previous)
        asked_ids = {p.bank_question_id for p in previous if p.source == "bank" and p.bank_question_id}
        planned_asked = [q for q in self._planned if q.id in asked_ids]
        self._planned = (*planned_asked, *(q for q in self._planned if q.id not in asked_ids))
        planned_ids = {q.id for q in self._planned}
        extras = tuple(
            dict.fromkeys(
                p.bank_question_id
                for p in previous
                if p.source == "bank" and p.bank_question_id and p.bank_question_id not in planned_ids
            )
        )
        last = previous[-1]
        current = self._bank_question(last.bank_question_id)
        followed_up = current is None or any(
            p.source == "follow_up" and p.bank_question_id == last.bank_question_id for p in previous
        )
        self._state = ScriptCheckpoint(
            started_at=self._clock() - elapsed_s,
            phase="new",
            next_index=len(planned_asked),
            extras_asked=extras,
            current=current,
            followed_up=followed_up,
            last_question=asked[-1],
            last_prompt=asked[-1].text,
            asked=asked,
            acknowledgements_used=sum(p.answered for p in previous),
        )
        self._resumed = True
        self._resume_last_answered = last.answered

    @property
    def resumed(self) -> bool:
        """Whether this script continues questions asked by an earlier run."""
        return self._resumed

    def _previously_asked(self, previous: PreviousQuestion) -> AskedQuestion:
        question = self._bank_question(previous.bank_question_id)
        return AskedQuestion(
            seq=previous.seq,
            text=previous.text,
            source=previous.source,
            bank_question_id=previous.bank_question_id or "",
            persona=previous.persona or self._persona.id,
            category=question.category if question is not None else OPENER_CATEGORY,
            asked_at=self._clock(),
        )

    def _bank_question(self, question_id: str | None) -> Question | None:
        """A planned or reserve question by id; None for the CV opener or an unknown id."""
        if not question_id:
            return None
        return next((q for q in (*self._planned, *self._reserve) if q.id == question_id), None)

    def opening(self) -> Utterance:
        """The persona's greeting followed by the first question."""
        if self.started:
            raise RuntimeError("the interview has already been opened")
        if self._resumed:
            return self._resumed_opening()
        self._state = replace(self._state, started_at=self._clock(), phase="asking")
        if self._practice is not None:
            greeting = _practice_greeting(self._persona)
            return self._ask_bank_question(self._practice, lead=greeting, kind="opening")
        introductions = self._panel_introductions()
        if self._opener is not None:
            # Stored like a follow-up: it is no bank question, and it gets no follow-up itself.
            asked = self._record_asked(
                None, self._opener, "follow_up", current=None, followed_up=True
            )
            if introductions:
                return self._speech(
                    *introductions, (self._persona, _join(PANEL_START_TEXT, self._opener)),
                    question=asked, kind="opening", last_apart=True,
                )
            text = _join(self._persona.greeting, self._opener)
            return self._speech((self._persona, text), question=asked, kind="opening")
        if introductions:
            return self._ask_bank_question(
                self._planned[0], lead=PANEL_START_TEXT, kind="opening", before=introductions
            )
        return self._ask_bank_question(
            self._planned[0], lead=self._persona.greeting, kind="opening"
        )

    def _panel_introductions(self) -> tuple[tuple[Persona, str], ...]:
        """On a panel, the lead's welcome and each member's introduction, in their voices."""
        if not self.panel:
            return ()
        welcome = PANEL_WELCOME_TEXT.format(count=_count_word(len(self._members)))
        lead, *others = self._members
        return ((lead, _join(welcome, lead.introduction)), *((m, m.introduction) for m in others))

    def _speaker(self) -> Persona:
        """Who is talking to the candidate now: whoever put the current question, or the lead."""
        last = self._state.last_question
        return PERSONAS.get(last.persona, self._persona) if last is not None else self._persona

    def _bank_askers(self) -> list[str]:
        return [a.persona for a in self._state.asked if a.source == "bank"]

    def _speech(
        self, *parts: tuple[Persona, str], question: AskedQuestion | None = None,
        closing: bool = False, kind: UtteranceKind = "question", last_apart: bool = False,
    ) -> Utterance:
        """An utterance from who says what: one persona's consecutive lines are one part, except
        the last line when `last_apart` (a question after its asker's introduction)."""
        merged: list[SpokenPart] = []
        for index, (persona, text) in enumerate(parts):
            text = _join(text)
            if not text:
                continue
            apart = last_apart and index == len(parts) - 1
            if merged and merged[-1].persona == persona.id and not apart:
                merged[-1] = SpokenPart(persona.id, _join(merged[-1].text, text))
            else:
                merged.append(SpokenPart(persona.id, text))
        speaker = merged[-1].persona if merged else self._speaker().id
        return Utterance(
            text=_join(*(m.text for m in merged)),
            question=question,
            closing=closing,
            kind=kind,
            persona=speaker,
            parts=tuple(merged) if self.panel else (),
        )

    def _resumed_opening(self) -> Utterance:
        """Welcome back, then the unanswered question again (same seq), or the next one."""
        state = self._state = replace(self._state, phase="asking")
        if self.remaining_s() <= 0:
            return self._close(RESUME_CLOSING_LEAD)
        if not self._resume_last_answered:
            text = _join(RESUME_TEXT, state.last_prompt)
            return self._speech((self._speaker(), text), question=state.last_question, kind="opening")
        if self._practice is None and self._next_bank_question() is not None:
            return self._advance(RESUME_TEXT)
        return self._advance(RESUME_CLOSING_LEAD)

    def respond(self, answer_transcript: str) -> Utterance:
        """The interviewer's reply to what the candidate just said."""
        state = self._state
        if state.phase == "new":
            raise RuntimeError("call opening() before respond()")
        if state.phase == "closed":
            return self._speech((self._persona, ENDED_TEXT), closing=True, kind="ended")
        if self.remaining_s() <= 0:
            return self._close()

        words = _words(answer_transcript)
        lowered = " ".join(words)
        if state.phase == "wrap_up":
            if len(words) <= 15 and _REPEAT_REQUEST.search(lowered):
                return self._repeat()
            return self._close()
        if state.awaiting_repeat_answer and len(words) <= 4:
            self._state = replace(state, awaiting_repeat_answer=False)
            if words and words[0] in _AFFIRMATIVE:
                return self._repeat()
            if words and words[0] in _NEGATIVE:
                return self._speech((self._speaker(), WAIT_TEXT), kind="nudge")
        if len(words) <= 15 and _REPEAT_REQUEST.search(lowered):
            return self._repeat()
        if len(words) <= 8 and _THINKING.search(lowered):
            return self._speech((self._speaker(), WAIT_TEXT), kind="nudge")
        if is_mic_check(answer_transcript):
            # They may have missed the question while checking: it is said again, not re-asked.
            self._state = replace(state, awaiting_repeat_answer=False)
            return self._speech((self._speaker(), f"{MIC_CHECK_TEXT} {state.last_prompt}"), kind="mic_check")
        if (courtesy := pleasantry_reply(answer_transcript)) is not None:
            # A greeting back, over or just after the question: returned, and the question said again.
            self._state = replace(state, awaiting_repeat_answer=False)
            return self._speech((self._speaker(), f"{courtesy} {state.last_prompt}"), kind="pleasantry")
        said = [w for w in words if not is_vocal_filler(w) and w not in _NO_ANSWER_WORDS]
        substance = [w for w in said if w not in _NO_SUBSTANCE_WORDS and not w.isdigit()]
        if len(said) < 3 or len(substance) < 2:  # nothing, a mic check, mumbling: not an answer
            self._state = replace(self._state, awaiting_repeat_answer=True)
            return self._speech((self._speaker(), NUDGE_TEXT), kind="nudge")
        self._state = replace(self._state, awaiting_repeat_answer=False)
        if len(words) <= 12 and _SKIP_REQUEST.search(lowered):
            return self._advance(SKIP_TEXT)

        current = self._state.current
        if current is not None and not self._state.followed_up:
            assessment = assess_answer(current, answer_transcript)
            if assessment.thin and self.remaining_s() >= FOLLOW_UP_MIN_S:
                return self._follow_up(current, assessment)
        return self._advance(self._next_acknowledgement())

    def repeat(self) -> Utterance:
        """Says the current question again (or the closing courtesy once finished)."""
        if not self.started:
            raise RuntimeError("call opening() before repeat()")
        if self.finished:
            return self._speech((self._persona, ENDED_TEXT), closing=True, kind="ended")
        return self._repeat()

    def _repeat(self) -> Utterance:
        state = self._state
        return self._speech(
            (self._speaker(), f"Of course. {state.last_prompt}"),
            question=state.last_question,
            kind="repeat",
        )

    def _next_acknowledgement(self) -> str:
        acks = self._speaker().acknowledgements
        used = self._state.acknowledgements_used
        self._state = replace(self._state, acknowledgements_used=used + 1)
        return acks[(self._plan.seed + used) % len(acks)] if acks else ""

    def _next_bank_question(self) -> tuple[Question, bool] | None:
        """The next question that fits the time left, and whether it is beyond the plan."""
        remaining = self.remaining_s()
        state = self._state
        if state.next_index < len(self._planned):
            upcoming = self._planned[state.next_index]
            return (upcoming, False) if remaining >= expected_time_s(upcoming) else None
        for spare in self._reserve:
            if spare.id not in state.extras_asked and remaining >= expected_time_s(spare):
                return spare, True
        return None

    def _advance(self, lead: str) -> Utterance:
        """Moves to the next bank question, or winds the interview down when none fits."""
        if self._practice is not None:
            return self._close(lead)
        upcoming = self._next_bank_question()
        if upcoming is not None:
            question, extra = upcoming
            return self._ask_bank_question(question, lead=lead, kind="question", extra=extra)
        if self.remaining_s() >= WRAP_UP_MIN_S:
            said = ((self._speaker(), lead), (self._persona, WRAP_UP_TEXT))
            self._state = replace(
                self._state,
                phase="wrap_up",
                current=None,
                last_question=None,
                last_prompt=WRAP_UP_TEXT,
            )
            return self._speech(*said, kind="wrap_up")
        return self._close()

    def _ask_bank_question(
        self,
        question: Question,
        *,
        lead: str,
        kind: UtteranceKind,
        extra: bool = False,
        before: tuple[tuple[Persona, str], ...] = (),
    ) -> Utterance:
        """Puts a bank question, by whoever the panel's plan says; `lead` is said first, by the
        one talking now (on a handover) or by the asker (after `before`, the introductions)."""
        speaker = self._speaker()
        asker = self._persona
        if self.panel:
            asker = panel_asker(self._members, len(self._planned), self._bank_askers(), question)
        said: tuple[tuple[Persona, str], ...]
        if before or asker.id == speaker.id:
            said = (*before, (asker, _join(lead, question.text)))
        else:
            said = ((speaker, _join(lead, self._handover(asker, question))), (asker, question.text))
        state = self._state
        asked = self._record_asked(
            question,
            question.text,
            "bank",
            persona=asker,
            next_index=state.next_index if extra else state.next_index + 1,
            extras_asked=(*state.extras_asked, question.id) if extra else state.extras_asked,
            current=question,
            followed_up=False,
        )
        return self._speech(*said, question=asked, kind=kind, last_apart=bool(before))

    def _handover(self, to: Persona, question: Question) -> str:
        """What the one talking says to pass the candidate to `to`, who asks `question` next."""
        bank_askers = self._bank_askers()
        if bank_askers and bank_askers[-1] == to.id:  # after another member's follow-up
            return PANEL_BACK_TEXT.format(name=to.name)
        topic = HANDOVER_TOPICS.get(question.category, "the next question")
        return PANEL_HANDOVER_TEXT.format(name=to.name, topic=topic)

    def _record_asked(
        self,
        question: Question | None,
        text: str,
        source: QuestionSource,
        persona: Persona | None = None,
        **changes: object,
    ) -> AskedQuestion:
        """Put a question (None: the CV opener) to the candidate: the next seq, and `changes`;
        `persona` asks it (None: the lead)."""
        state = self._state
        asked = AskedQuestion(
            seq=state.asked[-1].seq + 1 if state.asked else 1,
            text=text,
            source=source,
            bank_question_id=question.id if question is not None else "",
            persona=(persona or self._persona).id,
            category=question.category if question is not None else OPENER_CATEGORY,
            asked_at=self._clock(),
        )
        self._state = replace(
            state, last_question=asked, last_prompt=text, asked=(*state.asked, asked), **changes
        )
        return asked

    def _follow_up(self, question: Question, assessment: AnswerAssessment) -> Utterance:
        rng = random.Random(f"{self._plan.seed}|{question.id}")
        probe = question.follow_up[rng.randrange(len(question.follow_up))]
        prompt = _join(
            missing_piece_prompt(question, assessment.reasons),
            f"In particular, {_lower_first(probe)}",
        )
        asker = self._speaker()
        other = self._cross_follow_up_member(question, asker)
        if other is None:
            asked = self._record_asked(question, prompt, "follow_up", asker, followed_up=True)
            return self._speech(
                (asker, _join(asker.follow_up_lead, prompt)), question=asked, kind="follow_up"
            )
        asked = self._record_asked(question, prompt, "follow_up", other, followed_up=True)
        cut_in = PANEL_CUT_IN_TEXT.format(name=asker.name)
        return self._speech((other, _join(cut_in, prompt)), question=asked, kind="follow_up")

    def _cross_follow_up_member(self, question: Question, asker: Persona) -> Persona | None:
        """On a panel, now and then (by the seed) another member asks the follow-up: one whose
        focus includes the question's category if there is one."""
        if not self.panel:
            return None
        rng = random.Random(f"{self._plan.seed}|{question.id}|panel")
        if rng.random() >= PANEL_CROSS_FOLLOW_UP_SHARE:
            return None
        others = [m for m in self._members if m.id != asker.id]
        focused = [m for m in others if question.category in m.focus]
        pool = focused or others
        return pool[rng.randrange(len(pool))]

    def _close(self, lead: str = "") -> Utterance:
        speaker = self._speaker()  # says `lead`; the closing is the lead's
        self._state = replace(
            self._state,
            phase="closed",
            current=None,
            last_question=None,
            awaiting_repeat_answer=False,
        )
        closing = PRACTICE_CLOSING_TEXT if self._practice is not None else self._persona.closing
        return self._speech((speaker, lead), (self._persona, closing), closing=True, kind="closing")


def _practice_question(plan: InterviewPlan, bank: QuestionBank) -> Question | None:
    """The bank question a practice session asks; None for a full interview or an unknown id."""
    if plan.practice_question_id is None:
        return None
    try:
        return bank.get(plan.practice_question_id)
    except KeyError:
        logger.warning("practice question not in the bank: planning a full interview instead")
        return None


def _practice_greeting(persona: Persona) -> str:
    """A brief hello for a practice session: the persona's first sentence, then what is next."""
    first_sentence = re.split(r"(?<=[.!?])\s+", persona.greeting.strip(), maxsplit=1)[0]
    return _join(first_sentence, PRACTICE_INTRO_TEXT)


def _count_word(count: int) -> str:
    return {2: "two", 3: "three"}.get(count, str(count))


def _lower_first(sentence: str) -> str:
    """The sentence with its first word lowercased, unless that word is 'I'."""
    first, _, rest = sentence.partition(" ")
    if first in ("I", "I'd", "I'm") or not first[:1].isupper():
        return sentence
    return f"{first[0].lower()}{first[1:]} {rest}".rstrip()


def _join(*parts: str) -> str:
    """Sentences joined with single spaces, each ending in punctuation."""
    cleaned = [p.strip() for p in parts if p and p.strip()]
    return " ".join(p if _SENTENCE_END.search(p) else f"{p}." for p in cleaned)
