"""FastAPI dependencies: what a request handler may ask the app's lifespan for."""

from __future__ import annotations

from typing import Annotated, Protocol
from uuid import UUID

import asyncpg
from fastapi import Depends, Request

from api.tokens import TokenIssuer
from greenroom.settings import Settings


class RoomCloser(Protocol):
    """The part of the room service the sessions API needs: closing a session's room."""

    async def close_room(self, session_id: str, reason: str) -> None: ...


def get_pool(request: Request) -> asyncpg.Pool:
    """The database pool made in the lifespan."""
    return request.app.state.pool


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_tokens(request: Request) -> TokenIssuer:
    """The room token issuer."""
    return request.app.state.tokens


def get_rooms(request: Request) -> RoomCloser | None:
    """The room service, when a transport is running in this process."""
    return getattr(request.app.state, "rooms", None)


def get_current_user(request: Request) -> UUID:
    """The signed-in user; in this single-user release, always the local user."""
    return request.app.state.local_user_id


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TokensDep = Annotated[TokenIssuer, Depends(get_tokens)]
RoomsDep = Annotated[RoomCloser | None, Depends(get_rooms)]
CurrentUser = Annotated[UUID, Depends(get_current_user)]
