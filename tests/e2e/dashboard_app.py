"""The web dashboard in real Chromium against the real service on a real port.

`running_dashboard` builds the dashboard when its build is not current (`make dashboard`),
serves it with the API on a free port over a fresh SQLite database (one organization, the
builtin providers registered but never loaded), and lets a test invite people as `velox users
create` does. `DashboardBrowser` drives the Debian Chromium (never a downloaded browser) and
checks pages with axe-core from web_dashboard/node_modules, injected from disk.
"""

from __future__ import annotations

import fcntl
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
BUILD_LOCK = ROOT / "test-results" / "dashboard-build.lock"


def ensure_dashboard_build() -> Path:
    """The built dashboard, built first by `make dashboard` when it is not current.

    One build at a time: two test workers that both found it out of date once built it into the
    same `.next` folder together, and one failed on the other's half-written files.
    """
    BUILD_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with BUILD_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
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
    recordings_dir: Path

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

    def seed_recorded_call(self) -> str:
        """A finished, recorded phone call with the engine's full latency chain on its caller
        turns, events and an analysis; its recording is a 12 s stereo MP3 (a tone on the
        caller's left channel while the caller speaks, on the right while the agent does)."""
        from datetime import UTC, datetime, timedelta

        from app.calls.recording import recording_path
        from tests.integration.seeded_calls import Analysed, Said, agent, finished_call

        started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
        chain = {
            "end_of_speech_to_endpoint_ms": 240.0,
            "stt_final_ms": 180.0,
            "llm_first_token_ms": 610.0,
            "tts_first_byte_ms": 150.0,
            "voice_to_voice_ms": 1090.0,
            "stt_provider": "deepgram",
            "llm_provider": "groq",
            "tts_provider": "cartesia",
        }
        with self.database.session() as session:
            billing = agent(session, self.organization_id, "Billing line")
            call = finished_call(
                session,
                self.organization_id,
                billing,
                started_at=started,
                duration_secs=12,
                from_number="+15550007777",
                turns=[
                    Said("agent", "Thanks for calling Acme billing."),
                    Said("user", "I was charged twice this month."),
                    Said("agent", "I am sorry, let me look that up for", interrupted=True),
                    Said("user", "It was on the fourth."),
                    Said("agent", "I see both charges; the second one is reversed today."),
                    Said("user", "Great, thanks."),
                ],
                turn_metrics=[
                    {"tts_first_byte_ms": 95.0, "tts_provider": "cartesia"},
                    chain,
                    {},
                    {**chain, "llm_first_token_ms": 380.0, "voice_to_voice_ms": 860.0},
                    {},
                    {**chain, "stt_final_ms": 720.0, "voice_to_voice_ms": 1240.0},
                ],
                events=[
                    {"at_ms": 0, "kind": "media_started", "data": {}},
                    {"at_ms": 4100, "kind": "barge_in", "data": {"heard_chars": 35}},
                ],
                analysis=Analysed("Double charge reversed.", "positive", "resolved", "success"),
                recording={
                    "path": recording_path(self.organization_id, "billing"),
                    "has_user_audio": True,
                    "has_response_audio": True,
                },
            )
            call_id = call.id
        _write_tone_recording(self.recordings_dir / recording_path(self.organization_id, "billing"))
        return call_id

    def agent_config(self, agent_id: str) -> dict[str, Any]:
        """An agent as the API stores it, read with the organization's API key."""
        import httpx

        response = httpx.get(
            f"{self.base_url}/v1/convai/agents/{agent_id}", headers={"xi-api-key": self.api_key}
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


def _write_tone_recording(path: Path, seconds: int = 12) -> None:
    """A stereo MP3 of `seconds`: each 2 s turn's speaker as a tone on their channel (turn n
    starts at 2n s, as `finished_call` places turns), left for the caller, right for the agent."""
    import lameenc
    import numpy as np

    rate = 16_000
    t = np.arange(rate * seconds) / rate
    tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    turn = (t // 2).astype(int)
    stereo = np.zeros((len(t), 2), dtype=np.int16)
    stereo[:, 0] = np.where(turn % 2 == 1, tone, 0)  # the caller speaks turns 1, 3, 5
    stereo[:, 1] = np.where(turn % 2 == 0, tone, 0)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(32)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(2)
    encoder.set_quality(7)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encoder.encode(stereo.tobytes()) + encoder.flush())


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
        # Webhook receivers and tools of the tests are on this machine.
        allow_private_urls=True,
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
            yield RunningDashboard(
                base_url, database, organization_id, key, settings.resolved_recordings_dir()
            )
    finally:
        database.dispose()


def deliver_due_webhooks(data_dir: Path) -> dict[str, int]:
    """Run the service's real delivery task once, in this process, on the data of the dashboard
    served from `data_dir`; how many were delivered, retried and failed."""
    import workers.webhooks  # noqa: F401 (registers the task)
    from workers.celery_app import make_celery

    settings = Settings(
        _env_file=None,
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'velox.db'}",
        allow_private_urls=True,  # the receiver is on this machine
    )
    celery = make_celery(settings)
    try:
        counts: dict[str, int] = celery.tasks["workers.webhooks.deliver"].apply().get()
    finally:
        celery.close()
    return counts


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
