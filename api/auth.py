"""Accounts over HTTP: sign up, sign in, sign out, who am I, and deleting an account.

A sign-in is a random token: the browser keeps it in an HttpOnly cookie, other clients send it
as `Authorization: Bearer <token>`. Emails and passwords never reach a log message.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.deps import (
    SESSION_COOKIE,
    SIGN_IN_REQUIRED,
    CurrentUser,
    PoolDep,
    RoomsDep,
    SettingsDep,
    WatchAccessDep,
    session_token,
)
from api.fields import RequestBody, SecretText, Text
from api.throttle import THROTTLED, SignUpLimit, ThrottleDep, client_address
from db import accounts, audit, orgs
from db import sessions as repo

logger = logging.getLogger(__name__)

router = APIRouter(tags=["auth"])

MAX_EMAIL_CHARS = 254
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 256
MAX_DISPLAY_NAME_CHARS = 80
WRONG_CREDENTIALS = "wrong email or password"
EMAIL_TAKEN = "an account with this email already exists"
END_REASON_ACCOUNT_DELETED = "account_deleted"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
class ErrorPublic(BaseModel):
    """An error answer."""

    detail: str


class SignUp(RequestBody):
    """A new account."""

    email: Text = Field(max_length=MAX_EMAIL_CHARS)
    password: SecretText = Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)
    display_name: Text | None = Field(default=None, max_length=MAX_DISPLAY_NAME_CHARS)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        email = accounts.normalise_email(value)
        if not _EMAIL.match(email):
            raise ValueError("not an email address")
        return email

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str | None) -> str | None:
        return (value or "").strip() or None


class SignIn(RequestBody):
    """An email and password to sign in with."""

    email: Text = Field(min_length=1, max_length=MAX_EMAIL_CHARS)
    password: SecretText = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


class UserPublic(BaseModel):
    """An account as its owner sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    display_name: str | None
    created_at: datetime


class AuthPublic(BaseModel):
    """The signed-in user and their sign-in token (also set as the session cookie)."""

    user: UserPublic
    token: str = Field(description="Send as `Authorization: Bearer <token>` when not using the cookie.")


class MePublic(BaseModel):
    """The signed-in user."""

    user: UserPublic


UNAUTHORIZED = {401: {"model": ErrorPublic, "description": "Not signed in."}}


def _set_session_cookie(response: Response, request: Request, token: str, ttl_s: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ttl_s,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )


async def _signed_in(
    pool: PoolDep, user: accounts.UserRecord, ttl_s: int, request: Request, response: Response
) -> AuthPublic:
    token = await accounts.create_token(pool, user.id, timedelta(seconds=ttl_s))
    _set_session_cookie(response, request, token, ttl_s)
    return AuthPublic(user=UserPublic.model_validate(user), token=token)


@router.post(
    "/v1/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=AuthPublic,
    responses={409: {"model": ErrorPublic, "description": "The email already has an account."}, **THROTTLED},
    summary="Create an account and sign in",
)
async def sign_up(
    body: SignUp,
    request: Request,
    response: Response,
    pool: PoolDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    _limit: SignUpLimit,
) -> AuthPublic:
    try:
        user = await accounts.create_user(
            pool, body.email, body.password.get_secret_value(), body.display_name
        )
    except accounts.EmailTaken:
        raise HTTPException(status_code=409, detail=EMAIL_TAKEN) from None
    logger.info("account created", extra={"user_id": str(user.id)})
    await throttle.signed_in(pool, body.email, client_address(request))
    await audit.record(pool, action="sign_in", actor_id=user.id, subject_user_id=user.id, detail={"first": True})
    return await _signed_in(pool, user, settings.auth_token_ttl_s, request, response)


@router.post(
    "/v1/auth/signin",
    response_model=AuthPublic,
    responses={
        401: {"model": ErrorPublic, "description": "Wrong email or password."},
        **THROTTLED,
    },
    summary="Sign in with email and password",
)
async def sign_in(
    body: SignIn,
    request: Request,
    response: Response,
    pool: PoolDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
) -> AuthPublic:
    client = client_address(request)
    await throttle.check_sign_in(pool, body.email, client)  # counted before the password is checked
    user = await accounts.verify_password(pool, body.email, body.password.get_secret_value())
    if user is None:
        raise HTTPException(status_code=401, detail=WRONG_CREDENTIALS)
    await throttle.signed_in(pool, body.email, client)
    await audit.record(pool, action="sign_in", actor_id=user.id, subject_user_id=user.id)
    return await _signed_in(pool, user, settings.auth_token_ttl_s, request, response)


@router.post(
    "/v1/auth/signout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Sign out: the token stops working and the cookie is cleared",
)
async def sign_out(request: Request, pool: PoolDep) -> Response:
    token = session_token(request)
    if token:
        await accounts.delete_token(pool, token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    _clear_session_cookie(response, request)
    return response


@router.get("/v1/auth/me", response_model=MePublic, responses=UNAUTHORIZED, summary="Who is signed in")
async def me(pool: PoolDep, user_id: CurrentUser) -> MePublic:
    user = await accounts.get_user(pool, user_id)
    if user is None:  # deleted since the token was checked
        raise HTTPException(
            status_code=401, detail=SIGN_IN_REQUIRED, headers={"WWW-Authenticate": "Bearer"}
        )
    return MePublic(user=UserPublic.model_validate(user))


@router.delete(
    "/v1/users/me",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=UNAUTHORIZED,
    summary="Delete your account and everything recorded in it",
    description=(
        "Deletes every session with its transcript, signals, scores, exports and share links, "
        "every sign-in of the account, and the account itself."
    ),
)
async def delete_account(
    request: Request, pool: PoolDep, rooms: RoomsDep, access: WatchAccessDep, user_id: CurrentUser
) -> Response:
    if access is not None:  # coaches first, so they are told why rather than that the room closed
        await access.account_deleted(user_id)
    if rooms is not None:
        for session_id in await repo.open_session_ids(pool, user_id):
            try:
                await rooms.close_room(str(session_id), END_REASON_ACCOUNT_DELETED)
            except Exception:
                logger.exception("closing room failed", extra={"session_id": str(session_id)})
    # The account's own log goes with it; its organisations keep a line that it left.
    for org in await orgs.orgs_of(pool, user_id):
        await audit.record(pool, action="account_deleted", actor_id=None, org_id=org.org_id)
    await accounts.delete_user(pool, user_id)
    logger.info("account deleted", extra={"user_id": str(user_id)})
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    _clear_session_cookie(response, request)
    return response
