"""A small catalogue of practice drills, each aimed at one delivery metric or rubric area."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Drill:
    """A short exercise a candidate can do alone, and what it trains."""

    id: str
    title: str
    dimension: str  # the scorecard dimension it lifts
    targets: tuple[str, ...]  # delivery metrics or rubric dimensions it works on
    minutes: int
    steps: tuple[str, ...]
    why: str


DRILLS: tuple[Drill, ...] = (
    Drill(
        id="pace-metronome-read",
        title="Paced read-aloud",
        dimension="communication",
        targets=("pace",),
        minutes=10,
        steps=(
            "Read a one-page article aloud while timing yourself; aim for 140 words a minute.",
            "Record one answer, count its words, and divide by the minutes you spoke.",
            "Repeat the answer, slowing down at each number and each key claim.",
        ),
        why="A steady 120–165 words a minute lets an interviewer follow and take notes.",
    ),
    Drill(
        id="filler-pause-swap",
        title="Swap fillers for silence",
        dimension="communication",
        targets=("fillers",),
        minutes=10,
        steps=(
            "Answer a practice question for 60 seconds and record it.",
            "Play it back and tally every um, uh, like and you know.",
            "Answer again; each time you feel a filler coming, close your mouth and pause instead.",
        ),
        why="A short silence sounds deliberate; a filler sounds unsure.",
    ),
    Drill(
        id="pause-chunking",
        title="Chunk, then breathe",
        dimension="communication",
        targets=("pauses",),
        minutes=10,
        steps=(
            "Write your answer's three main points as three short phrases.",
            "Speak each point in one breath, then take a one-second pause before the next.",
            "If you lose your place, say the next phrase from your list rather than waiting in silence.",
        ),
        why="Short planned pauses between ideas replace long searching ones mid-sentence.",
    ),
    Drill(
        id="latency-opening-line",
        title="Three-second opener",
        dimension="composure",
        targets=("response_latency",),
        minutes=10,
        steps=(
            "Have someone (or a question generator) read you ten questions.",
            "Within three seconds, say one framing line: 'The example that comes to mind is…'.",
            "Then take a breath and go into the answer.",
        ),
        why="A framing line buys thinking time without a long silence before you start.",
    ),
    Drill(
        id="camera-framing-check",
        title="Frame and light check",
        dimension="composure",
        targets=("face_visible",),
        minutes=5,
        steps=(
            "Open your camera preview and place your eyes about a third from the top of the frame.",
            "Put a light in front of you, not behind; remove glare from glasses if you can.",
            "Record 30 seconds of moving naturally and check your face stays in view.",
        ),
        why="Your face has to be in the frame for an interviewer to read you.",
    ),
    Drill(
        id="lens-anchor",
        title="Anchor key points on the lens",
        dimension="composure",
        targets=("camera_gaze",),
        minutes=10,
        steps=(
            "Put a small sticker next to your camera lens.",
            "Answer a question; look away to think if you need to, but deliver each key point to the sticker.",
            "Play it back and check where your eyes were on your main points.",
        ),
        why="Looking at the lens on key points reads as eye contact on the other side.",
    ),
    Drill(
        id="grounded-posture",
        title="Grounded posture",
        dimension="composure",
        targets=("head_stability",),
        minutes=5,
        steps=(
            "Sit with both feet flat and your back against the chair.",
            "Rest your hands where the camera can see them, or on the desk.",
            "Answer one question while keeping your head level; gesture with your hands, not your head.",
        ),
        why="A still frame is easier to watch than constant motion.",
    ),
    Drill(
        id="star-skeleton",
        title="STAR skeleton",
        dimension="structure",
        targets=("situation", "task", "action", "result", "structure"),
        minutes=15,
        steps=(
            "Pick a story; write one line each for Situation, Task, Action and Result.",
            "Keep the situation to two sentences and spend most of the time on your actions.",
            "Finish with a result you can measure, and one thing you learned.",
        ),
        why="A clear beginning, middle and end lets the interviewer score every part.",
    ),
    Drill(
        id="answer-first",
        title="Answer first, then explain",
        dimension="relevance",
        targets=("accuracy", "relevance", "critical_thinking"),
        minutes=10,
        steps=(
            "For each practice question, say your answer in one sentence first.",
            "Then give two reasons or examples that support it.",
            "End by tying back to the question's exact words.",
        ),
        why="Leading with the answer keeps you on the question that was asked.",
    ),
    Drill(
        id="quantify-results",
        title="Put numbers on it",
        dimension="relevance",
        targets=("result", "quantification", "analysis"),
        minutes=10,
        steps=(
            "List three outcomes of past work and attach a number to each (time, money, people, %).",
            "If you do not know the exact number, state a careful estimate and how you got it.",
            "Retell one story with the numbers in it.",
        ),
        why="Numbers make a result concrete and comparable.",
    ),
    Drill(
        id="two-options-tradeoff",
        title="Two options and a trade-off",
        dimension="relevance",
        targets=("trade_offs", "depth", "deep_dive", "scalability"),
        minutes=15,
        steps=(
            "Take a design or technical choice you made.",
            "Describe two real alternatives and one cost and one benefit of each.",
            "Say which you chose, and under what conditions you would choose the other.",
        ),
        why="Naming the alternative you did not pick shows depth of judgement.",
    ),
    Drill(
        id="case-framework",
        title="Build the frame before the numbers",
        dimension="structure",
        targets=("structure", "requirements", "high_level_design", "recommendation"),
        minutes=15,
        steps=(
            "Restate the problem and ask one clarifying question.",
            "Lay out three to four branches you will look at, out loud, before any calculation.",
            "Close with a recommendation, its main risk, and the next step.",
        ),
        why="A visible structure lets the interviewer follow and redirect you early.",
    ),
    Drill(
        id="ethics-perspectives",
        title="Three perspectives",
        dimension="relevance",
        targets=("ethical_reasoning", "professionalism", "communication"),
        minutes=15,
        steps=(
            "Take an ethical scenario and name everyone it affects.",
            "Give each party's view in one sentence, including the one you disagree with.",
            "Propose a balanced course of action and say what you would check first.",
        ),
        why="Weighing several viewpoints is what MMI stations look for.",
    ),
)

DRILLS_BY_ID: dict[str, Drill] = {d.id: d for d in DRILLS}


def drills_for(target: str) -> list[Drill]:
    """Drills that work on a delivery metric or rubric dimension, best first."""
    return [d for d in DRILLS if target in d.targets]


def drills_for_dimension(dimension: str) -> list[Drill]:
    """Drills that lift a scorecard dimension."""
    return [d for d in DRILLS if d.dimension == dimension]
