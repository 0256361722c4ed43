"""Turn-taking: what an answer so far says, how long a pause may last, yields and habits."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from agent.question_bank import QuestionBank
from agent.turn_taking import (
    ENDING_GAP_S,
    HELD_JOIN_GAP_S,
    Opening,
    PauseHabits,
    Reading,
    TurnTaker,
    TurnTakingSettings,
    hold_for,
    join_ending,
    read_answer,
)

SETTINGS = TurnTakingSettings()
STORY = (
    "In my last job our checkout kept timing out during sales. I was the engineer on call, so I "
    "profiled the service and found a missing index on the orders table."
)
RESULT = " As a result, pages loaded sixty percent faster and we kept the launch date."


@pytest.fixture(scope="module")
def behavioral():
    bank = QuestionBank.load()
    return next(q for q in bank.questions if q.category == "behavioral")


@pytest.mark.parametrize(
    "answer",
    [
        "In my last job I led a team of four and",
        "So the first thing I did was, um",
        "I talked to my manager because...",
        "We were behind schedule, so",
        "The problem was that the",
        "I organised a short meeting every morning,",
    ],
)
def test_a_trailing_conjunction_filler_or_unfinished_sentence_means_more_is_coming(answer: str, behavioral) -> None:
    assert read_answer(answer, behavioral).state == "continuing"


@pytest.mark.parametrize(
    ("last", "state"),
    [
        ("So we moved the job to.", "continuing"),  # Whisper's full stop where the speaker stopped
        ("And the reason was the.", "continuing"),
        ("I was the one who had to explain it because.", "continuing"),
        ("We finally fixed the problem we were stuck on.", "open"),  # a word that may end a sentence
        ("If the cache loses everything, services have to survive that.", "open"),
        ("So yeah, something like that.", "complete"),  # a phrase that ends where "that" does
        ("So yeah, that's the one I'm proudest of.", "complete"),  # "of" ends a wrap-up
        # a clause that ends on its verb ("what the job actually is") ends the sentence
        ("So, basically, shorter, clearer, and honest about what the job actually is.", "likely"),
        ("And the main problem with the job is.", "continuing"),
    ],
)
def test_a_full_stop_after_a_word_that_goes_on_waits_as_long_as_that_word_may_end_a_sentence(
    last: str, state: str, behavioral
) -> None:
    assert read_answer(STORY + RESULT + " " + last, behavioral).state == state


def test_a_story_without_its_result_is_open_and_with_it_complete(behavioral) -> None:
    assert read_answer(STORY, behavioral).state == "open"
    assert read_answer(STORY + RESULT, behavioral).state == "complete"


def test_a_story_that_meets_the_rubric_but_ends_elsewhere_is_only_likely(behavioral) -> None:
    answer = STORY + RESULT + " My manager thanked the whole team for the effort."
    assert read_answer(answer, behavioral).state == "likely"


@pytest.mark.parametrize(
    "last",
    [
        "I think I would have to report it, because patient safety has to come first.",
        "So I would put the patient's safety first.",
        "And the end we merged the two designs and shipped the interface a week early.",  # Whisper's "in the end"
    ],
)
def test_a_stated_priority_or_a_misheard_in_the_end_closes_the_answer(last: str, behavioral) -> None:
    assert read_answer(STORY + " " + last, behavioral).state == "complete"


@pytest.mark.parametrize(
    "last",
    [
        "So yeah.",
        "That's about it.",
        "That's pretty much all.",
        "That's what I would do.",
        "The posts about testing really stood out.",
        "That change made a big difference to the whole team.",
        "I'm really proud of what we built.",
        "Thank you.",
        "All right, thanks.",  # heard from a person closing a recording
        "And I should be all, thanks.",  # the same person, misheard
        "So that was my approach, thank you.",
        "Thanks so much.",
        "That should be all.",
        "I hope that answers your question.",
        "Does that answer your question?",
        "So that's what I did.",
        "And that was my experience.",
        "I think that's everything.",
        "I'd do the same again.",
        "I'm really glad I did.",
        # handing the turn back, whatever came before
        "Does that make sense?",
        "Do you want me to go deeper on any part?",
        "There's more, but I'll stop there.",
        "So yeah, something like that.",
        "So, um, yeah.",
        "And yeah...",  # trailing off
        "Yeah, that's roughly it.",
        "That's the main one.",
        "So that's my pick.",
        "Hopefully that helps.",
        "Sorry, that was a long answer.",
        "Sorry for rambling.",
        "I guess that's where I land.",
        "Yeah, that's about it at a high level.",
        "I guess that's the high level.",
        "Sorry, I've gone on a bit there.",
        "Sorry, I jumped around a lot there.",
        "I get a bit carried away with that one.",  # after "Sorry, that was a long answer."
        "I hope that was, that was easy enough to follow.",
        "I'm sure I've missed things.",
        # a question or an offer to the interviewer
        "Um, is that, is that the kind of example you were looking for?",
        "Does that scale sound about right, or were you thinking much bigger?",
        "Do you have any data on the reason codes?",
        "Sorry, is it okay if I ask, was I meant to focus more on the ethics?",
        "I can go into how I'd read the heap diff, if that's helpful.",
        "I can go deeper on the feature side or the evaluation if you want.",
        "I can go more into the ingestion side, if you're interested in that part also.",
        "I can go into more detail on the consent side. If that's helpful.",  # as tiny.en heard it
        "If you want, I can walk you through the numbers.",
        "I can, I can write it out if you want.",  # a restart
        "I can go deeper on the feature store or the retraining, whichever's more interesting.",
        "So yeah, that's, that's kind of me in a nutshell.",
        "Yeah, I think that's the core of it.",
        "That's, that's the shape I'd go with.",
        "I think that's, yeah.",
        "That is the main idea.",  # after "Sorry, I think I am going a bit long."
        "Sorry, I think I am going a bit long.",
        "Sorry, I could honestly talk about climbing for ages.",
        # a reflection on the story told
        "I think that comes from working support shifts early in my career.",
        # a present habit after a past story
        "So now I try to tell people earlier.",
        "I'm still working on it.",
        "I also ask for feedback early now.",
        "It was cheaper, so that worked out.",
        "Looking back, I should have asked sooner.",
        # writers 6 and 8 (thirty-second session)
        "So, yeah, measure first, don't guess. That's roughly where I'd start.",
        "So yeah, that's basically how I do it.",
        "Yeah, I guess those are the main ones.",
        "Maybe fund it in specific cases, if that makes sense.",
        "Sorry, I think I went on a bit there.",
        "Should I go deeper on the ranking or on the infrastructure side?",
        "I can break that down further or look at the costs of the fixes if you want.",
        "Is there a specific consistency you are thinking, like is it financial data or more like catalogue?",
        "So, on balance, no, I don't think they should be fined.",
        "So if I had to pick, retention and communication first, and take the time to do pay properly.",
        "Board pack went out on time and nobody was surprised, which was kind of the point.",
        "And that's something I'd want to carry into medicine.",
    ],
)
def test_how_people_close_out_loud_closes_the_answer(last: str, behavioral) -> None:
    assert read_answer(STORY + RESULT + " My manager thanked the whole team. " + last, behavioral).state == "complete"


@pytest.mark.parametrize(
    "last",
    [
        "Yeah, so the deadline was two weeks away.",
        "Yeah.",  # how Whisper often writes a hesitant "uh"
        "Um, yeah.",
        "Thanks to her, the launch went ahead.",  # "thanks" opening a sentence that goes on
        "That should be easy, I thought.",
        "I asked what we did about the backlog.",  # not "that's what we did"
        "I was proud of my part, but my manager did not agree.",
        "My manager thanked me for raising it.",
        "She looked at me and said, thank you.",  # a thank-you reported, not said to the interviewer
        "I won't make that mistake.",  # not "I won"
        "It was up to me, and it went up to me to find out why.",  # not "it went up"
        # words that often close, used here for the story's middle
        "She tried to sort out a placement, and it still fell through.",  # not a present habit
        "He didn't always show up.",
        "A lot of people use the app now, so some branches are almost empty.",
        "She stopped walking on her own by the end of the first week.",  # dates a scene
        "People were working weekends, I'd say for two months.",  # an estimate
        "Conversion fell from 82 to 76%, and the VP wanted a rolling average.",  # a figure, not a change
        "They got it, I think.",
        "Are the buses on time?",
        "Did it help? Not really.",  # a story asking itself
        "I didn't have any questions.",
        "I said sorry for the long wait, and she calmed down.",
        "I worked out the cost of keeping it, which was one engineer full time.",
        "When you look at the stars, you're actually looking back in time.",
        # a question that is no question to the interviewer: the generic "you", a story's
        "If it were your sister, would she want you to see her whole record?",
        "So let me ask, when did you last sign something important?",
        "She asked me, do you want to take the lead?",
        "If that's helpful for the team, we keep it.",  # a condition, no offer
        "And processes if you need isolation, or threads for IO bound work.",
        "If it helps the patient and it's cheap and it's low risk, why not.",
        # a question asked, to be answered next, whatever figure it holds
        "So if we convert 10% more people and lose 5% more, are we still up in absolute users?",
        "And waste, like pastries you bake and throw away at the end of the day.",  # the idiom closes
        # a position stated first, its reasons to come; a step of a sum worked out aloud
        "On balance, I think yes, there should be a minimum price.",
        "I'd say maybe, what, half buy out, and those people buy maybe 3 times a week.",
        "So I asked myself, should I go deeper into the logs? I did.",  # a question the story asks
    ],
)
def test_words_that_only_sound_like_a_close_do_not_close(last: str, behavioral) -> None:
    assert read_answer(STORY + RESULT + " " + last, behavioral).state == "likely"


@pytest.mark.parametrize(
    "opinion",
    [
        "So I think it's good, as long as it comes with a lot of public awareness and talking to families.",
        "Honestly you'll probably lose some of your current reps, which is fine.",
        "I think there are good arguments on both sides.",
    ],
)
def test_an_opinion_said_with_i_think_closes_nothing_without_a_story_before_it(opinion: str, behavioral) -> None:
    """An opinion answer says "I think" all the way through: the sentence after one of them is no
    surer an end than any other. After a story told in the past, a reflection sums it up."""
    answer = (
        "Opt out donation means everyone is a donor unless they say no. The main argument for it is "
        "that more organs become available, and people on waiting lists die every day. The argument "
        "against is consent, because silence is not the same as saying yes. "
    )
    assert read_answer(answer + opinion, behavioral).state == "likely"


def test_a_first_step_is_no_priority(behavioral) -> None:
    assert read_answer(STORY + RESULT + " For the rollout, new customers go on usage pricing first.", behavioral).state == "open"
    assert read_answer(STORY + RESULT + " Patient safety has to come first.", behavioral).state == "complete"


def test_a_yeah_that_opens_the_answer_hands_nothing_back(behavioral) -> None:
    assert read_answer("Yeah, this happens everywhere, honestly.", behavioral).state != "complete"
    assert read_answer(STORY + " So, yeah.", behavioral).state == "complete"


def test_a_short_answer_that_gives_its_result_is_complete_and_one_that_only_closes_is_likely(behavioral) -> None:
    story = (
        "At my last job our checkout kept timing out, so I profiled it, added a missing index, "
        "and as a result pages loaded sixty percent faster."
    )
    assert read_answer(story, behavioral).state == "complete"
    assert read_answer("I think the result was that the team trusted each other more.", behavioral).state == "likely"
    # A short answer that has only set the scene stays open.
    assert read_answer("At my last job our checkout kept timing out during sales.", behavioral).state == "open"


@pytest.mark.parametrize(
    "said",
    [
        "Thank you.",
        "Okay, thank you.",
        "Um, okay. Thanks for the question.",
        "That's a great question.",
        "Okay. Let me think.",
        "Thank you. That is a tough one. Let me think about that for a second.",
        "Give me a second.",
        "Sure.",
    ],
)
def test_thanks_or_asking_for_time_before_answering_waits_for_the_prompt(said: str, behavioral) -> None:
    # Said alone, before any answer: they are about to think. A reply 2-4 s later would cut in.
    assert read_answer(said, behavioral).state == "continuing"


def test_asking_for_time_inside_an_answer_waits_and_a_thank_you_after_one_does_not(behavioral) -> None:
    assert read_answer(STORY + " Hmm, let me think how to put the rest.", behavioral).state == "continuing"
    assert read_answer(STORY + RESULT + " Thank you.", behavioral).state == "complete"
    assert read_answer("No, thank you.", behavioral).state != "continuing"  # an answer: no questions


@pytest.mark.parametrize(
    "said", ["Hello? Can you hear me?", "Testing, one, two, three.", "two three", "Is this working?", "Can you hear me okay"]
)
def test_a_mic_check_is_answered_at_once(said: str, behavioral) -> None:
    # A candidate who asks whether they are heard and meets seconds of silence thinks it broken.
    assert read_answer(said, behavioral).state == "complete"


def test_asking_for_time_then_answering_in_the_same_sentence_is_an_answer(behavioral) -> None:
    # The request is followed by what they thought of: the sentence reads as any other.
    assert read_answer(STORY + " It took us, let me see, about two months.", behavioral).state != "continuing"
    assert read_answer(STORY + RESULT + " Let me think, that was the hardest week I had.", behavioral).state != "continuing"
    # Still asking: nothing after the request but a filler, or only what they are thinking about.
    assert read_answer(STORY + " Let me think, um.", behavioral).state == "continuing"
    assert read_answer(STORY + RESULT + " Hmm, let me see.", behavioral).state == "continuing"
    assert read_answer(STORY + " Give me a second to put the rest in order.", behavioral).state == "continuing"


def test_first_as_the_first_of_several_steps_still_opens(behavioral) -> None:
    assert read_answer(STORY + RESULT + " I would talk to my friend first.", behavioral).state == "open"
    assert read_answer(STORY + RESULT + " I would first make sure she understands the risks.", behavioral).state == "open"


def test_one_sentence_that_tells_a_whole_story_is_not_just_its_opening(behavioral) -> None:
    whole = (
        "When I joined my current team the onboarding docs were stale, so I rewrote them over "
        "two weeks, and the next three hires were productive within days."
    )
    assert read_answer(whole, behavioral).state == "likely"
    # The same opening that only sets the scene is still an opening.
    assert read_answer("When I joined my current team, the onboarding docs were stale.", behavioral).state == "open"


def test_holds_grow_with_doubt_and_a_continuing_answer_waits_for_the_prompt() -> None:
    habits = PauseHabits()

    def hold(state: str) -> float:
        return hold_for(Reading(state, 50, ""), None, habits, SETTINGS)  # type: ignore[arg-type]

    assert hold("complete") < hold("likely") < hold("open") < SETTINGS.prompt_after_s
    assert math.isinf(hold("continuing"))
    assert hold("open") > 3.0  # pauses up to 3 s after an unfinished story are safe


def test_a_confident_audio_close_shortens_the_wait_and_a_doubtful_one_lengthens_it() -> None:
    reading = Reading("complete", 60, "")
    falling = hold_for(reading, 0.95, PauseHabits(), SETTINGS)
    rising = hold_for(reading, 0.05, PauseHabits(), SETTINGS)
    assert falling < SETTINGS.complete_hold_s < rising


def test_the_audio_model_never_shortens_a_likely_over_wait() -> None:
    """A falling close before a thinking pause sounds like an answer's end: the model may make a
    "likely over" answer wait longer, never shorter than its default."""
    reading = Reading("likely", 60, "")
    assert hold_for(reading, 0.95, PauseHabits(), SETTINGS) == SETTINGS.likely_hold_s
    assert hold_for(reading, 0.05, PauseHabits(), SETTINGS) > SETTINGS.likely_hold_s


def test_a_speaker_who_resumes_after_final_looking_pauses_gets_longer_waits_up_to_a_cap() -> None:
    habits = PauseHabits()
    reading = Reading("likely", 60, "")
    before = hold_for(reading, None, habits, SETTINGS)
    for pause in (2.5, 2.6, 2.7):
        habits.add("likely", pause)
    after = hold_for(reading, None, habits, SETTINGS)
    assert after == pytest.approx(2.7 + SETTINGS.habit_margin_s) and after > before
    habits.add("likely", 9.0)
    assert hold_for(reading, None, habits, SETTINGS) == SETTINGS.likely_cap_s
    # A pause resumed after a more doubtful reading says nothing about final-looking ones,
    # but one resumed after a complete-looking reading counts for the likely state too.
    other = PauseHabits()
    other.add("open", 3.0)
    assert hold_for(reading, None, other, SETTINGS) == before
    other.add("complete", 3.0)
    assert hold_for(reading, None, other, SETTINGS) == pytest.approx(3.0 + SETTINGS.habit_margin_s)


def test_a_speaker_whose_own_pauses_are_short_is_not_kept_waiting_once_they_are_known() -> None:
    reading = Reading("likely", 60, "")
    habits = PauseHabits()
    default = hold_for(reading, None, habits, SETTINGS)
    for pause in (0.6, 0.9, 1.1, 0.7, 0.8, 1.0, 0.6)[: SETTINGS.learn_after_pauses - 1]:
        habits.add("complete", pause)
    assert hold_for(reading, None, habits, SETTINGS) == default  # too few pauses to go on yet
    habits.add("likely", 0.9)
    learned = hold_for(reading, None, habits, SETTINGS)
    assert learned == pytest.approx(max(SETTINGS.likely_floor_s, 1.1 + SETTINGS.habit_margin_s))  # the longest
    assert learned < default
    # Their pauses after an opening sentence say nothing about how they end an answer.
    opener = PauseHabits()
    for _ in range(12):
        opener.add("open", 0.5)
    assert hold_for(reading, None, opener, SETTINGS) == default
    # One long thinking pause they came back from (the interviewer had cut in), and the wait
    # is the cautious one again.
    habits.add("likely", 3.0)
    assert hold_for(reading, None, habits, SETTINGS) == pytest.approx(min(SETTINGS.likely_cap_s, 3.0 + SETTINGS.habit_margin_s))


def test_an_answer_at_its_time_limit_is_read_as_more_likely_over(behavioral) -> None:
    reading = Reading("open", 200, "")
    short = hold_for(reading, None, PauseHabits(), SETTINGS, answer_s=20, time_limit_s=behavioral.time_limit_s)
    long = hold_for(reading, None, PauseHabits(), SETTINGS, answer_s=behavioral.time_limit_s + 1, time_limit_s=behavioral.time_limit_s)
    assert long < short


class FixedEndOfTurn:
    def __init__(self, probability: float) -> None:
        self.probability = probability
        self.calls = 0

    def predict(self, pcm: np.ndarray) -> float:
        self.calls += 1
        return self.probability


async def test_the_turn_taker_stitches_an_answer_and_yields_when_the_candidate_goes_on(behavioral) -> None:
    yields: list[bool] = []
    pauses: list[str] = []
    eot = FixedEndOfTurn(0.5)
    turns = TurnTaker(
        SETTINGS, question=lambda: behavioral, eot_model=eot,
        on_yield=lambda: yields.append(True), on_pause=pauses.append,
    )
    tail = np.zeros(16000, dtype=np.int16)
    assert not turns.on_speech_start(100.0)
    first = await turns.decide(STORY, 110.0, tail)
    assert first.reading.state == "open" and turns.still_pausing(first)
    assert not turns.on_speech_start(112.5)  # a 2.5 s thinking pause: no yield, a habit noted
    assert turns.habits.resumed["open"] == [2.5]
    second = await turns.decide(RESULT.strip(), 115.0, tail)
    assert second.reading.state == "complete" and turns.answer == STORY + RESULT
    assert pauses == [STORY, STORY + RESULT]  # only states that may end the turn prepare a reply
    turns.end_turn(116.0)
    turns.on_reply_started(116.2)
    assert turns.reply_window_ends_at() == pytest.approx(116.2 + SETTINGS.yield_window_s)
    # They go on half a second into the reply: it yields, and the answer stays open.
    assert turns.on_speech_start(116.7)
    assert yields == [True] and not turns.awaiting_reply
    assert turns.habits.resumed["complete"] == [pytest.approx(1.7)]
    third = await turns.decide("And we kept doing that for a year.", 120.0, tail)
    assert turns.answer.endswith("for a year.")
    assert third.hold_s == pytest.approx(min(SETTINGS.complete_cap_s, 1.7 + SETTINGS.habit_margin_s))
    turns.end_turn(122.0)
    turns.on_reply_started(122.1)
    assert not turns.on_speech_start(122.1 + SETTINGS.yield_window_s + 0.5)  # too late: a barge-in
    turns.confirm_reply()
    assert turns.answer == "" and eot.calls == 3


async def test_a_sound_taken_for_speech_is_taken_back_but_not_once_the_interviewer_yielded(behavioral) -> None:
    turns = TurnTaker(SETTINGS, question=lambda: behavioral)
    turns.heard_interviewer(90.0)
    tail = np.zeros(16000, dtype=np.int16)
    turns.on_speech_start(99.0)  # a cough before the answer: not its start
    assert turns.on_sound() is None
    assert turns._answer_started_at is None and turns.answer == ""
    turns.on_speech_start(100.0)
    first = await turns.decide(STORY, 110.0, tail)
    turns.on_speech_start(111.0)  # a sigh in the pause
    assert not turns.still_pausing(first)
    assert turns.on_sound() is first and turns.still_pausing(first)
    assert turns.habits.resumed == {s: [] for s in turns.habits.resumed}
    assert turns.on_sound() is None  # taken back once
    turns.end_turn(113.0)
    turns.on_reply_started(113.2)
    assert turns.on_speech_start(113.5)  # the interviewer yields at once, sound or not
    assert turns.on_sound() is None and not turns.awaiting_reply


async def test_a_sound_heard_while_a_pause_is_decided_gives_back_no_older_pause(behavioral) -> None:
    # A second listen takes a while; a sigh that starts meanwhile must not, once it proves a
    # sound, give back the pause before (long over: the turn would end at once).
    heard = asyncio.Event()
    release = asyncio.Event()

    async def reread(_audio: np.ndarray) -> str:
        heard.set()
        await release.wait()
        return ""

    turns = TurnTaker(SETTINGS, question=lambda: behavioral, reread=reread)
    tail = np.zeros(16000, dtype=np.int16)
    turns.on_speech_start(100.0)
    first = await turns.decide(STORY + RESULT, 110.0, tail)
    ending = "My manager thanked the whole team for the effort."
    deciding = asyncio.create_task(turns.decide(ending, 120.0, tail, tail.astype(np.float32)))
    await heard.wait()  # the second listen is under way: the sigh starts
    turns.on_speech_start(121.0)
    release.set()
    second = await deciding
    assert second.reading.state == "likely" and first is not second
    assert turns.on_sound() is None


async def test_no_audio_model_is_asked_while_the_sentence_is_unfinished(behavioral) -> None:
    eot = FixedEndOfTurn(0.9)
    turns = TurnTaker(SETTINGS, question=lambda: behavioral, eot_model=eot)
    decision = await turns.decide("So I went to my manager and", 10.0, np.zeros(800, dtype=np.int16))
    assert math.isinf(decision.hold_s) and eot.calls == 0


UNFINISHED = STORY + " and then the team, um, because"  # reads "more is coming"


async def test_a_long_silence_after_substance_asks_once_whether_they_have_more_to_add(behavioral) -> None:
    offers: list[bool] = []
    turns = TurnTaker(SETTINGS, question=lambda: behavioral, on_long_silence=offers.append)
    turns.on_speech_start(1.0)
    await turns.decide("Thank you. Let me think.", 3.0, None)
    turns.long_silence()  # nothing answered yet: time
    turns.on_speech_start(9.0)
    decision = await turns.decide(UNFINISHED, 30.0, None)
    assert math.isinf(decision.hold_s)
    turns.long_silence()  # substance: is there more?
    turns.on_speech_start(36.0)
    await turns.decide("and, um, the", 38.0, None)
    turns.long_silence()  # asked once an answer: time again
    assert offers == [False, True, False]


@pytest.mark.parametrize(
    ("reply", "complete"),
    [
        ("No, that's all.", True),
        ("Not really.", True),
        ("No.", True),
        ("I think I'm done.", True),
        ("No, but one more thing. We also wrote a runbook.", False),
        ("Yes. We also wrote a runbook for the on-call team.", False),
    ],
)
async def test_a_reply_to_the_offer_that_adds_nothing_ends_the_answer_at_once(reply: str, complete: bool, behavioral) -> None:
    turns = TurnTaker(SETTINGS, question=lambda: behavioral)
    turns.on_speech_start(1.0)
    await turns.decide(UNFINISHED, 30.0, None)
    turns.long_silence()
    turns.on_speech_start(36.0)
    assert (await turns.decide("Um.", 36.5, None)).reading.state != "complete"  # a filler first: still asked
    turns.on_speech_start(37.0)
    decision = await turns.decide(reply, 38.0, None)
    assert (decision.reading.state == "complete") == complete, decision.reading
    if complete:
        assert decision.hold_s <= SETTINGS.complete_cap_s


async def test_not_really_is_no_close_unless_they_were_asked(behavioral) -> None:
    turns = TurnTaker(SETTINGS, question=lambda: behavioral)
    turns.on_speech_start(1.0)
    await turns.decide(UNFINISHED, 30.0, None)
    turns.on_speech_start(32.0)
    assert (await turns.decide("Not really.", 33.0, None)).reading.state != "complete"


class Rehearing:
    """A second listen that hears the given words, noting what it was played."""

    def __init__(self, heard: str) -> None:
        self.heard = heard
        self.played: list[int] = []

    async def __call__(self, samples: np.ndarray) -> str:
        self.played.append(len(samples))
        return self.heard


async def test_a_likely_end_heard_again_as_a_close_is_complete_but_waits_longer(behavioral) -> None:
    # Heard first as "…our hosting costs will be deferred." (a garbled close: only likely).
    garbled = "The whole move took three months and our hosting costs will be deferred."
    # The second listen hears the last two utterances together.
    reheard = Rehearing(STORY + RESULT + " The whole move took three months and our hosting costs fell by a third.")
    turns = TurnTaker(SETTINGS, question=lambda: behavioral, reread=reheard)
    await turns.decide(STORY + RESULT, 10.0, None, np.zeros(16000, dtype=np.float32))
    assert reheard.played == []  # complete already: nothing to hear again
    ending = np.zeros(48000, dtype=np.float32)
    decision = await turns.decide(garbled, 20.0, None, ending)
    assert reheard.played == [len(ending)]
    assert decision.reading.state == "complete" and decision.reading.reheard
    assert decision.reading.reason.startswith("heard again")
    assert decision.hold_s == pytest.approx(SETTINGS.reheard_hold_s)
    assert SETTINGS.complete_cap_s < SETTINGS.reheard_hold_s < SETTINGS.likely_hold_s * 0.75
    # What was stored is what was heard first; the second listen only decided the wait.
    assert turns.answer.endswith("will be deferred.")


async def test_a_likely_end_heard_again_the_same_way_keeps_its_wait(behavioral) -> None:
    ending = " My manager thanked the whole team for the effort."
    reheard = Rehearing(ending.strip())
    turns = TurnTaker(SETTINGS, question=lambda: behavioral, reread=reheard)
    await turns.decide(STORY + RESULT, 10.0, None)
    decision = await turns.decide(ending.strip(), 20.0, None, np.zeros(16000, dtype=np.float32))
    assert reheard.played and decision.reading.state == "likely" and not decision.reading.reheard
    assert decision.hold_s == pytest.approx(SETTINGS.likely_hold_s)


async def test_nothing_is_heard_again_for_a_first_utterance_or_an_unfinished_one(behavioral) -> None:
    reheard = Rehearing("As a result, pages loaded sixty percent faster.")
    turns = TurnTaker(SETTINGS, question=lambda: behavioral, reread=reheard)
    audio = np.zeros(16000, dtype=np.float32)
    first = await turns.decide(STORY + RESULT + " My manager thanked the whole team for the effort.", 10.0, None, audio)
    assert first.reading.state == "likely"  # one utterance: nothing before it to hear it with
    await turns.decide("And then we", 20.0, None, audio)
    assert reheard.played == []


def test_the_ending_joins_two_utterances_with_a_short_gap() -> None:
    a, b = np.ones(100, dtype=np.float32), np.full(50, 2.0, dtype=np.float32)
    joined = join_ending(a, b)
    assert len(joined) == 150 + int(ENDING_GAP_S * 16000)
    assert joined[0] == 1.0 and joined[-1] == 2.0 and joined[120] == 0.0
    assert join_ending(None, b) is b


# -- the interviewer's own voice coming back --------------------------------------------


def _speechlike(seconds: float, rate: int, seed: int) -> np.ndarray:
    """Noise whose loudness rises and falls like syllables (4-6 per second), as s16."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(4, 6) * t + rng.uniform(0, 6)), 0, None) ** 2
    words = (np.sin(2 * np.pi * 0.9 * t + rng.uniform(0, 6)) > -0.3).astype(float)
    return (rng.standard_normal(len(t)) * syllables * words * 8000).astype(np.int16)


