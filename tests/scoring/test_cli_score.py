"""`greenroom score`: a typed answer scored in the terminal, as a table or as JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from greenroom.cli import app
from scoring.base import RUBRICS

ANSWER = (
    "Last year I led a four-person team at a logistics start-up. My goal was to ship the carrier "
    "integration by 1 March. I split the work, I set up daily calls with the carrier, and we "
    "launched two days early; no parcels were delayed."
)


@pytest.fixture(autouse=True)
def offline_only(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("GREENROOM_LLM_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the working directory


def test_prints_a_table() -> None:
    result = CliRunner().invoke(
        app, ["score", "--question", "Tell me about a deadline.", "--answer", ANSWER]
    )
    assert result.exit_code == 0, result.output
    for dimension in RUBRICS["behavioral"]:
        assert dimension in result.output
    assert "overall" in result.output and "(behavioral, offline)" in result.output


def test_prints_json_for_a_category() -> None:
    result = CliRunner().invoke(
        app,
        [
            "score",
            "-q",
            "Should organ donation be opt-out?",
            "-a",
            ANSWER,
            "--category",
            "mmi",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["category"] == "mmi" and body["evaluator"] == "offline"
    assert [d["dimension"] for d in body["dimensions"]] == list(RUBRICS["mmi"])


def test_reads_the_answer_from_stdin() -> None:
    result = CliRunner().invoke(app, ["score", "-q", "Q", "-a", "-", "--json"], input=ANSWER)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["overall"] > 0


def test_rejects_an_unknown_category() -> None:
    result = CliRunner().invoke(app, ["score", "-q", "Q", "-a", ANSWER, "--category", "astrology"])
    assert result.exit_code != 0
    assert "category must be one of" in result.output
