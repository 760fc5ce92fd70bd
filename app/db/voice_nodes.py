"""Voice nodes: registered when a voice process starts, beating while it runs; the calls of a
node that is gone are finished as `node_lost`.

A node is gone when it stopped beating for longer than the caller allows, or (known at once)
when it ran on this host and its process no longer exists: a node restarted after a SIGKILL
finishes its predecessor's calls on start. Not tenant-scoped: nodes serve every organization
(like the analysis and webhook workers, the sweep works across organizations).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from app.db.calls import finish_lost_call
from app.db.models import Call, VoiceNode, new_id, utc_now

IN_PROGRESS = "in-progress"


def register_node(session: Session, hostname: str, pid: int) -> str:
    node = VoiceNode(id=new_id("node"), hostname=hostname, pid=pid)
    session.add(node)
    session.flush()
    return node.id


def beat(session: Session, node_id: str) -> None:
    session.execute(update(VoiceNode).where(VoiceNode.id == node_id).values(heartbeat_at=utc_now()))


def stop_node(session: Session, node_id: str) -> None:
    """A clean shutdown: its calls were closed and saved, so nothing is lost."""
    now = utc_now()
    session.execute(
        update(VoiceNode).where(VoiceNode.id == node_id).values(heartbeat_at=now, stopped_at=now)
    )


def finish_calls_of_lost_nodes(
    session: Session,
    *,
    this_node: str,
    hostname: str,
    silent_for: timedelta,
    process_exists: Callable[[int], bool],
    now: datetime | None = None,
) -> list[str]:
    """Finish every in-progress call held by a node that is gone; returns their ids.

    Gone: stopped, silent for longer than `silent_for`, on this host with no such process any
    more, or no longer registered at all. Only nodes that still hold calls are looked at.
    """
    now = now or utc_now()
    holders: set[str] = {
        node_id
        for node_id in session.scalars(
            select(Call.node_id)
            .where(Call.status == IN_PROGRESS, Call.node_id.is_not(None), Call.node_id != this_node)
            .distinct()
        )
        if node_id is not None
    }
    if not holders:
        return []
    nodes = {n.id: n for n in session.scalars(select(VoiceNode).where(VoiceNode.id.in_(holders)))}
    last_seen: dict[str, datetime] = {}
    for node_id in holders:
        node = nodes.get(node_id)
        if node is None:
            last_seen[node_id] = now
        elif node.stopped_at is not None:
            last_seen[node_id] = node.stopped_at
        elif node.heartbeat_at < now - silent_for or (
            node.hostname == hostname and not process_exists(node.pid)
        ):
            last_seen[node_id] = node.heartbeat_at
    if not last_seen:
        return []
    calls = session.scalars(
        select(Call)
        .where(Call.node_id.in_(last_seen), Call.status == IN_PROGRESS)
        .with_for_update()
    ).all()
    for call in calls:
        assert call.node_id is not None
        finish_lost_call(session, call, last_seen[call.node_id])
    session.flush()
    return [call.id for call in calls]


def _live(organization_id: str, silent_for: timedelta, now: datetime) -> Select[Call]:
    return (
        select(Call)
        .join(VoiceNode, VoiceNode.id == Call.node_id)
        .where(
            Call.organization_id == organization_id,
            Call.status == IN_PROGRESS,
            VoiceNode.stopped_at.is_(None),
            VoiceNode.heartbeat_at >= now - silent_for,
        )
    )


def live_calls(session: Session, organization_id: str, *, silent_for: timedelta) -> list[Call]:
    """The organization's calls in progress on a node that is alive (running, and beating
    within `silent_for`), oldest first."""
    query = _live(organization_id, silent_for, utc_now()).order_by(Call.started_at, Call.seq)
    return list(session.scalars(query))


def live_call(
    session: Session, organization_id: str, call_id: str, *, silent_for: timedelta
) -> Call | None:
    return session.scalar(_live(organization_id, silent_for, utc_now()).where(Call.id == call_id))
