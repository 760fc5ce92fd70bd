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
    # The field agent who follows the lead up (their list, their call backs); None: nobody.
    owner_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        # A field agent's list, in import order.
        Index("ix_campaign_leads_owner_user_id_seq", "owner_user_id", "seq"),
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


class LeadCallback(Base):
    """A call back a lead asked for, on its owner's list: open until the owner records an
    outcome for the lead (done) or the lead is given to someone else (cancelled)."""

    __tablename__ = "lead_callbacks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    lead_id: Mapped[str] = mapped_column(
        ForeignKey("campaign_leads.id", ondelete="CASCADE"), index=True
    )
    owner_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    due_at: Mapped[datetime] = mapped_column()
    # call (the lead asked the agent during a call), field_agent (the owner wrote it down)
    source: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(64), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, done, cancelled
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # When its owner's devices were told it is due (Web Push); None: not yet.
    notified_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_lead_callbacks_owner_user_id_status_due_at", "owner_user_id", "status", "due_at"),
        # The push sender's query: open call backs due and not yet notified.
        Index("ix_lead_callbacks_status_notified_at_due_at", "status", "notified_at", "due_at"),
    )


class LeadReport(Base):
    """An outcome and a note a field agent recorded for a lead after following it up."""

    __tablename__ = "lead_reports"

    seq: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    lead_id: Mapped[str] = mapped_column(
        ForeignKey("campaign_leads.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    outcome: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    call_back_at: Mapped[datetime | None] = mapped_column(default=None)
    # The app's Idempotency-Key: a write replayed after a lost answer is stored once.
    request_key: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        Index("uq_lead_reports_user_id_request_key", "user_id", "request_key", unique=True),
    )
