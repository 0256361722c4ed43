"""What every request body shares: unknown fields refused, text that can be stored, and the 422.

Every text field is `Text` (or `SecretText`) with a stated `max_length`: NUL characters (which
PostgreSQL cannot store) and lone surrogates (which cannot be encoded as UTF-8, e.g. a JSON
"\\ud800") are refused with a 422 like any other invalid value.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, SecretStr, model_validator

# A body with many more keys than its model has fields is refused as a whole: one error, not
# one per unknown key (tens of thousands fit in a small body).
MAX_UNKNOWN_FIELDS = 20


def plain_text(value: Any) -> Any:
    """Refuses a string with a NUL character or a lone surrogate; leaves anything else as is."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must not contain unpaired surrogates") from None
    return value


Text = Annotated[str, BeforeValidator(plain_text)]
SecretText = Annotated[SecretStr, BeforeValidator(plain_text)]


class FieldErrorPublic(BaseModel):
    """One invalid value: where it was (e.g. ["body", "email"]), what is wrong, and its kind."""

    loc: list[str | int]
    msg: str
    type: str


class InvalidPublic(BaseModel):
    """A 422 answer: the invalid values (at most 20 of them), or one message saying what is wrong."""

    detail: list[FieldErrorPublic] | str


def invalid(description: str) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry of a route that answers 422 with a message of its own too."""
    return {422: {"model": InvalidPublic, "description": description}}


class RequestBody(BaseModel):
    """Base of the API's request bodies: no fields beyond those declared."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _not_too_many_fields(cls, data: Any) -> Any:
        if isinstance(data, dict) and len(data) > len(cls.model_fields) + MAX_UNKNOWN_FIELDS:
            raise ValueError(f"too many fields: this body has at most {len(cls.model_fields)}")
        return data
