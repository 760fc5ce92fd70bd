"""A call's trace: one `call` span for the call, one `turn` span per exchange with the stages.

The call span starts when the call begins (`lifecycle.begin`) and ends when its record is
saved; its `traceparent` is saved with the call (`metrics.traceparent`), so the call's webhooks
and its post-call analysis link their spans to it. Each agent turn becomes a `turn` span with
children made from the instants the engine already records (`TurnStages`): `stt.final` (the
caller's end of speech to the final transcript), `llm.first_token`, `tts.first_byte`, and
`playout` (first frame sent to the audio's end or cut-off), and an `endpoint` event (the
caller's turn taken as over). The call's log lines carry its ids
(`app.observability.logs.bind_call`).
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from app.engine.conversation import CallContext
from app.engine.record import CallRecord, CallRecorder
from app.engine.transcript import TurnStages
from app.observability.logs import bind_call
from app.observability.tracing import trace_id, traceparent, tracer, wall_clock


class CallTrace:
    """The spans of one call."""

    def __init__(self, context: CallContext) -> None:
        self.span: Span = tracer().start_span(
            "call",
            kind=trace.SpanKind.SERVER,
            attributes={
                "velox.conversation_id": context.call_id,
                "velox.organization_id": context.organization_id,
                "velox.agent_id": context.agent_id,
                "velox.channel": context.channel,
            },
        )
        span_context = self.span.get_span_context()
        self.trace_id = trace_id(span_context)
        self.traceparent = traceparent(span_context)
        bind_call(context.call_id, context.organization_id, self.trace_id)

    def turn(self, stages: TurnStages) -> None:
        """The exchange's spans, made at its end from the instants it recorded."""
        if not self.span.is_recording():
            return
        at_ns = wall_clock(stages.ended)  # read on the session's clock just before this call
        timings = stages.timings
        known = [
            t
            for t in (stages.end_of_speech, timings.llm_started, timings.tts_first_request)
            if t is not None
        ]
        start = min(known, default=timings.first_frame_sent or stages.ended)
        parent = trace.set_span_in_context(self.span)
        attributes: dict[str, str | bool] = {
            "velox.turn.source": stages.source,
            "velox.turn.interrupted": stages.interrupted,
        }
        if timings.llm_provider:
            attributes["velox.llm_provider"] = timings.llm_provider
        if timings.tts_provider:
            attributes["velox.tts_provider"] = timings.tts_provider
        turn = tracer().start_span(
            "turn", context=parent, start_time=at_ns(start), attributes=attributes
        )
        if stages.endpoint is not None:  # when the caller's turn was taken as over
            turn.add_event("endpoint", timestamp=at_ns(stages.endpoint))
        inside = trace.set_span_in_context(turn)
        for name, begun, reached in (
            ("stt.final", stages.end_of_speech, stages.stt_final),
            ("llm.first_token", timings.llm_started, timings.llm_first_token),
            ("tts.first_byte", timings.tts_first_request, timings.tts_first_byte),
            ("playout", timings.first_frame_sent, stages.ended),
        ):
            if begun is not None and reached is not None:
                stage = tracer().start_span(name, context=inside, start_time=at_ns(begun))
                stage.end(end_time=at_ns(max(begun, reached)))
        turn.end(end_time=at_ns(stages.ended))

    def end(self, record: CallRecord) -> None:
        """The call span ended with how the call did (once; later calls do nothing)."""
        if not self.span.is_recording():
            return
        self.span.set_attribute("velox.termination_reason", record.termination_reason)
        self.span.set_attribute("velox.turns", len(record.turns))
        if record.status == "failed":
            self.span.set_status(Status(StatusCode.ERROR, record.termination_reason))
        self.span.end()


class TracedRecorder:
    """Saves a call with its trace named in its metrics, then ends the call's span."""

    def __init__(self, inner: CallRecorder, call_trace: CallTrace) -> None:
        self._inner = inner
        self._trace = call_trace

    async def save(self, record: CallRecord) -> None:
        if self._trace.traceparent is not None:
            record.metrics["traceparent"] = self._trace.traceparent
        try:
            await self._inner.save(record)
        finally:
            self._trace.end(record)
