"""The LLM interviewer on a panel, against a local OpenAI-compatible server: the earlier speakers'
parts are said word for word and first, the model words only the last part as the persona who
says it, and each sentence is voiced and captioned as that persona's. Questions made from the
CV and the job description."""

from __future__ import annotations

import openai
from livekit.agents.llm import ChatContext

from agent.brain import InterviewerBrain
from agent.catalog import PERSONAS
from agent.interviewer import InterviewPlan, InterviewScript, Utterance
from agent.llm_openai import OpenAIInterviewerLLM, load_prompt
from agent.question_bank import QuestionBank
from agent.scripted_llm import ScriptedInterviewerLLM, split_sentences
from agent.tts_piper import SpeakerVoices
from agent.worker import SpeakerCaptions, speaker_cues
from bench.fake_openai import FakeOpenAI, persona_wording
from tests.providers.conftest import SECRET
from tests.providers.test_llm_openai import TIMEOUT_S, after_opening, reply

PANEL = ("alex", "jordan", "sam")
STAR_ANSWER = (
    "At my last job our checkout service kept failing during big sales. For example, in March the "
    "error rate hit five percent. I led a small group: we added load tests and fixed a leaking "
    "connection pool because it ran out under load. As a result we reduced errors to under 0.1 "
    "percent and the next sale ran without a single incident."
)
CV = "Senior engineer at Acme Payments, 2019-2024: led the move of the ledger service to Kafka."
JD = "Backend engineer for a fintech: event-driven systems, on-call ownership, mentoring."


def panel_brain(fake: FakeOpenAI, bank: QuestionBank, said: list[Utterance], **plan: object) -> InterviewerBrain:
    choices = {"role_track": "software_engineer", "round_type": "mixed", "difficulty": "medium", "duration_s": 1800.0}
    script = InterviewScript(InterviewPlan(**{**choices, **plan}), bank)  # type: ignore[arg-type]
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=SECRET, max_retries=0)
    wording = OpenAIInterviewerLLM(client=client, model="fake-model", prompt=load_prompt("v2"))
    planner = ScriptedInterviewerLLM(script, on_utterance=said.append)
    return InterviewerBrain(planner, [wording], attempt_timeout_s=TIMEOUT_S)


def voiced_and_captioned(
    utterance: Utterance, chunks: list[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(persona, sentence) as the TTS voices each chunk, and (persona, line) of each final caption,
    with the reply cued and captioned as the worker does."""
    voices, captions = SpeakerVoices(), SpeakerCaptions(utterance.persona)
    voices.cue(speaker_cues(utterance))
    captions.said(utterance)
    by_voice = {PERSONAS[p].voice: p for p in PANEL}
    voiced = [(by_voice[voice], text.strip()) for chunk in chunks for text, voice in voices.runs(chunk)]
    lines = [c for chunk in chunks for c in captions.delta(chunk) if c.final] + captions.final()
    return voiced, [(c.persona, c.text) for c in lines]


async def test_a_panel_reply_says_the_handover_then_the_asker_words_the_question(
    fake_openai: FakeOpenAI, bank: QuestionBank
) -> None:
    fake_openai.stream_wording = persona_wording
    said: list[Utterance] = []
    brain = panel_brain(fake_openai, bank, said, persona_id="alex", panel=PANEL, seed=5)
    ctx = ChatContext.empty()
    seen_handover = False
    for turn in range(8):
        chunks, _ = await reply(brain, ctx)
        utterance = said[-1]
        *before, last = utterance.spoken
        asker = PERSONAS[last.persona]
        request = fake_openai.requests[-1]
        system, user = request["messages"][0]["content"], request["messages"][1]["content"]
        # The model is the persona who says the last part, and knows its colleagues.
        assert system.startswith(f"You are {asker.name}, {asker.title} ({asker.role})"), system
        assert asker.style in system
        assert all(PERSONAS[p].name in system for p in PANEL if p != asker.id)
        # The earlier parts come first, word for word; the model words the last part only.
        verbatim = [s for part in before for s in split_sentences(part.text)]
        worded = f"This is {asker.name} speaking."
        assert [c.strip() for c in chunks[: len(verbatim)]] == verbatim
        assert "".join(chunks[len(verbatim) :]).strip().startswith(worded)
        if before:
            assert "<said>" in user and all(part.text in user for part in before)
        # Each sentence in its speaker's voice, each caption line named by its speaker.
        voiced, lines = voiced_and_captioned(utterance, chunks)
        expected = [(part.persona, s) for part in before for s in split_sentences(part.text)]
        assert voiced[: len(expected)] == expected
        assert {persona for persona, _ in voiced[len(expected) :]} == {asker.id}
        speakers = [p.persona for p in before] + [asker.id]
        line_speakers = [p for i, p in enumerate(speakers) if i == 0 or speakers[i - 1] != p]
        assert [persona for persona, _ in lines] == line_speakers
        assert worded in lines[-1][1]
        if turn == 0:
            assert utterance.kind == "opening" and [p.persona for p in before[:3]] == list(PANEL)
            assert "Move: the panel has introduced itself" in user
        if utterance.kind == "question" and before and before[-1].persona != asker.id:
            seen_handover = True
            handover = before[-1].text
            assert f"hand you to {asker.name}" in handover or f"Back to you, {asker.name}" in handover
            assert "a colleague has just handed the candidate to you" in user
            break
        ctx = ctx.copy()
        ctx.add_message(role="assistant", content="".join(chunks))
        ctx.add_message(role="user", content=STAR_ANSWER)
    assert seen_handover


async def test_a_question_is_made_from_the_cv_and_the_job_description(
    fake_openai: FakeOpenAI, bank: QuestionBank
) -> None:
    said: list[Utterance] = []
    brain = panel_brain(fake_openai, bank, said, cv_text=CV, jd_text=JD, round_type="behavioral")
    await reply(brain, ChatContext.empty())
    await reply(brain, after_opening(said[-1].text, STAR_ANSWER))
    assert [u.kind for u in said] == ["opening", "question"]
    for request in fake_openai.requests:
        system, user = request["messages"][0]["content"], request["messages"][1]["content"]
        assert f"<cv>\n{CV}\n</cv>" in system and f"<jd>\n{JD}\n</jd>" in system
        assert "Tie the question to one specific thing in the candidate's CV or the job description" in user
        assert "it stays a behavioural question" in user
    assert "answerable in about" in fake_openai.requests[-1]["messages"][1]["content"]


async def test_without_a_cv_or_job_description_questions_are_asked_as_planned(
    fake_openai: FakeOpenAI, bank: QuestionBank
) -> None:
    said: list[Utterance] = []
    brain = panel_brain(fake_openai, bank, said, round_type="behavioral")
    await reply(brain, ChatContext.empty())
    await reply(brain, after_opening(said[-1].text, STAR_ANSWER))
    for request in fake_openai.requests:
        system, user = request["messages"][0]["content"], request["messages"][1]["content"]
        assert "<cv>" not in system and "<jd>" not in system and "No CV or job description" in system
        assert "CV" not in user and "Tie the question" not in user


def test_the_first_prompt_still_loads() -> None:
    assert "$persona_name" in load_prompt("v1").template and "$cv" in load_prompt("v1").template
