"""Session reports over HTTP: the report, chart timelines, PDF/CSV exports, shareable links."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from agent.question_bank import QuestionBank, QuestionBankError
from api.access import readable_session
from api.deps import CurrentUser, PoolDep, SettingsDep, TokensDep, WatchAccessDep
from api.fields import RequestBody, invalid
from api.livekit_rooms import UNAVAILABLE, LiveKitRoomsDep, remove_coaches_without_access
from api.sessions import RoomJoin, room_join
from api.throttle import THROTTLED, ShareLimit
from api.tokens import resolve_token_secret
from db import audit, coach_notes, coach_shares, exports, shares
from db import sessions as repo
from greenroom.settings import Settings
from reports.builder import ReportContext, build_report, offline_fallback
from reports.csv_export import stream_signals_csv
from reports.model import Report
from reports.pdf import render_pdf
from reports.scorecard import validate_weights
from reports.share import ShareLinkError, ShareLinkExpired, ShareSigner
from reports.timeline import TooManyBuckets, build_timeline

logger = logging.getLogger(__name__)

router = APIRouter(tags=["reports"])

SESSION_NOT_FOUND = "session not found"
MAX_SHARE_TTL_S = 30 * 24 * 3600
MAX_SIGNAL_MS = 24 * 3600 * 1000  # a span on a session's signal clock ends within a day


def configure(app: FastAPI, settings: Settings) -> None:
    """Puts what reports need on app.state, once, in the lifespan (bad weights fail here)."""
    app.state.report_weights = validate_weights(settings.report_weights)
    app.state.share_signer = ShareSigner(resolve_token_secret(settings))
    if getattr(app.state, "question_bank", None) is None:
        try:
            app.state.question_bank = QuestionBank.load()
        except QuestionBankError:
            # Reports still work without it (categories then come from the round type); the
            # interviewer, which cannot, reports the broken bank itself.
            logger.error("question bank not loaded for reports", exc_info=True)
            app.state.question_bank = None


# -- dependencies -------------------------------------------------------------------


def report_context(app: FastAPI) -> ReportContext:
    """What a report is built with, from what the app holds now (its lifespan put it there)."""
    state = app.state
    return ReportContext(
        weights=state.report_weights,
        bank=getattr(state, "question_bank", None),
        evaluator=getattr(state, "evaluator", None),
        evaluator_timeout_s=state.settings.report_evaluator_timeout_s,
        fallback=offline_fallback,
    )


def get_report_context(request: Request) -> ReportContext:
    """The evaluator, question bank and weights a report is built with."""
    ctx = report_context(request.app)
    if ctx.evaluator is None:
        raise HTTPException(status_code=503, detail="answer scoring is not configured")
    return ctx


def get_read_only_context(request: Request) -> ReportContext:
    """Context for views that must not score or store anything (shared links, timelines)."""
    return report_context(request.app).read_only()


def get_share_signer(request: Request) -> ShareSigner:
    return request.app.state.share_signer


ReportContextDep = Annotated[ReportContext, Depends(get_report_context)]
ReadOnlyContextDep = Annotated[ReportContext, Depends(get_read_only_context)]
ShareSignerDep = Annotated[ShareSigner, Depends(get_share_signer)]


async def _owned_session(pool: asyncpg.Pool, session_id: UUID, user_id: UUID) -> repo.SessionRecord:
    record = await repo.get_session(pool, session_id, user_id=user_id)
    if record is None:
        raise HTTPException(status_code=404, detail=SESSION_NOT_FOUND)
    return record


# -- response models --------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorPublic(BaseModel):
    """An error answer."""

    detail: str


class FactorPublic(_Out):
    """One thing a score was built from, as measured."""

    name: str
    value: float | int | str | None
    unit: str


class DeliveryScorePublic(_Out):
    """A delivery score with its 95% band, confidence and contributing factors."""

    metric: Literal[
        "pace", "fillers", "pauses", "response_latency", "face_visible", "camera_gaze", "head_stability", "smile"
    ]
    label: str
    score: int | None = Field(description="0–100; null when there was nothing to measure it by.")
    band_low: int | None
    band_high: int | None
    confidence: Literal["high", "medium", "low", "none"]
    samples: int
    value: float | None = Field(description="The measured value, in `unit`.")
    unit: str
    summary: str
    factors: list[FactorPublic]
    note: str | None = Field(description="Set on facial cues: how far (not) to read into them.")


class RubricDimensionPublic(_Out):
    dimension: str
    score: int
    reason: str


class RubricPublic(_Out):
    """The evaluator's rubric scores of an answer."""

    category: str
    overall: int
    dimensions: list[RubricDimensionPublic]
    evaluator: str = Field(description='"offline" or "llm:<model>".')
    fallback_reason: str | None = Field(description="Why the fallback evaluator answered, when it did.")
    strengths: list[str]
    improvements: list[str]
    stronger_answer: str | None
    scored_at: datetime | None = Field(description="null: scored for this view only (answer still open).")


