"""The REST API's routers, in the order the OpenAPI page lists them (the app factory and the
tests' API-only app both mount these)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api import (
    agents,
    analytics,
    api_keys,
    auth,
    batch_calling,
    call_audio,
    call_webhooks,
    campaign_leads,
    campaign_report,
    campaigns,
    conversations,
    do_not_call,
    field_leads,
    knowledge_base,
    knowledge_folders,
    knowledge_intake,
    live_calls,
    outbound_calls,
    phone_numbers,
    provider_keys,
    push,
    secrets,
    signed_urls,
    sip_messages,
    sip_outbound_calls,
    tools,
    users,
    webhooks,
)

# Routes that need the voice runtime (`app.state.voice`): an API-only app leaves them out.
VOICE_ROUTERS: tuple[APIRouter, ...] = (
    outbound_calls.router,
    sip_outbound_calls.router,
    live_calls.router,
)

REST_ROUTERS: tuple[APIRouter, ...] = (
    agents.router,
    agents.templates_router,
    tools.router,
    secrets.router,
    knowledge_folders.router,
    knowledge_intake.router,
    knowledge_base.router,
    conversations.router,
    sip_messages.router,
    call_audio.router,
    call_webhooks.router,
    campaigns.router,
    campaign_leads.router,
    campaign_report.router,
    field_leads.router,
    push.router,
    do_not_call.router,
    batch_calling.router,
    phone_numbers.router,
    provider_keys.router,
    api_keys.router,
    signed_urls.router,
    webhooks.router,
    auth.router,
    users.router,
    analytics.router,
)
