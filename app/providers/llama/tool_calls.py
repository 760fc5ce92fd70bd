"""Tool calls in the Hermes style that Qwen2.5's chat template teaches, read from streamed text.

The template (the GGUF's `tokenizer.chat_template`) lists the tools inside `<tools></tools>` in
the system turn and asks for each call as

    <tool_call>
    {"name": <function-name>, "arguments": <args-json-object>}
    </tool_call>

Qwen2.5-Coder-0.5B often leaves the tags out and writes the bare object (sometimes inside a
Markdown ```json fence), so an object that opens with a `"name"` key is read as a call too, and
fence markers are never spoken; a spoken reply has no other use for either. A call whose only
fault is that its last braces are missing (the model stopped early) is closed and read; no other
repair is made.

Sans-I/O: text goes in as the model samples it; what lies outside the calls comes out at once
(so words before a call are spoken while the model is still writing the call), held back only
while it could be the start of a call or a fence. Each call's body becomes a `ToolCall`, or, when
it is not a JSON object with a name and an object of arguments, a `MalformedToolCall` saying why.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any

from app.providers.base import ToolCall

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"
FENCE = "```"
FENCE_LANGUAGE = "json"
BARE_CALL_KEY = '"name"'
RAW_EXCERPT_CHARS = 300


@dataclass(frozen=True, slots=True)
class MalformedToolCall:
    raw: str
    reason: str


def _held_back(text: str, tag: str) -> int:
    """How many trailing characters of `text` could be the beginning of `tag`."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0


def _new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:16]}"


def _closed(text: str) -> Any | None:
    """`text` read as JSON once the brackets it left open at its end are closed (a small model
    often drops the last brace of a call); None when that does not make it JSON either."""
    open_brackets: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped = char == "\\" and not escaped
            in_string = escaped or char != '"'
        elif char == '"':
            in_string = True
        elif char in "{[":
            open_brackets.append("}" if char == "{" else "]")
        elif char in "}]" and (not open_brackets or open_brackets.pop() != char):
            return None
    if in_string or not open_brackets:
        return None
    try:
        return json.loads(text + "".join(reversed(open_brackets)))
    except json.JSONDecodeError:
        return None


def parse_tool_call(body: str) -> ToolCall | MalformedToolCall:
    """One `<tool_call>` body: `{"name": str, "arguments": object}` (arguments may also come
    as a JSON string holding an object, as the OpenAI wire format carries them)."""
    raw = body.strip()
    excerpt = raw[:RAW_EXCERPT_CHARS]
    try:
        decoded: Any = json.loads(raw)
    except json.JSONDecodeError as error:
        closed = _closed(raw) if error.pos >= len(raw) else None
        if closed is None:
            return MalformedToolCall(excerpt, f"not JSON ({error.msg} at character {error.pos})")
        decoded = closed
    if not isinstance(decoded, dict):
        return MalformedToolCall(excerpt, "not a JSON object")
    name = decoded.get("name")
    if not isinstance(name, str) or not name.strip():
        return MalformedToolCall(excerpt, 'no "name" string')
    arguments: Any = decoded.get("arguments", decoded.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            return MalformedToolCall(excerpt, '"arguments" is a string that is not JSON')
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return MalformedToolCall(excerpt, '"arguments" is not a JSON object')
    return ToolCall(id=_new_call_id(), name=name.strip(), arguments=arguments)


class _State(Enum):
    SPEAKING = "speaking"
    TAGGED_CALL = "tagged"  # inside <tool_call> … </tool_call>
    BARE_CALL = "bare"  # inside a {"name": …} object written without tags


def _bare_call_start(text: str) -> bool | None:
    """Whether `text` (starting at a "{") opens a bare call; None while it cannot yet tell."""
    rest = text[1:].lstrip()
    if rest.startswith(BARE_CALL_KEY):
        return True
    if not rest or BARE_CALL_KEY.startswith(rest):
        return None
    return False


class ToolCallStreamParser:
    """Splits one streamed reply into spoken text and tool calls."""

    def __init__(self) -> None:
        self._pending = ""
        self._state = _State.SPEAKING
        self._decoder = json.JSONDecoder()
        self.calls: list[ToolCall] = []
        self.malformed: list[MalformedToolCall] = []

    def feed(self, text: str) -> str:
        """The text that is certainly not part of a call so far (to be spoken now)."""
        self._pending += text
        spoken: list[str] = []
        while self._step(spoken):
            pass
        return "".join(spoken)

    def finish(self) -> str:
        """The reply ended: the text still held back, and a call left unfinished (a model that
        stopped before `</tool_call>` or the object's last brace) read as it stands."""
        rest, self._pending = self._pending, ""
        if self._state is not _State.SPEAKING:
            self._state = _State.SPEAKING
            self._take(rest)
            return ""
        return rest.replace("`", "")

    def _step(self, spoken: list[str]) -> bool:
        """Consume what can be decided now; False when more text is needed."""
        pending = self._pending
        if self._state is _State.TAGGED_CALL:
            end = pending.find(CLOSE_TAG)
            if end < 0:
                return False
            self._take(pending[:end])
            self._continue_after(end + len(CLOSE_TAG), _State.SPEAKING)
            return True
        if self._state is _State.BARE_CALL:
            try:
                _, end = self._decoder.raw_decode(pending)
            except json.JSONDecodeError:
                return False
            self._take(pending[:end])
            self._continue_after(end, _State.SPEAKING)
            return True
        marks = [
            i for i in (pending.find(OPEN_TAG), pending.find("{"), pending.find(FENCE)) if i >= 0
        ]
        if not marks:
            keep = max(_held_back(pending, OPEN_TAG), _held_back(pending, FENCE))
            spoken.append(pending[: len(pending) - keep])
            self._pending = pending[len(pending) - keep :]
            return False
        at = min(marks)
        spoken.append(pending[:at])
        if pending.startswith(OPEN_TAG, at):
            self._continue_after(at + len(OPEN_TAG), _State.TAGGED_CALL)
            return True
        if pending.startswith(FENCE, at):
            after = pending[at + len(FENCE) :]
            if len(after) < len(FENCE_LANGUAGE) and FENCE_LANGUAGE.startswith(after.lower()):
                self._pending = pending[at:]
                return False
            skip = len(FENCE_LANGUAGE) if after.lower().startswith(FENCE_LANGUAGE) else 0
            self._continue_after(at + len(FENCE) + skip, _State.SPEAKING)
            return True
        opens_call = _bare_call_start(pending[at:])
        if opens_call is None:
            self._pending = pending[at:]
            return False
        if opens_call:
            self._continue_after(at, _State.BARE_CALL)
        else:
            spoken.append("{")
            self._continue_after(at + 1, _State.SPEAKING)
        return True

    def _continue_after(self, index: int, state: _State) -> None:
        self._pending = self._pending[index:]
        self._state = state

    def _take(self, body: str) -> None:
        parsed = parse_tool_call(body)
        if isinstance(parsed, ToolCall):
            self.calls.append(parsed)
        else:
            self.malformed.append(parsed)
