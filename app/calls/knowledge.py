"""A call's knowledge source: the agent's knowledge-base documents, whole in the prompt or
retrieved from per turn (app/knowledge/retrieval.py), handed to the engine as its
`KnowledgeSource`."""

from __future__ import annotations

from app.config.agent import AgentConfig
from app.db.session import Database
from app.engine.conversation import CallContext
from app.knowledge.retrieval import AgentKnowledge


def agent_knowledge(
    database: Database, context: CallContext, config: AgentConfig
) -> AgentKnowledge | None:
    """None when the agent has no knowledge base."""
    prompt = config.conversation_config.agent.prompt
    if not prompt.knowledge_base:
        return None
    return AgentKnowledge(
        database, context.organization_id, context.agent_id, prompt.knowledge_base, prompt.rag
    )
