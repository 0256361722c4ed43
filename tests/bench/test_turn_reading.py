"""bench.turn_reading: the sealed answer set is unchanged, and the replay counts what it says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.question_bank import QuestionBank
from agent.turn_taking import TurnTakingSettings
from bench import turn_reading

ROOT = Path(__file__).resolve().parents[2]


def test_the_sealed_answer_set_is_the_one_sealed() -> None:
    assert turn_reading.digest(turn_reading.SETS["held_out"]) == turn_reading.HELD_OUT_SHA256


@pytest.mark.parametrize("name", sorted(turn_reading.SETS))
def test_each_set_answers_bank_questions_and_ends_without_a_pause(name: str) -> None:
    bank = QuestionBank.load()
    answers = turn_reading.load_set(name)
    assert len(answers) == {"tune": 280, "held_out": 40}[name]
    assert len({a["id"] for a in answers}) == len(answers)
    if name == "held_out":  # one answer per question
        assert len({a["question_id"] for a in answers}) == len(answers)
    for answer in answers:
        bank.get(answer["question_id"])  # raises for a question the bank lacks
        *inside, last = answer["segments"]
        assert "pause_s" not in last
        assert all(0.5 <= s["pause_s"] <= 4.0 for s in inside), answer["id"]


async def test_a_pause_after_a_closing_sentence_longer_than_its_hold_is_a_cut_off() -> None:
    answer = {
        "id": "release",
        "question_id": "beh-team-project-proud",
        "segments": [
            {
                "text": "At my last job our releases were manual, slow and error prone, and each one took the "
                "whole team a full day of checking by hand.",
                "pause_s": 1.2,
            },
            {"text": "So I scripted them, and as a result we cut release errors by 40%.", "pause_s": 2.0},
            {"text": "Um, and the team", "pause_s": 1.5},
            {"text": "started shipping every week. Does that make sense?"},
        ],
    }
    result = await turn_reading.replay([answer], TurnTakingSettings(), QuestionBank.load())
    assert result["pauses"] == 3
    # the result sentence reads complete and is held 0.8 s: the 2.0 s pause after it is cut off
    assert [c["pause_s"] for c in result["cutoffs"]] == [2.0]
    assert result["end_states"] == {"complete": 1}
    assert result["end_hold_p50_s"] <= TurnTakingSettings().complete_cap_s


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.turn_reading", *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_an_answer_set_of_ones_own_is_replayed_and_every_cut_off_shown(tmp_path) -> None:
    own = [
        {
            "id": "mine",
            "question_id": "beh-team-project-proud",
            "segments": [
                {"text": "So I scripted our releases, and as a result we cut release errors by 40%.", "pause_s": 4.0},
                {"text": "And the team started shipping every week. Does that make sense?"},
            ],
        }
    ]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(own))
    done = _run("--answers", str(path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["answers"] == 1 and result["pauses"] == 1 and result["set"] == str(path)
    assert result["end_states"] == {"complete": 1}
    assert "cut-off: {'answer': 'mine'" in done.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a readable JSON answer set"),
        ("{}", "expected a non-empty JSON list"),
        ('[{"id": "x", "question_id": "no-such-question", "segments": [{"text": "Hi."}]}]', "not a bank question"),
        ('[{"id": "x", "question_id": "beh-team-project-proud", "segments": [{"text": "A."}, {"text": "B."}]}]',
         "needs a 'pause_s' > 0"),
    ],
)
def test_an_answer_set_that_cannot_be_replayed_says_why(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    done = _run("--answers", str(path))
    assert done.returncode != 0 and message in done.stderr
