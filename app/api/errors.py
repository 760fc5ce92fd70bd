"""Errors shaped like ElevenLabs' ``{"detail": {"status": ..., "message": ...}}`` for SDKs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError


def api_error(status_code: int, error_status: str, message: str) -> HTTPException:
    return HTTPException(
        status_code=status_code, detail={"status": error_status, "message": message}
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
