"""The choices the setup page offers: `GET /v1/catalog` (no sign-in needed)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agent.catalog import (
    DEFAULT_PERSONA,
    DIFFICULTIES,
    DURATIONS_MIN,
    PANEL_SIZES,
    PERSONAS,
    ROLE_TRACKS,
    ROUND_TYPES,
    label,
)
from api.consent import CONSENT_VERSION, DEFAULT_RETENTION_DAYS, RETENTION_CHOICES

router = APIRouter(tags=["catalog"])


class ChoicePublic(BaseModel):
    id: str
    label: str


class PersonaPublic(BaseModel):
    id: str
    name: str
    description: str
    role: str = Field(description="What kind of interviewer: Hiring manager, Friendly mentor, …")
    style: str
    focus: list[str] = Field(description="The round types whose questions this persona leads on a panel.")


class CatalogPublic(BaseModel):
    """What a candidate can choose when scheduling a session, with labels to show."""

    role_tracks: list[ChoicePublic]
    round_types: list[ChoicePublic]
    difficulties: list[ChoicePublic]
    durations_min: list[int]
    personas: list[PersonaPublic]
    default_persona: str
    panel_sizes: list[int] = Field(description="How many personas a panel (POST /v1/sessions `panel`) has.")
    retention_days: list[int | None] = Field(description="null: keep until deleted.")
    default_retention_days: int | None
    consent_version: str = Field(description="The version POST /v1/sessions must quote.")


def _choices(ids: tuple[str, ...]) -> list[ChoicePublic]:
    return [ChoicePublic(id=choice_id, label=label(choice_id)) for choice_id in ids]


@router.get("/v1/catalog", response_model=CatalogPublic, summary="The interview choices on offer")
async def get_catalog() -> CatalogPublic:
    return CatalogPublic(
        role_tracks=_choices(ROLE_TRACKS),
        round_types=_choices(ROUND_TYPES),
        difficulties=_choices(DIFFICULTIES),
        durations_min=list(DURATIONS_MIN),
        personas=[
            PersonaPublic(
                id=p.id,
                name=p.name,
                description=p.title[:1].upper() + p.title[1:],
                role=p.role,
                style=p.style,
                focus=list(p.focus),
            )
            for p in PERSONAS.values()
        ],
        default_persona=DEFAULT_PERSONA,
        panel_sizes=list(PANEL_SIZES),
        retention_days=list(RETENTION_CHOICES),
        default_retention_days=DEFAULT_RETENTION_DAYS,
        consent_version=CONSENT_VERSION,
    )
