"""ElevenLabs-compatible agent endpoints under ``/v1/convai/agents``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api.access_info import AccessInfo, access_info
from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import api_error, body_validation_error, not_found
from app.api.times import unix
from app.config.agent import (
    MESSAGE_MAX_CHARS,
    PROMPT_MAX_CHARS,
    AgentConfig,
    ConversationConfig,
    PlatformSettings,
    VeloxSection,
)
from app.db import agents as agent_queries
from app.db import tools as tool_queries
from app.db.models import Agent, Organization
from app.db.paging import InvalidCursorError
from app.engine.conversation import preview_template, sample_system_variables, template_problems

router = APIRouter(prefix="/v1/convai/agents", tags=["agents"])
# Velox's own agent routes (ElevenLabs has no counterpart).
templates_router = APIRouter(prefix="/v1/agent-templates", tags=["agents"])


class AgentCreateRequest(BaseModel):
    """ElevenLabs' create body plus Velox's own section; fields Velox does not use are ignored."""

    model_config = ConfigDict(extra="ignore")

    conversation_config: ConversationConfig
    platform_settings: dict[str, Any] | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    tags: list[str] | None = None
    velox: VeloxSection | None = None


class AgentUpdateRequest(BaseModel):
    """Every field optional; objects are deep-merged into the stored agent, lists replace, and
    a null removes a key (JSON Merge Patch)."""

    model_config = ConfigDict(extra="ignore")

    conversation_config: dict[str, Any] | None = None
    platform_settings: dict[str, Any] | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    tags: list[str] | None = None
    # Any of the section's own fields, each merged in (so the schema names them).
    velox: Annotated[
        dict[str, Any] | None,
        Field(json_schema_extra={"propertyNames": {"enum": list(VeloxSection.model_fields)}}),
    ] = None


class CreateAgentResponse(BaseModel):
    agent_id: str


class AgentMetadata(BaseModel):
    created_at_unix_secs: int
    updated_at_unix_secs: int


class AgentResponse(BaseModel):
    # The stored settings as their models, so the schema (and the clients generated from it)
    # says every field an agent has.
    agent_id: str
    name: str
    conversation_config: ConversationConfig
    platform_settings: PlatformSettings
    metadata: AgentMetadata
    tags: list[str]
    access_info: AccessInfo
    velox: VeloxSection


class AgentSummary(BaseModel):
    agent_id: str
    name: str
    voice_id: str
    tags: list[str]
    created_at_unix_secs: int
    updated_at_unix_secs: int
    access_info: AccessInfo
    archived: bool = False


class AgentsPage(BaseModel):
    agents: list[AgentSummary]
    has_more: bool
    next_cursor: str | None


def _agent_response(agent: Agent, organization: Organization) -> AgentResponse:
    config = agent_queries.agent_config(agent)
    return AgentResponse(
        agent_id=agent.id,
        name=config.name,
        conversation_config=config.conversation_config,
        platform_settings=config.platform_settings,
        metadata=AgentMetadata(
            created_at_unix_secs=unix(agent.created_at),
            updated_at_unix_secs=unix(agent.updated_at),
        ),
        tags=config.tags,
        access_info=access_info(organization),
        velox=config.velox,
    )


@router.post("/create", response_model=CreateAgentResponse)
def create_agent(
    body: AgentCreateRequest, principal: PrincipalDep, session: SessionDep
) -> CreateAgentResponse:
    """Create an agent; omitted sections take Velox's defaults."""
    organization = principal.organization
    try:
        config = AgentConfig.model_validate(body.model_dump(exclude_none=True))
    except ValidationError as error:
        raise body_validation_error(error) from error
    _refuse_failing_templates(config)
    _refuse_unknown_tools(session, organization.id, config)
    agent = agent_queries.create_agent(session, organization.id, config)
    audit(session, principal, "created", "agent", agent.id, name=config.name)
    return CreateAgentResponse(agent_id=agent.id)


@router.get("", response_model=AgentsPage)
def list_agents(
    organization: OrganizationDep,
    session: SessionDep,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
    cursor: str | None = None,
    search: str | None = None,
) -> AgentsPage:
    """The organization's agents, newest first, in pages linked by ``next_cursor``."""
    try:
        page = agent_queries.list_agents(
            session, organization.id, page_size=page_size, cursor=cursor, search=search
        )
    except InvalidCursorError as error:
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_cursor", str(error)
        ) from error
    summaries = []
    for agent in page.items:
        config = agent_queries.agent_config(agent)
        summaries.append(
            AgentSummary(
                agent_id=agent.id,
                name=config.name,
                voice_id=config.conversation_config.tts.voice_id,
                tags=config.tags,
                created_at_unix_secs=unix(agent.created_at),
                updated_at_unix_secs=unix(agent.updated_at),
                access_info=access_info(organization),
            )
        )
    return AgentsPage(agents=summaries, has_more=page.has_more, next_cursor=page.next_cursor)


