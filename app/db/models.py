"""The relational schema: organizations own every other row, so each tenant table carries its id.

Migrations under ``migrations/`` create this schema; the models here are what queries use and
what the migration is checked against.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY columns, so the big integer is PostgreSQL-only.
SurrogateKey = BigInteger().with_variant(Integer(), "sqlite")


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """A public identifier such as ``agent_3f9c...``: unguessable and typed by its prefix."""
    return f"{prefix}_{secrets.token_hex(16)}"


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend; SQLite alone would return naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON,
    }


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    key_prefix: Mapped[str] = mapped_column(String(16))
    # SHA-256 without salt or stretching is right here: keys are 32 random bytes, so there is
    # no dictionary to guess from, and the lookup by hash must be fast on every request.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class Agent(Base):
    __tablename__ = "agents"

    # The surrogate gives a stable newest-first order for cursor paging.
    seq: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    # Soft delete: past calls keep pointing at the agent that handled them.
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    phone_number: Mapped[str] = mapped_column(String(32), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    provider: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


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

    turns: Mapped[list[Turn]] = relationship(
        order_by="Turn.position", cascade="all, delete-orphan", lazy="raise"
    )
    events: Mapped[list[CallEvent]] = relationship(
        order_by="CallEvent.id", cascade="all, delete-orphan", lazy="raise"
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


class CallEvent(Base):
    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    at_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    kind: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


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
    # Which model wrote it ("rules" when none was needed), and what was off in its answer.
    analyzed_by: Mapped[str] = mapped_column(String(64), default="")
    notes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_call_analyses_status_due_at", "status", "due_at"),)


class UsedConversationToken(Base):
    """A signed conversation URL that has been used: each one opens one conversation only."""

    __tablename__ = "used_conversation_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime] = mapped_column(default=utc_now)


class ProviderCredential(Base):
    """An organization's key for a cloud provider, encrypted at rest (never returned by the API)."""

    __tablename__ = "provider_credentials"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    encrypted_api_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    __table_args__ = (
        Index(
            "uq_provider_credentials_organization_id_provider",
            "organization_id",
            "provider",
            unique=True,
        ),
    )


class VoiceNode(Base):
    """One running voice process: it holds its calls' media in memory and beats while alive.

    Not a tenant row: a node serves every organization. A call in progress names its node, so
    the calls of a node that stopped beating (killed, crashed, lost) can be finished.
    """

    __tablename__ = "voice_nodes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)


class TaskRun(Base):
    """One idempotency key of a worker task: claimed by a lease, then marked done with its result.

    Not a tenant row: maintenance work spans organizations, so a key names its organization
    itself when it has one.
    """

    __tablename__ = "task_runs"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    task_name: Mapped[str] = mapped_column(String(200))
    # "running" while a worker holds the lease, "done" once its work is committed.
    status: Mapped[str] = mapped_column(String(16))
    # Counts claims: a worker that died leaves its lease to expire and the next one takes over.
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    lease_until: Mapped[datetime]
    result: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


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


class WebhookEndpoint(Base):
    """Where an organization wants to be told about its calls and campaigns, and the secret
    (encrypted at rest) that signs what it is sent."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    encrypted_secret: Mapped[str] = mapped_column(Text)
    request_headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    events: Mapped[list[str]] = mapped_column(JSON)
    is_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    retry_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    most_recent_failure_status: Mapped[int | None] = mapped_column(Integer, default=None)
    most_recent_failure_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class WebhookDelivery(Base):
    """One event for one endpoint: its body as first built, and every try to deliver it."""

    __tablename__ = "webhook_deliveries"

    seq: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    # pending (due at next_attempt_at), sending (a worker has it until next_attempt_at),
    # delivered, failed (no tries left)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )
