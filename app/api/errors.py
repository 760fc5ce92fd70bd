"""Errors shaped like ElevenLabs' ``{"detail": {"status": ..., "message": ...}}`` for SDKs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, Request, Response, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from app.engine.text import clean_text, clean_value
from app.limits.rates import Refusal
from app.observability.metrics import REJECTED_QUERIES, TOOL_CONFIGS_REFUSED


def api_error(status_code: int, error_status: str, message: str) -> HTTPException:
    return HTTPException(
        status_code=status_code, detail={"status": error_status, "message": message}
    )


def too_many_requests(refusal: Refusal) -> HTTPException:
    """429 with Retry-After (whole seconds) and the error shape, naming the limit."""
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail={"status": "rate_limit_exceeded", "message": refusal.message},
        headers={"Retry-After": str(refusal.retry_after_s)},
    )


def not_found(resource: str, resource_id: str) -> HTTPException:
    """404 for a resource that does not exist or belongs to another organization (never 403)."""
    return api_error(
        status.HTTP_404_NOT_FOUND,
        f"{resource}_not_found",
        f"{resource.replace('_', ' ').capitalize()} {resource_id!r} was not found.",
    )


def body_validation_error(
    error: ValidationError, prefix: Sequence[str | int] = ()
) -> RequestValidationError:
    """A 422 naming each invalid field as FastAPI does (``loc`` starts with ``"body"``)."""
    errors: list[dict[str, Any]] = []
    for detail in error.errors(include_url=False, include_context=False):
        errors.append({**detail, "loc": ("body", *prefix, *detail["loc"])})
    return RequestValidationError(errors)


MAX_ECHOED_INPUT_CHARS = 200


def echoable(value: Any) -> Any:
    """A rejected value as an error body may echo it: JSON-safe (no NaN or infinity, no lone
    surrogates, nothing that is not JSON) and short (its JSON form cut to a few hundred
    characters, as text)."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        text = repr(value)
        return _cut(clean_text(text))
    if len(text) > MAX_ECHOED_INPUT_CHARS:
        return _cut(clean_text(text))
    return clean_value(value)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_ECHOED_INPUT_CHARS else text[:MAX_ECHOED_INPUT_CHARS] + "…"


async def validation_error_response(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 body, with every echoed input and context made JSON-safe and short (a
    rejected value that cannot be echoed must not turn a 422 into a 500)."""
    assert isinstance(error, RequestValidationError)
    if any(tuple(detail.get("loc", ()))[:1] == ("query",) for detail in error.errors()):
        REJECTED_QUERIES.labels(reason="invalid_parameter").inc()
    if request.url.path.startswith("/v1/convai/tools"):
        TOOL_CONFIGS_REFUSED.inc()
    details = []
    for detail in error.errors():
        safe = {key: value for key, value in detail.items() if key not in ("input", "ctx", "url")}
        safe["loc"] = [echoable(part) for part in detail.get("loc", ())]
        safe["msg"] = clean_text(str(detail.get("msg", "")))
        if "input" in detail:
            safe["input"] = echoable(detail["input"])
        if "ctx" in detail:
            safe["ctx"] = {str(k): echoable(v) for k, v in dict(detail["ctx"]).items()}
        details.append(safe)
    return JSONResponse(status_code=422, content={"detail": details})


async def method_not_allowed_response(request: Request, error: Exception) -> Response:
    """405 with every method the path has (Starlette's names only the first route's), and the
    error shape's body; other HTTP errors pass through as Starlette renders them."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code != status.HTTP_405_METHOD_NOT_ALLOWED:
        return await http_exception_handler(request, error)
    allowed: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "GET", "type": "http"})
        if match is not Match.NONE and isinstance(route, APIRoute | Route):
            allowed |= set(route.methods or ())
    if "GET" in allowed:
        allowed.add("HEAD")
    body = {
        "detail": {
            "status": "method_not_allowed",
            "message": f"{request.method} is not allowed here; use {', '.join(sorted(allowed))}",
        }
    }
    return JSONResponse(
        status_code=405, content=body, headers={"Allow": ", ".join(sorted(allowed))}
    )
