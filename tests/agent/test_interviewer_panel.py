"""Panel interviews in the scripted interviewer: introductions, who asks what, handovers,
follow-ups from another member, resuming, and captions one line per speaker."""

from __future__ import annotations

import pytest

from agent.catalog import PERSONAS
from agent.interviewer import (
    InterviewPlan,
    InterviewScript,
    PreviousQuestion,
    Utterance,
    panel_asker,
)
from agent.question_bank import QuestionBank
from agent.worker import SpeakerCaptions

THIN_ANSWER = "I work well in teams and I always communicate clearly."
STAR_ANSWER = (
    "At my last job our checkout service kept failing during big sales. For example, in "
    "March the error rate hit five percent. I led a small group: we added load tests and "
    "fixed a leaking connection pool. As a result we reduced errors to under 0.1 percent "
    "and the next sale ran without a single incident."
)
PANEL = ("alex", "jordan", "sam")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    return QuestionBank.load()


def panel_script(
    bank: QuestionBank, seed: int = 5, panel: tuple[str, ...] = PANEL, round_type: str = "mixed"
) -> tuple[InterviewScript, FakeClock]:
    clock = FakeClock()
    plan = InterviewPlan(
        "software_engineer", round_type, "medium", 1200, persona_id=panel[0], seed=seed, panel=panel
    )
    return InterviewScript(plan, bank, clock=clock), clock


def run(script: InterviewScript, clock: FakeClock, answers: int) -> list[Utterance]:
    """The opening and the replies to `answers` answers, thin and full in turn."""
    said = [script.opening()]
    for i in range(answers):
        clock.now += 60
        said.append(script.respond(THIN_ANSWER if i % 2 == 0 else STAR_ANSWER))
        if said[-1].closing:
            break
    return said


