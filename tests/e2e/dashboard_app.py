"""The web dashboard in real Chromium against the real service on a real port.

`running_dashboard` builds the dashboard when its build is not current (`make dashboard`),
serves it with the API on a free port over a fresh SQLite database (one organization, the
builtin providers registered but never loaded), and lets a test invite people as `velox users
create` does. `DashboardBrowser` drives the Debian Chromium (never a downloaded browser) and
checks pages with axe-core from web_dashboard/node_modules, injected from disk.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from app.db import organizations as org_queries
from app.db.migrate import upgrade
from app.db.session import Database
from app.main import create_app
from app.people import accounts
from app.people.roles import Role
from app.providers.builtin import register_builtin_providers
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from tests.live_server import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "web_dashboard"
BUILD = DASHBOARD / "out"
AXE = DASHBOARD / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
# Where each run's screenshots go (gitignored); the test names each file after its page.
SCREENSHOTS = ROOT / "test-results" / "dashboard"


def ensure_dashboard_build() -> Path:
    """The built dashboard, built first by `make dashboard` when it is not current."""
    result = subprocess.run(
        ["make", "-s", "dashboard"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not (BUILD / "index.html").is_file():
        pytest.fail(f"make dashboard failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return BUILD


@dataclass
class RunningDashboard:
    base_url: str
    database: Database
    organization_id: str
    api_key: str

    def invite(self, email: str, role: Role) -> str:
        """Invite a person (as `velox users create` does); the invite link's path and query."""
        with self.database.session() as session:
            _, token = accounts.invite_user(
                session, self.organization_id, email, role, accounts.AccountRules(), actor="test"
            )
        return f"/invite?token={token}"

    def seed_calls(self) -> dict[str, str]:
        """Three finished calls of two agents, stored as the recorder and the analysis worker
        store them, started over the last hours; their ids by label."""
        from datetime import UTC, datetime, timedelta

        from tests.integration.seeded_calls import Analysed, Said, agent, finished_call

        now = datetime.now(UTC).replace(microsecond=0)
        with self.database.session() as session:
            org = self.organization_id
            reception = agent(session, org, "Reception")
            sales = agent(session, org, "Sales outbound")
            calls = {
                "refund": finished_call(
                    session,
                    org,
                    reception,
                    started_at=now - timedelta(hours=3),
                    duration_secs=95,
                    turns=[
                        Said("agent", "Smile Dental, how can I help?", interrupted=True),
                        Said("user", "Where is my refund?", voice_to_voice_ms=1100),
                    ],
                    analysis=Analysed(
                        "Wants a call back about the refund.", "neutral", "call_back", "failure"
                    ),
                ),
                "demo": finished_call(
                    session,
                    org,
                    sales,
                    started_at=now - timedelta(hours=2),
                    duration_secs=300,
                    channel="sip",
                    direction="outbound",
                    turns=[
                        Said("agent", "Hi, this is Ana from Velox."),
                        Said("user", "Sure, book a demo for Tuesday.", voice_to_voice_ms=700),
                    ],
                    analysis=Analysed("Demo booked.", "positive", "meeting_booked", "success"),
                ),
                "failed": finished_call(
                    session,
                    org,
                    reception,
                    started_at=now - timedelta(hours=1),
                    duration_secs=15,
                    channel="websocket",
                    from_number="",
                    status="failed",
                    termination_reason="no_provider",
                ),
            }
            return {label: call.id for label, call in calls.items()}

    def agent_config(self, agent_id: str) -> dict[str, Any]:
        """An agent as the API stores it, read with the organization's API key."""
        import httpx

        response = httpx.get(
            f"{self.base_url}/v1/convai/agents/{agent_id}", headers={"xi-api-key": self.api_key}
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


@contextmanager
def running_dashboard(tmp_path: Path) -> Iterator[RunningDashboard]:
    build = ensure_dashboard_build()
    port = free_port()
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'velox.db'}",
        public_url=f"http://127.0.0.1:{port}",
        port=port,
        dashboard_dir=build,
    )
    upgrade(settings.resolved_database_url())
    database = Database(settings.resolved_database_url())
    with database.session() as session:
        organization, key = org_queries.create_organization(session, "Acme Support")
        organization_id = organization.id
    registry = ProviderRegistry()
    register_builtin_providers(registry, settings)
    app = create_app(settings, providers=registry, preload=False)
    try:
        with serve(app, port) as base_url:
            yield RunningDashboard(base_url, database, organization_id, key)
    finally:
        database.dispose()


def launch(playwright: Any) -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure_browser.sh")
    browser: Browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    return browser


def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is, one line each."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run npm ci in web_dashboard")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const run = await window.axe.run(document, { resultTypes: ["violations"] });
            return run.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
        }"""
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {json.dumps(v['nodes'])}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def screenshot(page: Page, name: str) -> Path:
    """The page as the screen shows it (`name.png`) and the whole scrolled page
    (`name-full.png`, where sticky headers appear where the capture scrolled to)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.screenshot(path=str(SCREENSHOTS / f"{name}-full.png"), full_page=True)
    return path
