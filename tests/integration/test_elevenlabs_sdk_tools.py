"""The official ``elevenlabs`` SDK, unmodified, creates a secret and a webhook tool whose header
carries it, and attaches the tool to an agent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elevenlabs import (
    ConvAiSecretLocator,
    ElevenLabs,
    LiteralJsonSchemaProperty,
    ToolRequestModel,
    ToolRequestModelToolConfig_Webhook,
    WebhookToolApiSchemaConfigInput,
)
from elevenlabs.core.api_error import ApiError

from app.db.session import Database
from tests.api_app import build_api_app
from tests.live_server import free_port, serve
from tests.tenants import Tenant

pytestmark = pytest.mark.integration


@pytest.fixture
def sdk(database: Database, tenant_a: Tenant) -> Iterator[ElevenLabs]:
    with serve(build_api_app(database), free_port()) as url:
        yield ElevenLabs(api_key=tenant_a.api_key, base_url=url)


def order_tool(secret_id: str) -> ToolRequestModel:
    return ToolRequestModel(
        tool_config=ToolRequestModelToolConfig_Webhook(
            name="get_order_status",
            description="Look up an order by its number.",
            response_timeout_secs=10,
            pre_tool_speech="auto",
            execution_mode="immediate",
            api_schema=WebhookToolApiSchemaConfigInput(
                url="https://orders.example.com/orders/{order_id}",
                method="GET",
                request_headers={"Authorization": ConvAiSecretLocator(secret_id=secret_id)},
                path_params_schema={
                    "order_id": LiteralJsonSchemaProperty(
                        type="string", description="the order number"
                    )
                },
            ),
        )
    )


def test_sdk_creates_a_secret_and_a_tool_and_attaches_the_tool_to_an_agent(
    sdk: ElevenLabs,
) -> None:
    ai = sdk.conversational_ai
    secret = ai.secrets.create(name="orders-api", value="Bearer sk-orders-1234")
    tool = ai.tools.create(request=order_tool(secret.secret_id))
    agent = ai.agents.create(
        name="Orders desk",
        conversation_config={"agent": {"prompt": {"prompt": "Help.", "tool_ids": [tool.id]}}},
    )

    fetched = ai.tools.get(tool.id)
    listed = ai.tools.list()
    secrets = ai.secrets.list()
    attached = ai.agents.get(agent.agent_id)

    assert secret.type == "stored"
    assert fetched.tool_config.type == "webhook"
    assert fetched.tool_config.name == "get_order_status"
    headers = fetched.tool_config.api_schema.request_headers  # type: ignore[union-attr]
    assert headers is not None
    assert headers["Authorization"].secret_id == secret.secret_id  # type: ignore[union-attr]
    assert fetched.usage_stats.avg_latency_secs == 0.0
    assert [t.id for t in listed.tools] == [tool.id]
    assert listed.has_more is False
    assert [s.secret_id for s in secrets.secrets] == [secret.secret_id]
    assert "sk-orders" not in str(secrets)
    assert [t.id for t in secrets.secrets[0].used_by.tools] == [tool.id]
    assert attached.conversation_config.agent is not None
    assert attached.conversation_config.agent.prompt is not None
    assert attached.conversation_config.agent.prompt.tool_ids == [tool.id]


def test_sdk_cannot_delete_a_secret_a_tool_uses(sdk: ElevenLabs) -> None:
    ai = sdk.conversational_ai
    secret = ai.secrets.create(name="orders-api", value="Bearer sk-orders-1234")
    ai.tools.create(request=order_tool(secret.secret_id))

    with pytest.raises(ApiError) as refused:
        ai.secrets.delete(secret.secret_id)

    assert refused.value.status_code == 409
