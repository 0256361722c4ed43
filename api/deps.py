"""FastAPI dependencies: what a request handler may ask the app's lifespan for."""

from __future__ import annotations

from typing import Annotated, Protocol
from uuid import UUID

import asyncpg
from fastapi import Depends, HTTPException, Request, status

from api.tokens import TokenIssuer
from api.watch_access import WatchAccess
from db import accounts
from greenroom.settings import Settings

SESSION_COOKIE = "greenroom_session"
SIGN_IN_REQUIRED = "sign in required"


class RoomCloser(Protocol):
    """The part of the room service the sessions API needs: closing a session's room. With
    `wait` False it may return before the interview in it has stored its last answers."""

    async def close_room(self, session_id: str, reason: str, *, wait: bool = True) -> None: ...


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
    """The room service: the LiveKit rooms with that transport, else the embedded room server
    when it runs in this process."""
    state = request.app.state
    return getattr(state, "livekit_rooms", None) or getattr(state, "rooms", None)


def get_watch_access(request: Request) -> WatchAccess | None:
    """The live watchers' guard, when rooms and live feeds run in this process."""
    return getattr(request.app.state, "watch_access", None)


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]


def session_token(request: Request) -> str | None:
    """The sign-in token a request carries: an `Authorization: Bearer` header, else the cookie."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.cookies.get(SESSION_COOKIE) or None


async def get_current_user(request: Request, pool: PoolDep) -> UUID:
    """The signed-in user's id; 401 when the request carries no live sign-in token."""
    token = session_token(request)
    user_id = await accounts.user_for_token(pool, token) if token else None
    if user_id is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=SIGN_IN_REQUIRED,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user_id


SettingsDep = Annotated[Settings, Depends(get_settings)]
TokensDep = Annotated[TokenIssuer, Depends(get_tokens)]
RoomsDep = Annotated[RoomCloser | None, Depends(get_rooms)]
WatchAccessDep = Annotated[WatchAccess | None, Depends(get_watch_access)]
CurrentUser = Annotated[UUID, Depends(get_current_user)]
