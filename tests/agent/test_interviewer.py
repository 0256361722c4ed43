"""The scripted interviewer, driven through a real AgentSession in text-only mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from livekit.agents import AgentSession
from livekit.agents.llm import ChatContext
from livekit.agents.voice.run_result import RunResult

from agent.catalog import PERSONAS
from agent.interviewer import (
    CLOSING_RESERVE_S,
    MIC_CHECK_TEXT,
    NUDGE_TEXT,
    OPENER_TIME_S,
    PRACTICE_CLOSING_TEXT,
    PRACTICE_INTRO_TEXT,
    RESUME_TEXT,
    WRAP_UP_MIN_S,
    WRAP_UP_TEXT,
    InterviewPlan,
    InterviewScript,
    PreviousQuestion,
    Utterance,
    assess_answer,
    expected_time_s,
    is_mic_check,
    pleasantry_reply,
)
from agent.question_bank import QuestionBank
from agent.scripted_llm import InterviewerAgent, ScriptedInterviewerLLM, split_sentences

THIN_ANSWER = "I work well in teams and I always communicate clearly."
NO_OUTCOME_ANSWER = (
    "At my last job two engineers on my team disagreed about whether to rewrite our billing "
    "service. I set up a meeting, listened to both of them, wrote down their concerns and "
    "suggested we try a smaller change first so nobody felt ignored."
)
STAR_ANSWER = (
    "At my last job our checkout service kept failing during big sales. For example, in "
    "March the error rate hit five percent. I led a small group: we added load tests and "
    "fixed a leaking connection pool. As a result we reduced errors to under 0.1 percent "
    "and the next sale ran without a single incident."
)


class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Interview:
    """A running text-only session around one scripted interview."""

    session: AgentSession
    script: InterviewScript
    clock: FakeClock
    opening: str
    utterances: list[Utterance] = field(default_factory=list)

    async def say(self, text: str) -> str:
        """The candidate says something; returns the interviewer's reply text."""
        result: RunResult[None] = await self.session.run(user_input=text)
        return _only_reply(result)


def _only_reply(result: RunResult) -> str:
    reply = result.expect.next_event(type="message")
    assert reply.event().item.role == "assistant"
    result.expect.no_more_events()
    text = reply.event().item.text_content
    assert text
    return text


@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    return QuestionBank.load()


@asynccontextmanager
async def interview(
    bank: QuestionBank,
    *,
    role_track: str = "software_engineer",
    round_type: str = "behavioral",
    difficulty: str = "medium",
    duration_s: float = 20 * 60,
    persona_id: str = "alex",
    seed: int = 7,
    practice_question_id: str | None = None,
    cv_text: str | None = None,
    jd_text: str | None = None,
) -> AsyncIterator[Interview]:
    clock = FakeClock()
    plan = InterviewPlan(
        role_track,
        round_type,
        difficulty,
        duration_s,
        persona_id,
        seed,
        practice_question_id=practice_question_id,
        cv_text=cv_text,
        jd_text=jd_text,
    )
    script = InterviewScript(plan, bank, clock)
    utterances: list[Utterance] = []
    llm = ScriptedInterviewerLLM(script, on_utterance=utterances.append)
    # vad=None and manual turns: no VAD or turn-detector model is loaded, nothing is fetched
    async with AgentSession(
        llm=llm, vad=None, turn_handling={"turn_detection": "manual"}
    ) as session:
        started = await session.start(InterviewerAgent(plan), capture_run=True)
        assert started is not None
        opening = _only_reply(started)
        yield Interview(session, script, clock, opening, utterances)


# --- the rubric -----------------------------------------------------------------------


def test_assessment_flags_what_a_thin_answer_is_missing(bank: QuestionBank) -> None:
    question = bank.get("beh-disagreed-with-peer")
    thin = assess_answer(question, THIN_ANSWER)
    assert thin.thin
    assert thin.word_count == 10
    assert thin.reasons == ("too_short", "no_example", "no_outcome")

    no_outcome = assess_answer(question, NO_OUTCOME_ANSWER)
    assert no_outcome.has_example and not no_outcome.has_outcome
    assert no_outcome.reasons == ("no_outcome",)

    rich = assess_answer(question, STAR_ANSWER)
    assert rich.has_example and rich.has_outcome and not rich.thin
    assert rich.reasons == ()


