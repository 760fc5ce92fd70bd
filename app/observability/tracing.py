"""OpenTelemetry traces: the process's tracer provider, and a trace's W3C `traceparent`.

`configure_tracing` runs once at process start (`velox serve`, `velox worker`). With tracing on
(`VELOX_TRACING`, the default) spans are made by the OpenTelemetry SDK, so every call has a
trace id for its logs, its stored record, its webhooks and its analysis; they are exported over
OTLP/HTTP only when an endpoint is configured (`VELOX_OTLP_ENDPOINT`, or OpenTelemetry's own
`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), in batches off the event
loop. With no endpoint, nothing is exported and a span costs a few microseconds. With tracing
off, the API's no-op tracer: no ids, no cost.

Spans of past instants (a call's turn stages, measured on the session's monotonic clock) are
made with `wall_clock`, which turns a monotonic instant into the wall-clock nanoseconds spans take.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

from opentelemetry import trace
from opentelemetry.trace import SpanContext, TraceFlags, Tracer, TracerProvider

TRACER_NAME = "velox"
SERVICE_NAME = "velox"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

_provider: TracerProvider = trace.NoOpTracerProvider()
_shutdown: Callable[[], None] | None = None


def otlp_endpoint(configured: str = "") -> str | None:
    """Where spans are sent (an OTLP/HTTP traces URL), or None: not exported."""
    traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
    if configured or not traces:
        base = configured or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
        return base.rstrip("/") + "/v1/traces" if base else None
    return traces


def configure_tracing(*, enabled: bool = True, endpoint: str = "", service: str = "") -> None:
    """This process's tracer provider (the last call wins; the previous one is shut down)."""
    global _provider, _shutdown
    if _shutdown is not None:
        _shutdown()
        _shutdown = None
    if not enabled:
        _provider = trace.NoOpTracerProvider()
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

    provider = SdkTracerProvider(
        resource=Resource.create({"service.name": service or SERVICE_NAME})
    )
    url = otlp_endpoint(endpoint)
    if url is not None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    use_provider(provider, provider.shutdown)


def use_provider(provider: TracerProvider, shutdown: Callable[[], None] | None = None) -> None:
    """Make spans with `provider` from now on (tests pass one with an in-memory exporter)."""
    global _provider, _shutdown
    _provider, _shutdown = provider, shutdown


def flush_spans() -> None:
    """Send what the exporter holds now (a no-op without one)."""
    flush = getattr(_provider, "force_flush", None)
    if flush is not None:
        flush()


def tracer() -> Tracer:
    return _provider.get_tracer(TRACER_NAME)


def wall_clock(now: float) -> Callable[[float], int]:
    """Wall-clock nanoseconds of an instant read on the clock that read `now` just now (one
    wall-clock reading for all of them, so instants keep their exact order and spacing)."""
    wall_now = time.time_ns()
    return lambda instant: wall_now - int((now - instant) * 1e9)


def traceparent(context: SpanContext) -> str | None:
    """The W3C `traceparent` of a span (None for the no-op tracer's invalid spans)."""
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def trace_id(context: SpanContext) -> str | None:
    return f"{context.trace_id:032x}" if context.is_valid else None


def parse_traceparent(value: object) -> SpanContext | None:
    """The span a `traceparent` names (remote), or None when it is absent or malformed."""
    if not isinstance(value, str):
        return None
    found = _TRACEPARENT.match(value.strip().lower())
    if found is None:
        return None
    context = SpanContext(
        int(found.group(1), 16),
        int(found.group(2), 16),
        is_remote=True,
        trace_flags=TraceFlags(int(found.group(3), 16)),
    )
    return context if context.is_valid else None


def linked_to(value: object) -> list[trace.Link]:
    """A span's links to the span `value` (a `traceparent`) names; none if it names none."""
    context = parse_traceparent(value)
    return [trace.Link(context)] if context is not None else []


def link_current_span(value: object) -> None:
    """Link the current span to the span `value` (a `traceparent`) names, if it names one."""
    context = parse_traceparent(value)
    if context is not None:
        trace.get_current_span().add_link(context)