@pytest.mark.parametrize(
    ("panel", "problem"),
    [
        (("alex",), "a panel has 2 or 3"),
        (("alex", "jordan", "sam", "morgan"), "a panel has 2 or 3"),
        (("alex", "alex"), "distinct"),
        (("alex", "nobody"), "unknown persona"),
        (("jordan", "alex"), "first member"),
    ],
)
def test_a_plan_takes_only_a_real_panel_led_by_its_persona(
    panel: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        InterviewPlan("general", "behavioral", "easy", 600, persona_id="alex", panel=panel)


def test_the_catalog_has_the_five_kinds_of_interviewer() -> None:
    roles = {p.role for p in PERSONAS.values()}
    assert {"Friendly mentor", "Professional HR", "Challenging tech lead", "Hiring manager", "MMI station examiner"} <= roles
    assert (PERSONAS["alex"].role, PERSONAS["dr_patel"].role, PERSONAS["jordan"].role) == (
        "Hiring manager", "MMI station examiner", "Challenging tech lead"
    )
    assert all(p.focus and p.voice.pitch_hz for p in PERSONAS.values())


def test_each_member_introduces_themselves_in_their_own_voice(bank: QuestionBank) -> None:
    script, _ = panel_script(bank)
    opening = script.opening()

    speakers = [part.persona for part in opening.spoken]
    assert speakers[:3] == list(PANEL)
    assert "three of us" in opening.spoken[0].text
    for part in opening.spoken[:3]:
        assert PERSONAS[part.persona].introduction in part.text
    assert opening.question is not None
    assert opening.spoken[-1].persona == opening.question.persona == opening.persona
    assert opening.spoken[-1].text.endswith(opening.question.text)
    assert opening.text == " ".join(part.text for part in opening.spoken)


def test_questions_go_to_the_member_whose_focus_they_are_in(bank: QuestionBank) -> None:
    script, clock = panel_script(bank)
    run(script, clock, 12)

    bank_asked = [a for a in script.asked if a.source == "bank"]
    first_technical = next(a for a in bank_asked if a.category in ("technical", "system_design"))
    assert first_technical.persona == "jordan"
    first_behavioral = next(a for a in bank_asked if a.category == "behavioral")
    assert first_behavioral.persona in ("alex", "sam")
    assert {a.persona for a in script.asked} == set(PANEL)  # everyone asks something


def test_the_plan_shares_questions_and_takes_turns_outside_anyone_s_focus(bank: QuestionBank) -> None:
    members = tuple(PERSONAS[p] for p in ("jordan", "dr_patel"))
    behavioral = next(q for q in bank.questions if q.category == "behavioral")
    askers: list[str] = []
    for _ in range(4):
        askers.append(panel_asker(members, 4, askers, behavioral).id)
    assert askers == ["jordan", "dr_patel", "jordan", "dr_patel"]  # nobody's focus: turns

    technical = next(q for q in bank.questions if q.category == "technical")
    askers = []
    for _ in range(4):
        askers.append(panel_asker(members, 4, askers, technical).id)
    assert askers == ["jordan", "jordan", "dr_patel", "dr_patel"]  # jordan's, up to a fair share


def test_a_new_asker_is_handed_the_candidate_by_the_one_talking(bank: QuestionBank) -> None:
    script, clock = panel_script(bank)
    said = run(script, clock, 12)

    handovers = 0
    for before, after in zip(said, said[1:]):
        if after.question is None or after.kind != "question":
            continue
        if after.question.persona != before.persona:
            handovers += 1
            outgoing, incoming = after.spoken
            assert outgoing.persona == before.persona
            name = PERSONAS[incoming.persona].name
            assert f"I'll hand you to {name} for" in outgoing.text or f"Back to you, {name}." in outgoing.text
            assert incoming.text == after.question.text
        else:
            assert len(after.spoken) == 1
    assert handovers >= 2


def test_another_member_sometimes_asks_the_follow_up_by_the_seed(bank: QuestionBank) -> None:
    crossed_by_seed = {}
    for seed in range(12):
        script, clock = panel_script(bank, seed=seed)
        said = run(script, clock, 6)
        bank_askers = {a.bank_question_id: a.persona for a in script.asked if a.source == "bank"}
        crossed_by_seed[seed] = [
            u for u in said
            if u.kind == "follow_up" and u.question.persona != bank_askers[u.question.bank_question_id]
        ]
    crossed = [seed for seed, follow_ups in crossed_by_seed.items() if follow_ups]
    assert 0 < len(crossed) < 12  # now and then, not always
    follow_up = crossed_by_seed[crossed[0]][0]
    assert follow_up.text.startswith("If I may come in here,")
    assert [p.persona for p in follow_up.spoken] == [follow_up.question.persona]

    again, clock = panel_script(bank, seed=crossed[0])  # the same seed, the same plan
    run(again, clock, 6)
    script, clock = panel_script(bank, seed=crossed[0])
    run(script, clock, 6)
    assert [(a.seq, a.text, a.persona) for a in again.asked] == [
        (a.seq, a.text, a.persona) for a in script.asked
    ]


def test_a_panel_resumes_with_the_same_askers(bank: QuestionBank) -> None:
    original, clock = panel_script(bank, seed=7)
    run(original, clock, 3)
    previous = [
        PreviousQuestion(a.seq, a.text, a.source, a.bank_question_id or None, answered=True, persona=a.persona)
        for a in original.asked
    ]
    elapsed_s = clock.now - 1_000.0
    resumed, resumed_clock = panel_script(bank, seed=7)
    resumed.resume(previous, elapsed_s)
    resumed_clock.now = clock.now

    welcome = resumed.opening()
    clock.now += 60
    resumed_clock.now += 60
    carried_on = original.respond(STAR_ANSWER)

    assert [a.persona for a in resumed.asked[: len(previous)]] == [p.persona for p in previous]
    assert welcome.question.bank_question_id == carried_on.question.bank_question_id
    assert welcome.question.persona == carried_on.question.persona
    assert welcome.spoken[0].persona == previous[-1].persona  # who was talking welcomes them back
    assert welcome.text.startswith("Welcome back")


def test_one_interviewer_speaks_as_before(bank: QuestionBank) -> None:
    plan = InterviewPlan("software_engineer", "mixed", "medium", 1200, persona_id="jordan", seed=5)
    script = InterviewScript(plan, bank, clock=FakeClock())
    opening = script.opening()
    assert opening.parts == ()
    assert opening.persona == "jordan" and opening.spoken[0].text == opening.text
    assert opening.text.startswith(PERSONAS["jordan"].greeting)
    assert [p.text for p in script.prepared_speech] == list(script.prepared_lines)
    assert {p.persona for p in script.prepared_speech} == {"jordan"}


def test_panel_captions_are_one_line_per_speaker(bank: QuestionBank) -> None:
    script, clock = panel_script(bank)
    script.opening()
    clock.now += 60
    reply = script.respond(STAR_ANSWER)
    while len(reply.spoken) < 2:  # a handover
        clock.now += 60
        reply = script.respond(STAR_ANSWER)
    captions = SpeakerCaptions("alex")
    captions.said(reply)

    words = reply.text.split(" ")
    events = [c for i, w in enumerate(words) for c in captions.delta(w if i == 0 else f" {w}")]
    events += captions.final()

    lines = [(c.persona, c.text) for c in events if c.final]
    assert lines == [(p.persona, p.text) for p in reply.spoken]
    assert all(c.persona_name == PERSONAS[c.persona].name for c in events)
    assert "".join(c.text for c in events if not c.final) == reply.text

    captions.delta("Take your time.")  # a prompt between replies: the one talking says it
    (prompt,) = captions.final()
    assert prompt.persona == reply.persona
