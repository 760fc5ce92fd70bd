"""Roles and what each may do.

Four roles, for the four kinds of people behind the calls:
- `admin`: everything, users, API keys, provider keys and deleting calls included;
- `manager` (a sales manager): agents, phone numbers, campaigns and their leads, the
  do-not-call list, webhooks, placing calls; reads calls, recordings and analytics;
- `support` (a support lead): reads calls, recordings, analytics, agents, numbers and
  campaigns, leaves feedback;
- `field_agent`: the leads and call backs assigned to them (recording an outcome and a note),
  talking to the agents they may use from the app (signed conversation URLs; an admin may
  narrow them to some agents), their own account.

A route names one permission (`app/api/permissions.py`); an API key without scopes acts as an
admin of its organization, one with scopes may do only what they name.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    SUPPORT = "support"
    FIELD_AGENT = "field_agent"


class Permission(StrEnum):
    ME = "me"
    AGENTS_READ = "agents:read"
    AGENTS_WRITE = "agents:write"
    NUMBERS_READ = "numbers:read"
    NUMBERS_WRITE = "numbers:write"
    CAMPAIGNS_READ = "campaigns:read"
    CAMPAIGNS_WRITE = "campaigns:write"
    CALLS_READ = "calls:read"
    CALLS_PLACE = "calls:place"
    CALLS_FEEDBACK = "calls:feedback"
    CALLS_DELETE = "calls:delete"
    CALLS_END = "calls:end"
    ANALYTICS_READ = "analytics:read"
    CONVERSATIONS_START = "conversations:start"
    LEADS_OWN = "leads:own"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"
    PROVIDER_KEYS = "provider_keys"
    API_KEYS = "api_keys"
    USERS = "users"
    AUDIT_READ = "audit:read"


_MANAGER = frozenset(
    {
        Permission.ME,
        Permission.AGENTS_READ,
        Permission.AGENTS_WRITE,
        Permission.NUMBERS_READ,
        Permission.NUMBERS_WRITE,
        Permission.CAMPAIGNS_READ,
        Permission.CAMPAIGNS_WRITE,
        Permission.CALLS_READ,
        Permission.CALLS_PLACE,
        Permission.CALLS_FEEDBACK,
        Permission.CALLS_END,
        Permission.ANALYTICS_READ,
        Permission.CONVERSATIONS_START,
        Permission.WEBHOOKS_READ,
        Permission.WEBHOOKS_WRITE,
    }
)
_SUPPORT = frozenset(
    {
        Permission.ME,
        Permission.AGENTS_READ,
        Permission.NUMBERS_READ,
        Permission.CAMPAIGNS_READ,
        Permission.CALLS_READ,
        Permission.CALLS_FEEDBACK,
        Permission.CALLS_END,
        Permission.ANALYTICS_READ,
    }
)
_FIELD_AGENT = frozenset({Permission.ME, Permission.CONVERSATIONS_START, Permission.LEADS_OWN})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: _MANAGER,
    Role.SUPPORT: _SUPPORT,
    Role.FIELD_AGENT: _FIELD_AGENT,
}


def may(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def may_talk_to(role: Role, agent_ids: list[str] | None, agent_id: str) -> bool:
    """Whether a user may open a conversation with `agent_id`: a field agent only with the
    agents their admin allowed (`agent_ids`; None: every agent of the organization)."""
    return role is not Role.FIELD_AGENT or agent_ids is None or agent_id in agent_ids
