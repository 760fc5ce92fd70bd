"""ElevenLabs' `access_info` on a workspace resource (an agent, a tool, a knowledge-base
document): in Velox every resource belongs to its organization, whose name stands as creator."""

from __future__ import annotations

from pydantic import BaseModel

from app.db.models import Organization


class AccessInfo(BaseModel):
    is_creator: bool = True
    creator_name: str
    creator_email: str = ""
    role: str = "admin"


def access_info(organization: Organization) -> AccessInfo:
    return AccessInfo(creator_name=organization.name)