class AnswerPublic(_Out):
    """A question and the candidate's answer to it, scored."""

    question_id: UUID
    seq: int
    question: str
    source: str
    bank_question_id: str | None
    category: str
    response_ids: list[UUID]
    t_from_ms: int | None = Field(description="Answer start on the session's signal clock.")
    t_to_ms: int | None
    duration_s: float
    words: int
    final: bool = Field(
        description="False for the still-open last answer of a live session, or one still being stored after its end."
    )
    rubric: RubricPublic | None
    rubric_missing_reason: str | None
    delivery: list[DeliveryScorePublic]
    example_answer: str | None = Field(description="A stronger example answer (evaluator's or the bank's).")


class KeyMomentPublic(_Out):
    """A moment worth looking back at, linked to the transcript."""

    kind: Literal["long_pause", "look_away", "filler_burst", "pace_spike", "recovery"]
    t_ms: int
    duration_ms: int
    title: str
    detail: str
    question_seq: int | None
    question_id: UUID | None
    response_id: UUID | None
    offset_s: float | None = Field(description="Seconds from the response's start.")
    word_index: int | None = Field(description="Index of the nearest word in the response's words.")


class ContributorPublic(_Out):
    source: Literal["delivery", "rubric", "answer_overall"]
    name: str
    score: float
    weight: float


class DimensionPublic(_Out):
    """A scorecard dimension and how it was made."""

    dimension: Literal["communication", "composure", "structure", "relevance"]
    label: str
    score: int | None
    band_low: int | None
    band_high: int | None
    weight: float
    definition: str
    contributors: list[ContributorPublic]


class EvidencePublic(_Out):
    detail: str
    question_seq: int | None
    question_id: UUID | None
    value: float | None


class FindingPublic(_Out):
    """A strength or improvement, with evidence."""

    area: str
    source: Literal["delivery", "rubric"]
    dimension: str
    title: str
    detail: str
    score: int
    evidence: list[EvidencePublic]


class DrillPublic(_Out):
    id: str
    title: str
    dimension: str
    targets: list[str]
    minutes: int
    steps: list[str]
    why: str


class DrillPickPublic(_Out):
    drill: DrillPublic
    dimension: str
    target: str
    reason: str


class ScorecardPublic(_Out):
    """Overall 0–100 from four weighted dimensions, strengths, improvements and drills."""

    overall: int | None
    band_low: int | None
    band_high: int | None
    weights: dict[str, float]
    dimensions: list[DimensionPublic]
    delivery: list[DeliveryScorePublic] = Field(description="Delivery scores over all answers together.")
    strengths: list[FindingPublic]
    improvements: list[FindingPublic]
    drills: list[DrillPickPublic]


class CoveragePublic(_Out):
    face_samples: int
    prosody_windows: int
    speech_events: int
    frames_dropped: int | None
    rows_dropped: int | None


class ReportPublic(_Out):
    """A session's report."""

    session_id: UUID
    role_track: str
    round_type: str
    difficulty: str
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    generated_at: datetime
    partial: bool = Field(
        description=(
            "True while the session is still open, and for a few seconds after its end while its last "
            "answers are stored: what is known so far."
        )
    )
    duration_s: float
    scorecard: ScorecardPublic
    answers: list[AnswerPublic]
    key_moments: list[KeyMomentPublic]
    coverage: CoveragePublic
    notes: list[str]


class TimelineSeries(BaseModel):
    """Series on one grid of bucket starts; null where a bucket has no samples."""

    t_ms: list[int]
    pace_wpm: list[float | None]
    pitch_hz: list[float | None]
    loudness_dbfs: list[float | None]
    face_visible: list[float | None] = Field(description="Share of camera samples with a face, 0..1.")
    gaze_on_camera: list[float | None] = Field(description="Mean gaze-on-camera score, 0..1.")