def _feed(monitor, played: np.ndarray, heard: np.ndarray, clock: list[float]) -> None:
    out_step, in_step = 960, 320  # 20 ms at 48 kHz and at 16 kHz
    for i in range(len(played) // out_step):
        clock[0] += 0.02
        monitor.on_output(played[i * out_step : (i + 1) * out_step].tobytes(), 48000)
        monitor.on_input(heard[i * in_step : (i + 1) * in_step].tobytes(), 16000)


def test_the_echo_monitor_tells_the_interviewers_voice_coming_back_from_a_person() -> None:
    from agent.echo import EchoMonitor

    candidate = _speechlike(3.0, 16000, seed=3)  # their answer, heard while nothing plays
    played = _speechlike(2.0, 48000, seed=1)
    # The interviewer's voice, heard at 16 kHz 150 ms later and 30 dB down, over room noise:
    # what a browser's echo canceller lets through.
    delay = int(0.15 * 16000)
    echo = np.concatenate([np.zeros(delay), played[::3][:-delay] * 0.03])
    echo = (echo + np.random.default_rng(2).standard_normal(len(echo)) * 10).astype(np.int16)

    def monitor_after(heard: np.ndarray, output: np.ndarray, *, answer_first: bool = True) -> EchoMonitor:
        clock = [1000.0]
        monitor = EchoMonitor(clock=lambda: clock[0])
        if answer_first:
            _feed(monitor, np.zeros(len(candidate) * 3, dtype=np.int16), candidate, clock)
        _feed(monitor, output, heard, clock)
        return monitor

    assert monitor_after(echo, played).likely_echo()
    # Before the candidate has spoken there is no voice to compare with: believe it is them.
    assert not monitor_after(echo, played, answer_first=False).likely_echo()
    # The candidate going on at their own loudness while the interviewer plays is a voice, even
    # at the very start of a word (the speech start is heard 100-200 ms into it).
    going_on = _speechlike(2.0, 16000, seed=4)
    going_on[-2400:] = (np.linspace(0.1, 1.0, 2400) * np.random.default_rng(6).standard_normal(2400) * 3000)
    assert not monitor_after(going_on, played).likely_echo()
    # Silence from the interviewer: nothing can be its echo.
    assert not monitor_after(echo, np.zeros_like(played)).likely_echo()


async def test_a_speech_start_that_is_echo_does_not_make_the_interviewer_yield(behavioral) -> None:
    yields: list[bool] = []
    echo = [True]
    turns = TurnTaker(SETTINGS, question=lambda: behavioral, on_yield=lambda: yields.append(True),
                      is_echo=lambda: echo[0])
    await turns.decide(STORY + RESULT, 10.0, None)
    turns.end_turn(11.0)
    turns.on_reply_started(11.1)
    assert not turns.on_speech_start(11.3) and yields == []
    echo[0] = False
    assert turns.on_speech_start(11.5) and yields == [True]


async def test_a_reply_cut_by_the_sessions_own_interruption_is_a_yield_in_the_window(behavioral) -> None:
    # A soft start (may_yield False) does not make the interviewer yield; if the session's own
    # interruption then stops the reply's audio for it, the reply is withdrawn (not a question
    # asked), judged by when that speech began, as any start is.
    yields: list[bool] = []
    turns = TurnTaker(SETTINGS, question=lambda: behavioral, on_yield=lambda: yields.append(True))
    assert not turns.talked_over()  # no turn has ended: nothing to yield
    await turns.decide(STORY + RESULT, 10.0, None)
    turns.end_turn(11.0)
    turns.on_reply_started(11.1)
    assert not turns.on_speech_start(12.0, may_yield=False) and yields == []
    assert turns.talked_over() and yields == [True] and not turns.awaiting_reply
    # Speech that began past the window does not withdraw a reply the candidate has heard out.
    await turns.decide(STORY + RESULT, 20.0, None)
    turns.end_turn(21.0)
    turns.on_reply_started(21.1)
    assert not turns.on_speech_start(21.1 + SETTINGS.yield_window_s + 0.5, may_yield=False)
    assert not turns.talked_over() and yields == [True]


async def test_speech_before_the_interviewers_first_words_is_no_answer(behavioral) -> None:
    turns = TurnTaker(SETTINGS, question=lambda: behavioral)
    turns.on_speech_start(9.0)  # "Hello? Can you hear me?" as the room opens
    assert turns.before_the_interviewer(9.0) and turns.before_the_interviewer(1e12)  # nothing heard yet
    turns.heard_interviewer(10.0)
    turns.heard_interviewer(30.0)  # later replies do not move the first words
    assert not turns.before_the_interviewer(10.0)
    assert turns.before_the_interviewer(9.5)  # began before the greeting, ended during it
    assert not turns.before_the_interviewer(10.5)
    turns.on_speech_start(20.0)
    decision = await turns.decide(STORY + RESULT, 30.0, None)
    assert decision.reading.state == "complete" and turns.answer == STORY + RESULT


async def test_speech_heard_from_its_middle_as_the_opening_began_is_no_answer_unless_a_mic_check(behavioral) -> None:
    turns = TurnTaker(SETTINGS, question=lambda: behavioral)
    turns.heard_interviewer(10.0)
    heard_from = 10.0 + SETTINGS.unheard_after_first_voice_s  # the recogniser hears silence until then
    turns.on_speech_start(heard_from + 0.08)  # "…hear me?": it began unheard
    turns.interviewer_stopped(heard_from + 0.5)  # stopped by it
    assert turns.heard_from_its_middle(heard_from + 0.08) and not turns.heard_from_its_middle(heard_from + 0.5)
    assert turns.opening_speech("There, I mean...", heard_from + 0.08, heard_from + 0.9) is Opening.LET_GO
    # answered as a mic check
    assert turns.opening_speech("You can hear me.", heard_from + 0.08, heard_from + 0.9) is Opening.KEPT
    # began once it could be heard, and stopped the opening
    assert turns.opening_speech("There, I mean...", heard_from + 0.3, heard_from + 0.9) is Opening.KEPT
    # An answer begun over the opening, its first words unheard: kept.
    story = "the time I disagreed with our design review on caching, and what I did"
    assert turns.opening_speech(story, heard_from + 0.08, heard_from + 4) is Opening.KEPT
    turns.on_speech_start(20.0)
    decision = await turns.decide(STORY + RESULT, 30.0, None)
    assert decision.reading.state == "complete" and turns.answer == STORY + RESULT


async def test_a_few_words_said_under_the_opening_are_held_for_the_answer_they_may_begin(behavioral) -> None:
    """"Testing, one, two, three." said as the greeting plays, "three" heard whole after the
    warm-up (CI, the browser's mic check): the question was not yet asked, and it is let go. But
    the "Sure." that begins an answer talked over the question ends just before the interviewer
    falls silent for it (CI): it begins that answer."""
    turns = TurnTaker(SETTINGS, question=lambda: behavioral)
    turns.heard_interviewer(10.0)
    three = (11.9, 12.3)
    assert not turns.heard_from_its_middle(three[0]) and turns.may_be_let_go(three[0])
    turns.on_speech_start(three[0])  # no answer starts with it
    assert turns.opening_speech("three", *three) is Opening.HELD  # the opening still playing as it is recognised
    assert turns.opening_speech("Hello, can you hear me?", *three) is Opening.KEPT  # answered as a mic check
    assert turns.opening_speech(STORY, 12.0, 20.0) is Opening.KEPT  # an answer begun over the opening
    assert not turns.joins_held(three[1], 14.8)  # an answer begun long after the count
    sure = (14.0, 14.4)
    assert turns.opening_speech("Sure.", *sure) is Opening.HELD
    assert turns.joins_held(sure[1], 14.8)  # "At my last job...", said on over the question
    assert not turns.joins_held(sure[1], 14.8 + HELD_JOIN_GAP_S)
    turns.interviewer_stopped(17.0)
    turns.interviewer_stopped(40.0)  # later replies do not move the opening's end
    assert turns.opening_speech("Okay.", 15.0, 15.6) is Opening.HELD  # recognised after the opening ended
    # it ended after the opening: said to the question
    assert turns.opening_speech("Okay, so.", 16.5, 17.4) is Opening.KEPT
    assert not turns.joins_held(15.6, 18.5)  # an answer after a moment's thought starts afresh
    assert not turns.may_be_let_go(17.5) and turns.opening_speech("Okay.", 17.5, 18.0) is Opening.KEPT
    turns.on_speech_start(20.0)
    decision = await turns.decide(STORY + RESULT, 30.0, None)
    assert decision.reading.state == "complete" and turns.answer == STORY + RESULT


async def test_speech_that_stopped_the_reply_but_said_nothing_gets_the_reply_made_again(behavioral) -> None:
    again: list[bool] = []
    turns = TurnTaker(SETTINGS, question=lambda: behavioral, on_reply_again=lambda: again.append(True))
    tail = np.zeros(16000, dtype=np.int16)
    turns.on_speech_start(100.0)
    await turns.decide(STORY + RESULT, 110.0, tail)
    turns.end_turn(111.0)
    turns.on_reply_started(111.2)
    assert turns.on_speech_start(111.6)  # a throat clear: the interviewer yields at once
    decision = await turns.decide("", 112.0, tail)  # Whisper wrote nothing
    assert decision.reading.state == "complete" and turns.answer == STORY + RESULT
    turns.end_turn(113.0)
    assert again == [True]  # the session would not reply to no words: the reply is made again
    # Words after a yield are a turn the session replies to itself.
    turns.on_reply_started(113.2)
    assert turns.on_speech_start(113.5)
    await turns.decide("And we kept that index for every table after.", 116.0, tail)
    turns.end_turn(117.0)
    assert again == [True]
    turns.confirm_reply()


@pytest.mark.parametrize("heard", ["Uh.", "Mm-hm.", "Hmm.", "Okay.", "Oh, sorry."])
async def test_a_filler_or_acknowledgement_over_the_reply_does_not_go_on_with_the_answer(heard: str, behavioral) -> None:
    turns = TurnTaker(SETTINGS, question=lambda: behavioral, eot_model=FixedEndOfTurn(0.0))
    tail = np.zeros(16000, dtype=np.int16)
    turns.on_speech_start(100.0)
    await turns.decide(STORY + RESULT, 110.0, tail)
    turns.end_turn(111.0)
    turns.on_reply_started(111.2)
    assert turns.on_speech_start(111.6)
    decision = await turns.decide(heard, 112.0, tail)
    # Read as the answer was, not as "continuing" (a trailing "Uh." would wait for the prompt)
    # nor as "likely" ("Okay." closes nothing): complete, with the short hold a yield there has
    # taught. A hesitation ("Uh.") may be a sigh or more coming after a breath: "likely".
    assert turns.answer == STORY + RESULT and decision.eot_probability is None
    if heard == "Uh.":
        assert decision.reading.state == "likely" and SETTINGS.likely_floor_s <= decision.hold_s <= SETTINGS.likely_cap_s
    else:
        assert decision.reading.state == "complete" and decision.hold_s <= SETTINGS.complete_cap_s


async def test_a_filler_inside_an_answer_still_means_more_is_coming(behavioral) -> None:
    turns = TurnTaker(SETTINGS, question=lambda: behavioral)
    tail = np.zeros(16000, dtype=np.int16)
    turns.on_speech_start(100.0)
    await turns.decide(STORY + RESULT, 110.0, tail)
    turns.on_speech_start(111.0)  # they go on before the turn ends
    decision = await turns.decide("Um.", 112.0, tail)
    assert decision.reading.state == "continuing" and turns.answer.endswith("Um.")
