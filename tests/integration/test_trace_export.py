"""Spans leave the process over OTLP/HTTP only when an endpoint is configured: a local collector
receives a call's spans as OpenTelemetry's protobuf `ExportTraceServiceRequest` at `/v1/traces`,
with the service's name; with no endpoint configured nothing is sent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from app.calls.tracing import CallTrace
from app.engine.conversation import CallContext
from app.engine.record import CallRecord
from app.observability.logs import unbind_call
from app.observability.tracing import configure_tracing, flush_spans

pytestmark = pytest.mark.integration


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    received: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append((self.path, self.headers.get("Content-Type", ""), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        configure_tracing(enabled=False)
        unbind_call()


def one_call() -> None:
    context = CallContext("conv_export", "org_export", "agent_export", channel="sip")
    trace = CallTrace(context)
    record = CallRecord.opened(context.call_id, context.organization_id, context.agent_id)
    record.termination_reason = "caller_hung_up"
    trace.end(record)


def test_a_calls_span_reaches_the_configured_collector(
    collector: tuple[str, list[tuple[str, str, bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = collector
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    configure_tracing(enabled=True, service="velox-serve")
    one_call()
    flush_spans()
    ((path, content_type, body),) = received
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(body)
    (resource_spans,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "velox-serve"
    spans = [s for scope in resource_spans.scope_spans for s in scope.spans]
    (call,) = spans
    assert call.name == "call"
    attributes = {a.key: a.value.string_value for a in call.attributes}
    assert attributes["velox.conversation_id"] == "conv_export"
    assert attributes["velox.channel"] == "sip"


def test_nothing_is_sent_without_an_endpoint(
    collector: tuple[str, list[tuple[str, str, bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, received = collector
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    configure_tracing(enabled=True)
    one_call()
    flush_spans()
    configure_tracing(enabled=False)
    assert received == []
