"""The scripted interviewer: plans, asks, probes thin answers and keeps to time, with no LLM."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from agent.catalog import (
    DEFAULT_PERSONA,
    DIFFICULTIES,
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
    "opening", "question", "follow_up", "repeat", "nudge", "wrap_up", "closing", "ended"
]
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

    @property
    def persona(self) -> Persona:
        """The interviewer persona this plan names."""
        return PERSONAS[self.persona_id]


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


@dataclass(frozen=True, slots=True)
class Utterance:
    """What the interviewer says next, and which question (if any) it puts to the candidate."""

    text: str
    question: AskedQuestion | None = None
    closing: bool = False
    kind: UtteranceKind = "question"


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
_NO_ANSWER_WORDS = frozenset("mhm oh like so well okay ok yeah right".split())
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
_AFFIRMATIVE = frozenset("yes yeah yep yup sure please ok okay go".split())
_NEGATIVE = frozenset("no nope nah".split())
_SENTENCE_END = re.compile(r"[.!?]$")


def _words(text: str) -> list[str]:
    return [w.lower().replace("\u2019", "'") for w in _WORD.findall(text)]


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
            persona=self._persona.id,
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
        if self._opener is not None:
            # Stored like a follow-up: it is no bank question, and it gets no follow-up itself.
            asked = self._record_asked(
                None, self._opener, "follow_up", current=None, followed_up=True
            )
            text = _join(self._persona.greeting, self._opener)
            return Utterance(text=text, question=asked, kind="opening")
        return self._ask_bank_question(
            self._planned[0], lead=self._persona.greeting, kind="opening"
        )

    def _resumed_opening(self) -> Utterance:
        """Welcome back, then the unanswered question again (same seq), or the next one."""
        state = self._state = replace(self._state, phase="asking")
        if self.remaining_s() <= 0:
            return self._close(RESUME_CLOSING_LEAD)
        if not self._resume_last_answered:
            text = _join(RESUME_TEXT, state.last_prompt)
            return Utterance(text=text, question=state.last_question, kind="opening")
        if self._practice is None and self._next_bank_question() is not None:
            return self._advance(RESUME_TEXT)
        return self._advance(RESUME_CLOSING_LEAD)

    def respond(self, answer_transcript: str) -> Utterance:
        """The interviewer's reply to what the candidate just said."""
        state = self._state
        if state.phase == "new":
            raise RuntimeError("call opening() before respond()")
        if state.phase == "closed":
            return Utterance(text=ENDED_TEXT, closing=True, kind="ended")
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
                return Utterance(text=WAIT_TEXT, kind="nudge")
        if len(words) <= 15 and _REPEAT_REQUEST.search(lowered):
            return self._repeat()
        if len(words) <= 8 and _THINKING.search(lowered):
            return Utterance(text=WAIT_TEXT, kind="nudge")
        if sum(1 for w in words if not is_vocal_filler(w) and w not in _NO_ANSWER_WORDS) < 3:
            self._state = replace(self._state, awaiting_repeat_answer=True)
            return Utterance(text=NUDGE_TEXT, kind="nudge")
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
            return Utterance(text=ENDED_TEXT, closing=True, kind="ended")
        return self._repeat()

    def _repeat(self) -> Utterance:
        state = self._state
        return Utterance(
            text=f"Of course. {state.last_prompt}", question=state.last_question, kind="repeat"
        )

    def _next_acknowledgement(self) -> str:
        acks = self._persona.acknowledgements
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
            text = f"{lead} {WRAP_UP_TEXT}".strip()
            self._state = replace(
                self._state,
                phase="wrap_up",
                current=None,
                last_question=None,
                last_prompt=WRAP_UP_TEXT,
            )
            return Utterance(text=text, kind="wrap_up")
        return self._close()

    def _ask_bank_question(
        self, question: Question, *, lead: str, kind: UtteranceKind, extra: bool = False
    ) -> Utterance:
        state = self._state
        asked = self._record_asked(
            question,
            question.text,
            "bank",
            next_index=state.next_index if extra else state.next_index + 1,
            extras_asked=(*state.extras_asked, question.id) if extra else state.extras_asked,
            current=question,
            followed_up=False,
        )
        return Utterance(text=_join(lead, question.text), question=asked, kind=kind)

    def _record_asked(
        self, question: Question | None, text: str, source: QuestionSource, **changes: object
    ) -> AskedQuestion:
        """Put a question (None: the CV opener) to the candidate: the next seq, and `changes`."""
        state = self._state
        asked = AskedQuestion(
            seq=state.asked[-1].seq + 1 if state.asked else 1,
            text=text,
            source=source,
            bank_question_id=question.id if question is not None else "",
            persona=self._persona.id,
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
        asked = self._record_asked(question, prompt, "follow_up", followed_up=True)
        return Utterance(
            text=_join(self._persona.follow_up_lead, prompt), question=asked, kind="follow_up"
        )

    def _close(self, lead: str = "") -> Utterance:
        self._state = replace(
            self._state,
            phase="closed",
            current=None,
            last_question=None,
            awaiting_repeat_answer=False,
        )
        closing = PRACTICE_CLOSING_TEXT if self._practice is not None else self._persona.closing
        return Utterance(text=_join(lead, closing), closing=True, kind="closing")


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