def test_technical_answers_are_judged_on_reasoning(bank: QuestionBank) -> None:
    question = bank.get("tech-swe-process-vs-thread")
    bare = assess_answer(
        question,
        "A process has its own memory and a thread shares memory with the other threads in "
        "the same process, and threads are lighter to create and switch between than processes.",
    )
    assert bare.reasons == ("no_reasoning",)
    reasoned = assess_answer(
        question,
        "A process has its own memory, a thread shares it. I would pick processes for "
        "CPU-heavy work in Python because the interpreter lock serialises threads, but threads "
        "for waiting on network calls, since the trade-off there is memory and start-up cost.",
    )
    assert not reasoned.thin


# --- planning -------------------------------------------------------------------------


def test_planned_questions_fit_the_duration(bank: QuestionBank) -> None:
    totals = {}
    for minutes in (10, 20, 30):
        plan = InterviewPlan("product_manager", "mixed", "medium", minutes * 60, seed=3)
        script = InterviewScript(plan, bank, FakeClock())
        planned = script.planned_questions
        assert script.questions_total == len(planned) >= 1
        assert sum(expected_time_s(q) for q in planned) <= minutes * 60 - CLOSING_RESERVE_S
        assert len({q.id for q in planned}) == len(planned)
        totals[minutes] = len(planned)
    assert totals[10] < totals[20] < totals[30]


def test_same_plan_gives_the_same_interview(bank: QuestionBank) -> None:
    plan = InterviewPlan("data_analyst", "technical", "hard", 30 * 60, seed=11)
    first = InterviewScript(plan, bank, FakeClock())
    second = InterviewScript(plan, bank, FakeClock())
    assert first.planned_questions == second.planned_questions
    assert first.opening() == second.opening()
    assert first.respond(THIN_ANSWER) == second.respond(THIN_ANSWER)


# --- the conversation, through AgentSession ------------------------------------------


async def test_interviewer_greets_and_asks_the_first_question(bank: QuestionBank) -> None:
    async with interview(bank, persona_id="jordan") as iv:
        first = iv.script.planned_questions[0]
        assert iv.opening.startswith(PERSONAS["jordan"].greeting)
        assert iv.opening.endswith(first.text)
        (asked,) = iv.script.asked
        assert (asked.seq, asked.source, asked.bank_question_id) == (1, "bank", first.id)
        assert asked.persona == "jordan"
        assert asked.asked_at == iv.clock.now
        assert iv.utterances[-1].kind == "opening"
        assert iv.utterances[-1].question == asked
        assert not iv.utterances[-1].closing


async def test_thin_answer_gets_a_follow_up_for_the_missing_example(bank: QuestionBank) -> None:
    async with interview(bank) as iv:
        first = iv.script.planned_questions[0]
        reply = await iv.say(THIN_ANSWER)

        assert reply.startswith(PERSONAS["alex"].follow_up_lead)
        assert "specific example" in reply
        assert "result" in reply
        probes = [p.rstrip("?").lower()[1:] for p in first.follow_up]
        assert any(p in reply.lower() for p in probes), "the probe comes from the bank"
        assert first.text not in reply

        follow_up = iv.script.asked[-1]
        assert follow_up.source == "follow_up"
        assert follow_up.bank_question_id == first.id
        assert follow_up.seq == 2
        assert iv.utterances[-1].kind == "follow_up"


async def test_answer_without_outcome_is_asked_for_the_result(bank: QuestionBank) -> None:
    async with interview(bank) as iv:
        reply = await iv.say(NO_OUTCOME_ANSWER)
        assert iv.utterances[-1].kind == "follow_up"
        assert "What was the result?" in reply
        assert "specific example" not in reply