class MarkerPublic(_Out):
    kind: Literal["pause", "filler", "response_latency", "nudge"]
    t_ms: int
    duration_ms: int | None
    value: float | None
    label: str | None


class ResponseAnchorPublic(_Out):
    response_id: UUID
    start_ms: int
    end_ms: int


class QuestionAnchorPublic(_Out):
    question_id: UUID
    seq: int
    text: str
    asked_ms: int | None
    answer_from_ms: int | None
    answer_to_ms: int | None
    responses: list[ResponseAnchorPublic]


class CoachNoteItem(_Out):
    """A coach's note on a moment, as the timeline shows it (hidden notes never are)."""

    kind: Literal["coach_note"] = "coach_note"
    id: UUID
    t_ms: int
    body: str
    author_name: str


class TimelinePublic(BaseModel):
    """A session's signals bucketed for charts, with markers, key moments, transcript anchors and
    coaches' notes."""

    session_id: UUID
    partial: bool
    bucket_ms: int
    from_ms: int
    to_ms: int
    series: TimelineSeries
    markers: list[MarkerPublic]
    moments: list[KeyMomentPublic]
    anchors: list[QuestionAnchorPublic]
    notes: list[CoachNoteItem] = Field(description="Coaches' notes the candidate has not hidden, in time order.")


class ExportCreate(RequestBody):
    """Which export to make."""

    format: Literal["pdf", "csv"]


class ExportPublic(BaseModel):
    """An export and where to download it."""

    id: UUID
    session_id: UUID
    format: Literal["pdf", "csv"]
    status: Literal["ready", "streamed_on_download"]
    size_bytes: int | None
    created_at: datetime
    expires_at: datetime
    download_url: str


class ShareCreate(RequestBody):
    """How long a share link should live."""

    expires_in_s: int | None = Field(
        default=None, ge=60, le=MAX_SHARE_TTL_S, description="Default: the server's report_share_ttl_s."
    )


class ShareLinkPublic(BaseModel):
    """A read-only link to the report, and when it stops working."""

    url: str
    token: str
    expires_at: datetime


NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such session for this user."}}


def _public(report: Report) -> ReportPublic:
    return ReportPublic.model_validate(report)


# -- endpoints ---------------------------------------------------------------------------


@router.get(
    "/v1/sessions/{session_id}/report",
    response_model=ReportPublic,
    responses={**NOT_FOUND, 503: {"model": ErrorPublic, "description": "No evaluator is configured."}},
    summary="The session's report: scorecard, scored answers, key moments",
    description=(
        "Answers not scored yet are scored now and kept. A session still open gives "
        "`partial: true` with what is known so far; its open last answer is scored for this "
        "view only. Each answer shows which evaluator scored it and any `fallback_reason`. "
        "The owner's, or a coach's the candidate shares the session with."
    ),
)
async def get_report(
    session_id: UUID, pool: PoolDep, user_id: CurrentUser, ctx: ReportContextDep
) -> ReportPublic:
    session = (await readable_session(pool, session_id, user_id)).session
    return _public(await build_report(pool, session, ctx))


