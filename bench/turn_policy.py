"""The turn-taking policy alone, replayed offline over the answer corpus: fast, for tuning.

bench/turn_taking.py measures the whole room in real time (about 28 minutes). This replays
the same 32 answers (bench/answer_corpus.py) through the same decisions without a room: each
stretch of speech between two pauses is one utterance, transcribed by the live STT's own
engine (tiny.en, short window, no prompt); at its end `TurnTaker.decide` is asked, with the
audio end-of-turn model on the last 1.2 s, how long the pause may last. A mid-answer pause
longer than that hold is a cut-off (as is one that reaches the gentle prompt); the hold at the
answer's end is how long the interviewer waits before replying. Cut-offs are followed by a
yield, as in the room, so the speaker's habits grow the same way. The speaker's habits carry
across the answers of one session (SESSION_ANSWERS answers, as the room bench plays them).

  false_cutoff_rate, _le3s     cut-off pauses / pauses (of 3 s or less)
  end_hold_p50_s, _p95_s       silence the interviewer waits after the answer's last word
  end_states                   how the finished answers read (complete / likely / open / continuing)
  cutoffs                      name, pause length, kind and state of each cut-off

Not measured here: the room's media path, VAD timing and STT chunking (bench/turn_taking.py).

Run: .venv/bin/python -m bench.turn_policy [--quick]; the last stdout line is JSON.
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before anything imports ONNX Runtime

import argparse
import asyncio
import functools
import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.question_bank import Question, QuestionBank  # noqa: E402
from agent.stt_whisper import WhisperEngine, hear_again  # noqa: E402
from agent.turn_taking import LocalEndOfTurn, PauseDecision, TurnTaker, TurnTakingSettings, join_ending  # noqa: E402
from bench.answer_corpus import CorpusAnswer, build_corpus  # noqa: E402
from bench.speech_media import SAMPLE_RATE  # noqa: E402

SESSION_ANSWERS = 8
VAD_SILENCE_S = 0.3  # the utterance ends (and the decision is made) this far into the pause
PADDING_S = 0.2  # audio the VAD keeps before and after an utterance
QUESTIONS = {  # what each kind of answer is heard as answering
    "behavioral": "beh-team-project-proud",
    "mmi": "mmi-eth-refuses-transfusion",
}
QUICK_ANSWERS = 12


def _pcm16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)


def settings_from(changes: list[str]) -> TurnTakingSettings:
    """The settings with NAME=SECONDS changes from the command line."""
    return TurnTakingSettings(**{k: float(v) for k, v in (c.split("=", 1) for c in changes)})


@dataclass
class Tally:
    """A replay's pauses, cut-offs and end holds. Each decision moves the turn taker on as the
    room would: a pause longer than its hold ends the turn and the candidate, going on, makes
    the interviewer yield (so the speaker's habits grow); the answer's end is replied to."""

    settings: TurnTakingSettings
    pauses: int = 0
    cutoffs: int = 0
    pauses_le3: int = 0
    cutoffs_le3: int = 0
    end_holds: list[float] = field(default_factory=list)
    end_states: Counter[str] = field(default_factory=Counter)
    pause_states: Counter[str] = field(default_factory=Counter)
    cut: list[dict] = field(default_factory=list)

    def hold(self, decision: PauseDecision) -> float:
        """The silence the interviewer waits: a continuing answer waits for the prompt."""
        return decision.hold_s if not math.isinf(decision.hold_s) else self.settings.prompt_after_s

    def pause(self, turns: TurnTaker, decision: PauseDecision, pause_s: float, **detail) -> None:
        hold = self.hold(decision)
        self.pauses += 1
        self.pauses_le3 += pause_s <= 3.0
        self.pause_states[decision.reading.state] += 1
        if hold < pause_s:
            self.cutoffs += 1
            self.cutoffs_le3 += pause_s <= 3.0
            self.cut.append({**detail, "pause_s": round(pause_s, 2), "state": decision.reading.state,
                             "hold_s": round(hold, 2), "text_end": turns.answer[-80:]})
            turns.end_turn(decision.speech_end_at + hold)
            turns.on_reply_started(decision.speech_end_at + hold + 0.3)  # the candidate goes on: a yield

    def end(self, turns: TurnTaker, decision: PauseDecision) -> None:
        hold = self.hold(decision)
        self.end_holds.append(hold)
        self.end_states[decision.reading.state] += 1
        turns.end_turn(decision.speech_end_at + hold)
        turns.confirm_reply()

    def summary(self, answers: int) -> dict:
        return {
            "answers": answers,
            "pauses": self.pauses,
            "false_cutoff_rate": round(self.cutoffs / self.pauses, 3) if self.pauses else 0.0,
            "false_cutoff_rate_le3s": round(self.cutoffs_le3 / self.pauses_le3, 3) if self.pauses_le3 else 0.0,
            "end_hold_p50_s": round(float(np.percentile(self.end_holds, 50)), 2),
            "end_hold_p95_s": round(float(np.percentile(self.end_holds, 95)), 2),
            "end_states": dict(self.end_states),
            "pause_states": dict(self.pause_states),
            "cutoffs": self.cut,
        }


async def replay(
    answers: list[CorpusAnswer], settings: TurnTakingSettings, bank: QuestionBank, engine: WhisperEngine,
    eot: LocalEndOfTurn | None,
) -> dict:
    reread = functools.partial(hear_again, engine)  # the room's second listen
    tally = Tally(settings)
    ends: list[dict] = []
    records: list[dict] = []
    turns: TurnTaker | None = None
    for index, answer in enumerate(answers):
        question: Question = bank.get(QUESTIONS[answer.category])
        if index % SESSION_ANSWERS == 0:
            turns = TurnTaker(settings, question=lambda q=question: q, eot_model=eot, reread=reread)
        assert turns is not None
        turns._question = lambda q=question: q  # a new question for this answer
        stretches = answer.stretches
        previous = None
        turns.on_speech_start(stretches[0][0])
        for k, (start, end) in enumerate(stretches):
            lo, hi = max(0.0, start - PADDING_S), end + PADDING_S
            utterance = answer.samples[int(lo * SAMPLE_RATE) : int(hi * SAMPLE_RATE)]
            text = engine.transcribe_sync(utterance).text
            decided_at = end + VAD_SILENCE_S
            tail = _pcm16(answer.samples[int((decided_at - 1.2) * SAMPLE_RATE) : int(decided_at * SAMPLE_RATE)])
            ending = join_ending(previous, utterance)
            previous = utterance
            decision = await turns.decide(text, end, tail, ending)
            records.append({"answer": answer.name, "family": answer.family, "end": k == len(stretches) - 1,
                            "pause_s": None if k == len(stretches) - 1 else round(stretches[k + 1][0] - end, 2),
                            "state": decision.reading.state, "eot": decision.eot_probability,
                            "words": decision.reading.words, "text": text})
            if k == len(stretches) - 1:
                ends.append({"answer": answer.name, "state": decision.reading.state,
                             "hold_s": round(tally.hold(decision), 2), "reason": decision.reading.reason,
                             "text_end": turns.answer[-90:]})
                tally.end(turns, decision)
                break
            kind = next((p.kind for p in answer.pauses if abs(p.start_s - end) < 0.05), "?")
            tally.pause(turns, decision, stretches[k + 1][0] - end, answer=answer.name, kind=kind)
            turns.on_speech_start(stretches[k + 1][0])
    return {**tally.summary(len(answers)), "ends": ends, "records": records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ANSWERS} answers instead of all")
    parser.add_argument("--no-audio-model", action="store_true", help="leave the audio end-of-turn model out")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=SECONDS",
                        help="a TurnTakingSettings field to change, e.g. --set likely_hold_s=2.2")
    args = parser.parse_args()
    settings = settings_from(args.set)
    started = time.monotonic()
    answers = build_corpus()
    if args.quick:
        answers = answers[:QUICK_ANSWERS]
    print(f"[policy] {len(answers)} answers; loading models", file=sys.stderr, flush=True)
    engine = WhisperEngine("tiny.en", threads=2, short_context=True)
    eot = None if args.no_audio_model else LocalEndOfTurn()
    result = asyncio.run(replay(answers, settings, QuestionBank.load(), engine, eot))
    for c in result["cutoffs"]:
        print(f"[policy] cut-off: {c}", file=sys.stderr)
    if os.environ.get("POLICY_RECORDS"):
        Path(os.environ["POLICY_RECORDS"]).write_text(json.dumps(result["records"]))
    result.pop("records")
    for e in result.pop("ends"):
        print(f"[policy] end: {e}", file=sys.stderr)
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
