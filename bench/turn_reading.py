"""The turn-taker's reading of answers it was never tuned on: text only, in a second.

bench/turn_policy.py replays the team's own 32 answers, whose scripts the reading rules grew
up beside. This replays answer sets written by helpers who never read the turn-taking code:
each answer is its stretches of speech between thinking pauses, written as the live
recogniser writes a stretch heard alone (a full stop where the speaker stopped mid-sentence,
fillers sometimes dropped, the odd word misheard), with each pause's length and kind. At the
end of each stretch `TurnTaker.decide` is asked how long the pause may last, exactly as in the
room but without audio: no end-of-turn model, no second listen. So these figures are the
text reading's alone; the audio model moves a hold by at most a quarter either way.

  bench/data/turn_answers_tune.json      280 answers by seven writers, used to judge changes to
                                         the reading (writers 2-6 and 8 were each sealed and
                                         scored in aggregate before they were read and added;
                                         writer 8 reused case and design questions of writer 1,
                                         none being left unused)
  bench/data/turn_answers_held_out.json  40 answers by a seventh writer, sealed: scored as
                                         aggregates only (--details shows them, which spends
                                         the set)

  false_cutoff_rate, _le3s      pauses longer than their hold (or reaching the prompt) / pauses
                                (of 3 s or less)
  end_hold_p50_s, _p95_s        silence waited after the answer's last word before the reply
                                (an answer still open at its end waits for the prompt)
  end_states, pause_states      how answers read at their end, and at their pauses

  --answers FILE                         an answer set of your own in the same format: a JSON
                                         list of {"id", "question_id" (a bank question),
                                         "segments": [{"text", "pause_s", "pause_kind"}, ...,
                                         {"text"} (the last, with no pause after it)]}

Run: .venv/bin/python -m bench.turn_reading [--set tune|held_out | --answers FILE] [--details]
     [--set-field NAME=VALUE]; the last stdout line is JSON. --quick is accepted (it is quick).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import time
from pathlib import Path


if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.question_bank import QuestionBank  # noqa: E402
from agent.turn_taking import TurnTaker, TurnTakingSettings  # noqa: E402
from bench.turn_policy import Tally, settings_from  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
SETS = {"tune": DATA / "turn_answers_tune.json", "held_out": DATA / "turn_answers_held_out.json"}
# The held-out set's sha256 when it was sealed, before the reading was scored on it.
HELD_OUT_SHA256 = "47c615a1bfe212a44aa715df164f673da8652f5d0f7b9c8f8b3d920e96e04847"
SESSION_ANSWERS = 8  # answers per interview: a speaker's learned habits carry across them
WORDS_PER_S = 2.5  # speaking time given to a stretch of speech, for answer length


def load_set(name: str) -> list[dict]:
    path = SETS[name]
    if not path.exists():
        raise SystemExit(f"{path} is missing")
    return json.loads(path.read_text())


def load_answers(path: Path, bank: QuestionBank) -> list[dict]:
    """An answer set from outside the repository, checked: each answer to a bank question, with a
    pause after every stretch but the last."""
    try:
        answers = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"{path}: not a readable JSON answer set ({e})") from None
    if not isinstance(answers, list) or not answers:
        raise SystemExit(f"{path}: expected a non-empty JSON list of answers")
    for n, answer in enumerate(answers):
        name = answer.get("id", f"answer {n}") if isinstance(answer, dict) else f"answer {n}"
        segments = answer.get("segments") if isinstance(answer, dict) else None
        if not segments or not all(isinstance(s, dict) and isinstance(s.get("text"), str) for s in segments):
            raise SystemExit(f"{path}: {name}: needs 'segments', each with its 'text'")
        try:
            bank.get(answer.get("question_id", ""))
        except KeyError:
            raise SystemExit(f"{path}: {name}: question_id {answer.get('question_id')!r} is not a bank question") from None
        if any(not isinstance(s.get("pause_s"), (int, float)) or s["pause_s"] <= 0 for s in segments[:-1]):
            raise SystemExit(f"{path}: {name}: every segment but the last needs a 'pause_s' > 0")
        answer.setdefault("id", name)
    return answers


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def replay(answers: list[dict], settings: TurnTakingSettings, bank: QuestionBank) -> dict:
    tally = Tally(settings)
    slow_ends: list[dict] = []
    turns: TurnTaker | None = None
    for index, answer in enumerate(answers):
        question = bank.get(answer["question_id"])
        if index % SESSION_ANSWERS == 0:
            turns = TurnTaker(settings, question=lambda: None)
        assert turns is not None
        turns._question = lambda q=question: q
        at = 0.0
        segments = answer["segments"]
        turns.on_speech_start(at)
        for k, segment in enumerate(segments):
            at += max(0.3, len(segment["text"].split()) / WORDS_PER_S)
            decision = await turns.decide(segment["text"], at, None)
            if k == len(segments) - 1:
                if decision.reading.state != "complete":
                    slow_ends.append({"answer": answer["id"], "state": decision.reading.state,
                                      "hold_s": round(tally.hold(decision), 2), "reason": decision.reading.reason,
                                      "text_end": turns.answer[-100:]})
                tally.end(turns, decision)
                break
            tally.pause(turns, decision, float(segment["pause_s"]), answer=answer["id"],
                        kind=segment.get("pause_kind", "?"))
            at += float(segment["pause_s"])
            turns.on_speech_start(at)
    result = tally.summary(len(answers))
    result["end_complete_share"] = round(tally.end_states["complete"] / len(answers), 3)
    return {**result, "slow_ends": slow_ends}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="tune")
    parser.add_argument("--answers", type=Path, help="replay this answer set instead (printed in full)")
    parser.add_argument("--details", action="store_true", help="print each cut-off and slow end (spends a sealed set)")
    parser.add_argument("--quick", action="store_true", help="accepted for the bench convention; the run is quick")
    parser.add_argument("--set-field", action="append", default=[], metavar="NAME=VALUE",
                        help="a TurnTakingSettings field to change, e.g. --set-field likely_hold_s=2.2")
    args = parser.parse_args()
    settings = settings_from(args.set_field)
    started = time.monotonic()
    bank = QuestionBank.load()
    answers = load_answers(args.answers, bank) if args.answers else load_set(args.set)
    result = asyncio.run(replay(answers, settings, bank))
    if args.set == "held_out" and HELD_OUT_SHA256 and digest(SETS["held_out"]) != HELD_OUT_SHA256:
        raise SystemExit("the held-out set changed since it was sealed")
    cut, slow = result.pop("cutoffs"), result.pop("slow_ends")
    if args.details or args.answers or args.set != "held_out":
        for c in cut:
            print(f"[reading] cut-off: {c}", file=sys.stderr)
        for e in slow:
            print(f"[reading] slow end: {e}", file=sys.stderr)
    result["set"] = str(args.answers) if args.answers else args.set
    result["seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
