"""Nothing personal in the logs: a whole interview (sign-up with an email, a CV and a job
description, a spoken answer, the end, the report, a PDF export and a share) is run with every
logger at DEBUG, and no log record holds the email, the CV, the job description or the words
of the answer: not in its message, its arguments, its extra fields or its traceback."""

from __future__ import annotations

import logging
import uuid

import asyncpg
import pytest

from tests.media.test_signalling import (  # noqa: F401  (fixtures used by name)
    ANSWER,
    ANSWER_KEYWORDS,
    StartGreenroom,
    _answer,
    _hear_first_question,
    answer_speech,
    eventually,
    start_greenroom,
    voice_models,
)

CV = "Backend engineer at Zorblax Payments. Led the Quillfeather ledger migration in Tallinn."
JD = "Vantablue Logistics seeks an engineer for its Orinoco routing platform."
PRIVATE_CV_WORDS = ("Zorblax", "Quillfeather", "Tallinn", "Vantablue", "Orinoco")
STANDARD_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _record_text(record: logging.LogRecord) -> str:
    """Everything a log handler could write out for this record."""
    extras = {k: v for k, v in vars(record).items() if k not in STANDARD_RECORD_FIELDS}
    parts = [record.getMessage(), repr(extras)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


async def test_a_whole_interview_logs_no_email_cv_or_transcript(
    start_greenroom: StartGreenroom, answer_speech, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    greenroom = await start_greenroom()
    email = (await greenroom.http.get("/v1/auth/me")).json()["user"]["email"]
    body = await greenroom.new_session(cv_text=CV, jd_text=JD)
    session_id = body["session"]["id"]
    candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    await _hear_first_question(candidate)
    await _answer(candidate, answer_speech)
    stored = await eventually(
        lambda: pool.fetchval(
            "SELECT string_agg(transcript, ' ') FROM responses WHERE session_id = $1", uuid.UUID(session_id)
        ),
        lambda text: bool(text) and sum(k in text.lower() for k in ANSWER_KEYWORDS) >= 3,
        timeout=60,
    )
    assert (await greenroom.http.post(f"/v1/sessions/{session_id}/end")).status_code == 200
    assert (await greenroom.http.get(f"/v1/sessions/{session_id}/report")).status_code == 200
    export = await greenroom.http.post(f"/v1/sessions/{session_id}/export", json={"format": "pdf"})
    assert export.status_code == 201, export.text
    assert (await greenroom.http.post(f"/v1/sessions/{session_id}/share")).status_code == 201

    logs = [_record_text(r) for r in caplog.records]
    assert len(logs) > 20, "the interview logged almost nothing: is logging captured at all?"
    # The words the candidate said (and Whisper heard) that are not everyday words the
    # interviewer says too. Only words of the answer itself count: a misheard word ("rewrote"
    # heard as "remote") can be one a library logs for its own reasons.
    spoken = {w.strip(".,").lower() for w in ANSWER.split()}
    said = [w for w in stored.split() if len(w) > 5 and w.isalpha() and w.lower() in spoken]
    assert said, stored
    secrets_ = [email, *PRIVATE_CV_WORDS, stored, *said]
    leaks = [(s, text[:200]) for text in logs for s in secrets_ if s.lower() in text.lower()]
    assert not leaks, f"personal data in the logs: {leaks[:5]}"
