"""Outbound campaigns: their leads, each dial attempt, and the do-not-call list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, SurrogateKey, utc_now


class Campaign(Base):
    """An outbound campaign: its agent and caller ID, its state, and its settings as the API
    took them (`settings`: windows, zone, pace, retries, voicemail; see app/db/campaigns.py)."""

    __tablename__ = "campaigns"

    seq: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    phone_number_id: Mapped[str] = mapped_column(ForeignKey("phone_numbers.id"))
    # draft, scheduled, running, paused, completed, cancelled (campaigns/states.py)
    state: Mapped[str] = mapped_column(String(16), index=True)
    settings: Mapped[dict[str, Any]] = mapped_column()
    # Set for a campaign made through ElevenLabs' batch-calling API: the fields that API shows
    # and Velox does not act on (`telephony_call_config`), and how often it was retried.
    batch: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


class CampaignLead(Base):
    """One number a campaign calls, with the variables its row gave the agent's prompt."""

    __tablename__ = "campaign_leads"

    seq: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    phone_number: Mapped[str] = mapped_column(String(32))
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The lead's row in its file (the spreadsheet's numbering, header = 1).
    line_number: Mapped[int | None] = mapped_column(Integer, default=None)
    # pending (waiting for its next attempt), calling (an attempt in progress), finished
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts_made: Mapped[int] = mapped_column(Integer, default=0)
    # When the dialer looks at it next (None: at once).
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    last_outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    finished_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        # The dialer's claim query reads it in order: (campaign, pending, due_at, seq).
        Index(
            "ix_campaign_leads_campaign_id_status_due_at_seq",
            "campaign_id",
            "status",
            "due_at",
            "seq",
        ),
    )


class CallAttempt(Base):
    """One dial of a lead: claimed by the dialer tick, dialed once, ended with an outcome.

    `conversation_id` is chosen when the attempt is claimed, so a dial interrupted by a crash
    can be told apart afterwards: its conversation exists (Twilio may have been asked) or not.
    """

    __tablename__ = "call_attempts"

    seq: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    lead_id: Mapped[str] = mapped_column(ForeignKey("campaign_leads.id", ondelete="CASCADE"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    # claimed → dialing → dialed → ended (or claimed/dialing → ended when the dial failed)
    status: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    detail: Mapped[str] = mapped_column(Text, default="")
    claimed_at: Mapped[datetime] = mapped_column(default=utc_now)
    # When the tick put the dial task on the queue (None: the tick died before it could).
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    dialed_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("uq_call_attempts_lead_id_number", "lead_id", "number", unique=True),
        Index("ix_call_attempts_campaign_id_status", "campaign_id", "status"),
        Index("ix_call_attempts_status_claimed_at", "status", "claimed_at"),
    )


class DoNotCallEntry(Base):
    """A number the organization must never call, and how it got on the list."""

    __tablename__ = "do_not_call"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    phone_number: Mapped[str] = mapped_column(String(32))
    # api (added by a person), call (the lead asked in a call), import
    source: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        Index(
            "uq_do_not_call_organization_id_phone_number",
            "organization_id",
            "phone_number",
            unique=True,
        ),
    )
