"""Agents: an organization's voice agents, stored as validated `AgentConfig` JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config.agent import AgentConfig
from app.db.models import Agent, new_id, utc_now
from app.db.paging import Page, clamp_page_size, decode_cursor, encode_cursor


def agent_config(agent: Agent) -> AgentConfig:
    """The agent's stored configuration, parsed into the model the engine and API share."""
    return AgentConfig.model_validate(agent.config)


def deep_merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` laid over it: nested objects merge key by key, the rest replace,
    and a null removes its key (JSON Merge Patch, RFC 7396), so a data-collection field or a
    variable can be taken out; a removed setting takes its default again."""
    merged = dict(base)
    for key, value in changes.items():
        current = merged.get(key)
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping):
            merged[key] = deep_merge(current if isinstance(current, Mapping) else {}, value)
        else:
            merged[key] = value
    return merged


def create_agent(session: Session, organization_id: str, config: AgentConfig) -> Agent:
    now = utc_now()
    agent = Agent(
        id=new_id("agent"),
        organization_id=organization_id,
        name=config.name,
        config=config.model_dump(mode="json"),
        created_at=now,
        updated_at=now,
    )
    session.add(agent)
    session.flush()
    return agent


def get_agent(session: Session, organization_id: str, agent_id: str) -> Agent | None:
    """The organization's live (not deleted) agent, or None."""
    return session.scalar(
        select(Agent).where(
            Agent.organization_id == organization_id,
            Agent.id == agent_id,
            Agent.deleted_at.is_(None),
        )
    )


def get_agent_for_call(session: Session, agent_id: str) -> Agent | None:
    """Find a live agent by id alone, for a call whose caller has no API key.

    The only unscoped agent lookup: the Twilio webhook is authenticated by Twilio's request
    signature, and the returned agent's ``organization_id`` scopes everything the call does next.
    """
    return session.scalar(select(Agent).where(Agent.id == agent_id, Agent.deleted_at.is_(None)))


def list_agents(
    session: Session,
    organization_id: str,
    *,
    page_size: int = 30,
    cursor: str | None = None,
    search: str | None = None,
) -> Page[Agent]:
    """The organization's live agents, newest first; ``search`` matches part of the name."""
    limit = clamp_page_size(page_size)
    query = select(Agent).where(
        Agent.organization_id == organization_id, Agent.deleted_at.is_(None)
    )
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Agent.name.ilike(f"%{escaped}%", escape="\\"))
    if cursor:  # an empty cursor is the first page
        query = query.where(Agent.seq < decode_cursor(cursor))
    rows = list(session.scalars(query.order_by(Agent.seq.desc()).limit(limit + 1)))
    if len(rows) > limit:
        return Page(items=rows[:limit], next_cursor=encode_cursor(rows[limit - 1].seq))
    return Page(items=rows, next_cursor=None)


def all_agents(session: Session, organization_id: str) -> list[Agent]:
    """The organization's live agents by name (a picker's list)."""
    query = select(Agent).where(
        Agent.organization_id == organization_id, Agent.deleted_at.is_(None)
    )
    return list(session.scalars(query.order_by(Agent.name, Agent.seq)))


def update_agent(
    session: Session, organization_id: str, agent_id: str, changes: Mapping[str, Any]
) -> Agent | None:
    """Deep-merge ``changes`` into the stored configuration and store it if it still validates.

    Raises pydantic's ``ValidationError`` (nothing is written) when the merged result is invalid.
    """
    agent = get_agent(session, organization_id, agent_id)
    if agent is None:
        return None
    config = AgentConfig.model_validate(deep_merge(agent.config, changes))
    agent.config = config.model_dump(mode="json")
    agent.name = config.name
    agent.updated_at = utc_now()
    session.flush()
    return agent


def delete_agent(session: Session, organization_id: str, agent_id: str) -> bool:
    """Soft-delete the agent so past calls still resolve it; False if it was not there."""
    agent = get_agent(session, organization_id, agent_id)
    if agent is None:
        return False
    agent.deleted_at = utc_now()
    session.flush()
    return True