async def test_rich_star_answer_moves_to_the_next_question(bank: QuestionBank) -> None:
    async with interview(bank) as iv:
        second = iv.script.planned_questions[1]
        reply = await iv.say(STAR_ANSWER)

        assert reply.endswith(second.text)
        assert not reply.startswith(PERSONAS["alex"].follow_up_lead)
        assert [a.source for a in iv.script.asked] == ["bank", "bank"]
        assert iv.script.asked[-1].bank_question_id == second.id


async def test_acknowledgements_vary_between_questions(bank: QuestionBank) -> None:
    async with interview(bank, duration_s=30 * 60) as iv:
        acks = []
        for index in range(1, 4):
            reply = await iv.say(STAR_ANSWER)
            question = iv.script.planned_questions[index]
            assert reply.endswith(question.text)
            acks.append(reply[: -len(question.text)].strip())
        assert all(ack in PERSONAS["alex"].acknowledgements for ack in acks)
        assert len(set(acks)) == 3


async def test_at_most_one_follow_up_per_question(bank: QuestionBank) -> None:
    async with interview(bank) as iv:
        first, second = iv.script.planned_questions[:2]
        await iv.say(THIN_ANSWER)
        assert iv.utterances[-1].kind == "follow_up"

        reply = await iv.say(THIN_ANSWER)
        assert iv.utterances[-1].kind == "question"
        assert reply.endswith(second.text)
        sources = [(a.source, a.bank_question_id) for a in iv.script.asked]
        assert sources == [("bank", first.id), ("follow_up", first.id), ("bank", second.id)]

        await iv.say(THIN_ANSWER)
        assert iv.utterances[-1].kind == "follow_up"
        assert iv.script.asked[-1].bank_question_id == second.id


async def test_candidate_can_ask_to_hear_the_question_again(bank: QuestionBank) -> None:
    async with interview(bank) as iv:
        first = iv.script.planned_questions[0]
        for request in ("Sorry, can you repeat the question?", "Could you say that again?"):
            reply = await iv.say(request)
            assert reply == f"Of course. {first.text}"
            assert iv.utterances[-1].kind == "repeat"
            assert iv.utterances[-1].question == iv.script.asked[0]
        assert len(iv.script.asked) == 1

        follow_up = await iv.say(THIN_ANSWER)
        reply = await iv.say("pardon?")
        assert reply == f"Of course. {iv.script.asked[-1].text}"
        assert iv.script.asked[-1].text in follow_up


async def test_empty_answer_gets_a_gentle_nudge(bank: QuestionBank) -> None:
    async with interview(bank) as iv:
        first = iv.script.planned_questions[0]
        assert await iv.say("um, uh") == NUDGE_TEXT
        assert iv.utterances[-1].question is None
        assert await iv.say("yes please") == f"Of course. {first.text}"

        assert await iv.say("") == NUDGE_TEXT
        assert "take your time" in (await iv.say("no")).lower()
        assert len(iv.script.asked) == 1

        assert (await iv.say(STAR_ANSWER)).endswith(iv.script.planned_questions[1].text)


@pytest.mark.parametrize("heard", ["as to. Oops. 3.", "Sing.", "Um, the, uh."])
async def test_mumbling_is_not_taken_for_an_answer(bank: QuestionBank, heard: str) -> None:
    async with interview(bank) as iv:
        assert await iv.say(heard) == NUDGE_TEXT
        assert len(iv.script.asked) == 1 and iv.utterances[-1].question is None


