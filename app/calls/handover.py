"""The agents a call may be handed to (`transfer_to_agent`): another agent of the call's own
organization, loaded as a new call of it would be (its stored settings, its provider set, its
knowledge base and webhook tools). An agent of another organization, or one deleted, is not
found; which of the two is said in the call's record only."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from app.calls.knowledge import agent_knowledge
from app.calls.runtime import VoiceRuntime
from app.calls.tools import load_call_tools
from app.config.agent import AgentConfig
from app.config.credentials import CredentialBox
from app.db import agents as agent_queries
from app.engine.conversation import CallContext
from app.engine.handover import AgentNotFoundError, CallAgent


class OrganizationAgents:
    """The `AgentDirectory` of one call: its organization's agents."""

    def __init__(self, runtime: VoiceRuntime, context: CallContext) -> None:
        self._runtime = runtime
        self._context = context

    async def load(self, agent_id: str) -> CallAgent:
        runtime, organization_id = self._runtime, self._context.organization_id
        config = await asyncio.to_thread(self._stored_config, agent_id)
        providers = await asyncio.to_thread(runtime.call_providers, organization_id, config)
        tools = await asyncio.to_thread(
            load_call_tools,
            runtime.database,
            CredentialBox(runtime.settings.signing_secret()),
            organization_id,
            config,
            allow_private_urls=runtime.settings.allow_private_urls,
        )
        context = replace(self._context, agent_id=agent_id)
        knowledge = agent_knowledge(runtime.database, context, config)
        return CallAgent(agent_id, config, providers, knowledge, tools)

    def _stored_config(self, agent_id: str) -> AgentConfig:
        with self._runtime.database.session() as db:
            agent = agent_queries.get_agent(db, self._context.organization_id, agent_id)
            if agent is not None:
                return agent_queries.agent_config(agent)
            elsewhere = agent_queries.get_agent_for_call(db, agent_id) is not None
        if elsewhere:
            raise AgentNotFoundError("other_organization", f"{agent_id} is another's agent")
        raise AgentNotFoundError("unknown_agent", f"no agent {agent_id}")