@router.get("/{agent_id}", response_model=AgentResponse)
def get_agent(agent_id: str, organization: OrganizationDep, session: SessionDep) -> AgentResponse:
    agent = agent_queries.get_agent(session, organization.id, agent_id)
    if agent is None:
        raise not_found("agent", agent_id)
    return _agent_response(agent, organization)


@router.patch("/{agent_id}", response_model=AgentResponse)
def update_agent(
    agent_id: str, body: AgentUpdateRequest, principal: PrincipalDep, session: SessionDep
) -> AgentResponse:
    """Change only the given fields; the merged agent must still be valid or nothing changes."""
    organization = principal.organization
    try:
        agent = agent_queries.update_agent(
            session, organization.id, agent_id, body.model_dump(exclude_none=True)
        )
    except ValidationError as error:
        raise body_validation_error(error) from error
    if agent is None:
        raise not_found("agent", agent_id)
    _refuse_failing_templates(agent_queries.agent_config(agent))  # raising rolls the change back
    _refuse_unknown_tools(session, organization.id, agent_queries.agent_config(agent))
    audit(
        session,
        principal,
        "changed",
        "agent",
        agent_id,
        fields=sorted(body.model_dump(exclude_none=True)),
    )
    return _agent_response(agent, organization)


def _refuse_failing_templates(config: AgentConfig) -> None:
    problems = template_problems(config)
    if problems:
        raise RequestValidationError(
            [
                {"type": "template_error", "loc": ("body", *path), "msg": message, "input": None}
                for path, message in problems
            ]
        )


def _refuse_unknown_tools(session: SessionDep, organization_id: str, config: AgentConfig) -> None:
    """Every id in `prompt.tool_ids` must be one of the organization's tools."""
    tool_ids = config.conversation_config.agent.prompt.tool_ids
    known = {tool.id for tool in tool_queries.tools_named(session, organization_id, tool_ids)}
    unknown = [tool_id for tool_id in tool_ids if tool_id not in known]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "unknown_tool",
                    "loc": ("body", "conversation_config", "agent", "prompt", "tool_ids"),
                    "msg": f"no tool {unknown[0]!r} in this workspace (POST /v1/convai/tools)",
                    "input": unknown[0],
                }
            ]
        )


@router.delete("/{agent_id}")
def delete_agent(agent_id: str, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """Delete the agent; its past conversations stay readable."""
    organization = principal.organization
    if not agent_queries.delete_agent(session, organization.id, agent_id):
        raise not_found("agent", agent_id)
    audit(session, principal, "deleted", "agent", agent_id)
    return {}


class TemplatePreviewRequest(BaseModel):
    """An agent's templates as written, and sample values for their dynamic variables."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(default="", max_length=PROMPT_MAX_CHARS)
    first_message: str = Field(default="", max_length=MESSAGE_MAX_CHARS)
    dynamic_variables: dict[str, str] = Field(default_factory=dict, max_length=200)


class RenderedTemplate(BaseModel):
    text: str
    # Why it does not render (the message saving the agent would be refused with); null if it does.
    error: str | None


class TemplatePreviewResponse(BaseModel):
    prompt: RenderedTemplate
    first_message: RenderedTemplate
    system_variables: dict[str, str]


@templates_router.post("/preview", response_model=TemplatePreviewResponse)
def preview_templates(body: TemplatePreviewRequest, _: PrincipalDep) -> TemplatePreviewResponse:
    """The system prompt and first message as a call would render them with these variables
    (and a sample call's `system__…` ones), rendered as calls are: sandboxed, bounded."""
    prompt = preview_template(body.prompt, body.dynamic_variables, PROMPT_MAX_CHARS)
    first = preview_template(body.first_message, body.dynamic_variables, MESSAGE_MAX_CHARS)
    return TemplatePreviewResponse(
        prompt=RenderedTemplate(text=prompt.text, error=prompt.error),
        first_message=RenderedTemplate(text=first.text, error=first.error),
        system_variables=sample_system_variables(),
    )
