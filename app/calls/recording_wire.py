"""What the serving process and its recording writer process say to each other over a pipe.

Each message is a length (4 bytes, big-endian) and a pickle. The serving process sends lists of
orders, the writer answers with replies. Both ends are Velox's own code, started together, so
pickle is safe here: nothing else can write to these pipes.
"""

from __future__ import annotations

import pickle
import struct
from typing import IO, Any, Literal

from app.calls.recording_mix import AgentFrame, CallerFrame

_LENGTH = struct.Struct(">I")

# A call's recording opens: (kind, key, path, rate, started, hold_s)
Open = tuple[Literal["open"], int, str, int, float, float]
# Half a second of a call: (kind, key, caller frames, agent frames and clears, now)
Batch = tuple[Literal["batch"], int, list[CallerFrame], list[AgentFrame], float]
# The call ended at `ended`; reply to `request` with its summary: (kind, key, ended, request)
Finish = tuple[Literal["finish"], int, float, int]
# Reply to `request` once everything sent before is done: (kind, request)
Sync = tuple[Literal["sync"], int]
Order = Open | Batch | Finish | Sync
# (request, succeeded, the finish summary or None, or the error's text)
Reply = tuple[int, bool, dict[str, Any] | str | None]


def pack(message: object) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


def unpack(stream: IO[bytes]) -> Any | None:
    """The next message on `stream`, or None at its end (the other side closed or died; a
    message cut short by a death is its end too)."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    body = stream.read(length)
    if len(body) < length:
        return None
    return pickle.loads(body)
