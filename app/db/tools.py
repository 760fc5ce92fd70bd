"""Queries for an organization's webhook tools (stored as their validated `tool_config`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db.models import Agent, Tool, new_id, utc_now
from app.db.paging import Page, clamp_page_size, decode_cursor, encode_cursor


def create_tool(session: Session, organization_id: str, config: dict[str, Any]) -> Tool:
    now = utc_now()
    tool = Tool(
        id=new_id("tool"),
        organization_id=organization_id,
        name=str(config["name"]),
        config=config,
        calls_total=0,
        latency_secs_total=0.0,
        created_at=now,
        updated_at=now,
    )
    session.add(tool)
    session.flush()
    return tool


def get_tool(session: Session, organization_id: str, tool_id: str) -> Tool | None:
    return session.scalar(
        select(Tool).where(Tool.organization_id == organization_id, Tool.id == tool_id)
    )


def list_tools(
    session: Session,
    organization_id: str,
    *,
    page_size: int = 30,
    cursor: str | None = None,
    search: str | None = None,
) -> Page[Tool]:
    """The organization's tools, newest first; `search` matches the start of the name."""
    limit = clamp_page_size(page_size)
    query = select(Tool).where(Tool.organization_id == organization_id)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Tool.name.ilike(f"{escaped}%", escape="\\"))
    if cursor:
        query = query.where(Tool.seq < decode_cursor(cursor))
    rows = list(session.scalars(query.order_by(Tool.seq.desc()).limit(limit + 1)))
    if len(rows) > limit:
        return Page(items=rows[:limit], next_cursor=encode_cursor(rows[limit - 1].seq))
    return Page(items=rows, next_cursor=None)


def all_tools(session: Session, organization_id: str) -> list[Tool]:
    return list(session.scalars(select(Tool).where(Tool.organization_id == organization_id)))


def tools_named(session: Session, organization_id: str, tool_ids: Iterable[str]) -> list[Tool]:
    """The organization's tools among `tool_ids` (others' and unknown ids are left out)."""
    ids = list(tool_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(Tool).where(Tool.organization_id == organization_id, Tool.id.in_(ids))
        )
    )


def update_tool(
    session: Session, organization_id: str, tool_id: str, config: dict[str, Any]
) -> Tool | None:
    tool = get_tool(session, organization_id, tool_id)
    if tool is None:
        return None
    tool.config = config
    tool.name = str(config["name"])
    tool.updated_at = utc_now()
    session.flush()
    return tool


def delete_tool(session: Session, organization_id: str, tool_id: str) -> bool:
    tool = get_tool(session, organization_id, tool_id)
    if tool is None:
        return False
    session.delete(tool)
    session.flush()
    return True


def agents_using_tool(session: Session, organization_id: str, tool_id: str) -> list[Agent]:
    """The organization's live agents whose `prompt.tool_ids` name the tool."""
    agents = session.scalars(
        select(Agent).where(Agent.organization_id == organization_id, Agent.deleted_at.is_(None))
    )
    return [agent for agent in agents if tool_id in _tool_ids(agent.config)]


def _tool_ids(config: dict[str, Any]) -> list[str]:
    prompt = (config.get("conversation_config") or {}).get("agent", {}).get("prompt", {})
    return list(prompt.get("tool_ids") or [])


def count_tool_calls(
    session: Session, organization_id: str, calls: Iterable[tuple[str, float]]
) -> None:
    """Add a saved call's tool calls (tool id, latency in seconds) to their tools' usage."""
    for tool_id, latency in calls:
        session.execute(
            update(Tool)
            .where(Tool.organization_id == organization_id, Tool.id == tool_id)
            .values(
                calls_total=Tool.calls_total + 1,
                latency_secs_total=Tool.latency_secs_total + latency,
            )
        )
