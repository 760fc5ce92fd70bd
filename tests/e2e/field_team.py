"""A field agent with leads, on a running service: what the field app's browser tests start from.

`ensure_build` makes the app's build when it is missing or older than its sources; `field_team`
invites a field agent (password set through the API) and gives her three leads of a campaign
through the leads file's `owner_email` column (a fourth lead has no owner).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import CampaignLead, LeadReport
from app.outbound.campaign_settings import DAY_NAMES
from app.people import accounts
from app.people.roles import Role
from app.settings import PROJECT_ROOT
from tests.e2e.voice_service import RunningService

APP_DIR = PROJECT_ROOT / "mobile_app"
BUILD = APP_DIR / "dist" / "index.html"
AGENT_EMAIL = "ana@acme.example"
PASSWORD = "correct horse battery"
LEADS_CSV = (
    "phone_number,name,company,owner_email\n"
    "+12122345601,Maria Lopez,Lopez Interiors,ana@acme.example\n"
    "+12122345602,John Park,Park & Sons,ana@acme.example\n"
    "+12122345603,Dana Whitfield,Whitfield Dental,ana@acme.example\n"
    "+12122345604,Someone Else,,\n"
)
ALWAYS_OPEN = {"calling_hours": {day: ["00:00-24:00"] for day in DAY_NAMES}}


def ensure_build() -> None:
    """`make mobile-app`'s build, made here when missing or older than its sources."""
    sources = [
        *(p for d in ("src", "public") for p in (APP_DIR / d).rglob("*") if p.is_file()),
        *(APP_DIR / name for name in ("index.html", "package.json", "package-lock.json")),
        APP_DIR / "vite.config.ts",
    ]
    newest = max(p.stat().st_mtime for p in sources)
    if BUILD.exists() and BUILD.stat().st_mtime >= newest:
        return
    for command in (["npm", "ci", "--no-audit", "--no-fund"], ["npm", "run", "build"]):
        done = subprocess.run(command, cwd=APP_DIR, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} in mobile_app failed:\n{done.stdout}\n{done.stderr}")
    BUILD.touch()


@dataclass
class FieldTeam:
    service: RunningService
    leads: dict[str, str]  # name -> lead_id
    campaign_id: str
    base_url: str = ""  # where the phone reaches the service (the service itself unless a proxy)

    @property
    def url(self) -> str:
        return f"{self.base_url or self.service.base_url}/m/"

    def reports_of(self, lead_id: str) -> int:
        with self.service.database.session() as session:
            count = session.scalar(
                select(func.count()).select_from(LeadReport).where(LeadReport.lead_id == lead_id)
            )
        return count or 0


def post(
    service: RunningService, path: str, extra_headers: dict[str, str] | None = None, **kwargs: Any
) -> dict[str, Any]:
    headers = {**service.headers, **(extra_headers or {})}
    response = httpx.post(f"{service.base_url}{path}", headers=headers, **kwargs)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def field_team(svc: RunningService) -> FieldTeam:
    """The field agent (AGENT_EMAIL, PASSWORD) and the campaign whose leads she owns."""
    with svc.database.session() as session:
        _, token = accounts.invite_user(
            session,
            svc.organization_id,
            AGENT_EMAIL,
            Role.FIELD_AGENT,
            accounts.AccountRules(),
            actor="test",
        )
    accepted = httpx.post(
        f"{svc.base_url}/v1/auth/invite/accept", json={"token": token, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    number_id = post(
        svc,
        "/v1/convai/phone-numbers",
        json={"phone_number": "+12125550155", "label": "sales", "agent_id": svc.agent_id},
    )["phone_number_id"]
    campaign_id = post(
        svc,
        "/v1/campaigns",
        json={
            "name": "Spring visits",
            "agent_id": svc.agent_id,
            "agent_phone_number_id": number_id,
            "settings": {"default_region": "US", **ALWAYS_OPEN},
        },
    )["campaign_id"]
    uploaded = post(
        svc,
        f"/v1/campaigns/{campaign_id}/leads",
        content=LEADS_CSV,
        extra_headers={"content-type": "text/csv"},
    )
    assert uploaded["imported"] == 4, uploaded
    with svc.database.session() as session:
        rows = session.scalars(
            select(CampaignLead).where(CampaignLead.campaign_id == campaign_id)
        ).all()
        leads = {str(row.variables["name"]): row.id for row in rows}
    return FieldTeam(svc, leads, campaign_id)
