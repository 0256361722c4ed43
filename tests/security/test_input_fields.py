"""Text and number inputs: the probe got 500s for a NUL character in cv_text, jd_text, email or
display_name, a lone surrogate in a password, and `GET /v1/sessions?offset=99999999999999999999`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.users import PLAIN_SESSION, TEST_PASSWORD, new_email

NUL = "\x00"
LONE_SURROGATE = "\ud800"  # json.dumps sends it as the escape "\ud800", as the probe did


def _json(body: dict[str, Any]) -> dict[str, Any]:
    return {"content": json.dumps(body).encode(), "headers": {"content-type": "application/json"}}


def _sign_up(**changes: str) -> dict[str, Any]:
    return {"email": new_email(), "password": TEST_PASSWORD, "display_name": "Sam"} | changes


def _sign_in(**changes: str) -> dict[str, Any]:
    return {"email": new_email(), "password": TEST_PASSWORD} | changes


BAD_TEXT = [
    ("/v1/auth/signup", _sign_up(email=f"sam{NUL}@example.test")),
    ("/v1/auth/signup", _sign_up(display_name=f"Sam{NUL}")),
    ("/v1/auth/signup", _sign_up(password=f"{TEST_PASSWORD}{NUL}")),
    ("/v1/auth/signup", _sign_up(password=f"{TEST_PASSWORD}{LONE_SURROGATE}")),
    ("/v1/auth/signup", _sign_up(display_name=f"Sam{LONE_SURROGATE}")),
    ("/v1/auth/signin", _sign_in(email=f"sam{NUL}@example.test")),
    ("/v1/auth/signin", _sign_in(password=f"{TEST_PASSWORD}{LONE_SURROGATE}")),
    ("/v1/sessions", PLAIN_SESSION | {"cv_text": f"Nurse{NUL}"}),
    ("/v1/sessions", PLAIN_SESSION | {"jd_text": f"Ward{NUL}"}),
    ("/v1/sessions", PLAIN_SESSION | {"cv_text": f"Nurse{LONE_SURROGATE}"}),
    ("/v1/sessions", PLAIN_SESSION | {"jd_text": f"Ward{LONE_SURROGATE}"}),
    ("/v1/score", {"question": f"Why{NUL}?", "answer": "Because."}),
    ("/v1/score", {"question": "Why?", "answer": f"Because{LONE_SURROGATE}."}),
]


@pytest.mark.parametrize(("path", "body"), BAD_TEXT)
async def test_nul_and_lone_surrogates_are_422(app_client: httpx.AsyncClient, path: str, body: dict) -> None:
    response = await app_client.post(path, **_json(body))
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["msg"] in (
        "Value error, must not contain NUL characters",
        "Value error, must not contain unpaired surrogates",
    )
    assert "input" not in error  # what a body carried is never echoed


async def test_pairs_of_surrogates_and_accents_are_plain_text(app_client: httpx.AsyncClient) -> None:
    created = await app_client.post("/v1/sessions", **_json(PLAIN_SESSION | {"cv_text": "Café 🎤 owner"}))
    assert created.status_code == 201, created.text
    detail = await app_client.get(f"/v1/sessions/{created.json()['session']['id']}")
    assert detail.json()["cv_text"] == "Café 🎤 owner"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/sessions?offset=99999999999999999999",
        "/v1/sessions?limit=99999999999999999999",
        "/v1/questions?offset=99999999999999999999",
        f"/v1/sessions/{'0' * 8}-0000-0000-0000-{'0' * 12}/timeline?from_ms=99999999999999999999",
        f"/v1/sessions/{'0' * 8}-0000-0000-0000-{'0' * 12}/timeline?to_ms=99999999999999999999",
    ],
)
async def test_huge_integer_query_parameters_are_422(app_client: httpx.AsyncClient, path: str) -> None:
    response = await app_client.get(path)
    assert response.status_code == 422, response.text


def _operations(app: FastAPI):
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


FIXED_FORMATS = {"uuid", "date", "date-time"}


def _free_strings(schema: dict, components: dict, where: str):
    """(where, schema) of every string in a schema that is not an enum or a fixed format."""
    schema = _resolve(schema, components)
    for option in schema.get("anyOf", []):
        yield from _free_strings(option, components, where)
    fixed = "enum" in schema or "const" in schema or schema.get("format") in FIXED_FORMATS
    if schema.get("type") == "string" and not fixed:
        yield where, schema
    for name, prop in schema.get("properties", {}).items():
        yield from _free_strings(prop, components, f"{where}.{name}")
    if "items" in schema:
        yield from _free_strings(schema["items"], components, f"{where}[]")


async def test_every_text_field_of_a_request_body_has_a_maximum(app: FastAPI) -> None:
    components = app.openapi()["components"]["schemas"]
    unbounded = [
        where
        for name, operation in _operations(app)
        for content in operation.get("requestBody", {}).get("content", {}).values()
        for where, schema in _free_strings(content["schema"], components, name)
        if "maxLength" not in schema
    ]
    assert unbounded == []


async def test_every_integer_query_parameter_has_bounds(app: FastAPI) -> None:
    unbounded = []
    for name, operation in _operations(app):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            types = [schema] + schema.get("anyOf", [])
            for option in types:
                if option.get("type") == "integer" and not (
                    "maximum" in option or "exclusiveMaximum" in option
                ):
                    unbounded.append(f"{name} {parameter['name']}")
    assert unbounded == []
