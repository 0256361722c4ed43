"""The interview choices a candidate makes: role tracks, round types, difficulties, personas.

Personas are data (agent/data/personas.json), loaded and checked at import.

This is the one owner of the choices and of their labels; GET /v1/catalog serves both. The
round types' labels live in scoring/labels.py (re-exported here) because the scorer and the
reports, which may not import agent/, name the round types too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

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
class Voice:
    """How a persona sounds: offline, the bundled Piper voice reshaped (pitch, formants) and
    paced; with ElevenLabs configured, one of its voices."""

    pitch_hz: float | None = None
    """The median pitch to move the voice to; None keeps the voice's own pitch and formants."""
    formant_shift: float = 1.0
    """Formant frequencies scaled by this (above 1 sounds a shorter vocal tract)."""
    pace: float = 1.0
    """Piper's length_scale: above 1 speaks slower, below 1 faster."""
    elevenlabs_voice_id: str | None = None
    """The ElevenLabs voice (a premade one's id); None: the deployment's GREENROOM_ELEVENLABS_VOICE_ID."""


@dataclass(frozen=True, slots=True)
class Persona:
    """An interviewer's name, role and manner; the scripted interviewer words its lines by it."""

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
    role: str = ""
    style: str = ""
    focus: tuple[str, ...] = ()
    """The question categories this persona leads on a panel."""
    introduction: str = ""
    """What the persona says of themselves when a panel opens."""
    voice: Voice = Voice()


PERSONAS_PATH = Path(__file__).parent / "data" / "personas.json"
_QUESTION_CATEGORIES = tuple(r for r in ROUND_TYPES if r != "mixed")
_CLOUD_VOICE_ID = re.compile(r"[A-Za-z0-9]{8,64}")
_PERSONA_TEXTS = ("id", "name", "title", "role", "style", "greeting", "introduction", "follow_up_lead", "closing")


class PersonaDataError(ValueError):
    """The personas file does not describe valid personas."""


def load_personas(path: Path = PERSONAS_PATH) -> tuple[dict[str, Persona], str]:
    """The personas in a personas file, by id, and the default persona's id; checked as read."""
    document = json.loads(path.read_text(encoding="utf-8"))
    personas: dict[str, Persona] = {}
    for index, entry in enumerate(document.get("personas") or []):
        where = f"{path.name}: persona {index}"
        missing = [k for k in _PERSONA_TEXTS if not isinstance(entry.get(k), str) or not entry[k].strip()]
        if missing:
            raise PersonaDataError(f"{where}: needs text for {', '.join(missing)}")
        focus = entry.get("focus")
        if not isinstance(focus, list) or not focus or not set(focus) <= set(_QUESTION_CATEGORIES):
            raise PersonaDataError(f"{where}: focus must list some of {', '.join(_QUESTION_CATEGORIES)}")
        acks = entry.get("acknowledgements")
        if not isinstance(acks, list) or not acks or not all(isinstance(a, str) and a for a in acks):
            raise PersonaDataError(f"{where}: acknowledgements must be a list of lines")
        voice = entry.get("voice") or {}
        pitch_hz, formant_shift, pace = voice.get("pitch_hz"), voice.get("formant_shift", 1.0), entry.get("pace", 1.0)
        if pitch_hz is not None and not (isinstance(pitch_hz, int | float) and 60 <= pitch_hz <= 300):
            raise PersonaDataError(f"{where}: voice.pitch_hz must be 60-300 Hz or null")
        if not (isinstance(formant_shift, int | float) and 0.8 <= formant_shift <= 1.25):
            raise PersonaDataError(f"{where}: voice.formant_shift must be 0.8-1.25")
        if not (isinstance(pace, int | float) and 0.7 <= pace <= 1.4):
            raise PersonaDataError(f"{where}: pace must be 0.7-1.4")
        cloud_voice = voice.get("elevenlabs_voice_id")
        if cloud_voice is not None and not (isinstance(cloud_voice, str) and _CLOUD_VOICE_ID.fullmatch(cloud_voice)):
            raise PersonaDataError(f"{where}: voice.elevenlabs_voice_id must be an ElevenLabs voice id")
        if entry["id"] in personas:
            raise PersonaDataError(f"{where}: id {entry['id']!r} appears twice")
        personas[entry["id"]] = Persona(
            **{k: entry[k].strip() for k in _PERSONA_TEXTS},
            acknowledgements=tuple(acks),
            focus=tuple(focus),
            voice=Voice(
                pitch_hz=None if pitch_hz is None else float(pitch_hz),
                formant_shift=float(formant_shift),
                pace=float(pace),
                elevenlabs_voice_id=cloud_voice,
            ),
        )
    default = document.get("default")
    if default not in personas:
        raise PersonaDataError(f"{path.name}: the default persona {default!r} is not among the personas")
    return personas, default


PERSONAS, DEFAULT_PERSONA = load_personas()
PANEL_SIZES = (2, 3)
"""How many personas a panel has."""
