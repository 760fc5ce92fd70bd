"""The relational schema: organizations own every other row, so each tenant table carries its id.

One module per aggregate; importing this package registers every table on `Base.metadata`.
Migrations under ``migrations/`` create this schema; the models here are what queries use and
what the migrations are checked against.
"""

from app.db.models.agents import Agent, PhoneNumber
from app.db.models.base import NAMING_CONVENTION, Base, SurrogateKey, UtcDateTime, new_id, utc_now
from app.db.models.calls import Call, CallAnalysis, CallEvent, SipMessage, Turn
from app.db.models.campaigns import (
    CallAttempt,
    Campaign,
    CampaignLead,
    DoNotCallEntry,
    LeadCallback,
    LeadReport,
)
from app.db.models.knowledge import KnowledgeChunk, KnowledgeDocument
from app.db.models.operations import TaskRun, VoiceNode
from app.db.models.people import AuditEntry, PushSubscription, User, UserInvite, UserSession
from app.db.models.tenants import ApiKey, Organization, ProviderCredential, UsedConversationToken
from app.db.models.tools import Secret, Tool
from app.db.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "NAMING_CONVENTION",
    "Agent",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Call",
    "CallAnalysis",
    "CallAttempt",
    "CallEvent",
    "Campaign",
    "CampaignLead",
    "DoNotCallEntry",
    "KnowledgeChunk",
    "KnowledgeDocument",
    "LeadCallback",
    "LeadReport",
    "Organization",
    "PhoneNumber",
    "ProviderCredential",
    "PushSubscription",
    "Secret",
    "SipMessage",
    "SurrogateKey",
    "TaskRun",
    "Tool",
    "Turn",
    "UsedConversationToken",
    "User",
    "UserInvite",
    "UserSession",
    "UtcDateTime",
    "VoiceNode",
    "WebhookDelivery",
    "WebhookEndpoint",
    "new_id",
    "utc_now",
]