@router.get(
    "/v1/sessions/{session_id}/timeline",
    response_model=TimelinePublic,
    responses={**NOT_FOUND, **invalid("Invalid parameters, or too many buckets for the span.")},
    summary="Signals bucketed for charts: pace, pitch, loudness, face visible, gaze; markers; anchors; notes",
)
async def get_timeline(
    session_id: UUID,
    pool: PoolDep,
    user_id: CurrentUser,
    ctx: ReadOnlyContextDep,
    bucket_ms: Annotated[int, Query(ge=100, le=600_000, description="Bucket width in ms.")] = 1000,
    from_ms: Annotated[
        int, Query(ge=0, le=MAX_SIGNAL_MS, description="Start of the span (signal clock, ms).")
    ] = 0,
    to_ms: Annotated[
        int | None,
        Query(gt=0, le=MAX_SIGNAL_MS, description="End of the span; default: the session's end."),
    ] = None,
) -> TimelinePublic:
    session = (await readable_session(pool, session_id, user_id)).session
    report = await build_report(pool, session, ctx)
    try:
        timeline = await build_timeline(pool, report, bucket_ms=bucket_ms, from_ms=from_ms, to_ms=to_ms)
    except (TooManyBuckets, ValueError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return TimelinePublic(
        session_id=timeline.session_id,
        partial=timeline.partial,
        bucket_ms=timeline.bucket_ms,
        from_ms=timeline.from_ms,
        to_ms=timeline.to_ms,
        series=TimelineSeries(
            t_ms=list(timeline.t_ms),
            pace_wpm=list(timeline.pace_wpm),
            pitch_hz=list(timeline.pitch_hz),
            loudness_dbfs=list(timeline.loudness_dbfs),
            face_visible=list(timeline.face_visible),
            gaze_on_camera=list(timeline.gaze_on_camera),
        ),
        markers=[MarkerPublic.model_validate(m) for m in timeline.markers],
        moments=[KeyMomentPublic.model_validate(m) for m in timeline.moments],
        anchors=[QuestionAnchorPublic.model_validate(a) for a in timeline.anchors],
        notes=[
            CoachNoteItem.model_validate(n)
            for n in await coach_notes.notes(pool, session_id, include_hidden=False)
            if timeline.from_ms <= n.t_ms < timeline.to_ms
        ],
    )


def _export_public(row: exports.ExportRow) -> ExportPublic:
    return ExportPublic(
        id=row.id,
        session_id=row.session_id,
        format=row.format,
        status="ready" if row.format == "pdf" else "streamed_on_download",
        size_bytes=row.size_bytes,
        created_at=row.created_at,
        expires_at=row.expires_at,
        download_url=f"/v1/exports/{row.id}",
    )


@router.post(
    "/v1/sessions/{session_id}/export",
    status_code=status.HTTP_201_CREATED,
    response_model=ExportPublic,
    responses={
        **NOT_FOUND,
        201: {"description": "PDF: rendered and stored; download it at `download_url`."},
        202: {
            "model": ExportPublic,
            "description": "CSV: accepted; it is streamed from the signal tables when downloaded.",
        },
    },
    summary="Export the report as PDF or the signals as CSV",
    description="The owner's, or a coach's the candidate shares the session with. A PDF includes the visible coach notes.",
)
async def create_export(
    session_id: UUID,
    body: ExportCreate,
    response: Response,
    pool: PoolDep,
    user_id: CurrentUser,
    settings: SettingsDep,
    ctx: ReportContextDep,
) -> ExportPublic:
    access = await readable_session(pool, session_id, user_id)
    session = access.session
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.report_export_ttl_s)
    if body.format == "pdf":
        report = await build_report(pool, session, ctx)
        notes = await coach_notes.notes(pool, session_id, include_hidden=False)
        content = await asyncio.to_thread(render_pdf, report, notes)
        row = await exports.create_export(pool, session_id, "pdf", content, expires_at)
    else:
        row = await exports.create_export(pool, session_id, "csv", None, expires_at)
        response.status_code = status.HTTP_202_ACCEPTED
    await audit.record(
        pool,
        action="export_created",
        actor_id=user_id,
        subject_user_id=session.user_id,
        org_id=access.org_id,
        session_id=session_id,
        detail={"format": body.format, "export_id": str(row.id), "as": "coach" if access.coach else "owner"},
    )
    response.headers["Location"] = f"/v1/exports/{row.id}"
    return _export_public(row)


