"""The consent policy a candidate accepts before an interview: `GET /v1/consent`."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

router = APIRouter(tags=["consent"])

# Change the version whenever the text changes in substance: sessions record the version their
# candidate accepted, and new sessions are refused under any other one.
CONSENT_VERSION = "2026-11-22"
# How long a session is kept, in days; None keeps it until the candidate deletes it.
RETENTION_CHOICES: tuple[int | None, ...] = (7, 30, 90, 365, None)
DEFAULT_RETENTION_DAYS = 90

CONSENT_TEXT = """\
Before your interview, here is what Greenroom does with your camera, your microphone and \
what you say.

What is captured while the interview runs
- Microphone: your speech is transcribed so the interviewer can answer you. If you turn on \
"analyse my delivery", your audio is also analysed for prosody: loudness, pitch, pauses, \
speaking pace and filler words.
- Camera: if you turn on "analyse my delivery", video frames are analysed as they arrive \
into face signals: whether a face is in view, head position, whether you look towards the \
camera, blinks and smiles. These are measurements, not judgements of your emotions, \
personality or fitness for a role. With "analyse my delivery" off, no face or voice signals \
are computed or kept.

What is stored
- The transcript of the interview (the questions and your answers), the signals above when \
you chose to have your delivery analysed, and the scores and feedback computed from them.
- The CV and job description text, if you give them, so the interviewer can tailor its \
questions.
- No raw audio or video is ever stored: frames and sound are analysed in memory and then \
discarded.
- If the service is set up with an external AI model, the text of your answers is sent to \
that model to be scored. Audio and video are never sent to it.

How long it is kept
- You choose, for each session: 7, 30, 90 or 365 days, or until you delete it. When the \
time is up, the session and everything recorded in it are deleted automatically.
- Exports (PDF, CSV) expire on their own; share links stop working when they expire, when \
you revoke them, or when the session is deleted.

Deleting your data
- You can delete any session at any time; everything recorded in it is deleted with it.
- You can delete your account; all your sessions, their transcripts, signals, scores, \
exports and share links go with it, and you are signed out everywhere.
"""


class ConsentPublic(BaseModel):
    """The consent policy in force and its version, which a new session must quote."""

    version: str
    text: str = Field(description="The policy in plain language (paragraphs and - bullets).")


@router.get("/v1/consent", response_model=ConsentPublic, summary="The consent policy in force")
async def get_consent() -> ConsentPublic:
    return ConsentPublic(version=CONSENT_VERSION, text=CONSENT_TEXT)
