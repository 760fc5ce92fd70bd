"""Webhook tools and the secrets their requests carry (ElevenLabs' `/v1/convai/tools`,
`/v1/convai/secrets`), each an organization's own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, SurrogateKey, utc_now


class Tool(Base):
    __tablename__ = "tools"

    # The surrogate gives a stable newest-first order for cursor paging.
    seq: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    # The validated `tool_config` (see app/config/tools.py).
    config: Mapped[dict[str, Any]]
    # Usage: calls counted when the calls that made them are saved.
    calls_total: Mapped[int] = mapped_column(Integer, default=0)
    latency_secs_total: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class Secret(Base):
    __tablename__ = "secrets"

    seq: Mapped[int] = mapped_column(SurrogateKey, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Encrypted like provider keys (app/config/credentials.py); never returned by the API.
    encrypted_value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
