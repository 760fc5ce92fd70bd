"""A call's system tools: Velox's `end_call` / `transfer_call` and ElevenLabs' built-in tools.

ElevenLabs' `prompt.built_in_tools` map onto what a call can do: `end_call` hangs up after the
goodbye is heard, `transfer_to_number` hands the caller to a listed number through the
transport (Twilio `<Dial>`, SIP REFER; a `conference` transfer briefs the person first where the
line can: `briefing.py`), `skip_turn` ends the agent's turn without a word,
`transfer_to_agent` and `language_detection` hand the call over on the same line (`handover.py`),
`voicemail_detection` leaves the configured message on the machine and hangs up, and
`play_keypad_touch_tone` plays the keys as in-band tones on the agent's audio (every line; the
only way on Twilio), or as RFC 4733 events when `use_out_of_band_dtmf` asks for it and the
line can send them (SIP). Their results are
ElevenLabs' result shapes (`{"status": "success", ...}` or `{"status": "error", "error": ...}`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from app.audio.formats import AudioChunk, AudioFormat
from app.config.agent import AgentConfig
from app.config.system_tools import RUNNABLE, SystemTool
from app.engine.briefing import Briefing, WarmTransfers, spoken, transcript_summary
from app.engine.conversation import END_CALL, TRANSFER_CALL
from app.engine.handover import (
    LANGUAGE_DETECTION,
    TRANSFER_TO_AGENT,
    AgentDirectory,
    Handover,
    Handovers,
    Prepare,
)
from app.engine.keypad_tones import keypad_audio
from app.engine.leaving import REFUSED as HANG_UP_REFUSED
from app.engine.playout import Playout
from app.engine.record import CallEvent, TurnRecord
from app.engine.transport import AudioEncoder, CallTransport
from app.providers.base import TextToSpeech, ToolCall, ToolSpec

TRANSFER_TO_NUMBER = "transfer_to_number"
SKIP_TURN = "skip_turn"
VOICEMAIL_DETECTION = "voicemail_detection"
PLAY_KEYPAD_TOUCH_TONE = "play_keypad_touch_tone"

# The keys a keypad has, and `w`, ElevenLabs' half-second pause.
DTMF_TONES = re.compile(r"^[0-9*#A-Dw]{1,64}$")

_NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
_REASON = {"type": "string", "description": "why, in a few words"}


class CallLog(Protocol):
    turns: list[TurnRecord]
    events: list[CallEvent]

    def event(self, kind: str, **data: Any) -> None: ...

    def count(self, name: str) -> None: ...


@runtime_checkable
class KeypadTones(Protocol):
    """A line that can send keypad tones to the far end (SIP: RFC 4733 events)."""

    async def send_digits(self, digits: str) -> None:
        """Send `digits` (0-9, *, #, A-D; `w` a half-second pause) in order, then return."""


@dataclass(slots=True)
class SystemResult:
    """What a system tool came to: the model's result text, and whether the agent's turn is
    over (no more model rounds: the call ended, the turn was skipped)."""

    text: str
    turn_over: bool = False
    # The call goes on with another agent or language, once the tool has answered.
    handover: Handover | None = None
    # The model's call is taken back: it answers again without the tool (a refused hang-up).
    withdrawn: bool = False


class SystemTools:
    def __init__(
        self,
        config: AgentConfig,
        *,
        can_transfer: bool,
        transport: CallTransport,
        log: CallLog,
        end_call: Callable[[str], None],
        voicemail: Callable[[str], None],
        playout: Playout,
        encoder: AudioEncoder,
        agent_id: str = "",
        agents: AgentDirectory | None = None,
        tts: TextToSpeech | None = None,
        prepare: Prepare | None = None,
        check_hang_up: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._config = config
        # Asked before the model's `end_call` hangs up: False keeps the call going (leaving.py).
        self._check_hang_up = check_hang_up
        self._built_in = config.conversation_config.agent.prompt.built_in_tools.configured()
        self._can_transfer = can_transfer
        self._transport = transport
        self._log = log
        self._end_call = end_call
        self._voicemail = voicemail
        self._playout = playout
        self._encoder = encoder
        self._tones_played = 0
        self._tts = tts  # the agent's voice, for a warm transfer's words
        self._handovers = Handovers(config, agent_id, self._built_in, agents, log, prepare)
        self._specs = {spec.name: spec for spec in self._offered()}

    def specs(self) -> list[ToolSpec]:
        return list(self._specs.values())

    def handles(self, name: str) -> bool:
        return name in self._specs

    def _offered(self) -> list[ToolSpec]:
        specs = [end_call_spec(self._built_in.get(END_CALL))]
        destinations = self._config.velox.transfer_destinations
        if destinations and self._can_transfer:
            specs.append(_transfer_call_spec(self._config))
        specs.extend(self._handovers.specs())
        for kind, tool in self._built_in.items():
            if kind not in RUNNABLE or kind == END_CALL:
                continue
            if kind == TRANSFER_TO_NUMBER:
                if self._can_transfer and tool.params.phone_transfers():
                    specs.append(_transfer_to_number_spec(tool))
            elif kind == SKIP_TURN:
                specs.append(_spec(tool, _SKIP_TURN_DESCRIPTION, _reason_only()))
            elif kind == VOICEMAIL_DETECTION:
                specs.append(_spec(tool, _VOICEMAIL_DESCRIPTION, _reason_only()))
            elif kind == PLAY_KEYPAD_TOUCH_TONE:
                specs.append(_spec(tool, _KEYPAD_DESCRIPTION, _keypad_arguments()))
        return specs

    async def run(self, call: ToolCall) -> SystemResult:
        self._log.event("tool_call", name=call.name, arguments=call.arguments)
        reason = str(call.arguments.get("reason") or "")
        if call.name == END_CALL:
            if self._check_hang_up is not None and not await self._check_hang_up():
                return SystemResult(_error(HANG_UP_REFUSED), withdrawn=True)
            self._end_call("agent_ended_call")
            return SystemResult(_success(reason=reason or None), turn_over=True)
        if call.name == TRANSFER_CALL:
            allowed = [d.phone_number for d in self._config.velox.transfer_destinations]
            number = str(call.arguments.get("phone_number") or (allowed[0] if allowed else ""))
            return await self._transfer(number, allowed, reason)
        if call.name == TRANSFER_TO_NUMBER:
            return await self._transfer_to_number(call, reason)
        if call.name == SKIP_TURN:
            self._log.event("turn_skipped", reason=reason)
            return SystemResult(_success(reason=reason or None), turn_over=True)
        if call.name == VOICEMAIL_DETECTION:
            return self._voicemail_reached(reason)
        if call.name == PLAY_KEYPAD_TOUCH_TONE:
            return await self._play_tones(call)
        if call.name == TRANSFER_TO_AGENT:
            text, handover = await self._handovers.transfer(call)
            return SystemResult(text, handover=handover)
        if call.name == LANGUAGE_DETECTION:
            text, handover = await self._handovers.switch_language(call)
            return SystemResult(text, handover=handover)
        return SystemResult(_error(f"unknown system tool {call.name!r}"))

    async def _transfer_to_number(self, call: ToolCall, reason: str) -> SystemResult:
        tool = self._built_in[TRANSFER_TO_NUMBER]
        allowed = [t.number for t in tool.params.phone_transfers() if t.number is not None]
        number = str(call.arguments.get("transfer_number") or "")
        if not number and len(allowed) == 1:
            number = allowed[0]
        chosen = [t for t in tool.params.phone_transfers() if t.number == number]
        warm = bool(chosen) and chosen[0].transfer_type == "conference"
        return await self._transfer(number, allowed, reason, call if warm else None)

    async def _transfer(
        self, number: str, allowed: list[str], reason: str, warm: ToolCall | None = None
    ) -> SystemResult:
        if number not in allowed:
            self._log.event("transfer_refused", phone_number=number)
            self._log.count("transfers_refused")
            return SystemResult(_error(f"{number!r} is not an allowed transfer destination"))
        try:
            if warm is not None and isinstance(self._transport, WarmTransfers):
                briefing = await self._briefing(warm)
                await self._transport.transfer_warm(number, briefing)
                self._log.event("warm_transfer_briefed", summary=briefing.summary)
            else:
                if warm is not None:
                    self._log.event("warm_transfer_unsupported", phone_number=number)
                    self._log.count("warm_transfers_unsupported")
                await self._transport.transfer(number)
        except Exception as error:
            self._log.event("transfer_failed", phone_number=number, error=repr(error))
            return SystemResult(_error("the transfer failed; apologise and offer to help"))
        self._log.event("transferred", phone_number=number, reason=reason or None)
        self._end_call("transferred")
        return SystemResult(_success(transfer_number=number, reason=reason or None), turn_over=True)

    async def _briefing(self, call: ToolCall) -> Briefing:
        """The warm transfer's words in the agent's voice: the model's `agent_message` (or a
        summary from the transcript) for the person, its `client_message` for the caller."""
        if self._tts is None:
            raise RuntimeError("the call has no voice to brief the person with")
        voice_id = self._config.conversation_config.tts.voice_id
        summary = str(call.arguments.get("agent_message") or "").strip()
        if not summary:
            summary = transcript_summary(self._log.turns)
            self._log.event("warm_transfer_summary_from_transcript")
        caller = str(call.arguments.get("client_message") or "").strip()
        return Briefing(
            summary,
            await spoken(self._tts, voice_id, summary),
            caller,
            await spoken(self._tts, voice_id, caller) if caller else None,
        )

    def _voicemail_reached(self, reason: str) -> SystemResult:
        message = self._built_in[VOICEMAIL_DETECTION].params.voicemail_message or ""
        self._log.event("voicemail_detected", reason=reason, leaves_message=bool(message))
        if message.strip():
            self._voicemail(message)
        else:
            self._end_call("voicemail_detected")
        return SystemResult(_success(reason=reason or None), turn_over=True)

    async def _play_tones(self, call: ToolCall) -> SystemResult:
        tones = str(call.arguments.get("dtmf_tones") or "")
        if not DTMF_TONES.match(tones):
            self._log.count("keypad_tones_refused")
            return SystemResult(
                _error(f"{tones!r} is not keypad tones: use 0-9, *, #, A-D and w (a pause)")
            )
        params = self._built_in[PLAY_KEYPAD_TOUCH_TONE].params
        out_of_band = bool(params.use_out_of_band_dtmf)
        if out_of_band and not isinstance(self._transport, KeypadTones):
            self._log.event("keypad_tones_unsupported", dtmf_tones=tones)
            self._log.count("keypad_tones_unsupported")
            return SystemResult(
                _error("this line cannot send out-of-band keypad tones (RFC 4733: SIP calls only)")
            )
        try:
            if isinstance(self._transport, KeypadTones) and out_of_band:
                await self._transport.send_digits(tones)
            else:
                await self._play_in_band(tones)
        except Exception as error:
            self._log.event("keypad_tones_failed", dtmf_tones=tones, error=repr(error))
            self._log.count("keypad_tones_failed")
            return SystemResult(_error("the keypad tones could not be sent"))
        self._log.event(
            "keypad_tones_sent", dtmf_tones=tones, mode="rfc4733" if out_of_band else "in_band"
        )
        return SystemResult(
            _success(dtmf_tones=tones), turn_over=bool(params.suppress_turn_after_dtmf)
        )

    async def _play_in_band(self, tones: str) -> None:
        """The keys as audio after whatever the agent is saying; back once they have played."""
        rate = self._transport.output_format.sample_rate
        chunk = AudioChunk(keypad_audio(tones, rate), AudioFormat("pcm16", rate))
        self._playout.enqueue_audio(self._encoder.encode(chunk) + self._encoder.flush())
        self._tones_played += 1
        self._playout.enqueue_mark(f"k{self._tones_played}", "")
        await self._playout.wait_played()


_END_CALL_DESCRIPTION = "End the call once the conversation is finished and you have said goodbye."
_SKIP_TURN_DESCRIPTION = (
    "Stay silent this turn: call this when the caller asks for a moment to think or to do "
    'something ("give me a second", "let me check"), and say nothing until they speak again.'
)
_VOICEMAIL_DESCRIPTION = (
    "Call this when the call was answered by a voicemail system or answering machine, not a "
    "person (a recorded greeting, 'leave a message after the tone')."
)
_KEYPAD_DESCRIPTION = (
    "Press keys on the phone's keypad (DTMF tones) to navigate an automated phone menu or "
    "enter a number or extension. Say nothing while doing so."
)


def _spec(tool: SystemTool, default: str, parameters: dict[str, Any]) -> ToolSpec:
    return ToolSpec(tool.params.system_tool_type, tool.description or default, parameters)


def _reason_only() -> dict[str, Any]:
    return {"type": "object", "properties": {"reason": _REASON}, "required": []}


def _keypad_arguments() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "dtmf_tones": {
                "type": "string",
                "description": "the keys to press in order: 0-9, *, #, A-D; w waits 0.5 s",
            },
            "reason": _REASON,
        },
        "required": ["dtmf_tones"],
    }