@router.get(
    "/v1/exports/{export_id}",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "text/csv": {}}, "description": "The file."},
        404: {"model": ErrorPublic, "description": "No such export for this user."},
        410: {"model": ErrorPublic, "description": "The export has expired."},
    },
    summary="Download an export",
)
async def download_export(export_id: UUID, pool: PoolDep, user_id: CurrentUser) -> Response:
    found = await exports.get_export(pool, export_id, user_id)
    if found is None:  # a coach's, while a coach share covers the session
        of = await coach_shares.export_session(pool, export_id)
        if of is not None and await coach_shares.coach_access(pool, of[0], user_id) is not None:
            found = await exports.get_export(pool, export_id, of[1])
    if found is None:
        raise HTTPException(status_code=404, detail="export not found")
    row, content = found
    if row.expires_at <= datetime.now(UTC):
        raise HTTPException(status_code=410, detail="export expired; make a new one")
    name = f"greenroom-session-{str(row.session_id)[:8]}"
    if row.format == "pdf":
        return Response(
            content=content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}-report.pdf"'},
        )
    return StreamingResponse(
        stream_signals_csv(pool, row.session_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-signals.csv"'},
    )


@router.post(
    "/v1/sessions/{session_id}/share",
    status_code=status.HTTP_201_CREATED,
    response_model=ShareLinkPublic,
    responses={**NOT_FOUND, **THROTTLED},
    summary="A read-only link to the report that expires",
    description="Scores any unscored answers first, so the shared view shows the full report.",
)
async def create_share(
    session_id: UUID,
    request: Request,
    pool: PoolDep,
    user_id: CurrentUser,
    settings: SettingsDep,
    ctx: ReportContextDep,
    signer: ShareSignerDep,
    _limit: ShareLimit,
    body: ShareCreate | None = None,
) -> ShareLinkPublic:
    session = await _owned_session(pool, session_id, user_id)
    await build_report(pool, session, ctx)
    ttl = (body.expires_in_s if body and body.expires_in_s else None) or settings.report_share_ttl_s
    expires_at = (datetime.now(UTC) + timedelta(seconds=min(ttl, MAX_SHARE_TTL_S))).replace(microsecond=0)
    link = await shares.create_share(pool, session_id, expires_at)
    token = signer.sign(link.id, expires_at)
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    return ShareLinkPublic(url=f"{base}/v1/shared/{token}", token=token, expires_at=expires_at)


@router.delete(
    "/v1/sessions/{session_id}/share",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**NOT_FOUND, **UNAVAILABLE},
    summary="Revoke every live share link of the session",
    description="A coach watching through one of them is disconnected at once.",
)
async def revoke_shares(
    session_id: UUID, pool: PoolDep, access: WatchAccessDep, livekit: LiveKitRoomsDep, user_id: CurrentUser
) -> Response:
    await _owned_session(pool, session_id, user_id)
    await shares.revoke_shares(pool, session_id)
    if access is not None:
        await access.share_revoked(session_id)
    if livekit is not None:  # LiveKit checks a coach's token only when it joins
        await remove_coaches_without_access(pool, livekit, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _shared_session(
    token: str, pool: asyncpg.Pool, signer: ShareSigner
) -> tuple[repo.SessionRecord, UUID]:
    """The session a share token opens and the link's id; 404 for a bad token, 410 for an
    expired or revoked one."""
    try:
        link_id, _ = signer.verify(token)
    except ShareLinkExpired as exc:
        raise HTTPException(status_code=410, detail=str(exc)) from None
    except ShareLinkError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    link = await shares.get_share(pool, link_id)
    if link is None:
        raise HTTPException(status_code=410, detail="share link no longer available")
    if link.revoked_at is not None:
        raise HTTPException(status_code=410, detail="share link revoked")
    session = await repo.get_session(pool, link.session_id)
    if session is None:
        raise HTTPException(status_code=410, detail="share link no longer available")
    return session, link_id


SHARED_ERRORS = {
    404: {"model": ErrorPublic, "description": "Not a valid link (malformed or tampered with)."},
    410: {"model": ErrorPublic, "description": "The link has expired, was revoked, or its session deleted."},
}
INTERVIEW_ENDED = "the interview has ended; the report is at /v1/shared/{token}"


@router.get(
    "/v1/shared/{token}",
    response_model=ReportPublic,
    responses=SHARED_ERRORS,
    summary="A shared report (read-only, no sign-in)",
)
async def get_shared(
    token: str, pool: PoolDep, signer: ShareSignerDep, ctx: ReadOnlyContextDep
) -> ReportPublic:
    session, _ = await _shared_session(token, pool, signer)
    return _public(await build_report(pool, session, ctx))


@router.post(
    "/v1/shared/{token}/watch",
    response_model=RoomJoin,
    responses={
        **SHARED_ERRORS,
        409: {"model": ErrorPublic, "description": "The interview has ended; the shared report remains."},
    },
    summary="Watch a scheduled or live interview as a coach (the share link is the credential)",
)
async def watch_shared(token: str, pool: PoolDep, signer: ShareSignerDep, tokens: TokensDep) -> RoomJoin:
    session, link_id = await _shared_session(token, pool, signer)
    if session.status not in repo.OPEN_STATUSES:
        raise HTTPException(status_code=409, detail=INTERVIEW_ENDED.format(token=token))
    return room_join(tokens, session.id, session.user_id, "coach", share_id=link_id)
