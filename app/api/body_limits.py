"""Requests checked before any route sees them: body size, and JSON every layer can hold.

Python's `json` accepts what JSON does not (`NaN`, `Infinity`, numbers like `1e999` that become
infinite) and what no database or encoder takes back (lone UTF-16 surrogates, `"\\ud800"`; NUL
characters, which PostgreSQL refuses), and nests as deep as the recursion limit. Such a request
used to pass validation and fail later with a 500 (storing it, comparing against it, echoing it
in an error). Here a JSON body is parsed once, strictly; one that is too large is refused with
413 before it is read whole (by its Content-Length, else while it streams in), one that is not
strict JSON with a 422 that says where and why; a NUL in the path or query is a 422 too. Form
posts (Twilio's webhooks) have a size cap; file uploads (multipart) are limited by their routes.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import method_not_allowed_response, validation_error_response
from app.api.openapi import install_openapi
from app.engine.text import has_lone_surrogate

MAX_JSON_BYTES = 2 * 1024 * 1024
MAX_FORM_BYTES = 256 * 1024
MAX_JSON_DEPTH = 32


class InvalidBodyError(ValueError):
    def __init__(self, message: str, location: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


def strict_json(raw: bytes) -> Any:
    """`raw` parsed as JSON proper; raises InvalidBodyError naming where it is not."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidBodyError(f"the body is not UTF-8 (byte {error.start})") from error
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except InvalidBodyError:
        raise
    except RecursionError as error:
        raise InvalidBodyError(f"the body nests deeper than {MAX_JSON_DEPTH} levels") from error
    except ValueError as error:
        raise InvalidBodyError(f"the body is not valid JSON: {error}") from error
    _check(value, (), 0)
    return value


def _no_constant(name: str) -> Any:
    raise InvalidBodyError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidBodyError(f"the number {text[:40]} is too large")
    return value


def _check(value: Any, location: tuple[str | int, ...], depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise InvalidBodyError(f"the body nests deeper than {MAX_JSON_DEPTH} levels", location)
    if isinstance(value, str):
        if has_lone_surrogate(value):
            raise InvalidBodyError("the text holds a lone UTF-16 surrogate", location)
        if "\x00" in value:
            raise InvalidBodyError("the text holds a NUL character", location)
    elif isinstance(value, dict):
        for key, item in value.items():
            if has_lone_surrogate(key) or "\x00" in key:
                raise InvalidBodyError("a key holds a lone surrogate or a NUL", location)
            _check(item, (*location, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, (*location, index), depth + 1)


def _nul_in_url(scope: Scope) -> str | None:
    """Where a NUL character sits in the request's path or query, if anywhere: no identifier or
    text has one, and PostgreSQL cannot even compare against one (it failed with a 500)."""
    if "\x00" in scope.get("path", ""):
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"\x00" in query or b"%00" in query:
        return "query"
    return None


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return str(value.decode("latin-1").split(";")[0].strip().lower())
    return ""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimits:
    """ASGI middleware: JSON and form bodies capped and checked; everything else passes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and _nul_in_url(scope) is not None:
            await receive()  # websocket.connect; a close now refuses the upgrade (403)
            await send({"type": "websocket.close", "code": 1008, "reason": "NUL in the URL"})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _nul_in_url(scope)
        if where is not None:
            await _invalid(send, InvalidBodyError("a NUL character is not allowed"), (where,))
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        kind = _content_type(scope)
        is_json = kind == "application/json" or kind.endswith("+json")
        if is_json:
            limit = MAX_JSON_BYTES
        elif kind == "application/x-www-form-urlencoded":
            limit = MAX_FORM_BYTES
        else:
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > limit:
            await _refuse(send, 413, "body_too_large", f"the body is over {limit} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(send, 413, "body_too_large", f"the body is over {limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if is_json and body:
            try:
                strict_json(body)
            except InvalidBodyError as problem:
                await _invalid(send, problem)
                return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse(send: Send, status: int, error_status: str, message: str) -> None:
    await _json_response(send, status, {"detail": {"status": error_status, "message": message}})


async def _invalid(
    send: Send, problem: InvalidBodyError, where: tuple[str, ...] = ("body",)
) -> None:
    detail = [
        {
            "type": "json_invalid",
            "loc": [*where, *problem.location],
            "msg": problem.message,
            "input": None,
        }
    ]
    await _json_response(send, 422, {"detail": detail})


async def _json_response(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def guard_requests(app: FastAPI) -> None:
    """Every request's body checked here, every 422 made safe to send and every 405 told the
    path's methods (app/api/errors.py), and the schema told every error (app/api/openapi.py)."""
    app.add_middleware(BodyLimits)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.add_exception_handler(StarletteHTTPException, method_not_allowed_response)
    install_openapi(app)