def end_call_spec(tool: SystemTool | None = None) -> ToolSpec:
    """`end_call` as offered on every call (the built-in tool's description when it has one)."""
    description = tool.description if tool is not None and tool.description else None
    return ToolSpec(END_CALL, description or _END_CALL_DESCRIPTION, dict(_NO_ARGUMENTS))


def _transfer_call_spec(config: AgentConfig) -> ToolSpec:
    destinations = config.velox.transfer_destinations
    return ToolSpec(
        name=TRANSFER_CALL,
        description="Transfer the caller to a human. Destinations: "
        + "; ".join(f"{d.phone_number} ({d.description})" for d in destinations),
        parameters={
            "type": "object",
            "properties": {
                "phone_number": {
                    "type": "string",
                    "enum": [d.phone_number for d in destinations],
                },
                "reason": {"type": "string"},
            },
            "required": ["phone_number"],
        },
    )


def _transfer_to_number_spec(tool: SystemTool) -> ToolSpec:
    transfers = tool.params.phone_transfers()
    numbers = [t.number for t in transfers if t.number is not None]
    properties: dict[str, Any] = {
        "transfer_number": {"type": "string", "enum": numbers},
        "reason": _REASON,
    }
    if any(t.transfer_type == "conference" for t in transfers):
        properties |= _WARM_ARGUMENTS
    when = "; ".join(
        f"{t.number}: {t.condition}" if t.condition else str(t.number) for t in transfers
    )
    description = tool.description or "Transfer the caller to a person at one of these numbers"
    return ToolSpec(
        TRANSFER_TO_NUMBER,
        f"{description}. Numbers, and when to use each: {when}",
        {"type": "object", "properties": properties, "required": ["transfer_number"]},
    )


# ElevenLabs' arguments of a warm (`conference`) transfer.
_WARM_ARGUMENTS = {
    "client_message": {
        "type": "string",
        "description": "what the caller hears while the person is called",
    },
    "agent_message": {
        "type": "string",
        "description": "a short summary of the call for the person who answers, said to them "
        "before the caller is joined",
    },
}


def _success(**fields: Any) -> str:
    return json.dumps({"status": "success", **{k: v for k, v in fields.items() if v is not None}})


def _error(message: str) -> str:
    return json.dumps({"status": "error", "error": message})
