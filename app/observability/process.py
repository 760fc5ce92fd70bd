"""A Velox process's logs and traces, set up once at its start (`velox serve` and each of its
worker processes, `velox worker`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.observability.logs import configure_logging
from app.observability.tracing import configure_tracing

if TYPE_CHECKING:
    from app.settings import Settings


def observe_process(settings: Settings, service: str) -> None:
    """Structured logs (`VELOX_LOG_LEVEL`, `VELOX_LOG_FORMAT`) and traces (`VELOX_TRACING`,
    `VELOX_OTLP_ENDPOINT`) for this process; `service` names it in its spans."""
    configure_logging(settings.log_level, settings.log_format)
    configure_tracing(enabled=settings.tracing, endpoint=settings.otlp_endpoint, service=service)
