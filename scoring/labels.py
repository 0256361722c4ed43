"""How the interview (round) types are named to people: one table for every layer.

The catalog (agent/catalog.py, served by GET /v1/catalog) owns the interview choices and
re-exports these; they live here, in the leaf package, so that the scorer's prompts and the
reports, which may not import agent/, name the types the same way.
"""

from __future__ import annotations

# Shown on their own: menus, titles, tags.
ROUND_TYPE_LABELS: dict[str, str] = {
    "behavioral": "Behavioural",
    "technical": "Technical",
    "case": "Case study",
    "system_design": "System design",
    "mmi": "MMI stations",
    "mixed": "Mixed",
}
# Inside a sentence: "a 20-minute {…} mock interview", "strongest in {…}".
ROUND_TYPE_PHRASES: dict[str, str] = {
    "behavioral": "behavioural",
    "technical": "technical",
    "case": "case",
    "system_design": "system design",
    "mmi": "multiple mini interview (MMI)",
    "mixed": "mixed",
}


def round_type_phrase(round_type: str) -> str:
    """A round type's name inside a sentence; one without an entry is named by its id."""
    return ROUND_TYPE_PHRASES.get(round_type) or round_type.replace("_", " ")
