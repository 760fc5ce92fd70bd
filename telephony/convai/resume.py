"""Conversations whose connection dropped, held on this node for their client to resume.

A client learns its conversation's resume token in `conversation_initiation_metadata` (Velox's
`velox_resume` field, which other clients ignore). When its socket goes away without a close
frame (a network change, a tunnel), the conversation is held here for the resume window; a new
socket that names the conversation and presents the token (`conversation_id` and
`resume_token` in the upgrade's query) takes it back. The conversation lives in this node's
memory, so the client must reach the same node (a load balancer keeps a conversation's sockets
on one node by its id).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


def new_resume_token() -> str:
    return secrets.token_urlsafe(24)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class ResumeRefusedError(LookupError):
    """The conversation cannot be resumed: `reason` says why, `status` is the upgrade's."""

    def __init__(self, reason: str, message: str, status: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


@dataclass
class _Held(Generic[T]):
    conversation: T
    agent_id: str
    token_digest: bytes
    taken: asyncio.Event = field(default_factory=asyncio.Event)


class HeldConversations(Generic[T]):
    """The conversations of this node waiting for their client, by conversation id."""

    def __init__(self) -> None:
        self._held: dict[str, _Held[T]] = {}

    def hold(
        self, conversation_id: str, agent_id: str, token: str, conversation: T
    ) -> asyncio.Event:
        """Hold `conversation`; the event is set when a client takes it back."""
        held = _Held(conversation, agent_id, _digest(token))
        self._held[conversation_id] = held
        return held.taken

    def release(self, conversation_id: str) -> None:
        """The window is over (or the conversation ended): nobody may take it any more."""
        self._held.pop(conversation_id, None)

    def check(self, conversation_id: str, agent_id: str | None, token: str) -> None:
        """Whether a client may resume it; raises `ResumeRefusedError` saying why not."""
        self._find(conversation_id, agent_id, token)

    def take(self, conversation_id: str, agent_id: str | None, token: str) -> T:
        """Take the conversation back (once); raises `ResumeRefusedError`."""
        held = self._find(conversation_id, agent_id, token)
        del self._held[conversation_id]
        held.taken.set()
        return held.conversation

    def _find(self, conversation_id: str, agent_id: str | None, token: str) -> _Held[T]:
        held = self._held.get(conversation_id)
        if held is None:
            raise ResumeRefusedError(
                "resume_unavailable",
                "no conversation with this id is waiting to be resumed on this node: it ended, "
                "its resume window is over, or it is held by another node",
                410,
            )
        if not hmac.compare_digest(held.token_digest, _digest(token)):
            raise ResumeRefusedError("invalid_resume_token", "the resume token is wrong", 403)
        if agent_id is not None and agent_id != held.agent_id:
            raise ResumeRefusedError(
                "invalid_resume_token", "the conversation belongs to another agent", 403
            )
        return held

    def __len__(self) -> int:
        return len(self._held)
