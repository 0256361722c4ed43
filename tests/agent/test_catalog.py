"""The catalog owns the interview choices and their labels; every layer names round types by it."""

from __future__ import annotations

from agent.catalog import DIFFICULTIES, ROLE_TRACKS, ROUND_TYPE_LABELS, ROUND_TYPE_PHRASES, ROUND_TYPES, label
from scoring.base import RUBRICS
from scoring.labels import round_type_phrase


def test_every_round_type_has_a_label_and_a_phrase_and_nothing_else_does() -> None:
    assert set(ROUND_TYPE_LABELS) == set(ROUND_TYPE_PHRASES) == set(ROUND_TYPES)
    assert set(RUBRICS) <= set(ROUND_TYPES)  # the scorer's categories are round types


def test_labels_come_from_the_one_table() -> None:
    assert [label(r) for r in ROUND_TYPES] == [ROUND_TYPE_LABELS[r] for r in ROUND_TYPES]
    assert label("system_design") == "System design" and label("mmi") == "MMI stations"
    assert all(label(c) and "_" not in label(c) for c in (*ROLE_TRACKS, *DIFFICULTIES))
    assert label("new_round") == "New round"


def test_a_round_type_in_a_sentence() -> None:
    assert round_type_phrase("mmi") == "multiple mini interview (MMI)"
    assert round_type_phrase("system_design") == "system design"
    assert round_type_phrase("new_round") == "new round"
