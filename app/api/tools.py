"""ElevenLabs-compatible webhook tools under ``/v1/convai/tools``; agents name them in
`conversation_config.agent.prompt.tool_ids`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict

from app.api.access_info import AccessInfo, access_info
from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import api_error, not_found
from app.api.times import unix
from app.config.tools import SecretLocator, WebhookToolConfig
from app.db import agents as agent_queries
from app.db import secrets as secret_queries
from app.db import tools as tool_queries
from app.db.models import Organization, Tool
from app.db.paging import InvalidCursorError

router = APIRouter(prefix="/v1/convai/tools", tags=["tools"])


class ToolRequest(BaseModel):
    """ElevenLabs' create and update body: the tool's configuration (Velox runs `webhook`)."""

    model_config = ConfigDict(extra="ignore")

    tool_config: WebhookToolConfig


class ToolUsageStats(BaseModel):
    total_calls: int
    avg_latency_secs: float


class ToolResponse(BaseModel):
    id: str
    tool_config: WebhookToolConfig
    access_info: AccessInfo
    usage_stats: ToolUsageStats


class ToolsPage(BaseModel):
    tools: list[ToolResponse]
    next_cursor: str | None
    has_more: bool


class DependentAgent(BaseModel):
    type: Literal["available"] = "available"
    id: str
    name: str
    created_at_unix_secs: int
    access_level: str = "admin"


class DependentAgents(BaseModel):
    agents: list[DependentAgent]
    next_cursor: str | None = None
    has_more: bool = False


def _response(tool: Tool, organization: Organization) -> ToolResponse:
    calls = tool.calls_total
    return ToolResponse(
        id=tool.id,
        tool_config=WebhookToolConfig.model_validate(tool.config),
        access_info=access_info(organization),
        usage_stats=ToolUsageStats(
            total_calls=calls,
            avg_latency_secs=round(tool.latency_secs_total / calls, 3) if calls else 0.0,
        ),
    )


def _stored_config(
    body: ToolRequest, session: SessionDep, organization_id: str, tool_id: str | None
) -> dict[str, Any]:
    """The tool's config to store: its secrets must be the organization's, its name unique."""
    config = body.tool_config
    known = secret_queries.encrypted_secrets(session, organization_id, config.secret_ids())
    errors: list[dict[str, Any]] = [
        {
            "type": "unknown_secret",
            "loc": ("body", "tool_config", "api_schema", "request_headers", header),
            "msg": f"no secret {value.secret_id!r} in this workspace; create it with"
            " POST /v1/convai/secrets",
            "input": value.secret_id,
        }
        for header, value in (config.api_schema.request_headers or {}).items()
        if isinstance(value, SecretLocator) and value.secret_id not in known
    ]
    clash = [
        tool.id
        for tool in tool_queries.all_tools(session, organization_id)
        if tool.name == config.name and tool.id != tool_id
    ]
    if clash:
        errors.append(
            {
                "type": "duplicate_name",
                "loc": ("body", "tool_config", "name"),
                "msg": f"the tool {clash[0]} is already named {config.name!r}",
                "input": config.name,
            }
        )
    if errors:
        raise RequestValidationError(errors)
    return config.model_dump(mode="json", exclude_none=True)


@router.post("", response_model=ToolResponse)
def create_tool(body: ToolRequest, principal: PrincipalDep, session: SessionDep) -> ToolResponse:
    """Add a webhook tool; its parameter schemas must be valid JSON Schema (422 naming why)."""
    organization = principal.organization
    config = _stored_config(body, session, organization.id, None)
    tool = tool_queries.create_tool(session, organization.id, config)
    audit(session, principal, "created", "tool", tool.id, name=tool.name)
    return _response(tool, organization)


@router.get("", response_model=ToolsPage)
def list_tools(
    organization: OrganizationDep,
    session: SessionDep,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
    cursor: str | None = None,
    search: str | None = None,
) -> ToolsPage:
    """The workspace's tools, newest first; `search` matches the start of their names."""
    try:
        page = tool_queries.list_tools(
            session, organization.id, page_size=page_size, cursor=cursor, search=search
        )
    except InvalidCursorError as error:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_cursor", str(error)
        ) from error
    return ToolsPage(
        tools=[_response(tool, organization) for tool in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.get("/{tool_id}", response_model=ToolResponse)
def get_tool(tool_id: str, organization: OrganizationDep, session: SessionDep) -> ToolResponse:
    tool = tool_queries.get_tool(session, organization.id, tool_id)
    if tool is None:
        raise not_found("tool", tool_id)
    return _response(tool, organization)


@router.patch("/{tool_id}", response_model=ToolResponse)
def update_tool(
    tool_id: str, body: ToolRequest, principal: PrincipalDep, session: SessionDep
) -> ToolResponse:
    """Replace the tool's configuration; agents that name it use the new one from their next
    call."""
    organization = principal.organization
    if tool_queries.get_tool(session, organization.id, tool_id) is None:
        raise not_found("tool", tool_id)
    config = _stored_config(body, session, organization.id, tool_id)
    tool = tool_queries.update_tool(session, organization.id, tool_id, config)
    assert tool is not None
    audit(session, principal, "changed", "tool", tool_id, name=tool.name)
    return _response(tool, organization)


@router.delete("/{tool_id}")
def delete_tool(
    tool_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    force: bool = False,
) -> dict[str, Any]:
    """Delete the tool; refused (409) while agents name it unless `force`, which takes it out
    of those agents too."""
    organization = principal.organization
    if tool_queries.get_tool(session, organization.id, tool_id) is None:
        raise not_found("tool", tool_id)
    users = tool_queries.agents_using_tool(session, organization.id, tool_id)
    if users and not force:
        raise api_error(
            status.HTTP_409_CONFLICT,
            "tool_in_use",
            f"the tool is used by {len(users)} agent(s) ({', '.join(a.id for a in users[:5])});"
            " remove it from them first, or delete with force=true",
        )
    for agent in users:
        remaining = [
            other
            for other in agent_queries.agent_config(agent).conversation_config.agent.prompt.tool_ids
            if other != tool_id
        ]
        agent_queries.update_agent(
            session,
            organization.id,
            agent.id,
            {"conversation_config": {"agent": {"prompt": {"tool_ids": remaining}}}},
        )
    tool_queries.delete_tool(session, organization.id, tool_id)
    audit(session, principal, "deleted", "tool", tool_id, agents=[a.id for a in users])
    return {}


@router.get("/{tool_id}/dependent-agents", response_model=DependentAgents)
def dependent_agents(
    tool_id: str, organization: OrganizationDep, session: SessionDep
) -> DependentAgents:
    """The agents that name the tool in their `prompt.tool_ids`."""
    if tool_queries.get_tool(session, organization.id, tool_id) is None:
        raise not_found("tool", tool_id)
    return DependentAgents(
        agents=[
            DependentAgent(
                id=agent.id, name=agent.name, created_at_unix_secs=unix(agent.created_at)
            )
            for agent in tool_queries.agents_using_tool(session, organization.id, tool_id)
        ]
    )