@pytest.mark.parametrize(
    ("heard", "reply", "kind"),
    [(heard, MIC_CHECK_TEXT, "mic_check") for heard in (
        "Testing, one, two, three.", "Can you hear me?", "Hello? Is this on?", "Hello? Hello?",
        "Um, hi, can you hear me okay?", "Is this working?", "Sorry, am I coming through?",
        "Two, three.", "One, two, three, four.")]
    # Candidates greet the interviewer back after the opening; that is no answer to question 1.
    + [(heard, reply, "pleasantry") for heard, reply in (
        ("Hello, nice to meet you.", "Nice to meet you too."),
        ("Hi! It's great to meet you too.", "Nice to meet you too."),
        ("Thank you so much for having me.", "It's a pleasure."),
        ("Um, thanks, I'm glad to be here.", "It's a pleasure."),
        ("Good morning! How are you doing today?", "I'm well, thank you."),
        ("Hi, I'm good, thanks. How are you?", "I'm well, thank you."),
        ("Good afternoon.", "Good afternoon."),
        ("Hey there.", "Hello."))],
)
async def test_a_mic_check_or_greeting_is_answered_and_the_question_said_again(
    bank: QuestionBank, heard: str, reply: str, kind: str
) -> None:
    async with interview(bank) as iv:
        first = iv.script.planned_questions[0]
        assert await iv.say(heard) == f"{reply} {first.text}"
        assert iv.utterances[-1].kind == kind and iv.utterances[-1].question is None
        assert len(iv.script.asked) == 1
        # The interview goes on as before: the next answer is answered, not taken for a "yes".
        assert (await iv.say(STAR_ANSWER)).endswith(iv.script.planned_questions[1].text)


@pytest.mark.parametrize(
    "said",
    ["Hello, I'm Sam, and I studied biochemistry before moving into data engineering.",
     "Can you hear the difference between a team that trusts its lead and one that does not?",
     "Testing was the part of the release I owned, so I wrote the integration suite.",
     "Two, three times.", "Three.", "Two, four."],
)
def test_an_answer_that_mentions_hearing_or_testing_is_no_mic_check(said: str) -> None:
    assert not is_mic_check(said)


@pytest.mark.parametrize(
    "said",
    ["Thank you. In my last role I led the migration of our billing system to a new provider.",
     "Nice to meet you. I think the key thing is patient safety.",
     "Thanks, that is a hard question about ethics.",
     "I'm good at breaking problems down, and I did that at my last job."],
)
def test_an_answer_that_opens_with_a_pleasantry_is_an_answer(said: str) -> None:
    assert pleasantry_reply(said) is None


async def test_a_terse_answer_is_still_an_answer(bank: QuestionBank) -> None:
    async with interview(bank) as iv:
        await iv.say("I led the database migration.")
        assert iv.utterances[-1].kind == "follow_up"


async def test_time_up_closes_the_interview(bank: QuestionBank) -> None:
    async with interview(bank, duration_s=10 * 60) as iv:
        iv.clock.advance(10 * 60)
        # even a request that is normally answered in place ends the interview now
        reply = await iv.say("Sorry, could you repeat the question?")

        assert reply == PERSONAS["alex"].closing
        assert iv.utterances[-1].closing
        assert iv.utterances[-1].kind == "closing"
        assert iv.script.finished
        asked_before = len(iv.script.asked)

        after = await iv.say("Thanks! One more thing about my answer...")
        assert iv.utterances[-1].closing
        assert iv.utterances[-1].kind == "ended"
        assert after != PERSONAS["alex"].closing
        assert len(iv.script.asked) == asked_before


async def test_no_new_question_when_it_would_not_fit(bank: QuestionBank) -> None:
    async with interview(bank, duration_s=20 * 60) as iv:
        second = iv.script.planned_questions[1]
        # leave less than the next question needs, but enough for a wrap-up
        iv.clock.advance(20 * 60 - expected_time_s(second) + 1)
        assert iv.script.remaining_s() >= WRAP_UP_MIN_S

        reply = await iv.say(STAR_ANSWER)
        assert reply.endswith(WRAP_UP_TEXT)
        assert iv.utterances[-1].kind == "wrap_up"
        assert not iv.utterances[-1].closing
        assert len(iv.script.asked) == 1

        reply = await iv.say("No, that's everything, thank you.")
        assert reply == PERSONAS["alex"].closing
        assert iv.utterances[-1].closing


async def test_no_follow_up_and_closing_when_almost_out_of_time(bank: QuestionBank) -> None:
    async with interview(bank, duration_s=10 * 60) as iv:
        iv.clock.advance(10 * 60 - 30)
        reply = await iv.say(THIN_ANSWER)
        assert reply == PERSONAS["alex"].closing
        assert iv.utterances[-1].closing
        assert [a.source for a in iv.script.asked] == ["bank"]


