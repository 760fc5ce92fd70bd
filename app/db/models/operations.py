"""The service's own rows: live voice nodes, scheduled task runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, utc_now


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
