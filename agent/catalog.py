"""The interview choices a candidate makes: role tracks, round types, difficulties, personas.

This is the one owner of the choices and of their labels; GET /v1/catalog serves both. The
round types' labels live in scoring/labels.py (re-exported here) because the scorer and the
reports, which may not import agent/, name the round types too.
"""

from __future__ import annotations

from dataclasses import dataclass

# Re-exported: agent/ and api/ take the round types' labels from the catalog.
from scoring.labels import ROUND_TYPE_LABELS, ROUND_TYPE_PHRASES

ROLE_TRACKS = (
    "software_engineer",
    "product_manager",
    "data_analyst",
    "sales",
    "hr",
    "medical_school_mmi",
    "general",
)
ROUND_TYPES = ("behavioral", "technical", "case", "system_design", "mmi", "mixed")
DIFFICULTIES = ("easy", "medium", "hard")
DURATIONS_MIN = (10, 20, 30)

# Labels to show for the choices' ids; an id added without one gets a label made from the id.
_LABELS: dict[str, str] = {
    "software_engineer": "Software engineer",
    "product_manager": "Product manager",
    "data_analyst": "Data analyst",
    "sales": "Sales",
    "hr": "HR",
    "medical_school_mmi": "Medical school (MMI)",
    "general": "General",
    **ROUND_TYPE_LABELS,
    "easy": "Easy",
    "medium": "Medium",
    "hard": "Hard",
}


def label(choice_id: str) -> str:
    """The human-readable label of a catalog id."""
    return _LABELS.get(choice_id) or choice_id.replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class Persona:
    """An interviewer's name and manner; the scripted interviewer words its lines by it."""

    id: str
    name: str
    title: str
    greeting: str
    follow_up_lead: str
    closing: str
    acknowledgements: tuple[str, ...] = (
        "Thank you.",
        "Got it, thanks.",
        "Okay, that's helpful.",
        "Thanks for walking me through that.",
    )


PERSONAS: dict[str, Persona] = {
    p.id: p
    for p in (
        Persona(
            id="alex",
            name="Alex",
            title="a friendly hiring manager",
            greeting="Hi, I'm Alex. Thanks for joining me today. Let's get started.",
            follow_up_lead="Thanks. Let me dig into that a little.",
            closing="That's all the time we have. Thank you, this was a good conversation. Good luck!",
            acknowledgements=(
                "Thanks, that's helpful.",
                "Great, thank you.",
                "I appreciate the detail.",
                "Okay, thanks for sharing that.",
            ),
        ),
        Persona(
            id="dr_patel",
            name="Dr. Patel",
            title="a medical school admissions interviewer",
            greeting="Good day, I'm Doctor Patel. Take a moment to settle in; we'll begin with the first station.",
            follow_up_lead="I'd like to explore your reasoning further.",
            closing="We've reached the end of the stations. Thank you for your thoughtful answers.",
            acknowledgements=(
                "Thank you.",
                "Thank you, that's clear.",
                "I see. Thank you.",
                "Thank you for explaining your thinking.",
            ),
        ),
        Persona(
            id="jordan",
            name="Jordan",
            title="a direct senior engineer",
            greeting="Hey, I'm Jordan. We have a few questions to get through, so let's dive in.",
            follow_up_lead="Okay. Be more specific for me.",
            closing="We're out of time. Thanks for your answers today.",
            acknowledgements=(
                "Okay.",
                "Got it.",
                "Fine, next one.",
                "Alright.",
            ),
        ),
    )
}
DEFAULT_PERSONA = "alex"