async def test_a_whole_interview_keeps_to_its_plan(bank: QuestionBank) -> None:
    async with interview(
        bank,
        role_track="medical_school_mmi",
        round_type="mmi",
        persona_id="dr_patel",
        duration_s=10 * 60,
    ) as iv:
        planned = iv.script.planned_questions
        for _ in range(30):
            if iv.script.finished:
                break
            iv.clock.advance(60)
            await iv.say(STAR_ANSWER)
        assert iv.script.finished
        assert iv.utterances[-1].text == PERSONAS["dr_patel"].closing
        bank_ids = [a.bank_question_id for a in iv.script.asked if a.source == "bank"]
        assert bank_ids[: len(planned)] == [q.id for q in planned]
        assert len(bank_ids) == len(set(bank_ids))
        assert iv.clock.now - 1_000.0 <= 10 * 60 + 60


# --- a one-question practice session ------------------------------------------------

PRACTICE_ID = "tech-data-where-vs-having"  # a technical data-analyst question
REASONED_ANSWER = (
    "WHERE filters individual rows before they are grouped, while HAVING filters the groups "
    "after aggregation, because the aggregate does not exist yet when WHERE runs. For example "
    "I would use WHERE to keep only last year's orders and HAVING to keep customers whose "
    "total is above one hundred, so the trade-off is doing cheap row filters first."
)


def test_practice_plan_holds_just_that_question_whatever_the_round(bank: QuestionBank) -> None:
    plan = InterviewPlan(
        "software_engineer", "behavioral", "hard", 30 * 60, seed=7, practice_question_id=PRACTICE_ID
    )
    script = InterviewScript(plan, bank, FakeClock())

    assert script.practice
    assert script.planned_questions == (bank.get(PRACTICE_ID),)
    assert script.questions_total == 1
    assert script.tailored_opener is None


async def test_practice_session_greets_briefly_asks_and_closes(bank: QuestionBank) -> None:
    async with interview(bank, practice_question_id=PRACTICE_ID, duration_s=30 * 60) as iv:
        question = bank.get(PRACTICE_ID)
        assert iv.opening == f"Hi, I'm Alex. {PRACTICE_INTRO_TEXT} {question.text}"

        reply = await iv.say(REASONED_ANSWER)

        assert reply.endswith(PRACTICE_CLOSING_TEXT)
        assert iv.utterances[-1].closing and iv.utterances[-1].kind == "closing"
        assert iv.script.finished
        assert [(a.source, a.bank_question_id) for a in iv.script.asked] == [("bank", PRACTICE_ID)]


async def test_practice_thin_answer_gets_one_follow_up_then_closes(bank: QuestionBank) -> None:
    async with interview(bank, practice_question_id=PRACTICE_ID, persona_id="jordan") as iv:
        reply = await iv.say("They both filter things.")
        assert iv.utterances[-1].kind == "follow_up"
        assert reply.startswith(PERSONAS["jordan"].follow_up_lead)

        reply = await iv.say("They both filter things, I am not sure.")

        assert reply.endswith(PRACTICE_CLOSING_TEXT)
        assert iv.script.finished
        assert [a.source for a in iv.script.asked] == ["bank", "follow_up"]


def test_unknown_practice_question_falls_back_to_the_full_plan(
    bank: QuestionBank, caplog: pytest.LogCaptureFixture
) -> None:
    unknown = "jane.doe@example.com"
    full = InterviewPlan("software_engineer", "behavioral", "medium", 20 * 60, seed=7)
    plan = InterviewPlan(
        "software_engineer", "behavioral", "medium", 20 * 60, seed=7, practice_question_id=unknown
    )

    with caplog.at_level(logging.WARNING, logger="agent.interviewer"):
        script = InterviewScript(plan, bank, FakeClock())

    assert not script.practice
    assert script.planned_questions == InterviewScript(full, bank, FakeClock()).planned_questions
    assert len(script.planned_questions) > 1
    (record,) = [r for r in caplog.records if r.name == "agent.interviewer"]
    assert record.levelno == logging.WARNING
    assert unknown not in caplog.text
    assert unknown not in str(vars(record))


