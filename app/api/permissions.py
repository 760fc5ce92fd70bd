"""Which permission each REST route needs, in one table (the roles' permissions are in
`app/people/roles.py`).

Every authenticated route of the app must be listed: the request dependency refuses a route it
cannot find here (it fails closed), and a test checks the table against the app's routes.
"""

from __future__ import annotations

from app.people.roles import Permission

ROUTE_PERMISSIONS: dict[tuple[str, str], Permission] = {
    # the signed-in person
    ("GET", "/v1/me"): Permission.ME,
    ("POST", "/v1/auth/sign-out"): Permission.ME,
    # a field agent's own leads, call backs and agents
    ("GET", "/v1/me/leads"): Permission.LEADS_OWN,
    ("GET", "/v1/me/callbacks"): Permission.LEADS_OWN,
    ("POST", "/v1/me/leads/{lead_id}/outcome"): Permission.LEADS_OWN,
    ("POST", "/v1/me/leads/{lead_id}/call"): Permission.LEADS_OWN,
    ("GET", "/v1/me/agents"): Permission.CONVERSATIONS_START,
    ("GET", "/v1/me/push"): Permission.LEADS_OWN,
    ("POST", "/v1/me/push-subscriptions"): Permission.LEADS_OWN,
    ("DELETE", "/v1/me/push-subscriptions"): Permission.LEADS_OWN,
    # agents
    ("POST", "/v1/convai/agents/create"): Permission.AGENTS_WRITE,
    ("GET", "/v1/convai/agents"): Permission.AGENTS_READ,
    ("GET", "/v1/convai/agents/{agent_id}"): Permission.AGENTS_READ,
    ("PATCH", "/v1/convai/agents/{agent_id}"): Permission.AGENTS_WRITE,
    ("DELETE", "/v1/convai/agents/{agent_id}"): Permission.AGENTS_WRITE,
    ("POST", "/v1/agent-templates/preview"): Permission.AGENTS_WRITE,
    ("GET", "/v1/convai/conversation/get-signed-url"): Permission.CONVERSATIONS_START,
    # agents' webhook tools and the secrets their requests carry (values never read back)
    ("POST", "/v1/convai/tools"): Permission.AGENTS_WRITE,
    ("GET", "/v1/convai/tools"): Permission.AGENTS_READ,
    ("GET", "/v1/convai/tools/{tool_id}"): Permission.AGENTS_READ,
    ("PATCH", "/v1/convai/tools/{tool_id}"): Permission.AGENTS_WRITE,
    ("DELETE", "/v1/convai/tools/{tool_id}"): Permission.AGENTS_WRITE,
    ("GET", "/v1/convai/tools/{tool_id}/dependent-agents"): Permission.AGENTS_READ,
    ("POST", "/v1/convai/secrets"): Permission.AGENTS_WRITE,
    ("GET", "/v1/convai/secrets"): Permission.AGENTS_READ,
    ("GET", "/v1/convai/secrets/{secret_id}"): Permission.AGENTS_READ,
    ("PATCH", "/v1/convai/secrets/{secret_id}"): Permission.AGENTS_WRITE,
    ("DELETE", "/v1/convai/secrets/{secret_id}"): Permission.AGENTS_WRITE,
    # knowledge bases (agents' permissions)
    ("POST", "/v1/convai/knowledge-base/text"): Permission.AGENTS_WRITE,
    ("POST", "/v1/convai/knowledge-base/url"): Permission.AGENTS_WRITE,
    ("POST", "/v1/convai/knowledge-base/file"): Permission.AGENTS_WRITE,
    ("POST", "/v1/convai/knowledge-base/folder"): Permission.AGENTS_WRITE,
    ("POST", "/v1/convai/knowledge-base/bulk-move"): Permission.AGENTS_WRITE,
    ("POST", "/v1/convai/knowledge-base/{document_id}/move"): Permission.AGENTS_WRITE,
    ("GET", "/v1/convai/knowledge-base"): Permission.AGENTS_READ,
    ("GET", "/v1/convai/knowledge-base/{documentation_id}"): Permission.AGENTS_READ,
    ("GET", "/v1/convai/knowledge-base/{documentation_id}/content"): Permission.AGENTS_READ,
    ("PATCH", "/v1/convai/knowledge-base/{documentation_id}"): Permission.AGENTS_WRITE,
    ("DELETE", "/v1/convai/knowledge-base/{documentation_id}"): Permission.AGENTS_WRITE,
    ("POST", "/v1/convai/knowledge-base/{documentation_id}/rag-index"): Permission.AGENTS_WRITE,
    ("GET", "/v1/convai/knowledge-base/{documentation_id}/rag-index"): Permission.AGENTS_READ,
    # calls
    ("GET", "/v1/convai/conversations"): Permission.CALLS_READ,
    ("GET", "/v1/convai/conversations/{conversation_id}"): Permission.CALLS_READ,
    ("GET", "/v1/convai/conversations/{conversation_id}/sip-messages"): Permission.CALLS_READ,
    ("GET", "/v1/convai/conversations/export"): Permission.CALLS_READ,
    ("GET", "/v1/convai/conversations/{conversation_id}/audio"): Permission.CALLS_READ,
    ("GET", "/v1/convai/conversations/{conversation_id}/audio/peaks"): Permission.CALLS_READ,
    ("GET", "/v1/convai/conversations/{conversation_id}/webhook-deliveries"): (
        Permission.CALLS_READ
    ),
    ("POST", "/v1/convai/conversations/{conversation_id}/feedback"): Permission.CALLS_FEEDBACK,
    ("DELETE", "/v1/convai/conversations/{conversation_id}"): Permission.CALLS_DELETE,
    # calls in progress, on every node
    ("GET", "/v1/calls/live"): Permission.CALLS_READ,
    ("GET", "/v1/calls/live/events"): Permission.CALLS_READ,
    ("POST", "/v1/calls/live/{conversation_id}/end"): Permission.CALLS_END,
    # analytics
    ("GET", "/v1/analytics/summary"): Permission.ANALYTICS_READ,
    ("GET", "/v1/analytics/daily"): Permission.ANALYTICS_READ,
    ("GET", "/v1/analytics/agents"): Permission.ANALYTICS_READ,
    ("GET", "/v1/analytics/campaigns/{campaign_id}/funnel"): Permission.ANALYTICS_READ,
    ("POST", "/v1/convai/twilio/outbound-call"): Permission.CALLS_PLACE,
    ("POST", "/v1/convai/sip-trunk/outbound-call"): Permission.CALLS_PLACE,
    # phone numbers
    ("POST", "/v1/convai/phone-numbers"): Permission.NUMBERS_WRITE,
    ("GET", "/v1/convai/phone-numbers"): Permission.NUMBERS_READ,
    ("GET", "/v1/convai/phone-numbers/{phone_number_id}"): Permission.NUMBERS_READ,
    ("PATCH", "/v1/convai/phone-numbers/{phone_number_id}"): Permission.NUMBERS_WRITE,
    ("DELETE", "/v1/convai/phone-numbers/{phone_number_id}"): Permission.NUMBERS_WRITE,
    # campaigns, their leads, batch calling, the do-not-call list
    ("POST", "/v1/campaigns"): Permission.CAMPAIGNS_WRITE,
    ("GET", "/v1/campaigns"): Permission.CAMPAIGNS_READ,
    ("GET", "/v1/campaigns/{campaign_id}"): Permission.CAMPAIGNS_READ,
    ("GET", "/v1/campaigns/{campaign_id}/attempts"): Permission.CAMPAIGNS_READ,
    ("GET", "/v1/campaigns/{campaign_id}/report"): Permission.CAMPAIGNS_READ,
    ("POST", "/v1/campaigns/{campaign_id}/leads"): Permission.CAMPAIGNS_WRITE,
    ("POST", "/v1/campaigns/{campaign_id}/start"): Permission.CAMPAIGNS_WRITE,
    ("POST", "/v1/campaigns/{campaign_id}/pause"): Permission.CAMPAIGNS_WRITE,
    ("POST", "/v1/campaigns/{campaign_id}/resume"): Permission.CAMPAIGNS_WRITE,
    ("POST", "/v1/campaigns/{campaign_id}/cancel"): Permission.CAMPAIGNS_WRITE,
    ("GET", "/v1/campaigns/{campaign_id}/leads"): Permission.CAMPAIGNS_READ,
    ("PATCH", "/v1/campaigns/{campaign_id}/leads/{lead_id}"): Permission.CAMPAIGNS_WRITE,
    ("GET", "/v1/do-not-call"): Permission.CAMPAIGNS_READ,
    ("POST", "/v1/do-not-call"): Permission.CAMPAIGNS_WRITE,
    ("DELETE", "/v1/do-not-call/{phone_number}"): Permission.CAMPAIGNS_WRITE,
    ("POST", "/v1/convai/batch-calling/submit"): Permission.CAMPAIGNS_WRITE,
    ("GET", "/v1/convai/batch-calling/workspace"): Permission.CAMPAIGNS_READ,
    ("GET", "/v1/convai/batch-calling/{batch_id}"): Permission.CAMPAIGNS_READ,
    ("POST", "/v1/convai/batch-calling/{batch_id}/cancel"): Permission.CAMPAIGNS_WRITE,
    ("POST", "/v1/convai/batch-calling/{batch_id}/retry"): Permission.CAMPAIGNS_WRITE,
    # webhooks
    ("POST", "/v1/workspace/webhooks"): Permission.WEBHOOKS_WRITE,
    ("GET", "/v1/workspace/webhooks"): Permission.WEBHOOKS_READ,
    ("PATCH", "/v1/workspace/webhooks/{webhook_id}"): Permission.WEBHOOKS_WRITE,
    ("DELETE", "/v1/workspace/webhooks/{webhook_id}"): Permission.WEBHOOKS_WRITE,
    ("GET", "/v1/workspace/webhooks/{webhook_id}/deliveries"): Permission.WEBHOOKS_READ,
    # the organization's secrets and people
    ("GET", "/v1/provider-keys"): Permission.PROVIDER_KEYS,
    ("PUT", "/v1/provider-keys/{provider}"): Permission.PROVIDER_KEYS,
    ("DELETE", "/v1/provider-keys/{provider}"): Permission.PROVIDER_KEYS,
    ("GET", "/v1/api-keys"): Permission.API_KEYS,
    ("POST", "/v1/api-keys"): Permission.API_KEYS,
    ("DELETE", "/v1/api-keys/{key_id}"): Permission.API_KEYS,
    ("GET", "/v1/users"): Permission.USERS,
    ("POST", "/v1/users"): Permission.USERS,
    ("PATCH", "/v1/users/{user_id}"): Permission.USERS,
    ("DELETE", "/v1/users/{user_id}"): Permission.USERS,
    ("POST", "/v1/users/{user_id}/invite"): Permission.USERS,
    ("GET", "/v1/audit"): Permission.AUDIT_READ,
}
