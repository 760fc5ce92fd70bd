"""Calls and what they leave: turns, events, the post-call analysis."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.models.base import Base, SurrogateKey, utc_now


class Call(Base):
    __tablename__ = "calls"

    seq: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    # The ElevenLabs "conversation_id".
    id: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    phone_number_id: Mapped[str | None] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="SET NULL"), default=None
    )
    direction: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    from_number: Mapped[str] = mapped_column(String(64), default="")
    to_number: Mapped[str] = mapped_column(String(64), default="")
    provider_call_sid: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    stream_sid: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default="initiated")
    termination_reason: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    duration_secs: Mapped[float | None] = mapped_column(Float, default=None)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    provider_status: Mapped[str | None] = mapped_column(String(32), default=None)
    # Twilio's answering-machine verdict (`AnsweredBy`) for an outbound call that asked for one.
    answered_by: Mapped[str | None] = mapped_column(String(32), default=None)
    # How an outbound call was asked for: the client's dynamic variables and overrides, the
    # answering-machine rules; read when the call is answered (see telephony/twilio/outbound.py).
    initiation: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # The voice node holding the call's media while it is in progress (see VoiceNode).
    node_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # The call's stereo recording (left: the caller; right: what the caller heard), relative
    # to the recordings folder; None when the call was not recorded (or it was deleted).
    recording_path: Mapped[str | None] = mapped_column(String(500), default=None)
    has_user_audio: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    has_response_audio: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A reviewer's verdict (`like` or `dislike`, as ElevenLabs has it) and who gave it.
    feedback: Mapped[str | None] = mapped_column(String(16), default=None)
    feedback_by: Mapped[str | None] = mapped_column(String(400), default=None)

    turns: Mapped[list[Turn]] = relationship(
        order_by="Turn.position", cascade="all, delete-orphan", lazy="raise"
    )
    events: Mapped[list[CallEvent]] = relationship(
        order_by="CallEvent.id", cascade="all, delete-orphan", lazy="raise"
    )

    # Calls queued for a SIP node to place (telephony/sip/dial_queue.py): few rows, read often.
    __table_args__ = (
        Index(
            "ix_calls_queued_dials",
            "created_at",
            postgresql_where=text("provider_status = 'queued'"),
            sqlite_where=text("provider_status = 'queued'"),
        ),
    )


class Turn(Base):
    __tablename__ = "turns"
    __table_args__ = (Index(None, "call_id", "position", unique=True),)

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    time_in_call_secs: Mapped[float] = mapped_column(Float)
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16), default="voice")
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # ElevenLabs' transcript `tool_calls` / `tool_results` of this turn; None when it had none.
    tool_calls: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    tool_results: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)


class CallEvent(Base):
    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    at_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    kind: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class SipMessage(Base):
    """One SIP message of a call as it went over the wire, kept with the call for debugging."""

    __tablename__ = "sip_messages"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    sip_call_id: Mapped[str] = mapped_column(String(255))
    direction: Mapped[str] = mapped_column(String(8))  # in, out
    local_address: Mapped[str] = mapped_column(String(64))
    remote_address: Mapped[str] = mapped_column(String(64))
    raw_message: Mapped[str] = mapped_column(Text)
    created_at_unix_micro: Mapped[int] = mapped_column(BigInteger)


class CallAnalysis(Base):
    """The post-call analysis of one call: queued when the call is stored, filled by a worker.

    pending (due at `due_at`), running (a worker has it until `due_at`), done, failed (no tries
    left; the computed metrics and the rules' outcome are still stored).
    """

    __tablename__ = "call_analyses"

    call_id: Mapped[str] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(default=utc_now)
    summary: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    sentiment: Mapped[str | None] = mapped_column(String(16), default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    call_successful: Mapped[str] = mapped_column(String(16), default="unknown")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    criteria: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # When the person asked to be called back (outcome `call_back` with a time they named).
    call_back_at: Mapped[datetime | None] = mapped_column(default=None)
    # Which model wrote it ("rules" when none was needed), and what was off in its answer.
    analyzed_by: Mapped[str] = mapped_column(String(64), default="")
    notes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_call_analyses_status_due_at", "status", "due_at"),)