# --- tailoring to the CV and job description -----------------------------------------

SRE_JD = (
    "Site reliability engineer: you will run Kubernetes in production, join the on-call "
    "rotation and lead incident response for outages."
)
SRE_CV = (
    "Jane Doe\n"
    "jane.doe@example.com | +44 7700 900123 | github.com/JaneDoe42\n"
    "Backend engineer since 2019. Ran our payments platform on Kubernetes and Terraform, "
    "and led incident response for the on-call team.\n"
)


def test_job_description_puts_a_matching_question_first(bank: QuestionBank) -> None:
    matching = "beh-swe-production-incident"
    plain = InterviewPlan("software_engineer", "behavioral", "medium", 20 * 60, seed=0)
    tailored = InterviewPlan(
        "software_engineer", "behavioral", "medium", 20 * 60, seed=0, jd_text=SRE_JD
    )

    before = InterviewScript(plain, bank, FakeClock()).planned_questions
    after = InterviewScript(tailored, bank, FakeClock()).planned_questions

    assert before[0].id != matching  # so the job description is what moves it
    assert after[0].id == matching
    assert after == InterviewScript(tailored, bank, FakeClock()).planned_questions
    assert all(q.difficulty == "medium" for q in after)


async def test_cv_opener_follows_the_greeting_then_the_plan_goes_on(bank: QuestionBank) -> None:
    async with interview(bank, cv_text=SRE_CV, jd_text=SRE_JD, duration_s=20 * 60) as iv:
        opener = iv.script.tailored_opener
        assert opener == (
            "I see Kubernetes on your CV. Tell me about a time you used it and what came of it."
        )
        assert iv.opening == f"{PERSONAS['alex'].greeting} {opener}"
        (asked,) = iv.script.asked
        assert (asked.seq, asked.source, asked.bank_question_id) == (1, "follow_up", "")
        planned = iv.script.planned_questions
        assert sum(expected_time_s(q) for q in planned) <= 20 * 60 - CLOSING_RESERVE_S - OPENER_TIME_S

        reply = await iv.say(THIN_ANSWER)  # no follow-up on the opener, even for a thin answer

        assert reply.endswith(planned[0].text)
        assert [(a.seq, a.source) for a in iv.script.asked] == [(1, "follow_up"), (2, "bank")]
        assert iv.script.questions_total == len(planned)


async def test_no_cv_means_no_opener(bank: QuestionBank) -> None:
    async with interview(bank, jd_text=SRE_JD) as iv:
        assert iv.script.tailored_opener is None
        assert iv.opening == f"{PERSONAS['alex'].greeting} {iv.script.planned_questions[0].text}"
        assert [a.source for a in iv.script.asked] == ["bank"]


# --- the LLM adapter ------------------------------------------------------------------


def _chat(*turns: tuple[str, str]) -> ChatContext:
    ctx = ChatContext.empty()
    ctx.add_message(role="system", content="instructions")
    for role, text in turns:
        ctx.add_message(role=role, content=text)  # type: ignore[arg-type]
    return ctx


async def test_reply_streams_one_sentence_per_chunk(bank: QuestionBank) -> None:
    plan = InterviewPlan("sales", "technical", "easy", 600, persona_id="alex", seed=2)
    llm = ScriptedInterviewerLLM(InterviewScript(plan, bank, FakeClock()))
    async with llm.chat(chat_ctx=_chat()) as stream:
        chunks = [c.delta.content async for c in stream if c.delta and c.delta.content]
    text = "".join(chunks)
    assert text.startswith(PERSONAS["alex"].greeting)
    assert len(chunks) == len(split_sentences(text)) >= 4
    assert all(c.strip().endswith((".", "?", "!")) for c in chunks)


