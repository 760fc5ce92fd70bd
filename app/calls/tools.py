"""A call's webhook tools: the agent's `prompt.tool_ids` loaded with the secrets they name
(decrypted here, kept in memory for the call only), and the HTTP sender that refuses private
addresses unless the deployment allows them."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from app.calls.webhook_sender import HttpWebhookSender
from app.config.agent import AgentConfig
from app.config.credentials import CredentialBox, CredentialError
from app.config.tools import WebhookToolConfig
from app.db import secrets as secret_queries
from app.db import tools as tool_queries
from app.db.session import Database
from app.engine.webhook_tools import CallTools, WebhookTool

log = logging.getLogger(__name__)


def load_call_tools(
    database: Database,
    box: CredentialBox,
    organization_id: str,
    config: AgentConfig,
    *,
    allow_private_urls: bool,
) -> CallTools:
    """The tools a call of this agent may use (blocking). A tool that is gone, no longer valid,
    or whose secret cannot be read is left out and named in `missing`; the call goes on."""
    tool_ids = config.conversation_config.agent.prompt.tool_ids
    if not tool_ids:
        return CallTools()
    missing: list[str] = []
    webhooks: list[WebhookTool] = []
    with database.session() as db:
        rows = {tool.id: tool for tool in tool_queries.tools_named(db, organization_id, tool_ids)}
        for tool_id in tool_ids:
            row = rows.get(tool_id)
            if row is None:
                missing.append(f"{tool_id}: no such tool")
                continue
            try:
                webhooks.append(WebhookTool(tool_id, WebhookToolConfig.model_validate(row.config)))
            except ValidationError:
                missing.append(f"{tool_id}: its stored configuration is no longer valid")
        wanted = {secret for tool in webhooks for secret in tool.config.secret_ids()}
        encrypted = secret_queries.encrypted_secrets(db, organization_id, wanted)
    secrets: dict[str, str] = {}
    for secret_id, token in encrypted.items():
        try:
            secrets[secret_id] = box.decrypt(token)
        except CredentialError:
            log.warning("secret %s of %s cannot be decrypted", secret_id, organization_id)
    usable = []
    for tool in webhooks:
        lost = tool.config.secret_ids() - set(secrets)
        if lost:
            missing.append(f"{tool.tool_id}: its secret {sorted(lost)[0]} cannot be read")
        else:
            usable.append(tool)
    return CallTools(
        webhooks=tuple(usable),
        secrets=secrets,
        sender=HttpWebhookSender(allow_private_urls=allow_private_urls),
        missing=tuple(missing),
    )
