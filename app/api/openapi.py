"""The OpenAPI schema says what the API does, so generated clients (the dashboard's) can trust it.

FastAPI documents a route's success and, for routes with parameters, a 422 in its own array
form. Velox also answers in ElevenLabs' error shape (`{"detail": {"status", "message"}}`), and
every authenticated route can answer 401, every API route 429 (its rates, `app/limits/`), every
route with a path parameter 404 (not found, or another organization's), every route with a body
413 (see `body_limits`). Those are added here to each operation they apply to, with 422
documented as either form; codes particular to one route (409, 503...) are declared on the route
itself with `error_responses`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

ERROR_REF = "#/components/schemas/ErrorBody"
VALIDATION_REF = "#/components/schemas/HTTPValidationError"


class ErrorDetail(BaseModel):
    status: str
    message: str


class ErrorBody(BaseModel):
    """ElevenLabs' error shape: a machine-readable status and a sentence for people."""

    detail: ErrorDetail


DESCRIPTIONS = {
    400: "Bad request",
    401: "Not signed in: no API key or session, or one that is unknown, revoked or expired",
    403: "Not allowed: the role or key lacks the route's permission, or a browser request "
    "that changes something came without its CSRF token",
    404: "Not found (or not this organization's)",
    409: "Conflicts with the resource's state",
    410: "Gone: used or expired",
    413: "The body is too large",
    416: "The Range asks for no byte of the file",
    422: "Invalid parameters or body",
    429: "Too many requests (the organization's or the key's rate) or attempts: wait as "
    "Retry-After says",
    503: "A service this needs is not configured or not reachable",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can answer these codes in the error shape."""
    return {code: {"model": ErrorBody, "description": DESCRIPTIONS[code]} for code in codes}


def install_openapi(app: FastAPI) -> None:
    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _add_error_responses(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]


def _add_error_responses(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorDetail"] = ErrorDetail.model_json_schema()
    components["ErrorBody"] = {
        **ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}"),
    }
    components["ErrorBody"].pop("$defs", None)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            has_body = "requestBody" in operation
            if operation.get("security") or _authenticated(path):
                _add(responses, 401)
                _add(responses, 403)
            if path.startswith("/v1/"):
                # app/limits/: the organization's and the key's rates; a key already over its
                # rate is answered 429 at the door on any API route it is sent to.
                _add(responses, 429)
            if any(p.get("in") == "path" for p in parameters):
                _add(responses, 404)
            if has_body:
                _add(responses, 413)
            if has_body or parameters or "422" in responses:
                responses["422"] = {
                    "description": DESCRIPTIONS[422],
                    "content": {
                        "application/json": {
                            "schema": {"anyOf": [{"$ref": VALIDATION_REF}, {"$ref": ERROR_REF}]}
                        }
                    },
                }
                components.setdefault("HTTPValidationError", _validation_error_schema())
                components["ValidationError"] = _validation_item_schema()


# Routes of the API a stranger may call: they are how one becomes signed in.
PUBLIC_PATHS = frozenset({"/v1/auth/sign-in", "/v1/auth/invite/accept"})


def _authenticated(path: str) -> bool:
    return path.startswith("/v1/") and path not in PUBLIC_PATHS


def _add(responses: dict[str, Any], code: int) -> None:
    responses.setdefault(
        str(code),
        {
            "description": DESCRIPTIONS[code],
            "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
        },
    )


def _validation_error_schema() -> dict[str, Any]:
    return {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {
            "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}
        },
    }


def _validation_item_schema() -> dict[str, Any]:
    """One invalid value, as FastAPI reports it (with the rejected input, made JSON-safe)."""
    return {
        "title": "ValidationError",
        "type": "object",
        "required": ["loc", "msg", "type"],
        "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"},
            "type": {"type": "string"},
            "input": {},
            "ctx": {"type": "object"},
        },
    }
