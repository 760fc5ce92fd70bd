"""The agent the whole-call model tests talk to: a dental receptionist on the offline stack."""

from __future__ import annotations

from app.config.agent import AgentConfig

PROMPT = (
    "You are the receptionist of Acme Dental. We are open Monday to Friday from 9 am to 5 pm "
    "and on Saturday from 10 am to 2 pm. Answer in one or two short sentences."
)
GREETING = "Hello, Acme Dental, how can I help?"


def dental_agent(name: str = "Acme Dental") -> AgentConfig:
    config = AgentConfig(name=name)
    config.conversation_config.agent.first_message = GREETING
    config.conversation_config.agent.prompt.prompt = PROMPT
    return config