async def test_regenerated_turn_replaces_the_earlier_reply(bank: QuestionBank) -> None:
    plan = InterviewPlan("software_engineer", "behavioral", "medium", 1200, seed=7)
    script = InterviewScript(plan, bank, FakeClock())
    llm = ScriptedInterviewerLLM(script)
    opening = (await llm.chat(chat_ctx=_chat()).collect()).text

    # a preemptive reply on an interim transcript, then the real one on the final transcript
    interim = await llm.chat(
        chat_ctx=_chat(("assistant", opening), ("user", "I work well in teams"))
    ).collect()
    assert script.asked[-1].source == "follow_up"
    final = await llm.chat(chat_ctx=_chat(("assistant", opening), ("user", STAR_ANSWER))).collect()

    assert interim.text != final.text
    assert final.text.endswith(script.planned_questions[1].text)
    assert [a.source for a in script.asked] == ["bank", "bank"]
    assert [a.seq for a in script.asked] == [1, 2]


async def test_a_reply_that_was_heard_is_never_taken_back(bank: QuestionBank) -> None:
    # The opening, cut off just after its first sound, can be missing from the chat context
    # (the session keeps what reached the ear). Heard, it stands: the next reply answers what
    # the candidate said instead of greeting them a second time.
    plan = InterviewPlan("software_engineer", "behavioral", "medium", 1200, seed=7)
    script = InterviewScript(plan, bank, FakeClock())
    llm = ScriptedInterviewerLLM(script)
    opening = (await llm.chat(chat_ctx=_chat()).collect()).text
    assert opening.startswith(PERSONAS["alex"].greeting)
    llm.reply_stands()
    reply = (await llm.chat(chat_ctx=_chat(("user", "Sorry, can you repeat that?"))).collect()).text
    assert PERSONAS["alex"].greeting not in reply
    assert reply.endswith(script.planned_questions[0].text) and [a.seq for a in script.asked] == [1]


# --- resuming after a restart -----------------------------------------------------------


def _stored(script: InterviewScript, *, last_answered: bool = True) -> list[PreviousQuestion]:
    """What the database holds for a script's questions so far, as a restart would load it."""
    asked = script.asked
    return [
        PreviousQuestion(
            seq=q.seq,
            text=q.text,
            source=q.source,
            bank_question_id=q.bank_question_id or None,
            answered=last_answered or i < len(asked) - 1,
        )
        for i, q in enumerate(asked)
    ]


def _interrupted(bank: QuestionBank, plan: InterviewPlan, answers: int) -> InterviewScript:
    """A script that opened and had `answers` rich answers before the process went away."""
    clock = FakeClock()
    script = InterviewScript(plan, bank, clock)
    script.opening()
    for _ in range(answers):
        clock.advance(120)
        script.respond(STAR_ANSWER)
    return script


def _first_not_asked(script: InterviewScript, asked_ids: set[str]) -> str:
    """The id of the first planned question not yet asked."""
    return next(q.id for q in script.planned_questions if q.id not in asked_ids)


def _planned_ids(bank: QuestionBank, plan: InterviewPlan) -> list[str]:
    return [q.id for q in InterviewScript(plan, bank, FakeClock()).planned_questions]


def test_resumed_interview_never_asks_a_stored_bank_question_again(bank: QuestionBank) -> None:
    plan = InterviewPlan("software_engineer", "behavioral", "medium", 30 * 60, seed=7)
    before = _interrupted(bank, plan, answers=2)
    stored = _stored(before)
    stored_ids = {q.bank_question_id for q in stored}
    clock = FakeClock()
    script = InterviewScript(plan, bank, clock)

    script.resume(stored, elapsed_s=240)
    opening = script.opening()

    assert script.resumed
    assert opening.text.startswith(RESUME_TEXT)
    assert opening.question is not None and opening.question.seq == stored[-1].seq + 1
    assert opening.question.bank_question_id == _first_not_asked(script, stored_ids)
    asked_after = [opening.question]
    while not script.finished:
        clock.advance(60)
        reply = script.respond(STAR_ANSWER)
        if reply.question is not None:
            asked_after.append(reply.question)
    assert asked_after[-1].seq > asked_after[0].seq
    seqs = [q.seq for q in script.asked]
    assert seqs == list(range(1, len(seqs) + 1))  # stored ones, then new ones, no gap or clash
    new_bank_ids = [q.bank_question_id for q in asked_after if q.source == "bank"]
    assert new_bank_ids and not stored_ids & set(new_bank_ids)
    assert len(new_bank_ids) == len(set(new_bank_ids))


