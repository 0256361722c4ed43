"""Tailoring to the CV and job description: keywords, relevance and the CV opener's term."""

from __future__ import annotations

import re

import pytest

from agent.question_bank import QuestionBank
from agent.tailoring import (
    MAX_TERM_CHARS,
    MAX_TERM_WORDS,
    OPENER_TEMPLATE,
    Tailoring,
    keywords,
    opener_term,
    redact,
    tailored_opener,
)

CONTACT = "jane.doe@example.com | +44 (0)7700 900123 | https://janedoe.dev | github.com/JaneDoe42"


@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    return QuestionBank.load()


def test_keywords_leave_out_stop_words_and_fold_plurals() -> None:
    words = keywords("We are looking for an engineer with strong experience of incidents and Kubernetes.")
    assert words == {"incident", "kubernete"}
    assert keywords("") == keywords(None) == frozenset()


def test_relevance_counts_job_description_words_double(bank: QuestionBank) -> None:
    question = bank.get("beh-swe-production-incident")
    from_jd = Tailoring.from_texts(None, "incident response in production")
    from_cv = Tailoring.from_texts("incident response in production", None)

    assert from_jd.relevance(question) == 2 * from_cv.relevance(question) > 0
    assert Tailoring().relevance(question) == 0
    assert not Tailoring().active


def test_opener_names_a_cv_term_that_the_job_description_also_names() -> None:
    cv = f"Sam Lee\n{CONTACT}\nBuilt dashboards in Tableau and Python; moved our jobs to Kubernetes.\n"

    assert opener_term(cv, "You will look after our Kubernetes clusters.") == "Kubernetes"
    assert opener_term(cv, "Our analysts live in tableau.") == "Tableau"
    # With nothing shared, a known skill from the CV, named tools first.
    assert opener_term(cv, "Someone friendly.") == "Tableau"
    assert tailored_opener(cv, None) == OPENER_TEMPLATE.format(term="Tableau")


@pytest.mark.parametrize(
    "cv",
    [
        f"Jane Doe\n{CONTACT}\nI enjoy building things.",
        "Contact me: JSmith@AWS.com or +1 (555) 010-9999, www.JSmithDev.io/CV2024",
        f"{CONTACT}\n{CONTACT}",
        "Reach me on 07700 900123 or at AWS.Lover@mail.co.uk; see linkedin.com/in/DataQueen",
    ],
    ids=["header", "inline", "only-contact", "tricky"],
)
def test_opener_never_reads_back_contact_details(cv: str) -> None:
    opener = tailored_opener(cv, "AWS Kubernetes JSmith JaneDoe42 DataQueen CV2024")

    if opener is not None:
        spoken = opener.lower()
        assert "@" not in spoken and "http" not in spoken and "www" not in spoken
        assert not re.search(r"\d{3}", spoken)
        for piece in ("jsmith", "janedoe", "dataqueen", "cv2024", "example", "mail"):
            assert piece not in spoken
    assert "@" not in redact(cv) and not re.search(r"\d{5}", redact(cv))


def test_an_email_is_not_mistaken_for_a_skill() -> None:
    # Without redaction, JSmith (inner capital) or AWS (acronym) would be lifted from the address.
    assert opener_term("Write to JSmith@AWS.com any time.", "AWS JSmith") is None


def test_opener_term_is_short() -> None:
    long_name = "SuperExtraordinarilyLongFrameworkName"
    assert len(long_name) > MAX_TERM_CHARS
    cv = f"Name Here\nI worked with {long_name} every day, and some SQL."

    term = opener_term(cv, long_name)

    assert term == "SQL"
    assert len(term) <= MAX_TERM_CHARS and len(term.split()) <= MAX_TERM_WORDS


def test_the_name_line_and_lone_capitalised_words_are_not_asked_about() -> None:
    cv = "Ruby Chen\nI worked at Initech for a while, with Peter on the night shift."

    assert opener_term(cv, None) is None  # Initech or Peter could be anyone
    assert opener_term(cv, "Initech is hiring") == "Initech"  # the JD names it: a fair topic


def test_no_cv_no_opener() -> None:
    assert tailored_opener(None, "Kubernetes and incident response") is None
    assert tailored_opener("", "Kubernetes") is None
    assert Tailoring.from_texts(None, "Kubernetes").opener is None
