"""The end of a call: the voicemail message it may leave, and saving what it leaves behind.

A call ends for a tool, a timer, a voicemail message heard to its end, the caller gone, an
engine error. `Ending` (mixed into `CallSession`) ends it; the functions before it are what
ending needs that is not the session's state: the voicemail text, a bounded close of each
provider session, and a save that never leaves a call unfinished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from app.config.agent import MESSAGE_MAX_CHARS, AgentConfig
from app.engine.conversation import CallContext, Conversation
from app.engine.leaving import caller_is_leaving
from app.engine.record import CallEvent, CallRecord, CallRecorder
from app.engine.templating import render_template
from app.engine.transcript import TranscriptLog

if TYPE_CHECKING:
    from app.engine.answering import Responder
    from app.engine.echo import EchoGate
    from app.engine.interruptions import Interruptions
    from app.engine.knowledge import TurnKnowledge
    from app.engine.options import EngineOptions
    from app.engine.playout import Playout
    from app.engine.transport import AudioEncoder, CallAudioTap, CallTransport
    from app.providers.base import SttStream
    from app.providers.registry import ProviderSet

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


class Ending:
    """The part of a call's session that ends it (mixed into `CallSession`, whose state it
    reads and changes): a voicemail message left, a goodbye said before hanging up, the hang-up
    itself, and `close`, which stops the call's work within a bound and always saves it."""

    if TYPE_CHECKING:
        config: AgentConfig
        context: CallContext
        log: TranscriptLog
        _options: EngineOptions
        _providers: ProviderSet
        conversation: Conversation
        _transport: CallTransport
        _recorder: CallRecorder
        _record: CallRecord
        _responder: Responder
        _interruptions: Interruptions
        _playout: Playout
        _encoder: AudioEncoder
        _echo: EchoGate
        _knowledge: TurnKnowledge | None
        _stt: SttStream | None
        _tap: CallAudioTap | None
        _tasks: list[asyncio.Task[None]]
        _closing: bool
        _closed: asyncio.Event
        _ending: str | None
        _listening: bool

        def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]: ...

        def reason_saved(self, reason: str) -> str: ...

    async def _caller_leaving(self) -> bool:
        """Asked before the model's `end_call` hangs up (`leaving.py`)."""
        return await caller_is_leaving(self._providers.llm, self.conversation, self.log)

    async def leave_voicemail(self, message: str) -> bool:
        """An answering machine took the call and its greeting is over: stop what is playing,
        leave `message` (rendered with the call's variables; the line is no longer listened
        to), then hang up. False when the call is already ending."""
        if self._closing or self._ending is not None:
            return False
        self._listening = False
        self._interruptions.forget()
        self._responder.record_interrupted()
        await self._responder.cancel()
        await self._playout.clear()
        self._encoder.reset()
        text = await voicemail_text(message, self.context, self.config, self.log)
        self.log.event("voicemail_started", message=text)
        self._end_call_after(VOICEMAIL_LEFT, text)
        return True

    def _voicemail_reached(self, message: str) -> None:
        """The model found a voicemail box (its `voicemail_detection` tool): leave `message`
        once the tool's turn has let go of the line."""
        self._spawn(self._leave_voicemail(message), "voicemail")

    async def _leave_voicemail(self, message: str) -> None:
        await self.leave_voicemail(message)

    def _end_call_after(self, reason: str, message: str) -> None:
        """Say `message` (if any), then hang up."""
        self._ending = reason
        self.log.event("ending", reason=reason)
        if message:
            self._responder.start(message, "goodbye", then_end=reason)
        else:
            self._request_end(reason)

    def _request_end(self, reason: str) -> None:
        if self._closing:
            return
        if reason == VOICEMAIL_LEFT:  # the message was heard to its end
            self.log.event(VOICEMAIL_LEFT)
        self._ending = self._ending or reason
        self._tasks.append(asyncio.get_running_loop().create_task(self._hang_up(reason)))

    async def _hang_up(self, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self._transport.hang_up()
        await self.close(reason)

    async def close(self, reason: str, *, failed: bool = False) -> None:
        """End the call and save it; safe to call more than once, from anywhere."""
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        try:
            self._responder.record_interrupted()
            # Bounded as a whole: work that does not stop when cancelled must not keep the
            # call from being saved (it is left behind, counted and said in the record).
            deadline = asyncio.get_running_loop().time() + self._options.call_shutdown_timeout_s
            async with asyncio.timeout_at(deadline):
                await self._responder.shut()
                await self._responder.close_tools()
                if self._knowledge is not None:
                    await self._knowledge.close()
            current = asyncio.current_task()
            others = [t for t in self._tasks if t is not current]
            for task in others:
                task.cancel()
            if others:
                left = deadline - asyncio.get_running_loop().time()
                _, stuck = await asyncio.wait(others, timeout=max(0.0, left))
                if stuck:
                    raise TimeoutError
        except TimeoutError:
            log.error("call %s: its work did not stop when cancelled", self.context.call_id)
            self.log.event("shutdown_timeout", after_s=self._options.call_shutdown_timeout_s)
            self.log.count("shutdown_timeouts")
        except Exception:
            log.exception("call %s: shutdown did not finish cleanly", self.context.call_id)
        finally:
            timeout_s = self._options.provider_close_timeout_s
            if self._stt is not None:
                await close_provider("stt", self._stt.aclose, timeout_s, self.log)
            await close_provider("tts", self._responder.voice.aclose, timeout_s, self.log)
            recording = await self._close_recording()
            await self._save(self.reason_saved(reason), failed, recording)
            self._closed.set()

    async def _close_recording(self) -> dict[str, Any] | None:
        if self._tap is None:
            return None
        try:
            return await self._tap.close()
        except Exception as error:  # the call is saved without its audio, and says why
            log.exception("call %s: its recording could not be finished", self.context.call_id)
            self.log.event("recording_failed", error=repr(error)[:500])
            return None

    async def _save(self, reason: str, failed: bool, recording: dict[str, Any] | None) -> None:
        record = self.log.finish(self._record, reason, failed, self._playout.stats)
        record.metrics["echo"] = self._echo.summary()
        record.recording = recording
        await save_finished_call(self._recorder, record, self.log.media_ms())