def test_unanswered_last_question_is_asked_again_under_its_stored_seq(bank: QuestionBank) -> None:
    plan = InterviewPlan("software_engineer", "behavioral", "medium", 30 * 60, seed=7)
    before = _interrupted(bank, plan, answers=1)
    stored = _stored(before, last_answered=False)
    clock = FakeClock()
    script = InterviewScript(plan, bank, clock)

    script.resume(stored, elapsed_s=150)
    opening = script.opening()

    assert opening.text == f"{RESUME_TEXT} {stored[-1].text}"
    assert opening.question is not None
    assert (opening.question.seq, opening.question.bank_question_id) == (
        stored[-1].seq,
        stored[-1].bank_question_id,
    )
    assert [q.seq for q in script.asked] == [q.seq for q in stored]  # nothing new recorded
    clock.advance(60)
    reply = script.respond(STAR_ANSWER)
    assert reply.question is not None and reply.question.seq == stored[-1].seq + 1
    assert reply.question.bank_question_id not in {q.bank_question_id for q in stored}


def test_thin_answer_to_the_repeated_question_still_gets_its_follow_up(bank: QuestionBank) -> None:
    plan = InterviewPlan("software_engineer", "behavioral", "medium", 30 * 60, seed=7)
    stored = _stored(_interrupted(bank, plan, answers=0), last_answered=False)
    script = InterviewScript(plan, bank, FakeClock())
    script.resume(stored, elapsed_s=30)
    script.opening()

    reply = script.respond(THIN_ANSWER)

    assert reply.kind == "follow_up"
    assert reply.question is not None
    assert (reply.question.seq, reply.question.bank_question_id) == (2, stored[0].bank_question_id)


def test_time_used_before_the_restart_counts_against_the_duration(bank: QuestionBank) -> None:
    plan = InterviewPlan("software_engineer", "behavioral", "medium", 20 * 60, seed=7)
    stored = _stored(_interrupted(bank, plan, answers=1))
    script = InterviewScript(plan, bank, FakeClock())

    script.resume(stored, elapsed_s=600)
    assert script.remaining_s() == pytest.approx(600)

    late = InterviewScript(plan, bank, FakeClock())
    late.resume(stored, elapsed_s=20 * 60 - 30)
    opening = late.opening()
    assert opening.closing and opening.question is None  # no time for another question
    assert late.finished


def test_resumed_interview_with_every_question_asked_winds_down(bank: QuestionBank) -> None:
    plan = InterviewPlan("software_engineer", "behavioral", "medium", 10 * 60, seed=7)
    before = _interrupted(bank, plan, answers=len(_planned_ids(bank, plan)) - 1)
    stored = _stored(before)
    assert set(_planned_ids(bank, plan)) <= {q.bank_question_id for q in stored}
    script = InterviewScript(plan, bank, FakeClock())

    script.resume(stored, elapsed_s=10 * 60 - 40)
    opening = script.opening()

    assert opening.question is None
    assert opening.closing
    assert opening.text.endswith(PERSONAS["alex"].closing)


async def test_resumed_script_opens_through_the_agent_session(bank: QuestionBank) -> None:
    plan = InterviewPlan("software_engineer", "behavioral", "medium", 30 * 60, "alex", 7)
    stored = _stored(_interrupted(bank, plan, answers=1))
    script = InterviewScript(plan, bank, FakeClock())
    script.resume(stored, elapsed_s=200)
    utterances: list[Utterance] = []
    llm = ScriptedInterviewerLLM(script, on_utterance=utterances.append)
    async with AgentSession(llm=llm, vad=None, turn_handling={"turn_detection": "manual"}) as session:
        started = await session.start(InterviewerAgent(plan), capture_run=True)
        assert started is not None
        opening = _only_reply(started)

    assert opening.startswith(RESUME_TEXT)
    assert PERSONAS["alex"].greeting not in opening
    (spoken,) = utterances
    assert spoken.question is not None and spoken.question.seq == stored[-1].seq + 1
