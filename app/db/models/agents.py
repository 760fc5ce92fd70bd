"""Agents and the phone numbers they answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, SurrogateKey, utc_now


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
    # A sip_trunk number's trunk configurations (app/config/sip_trunks.py), passwords encrypted.
    inbound_trunk: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    outbound_trunk: Mapped[dict[str, Any] | None] = mapped_column(default=None)
