"""The end of a call: the voicemail message it may leave, and saving what it leaves behind.

`CallSession` decides when a call ends (a tool, a timer, a voicemail message heard to its end,
the caller gone, an engine error); this module holds what ending needs that is not the
session's state: the voicemail text, a bounded close of each provider session, and a save that
never leaves a call unfinished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from app.config.agent import MESSAGE_MAX_CHARS, AgentConfig
from app.engine.conversation import CallContext
from app.engine.record import CallEvent, CallRecord, CallRecorder
from app.engine.templating import render_template
from app.engine.transcript import TranscriptLog

log = logging.getLogger(__name__)

# The call event (and end reason) of a voicemail message heard to its end.
VOICEMAIL_LEFT = "voicemail_left"


async def close_provider(
    role: str, close: Callable[[], Awaitable[None]], timeout_s: float, call_log: TranscriptLog
) -> None:
    """Close a provider's session, waiting at most `timeout_s`: a service that stalls on close
    must not hold up the call's save (it is counted, and left behind)."""
    try:
        async with asyncio.timeout(timeout_s):
            await close()
    except TimeoutError:
        log.warning("the %s session did not close within %.1f s; the call goes on", role, timeout_s)
        call_log.event("provider_close_timeout", role=role)
        call_log.count("provider_close_timeouts")
    except Exception as error:
        log.info("closing the %s session failed: %r", role, error)


async def voicemail_text(
    message: str, context: CallContext, config: AgentConfig, call_log: TranscriptLog
) -> str:
    """The message rendered with the call's variables; empty (and said why in the call's log)
    when it does not render: said as written, it would read template code to a voicemail box."""
    rendered = await render_template(
        message, context.template_variables(config.velox.dynamic_variables), MESSAGE_MAX_CHARS
    )
    if rendered.error:
        call_log.event("voicemail_template_error", error=rendered.error)
        return ""
    return rendered.text


async def save_finished_call(recorder: CallRecorder, record: CallRecord, media_ms: int) -> None:
    """Save the record; if it will not save, save it as failed, so it still ends finished and
    readable (with its metrics and what went wrong) instead of "in progress" for ever."""
    try:
        await recorder.save(record)
    except Exception as error:
        log.exception("call %s: could not be saved; saving it as failed", record.call_id)
        await _save_as_failed(recorder, record, error, media_ms)


async def _save_as_failed(
    recorder: CallRecorder, record: CallRecord, error: Exception, media_ms: int
) -> None:
    ended_by = record.termination_reason
    record.status = "failed"
    record.termination_reason = "save_failed"
    record.turns = []
    failure = {"ended_by": ended_by, "error": repr(error)[:500]}
    record.events = [CallEvent(media_ms, "save_failed", failure)]
    try:
        await recorder.save(record)
    except Exception:
        log.exception("call %s: could not be saved even as failed", record.call_id)
