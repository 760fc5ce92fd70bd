"""The field agents' app (`mobile_app/`, served at /m/) in Debian Chromium with a phone's profile
(Pixel 7: its viewport, touch, mobile user agent) against a real Velox server: signing in, today's
leads, installability, the shell and the leads offline, an outcome recorded offline and stored
once when the network is back, a push message shown as a notification.

Screenshots of each screen at phone size are written to the test's tmp dir (`screens/`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, CDPSession, Page, Playwright, sync_playwright
from sqlalchemy import select

from app.config.agent import AgentConfig
from app.db import calls as call_queries
from app.db import campaigns as campaign_rows
from app.db.call_attempts import add_attempt
from app.db.models import CallAnalysis, CampaignLead, utc_now
from app.people import accounts
from app.people.roles import Role
from app.providers.registry import ProviderRegistry
from tests.e2e.browser_page import CHROMIUM
from tests.e2e.field_team import (
    AGENT_EMAIL,
    PASSWORD,
    FieldTeam,
    ensure_build,
    field_team,
    post,
)
from tests.e2e.page_waits import wait_until
from tests.e2e.voice_service import running_service

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FieldTeam]:
    """A server with a field agent (invited, password set through the API) and a campaign
    whose leads file gives three leads to her: one called before (with a summary and collected
    data), one with a call back, one whose number is on the do-not-call list."""
    ensure_build()
    tmp = tmp_path_factory.mktemp("field_app_server")
    with running_service(tmp, config=AgentConfig(name="Rep"), registry=ProviderRegistry()) as svc:
        team = field_team(svc)
        leads = team.leads
        post(svc, "/v1/do-not-call", json={"phone_number": "+12122345603"})
        with svc.database.session() as session:
            rows = session.scalars(
                select(CampaignLead).where(CampaignLead.campaign_id == team.campaign_id)
            ).all()
            maria = next(row for row in rows if row.variables["name"] == "Maria Lopez")
            campaign = campaign_rows.campaign_by_id(session, team.campaign_id)
            attempt = add_attempt(session, campaign, maria, utc_now())
            attempt.status, attempt.outcome = "ended", "completed"
            call = call_queries.create_call(
                session,
                svc.organization_id,
                agent_id=svc.agent_id,
                direction="outbound",
                channel="twilio",
                to_number=maria.phone_number,
                call_id=attempt.conversation_id,
            )
            session.add(
                CallAnalysis(
                    call_id=call.id,
                    organization_id=svc.organization_id,
                    status="done",
                    summary="Maria wants a quote for repainting two rooms before June.",
                    title="Quote wanted",
                    outcome="interested",
                    data={"rooms": 2, "budget": "4,000 USD"},
                )
            )
        signed = httpx.post(
            f"{svc.base_url}/v1/auth/sign-in", json={"email": AGENT_EMAIL, "password": PASSWORD}
        ).json()
        in_two_hours = int(time.time()) + 2 * 3600
        reported = httpx.post(
            f"{svc.base_url}/v1/me/leads/{leads['John Park']}/outcome",
            json={
                "outcome": "call_back",
                "note": "Asked to talk after his site visit.",
                "call_back_at_unix": in_two_hours,
            },
            headers={"Authorization": f"Bearer {signed['token']}"},
        )
        assert reported.status_code == 200, reported.text
        yield team


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure_browser.sh")
    with sync_playwright() as running:
        yield running


@pytest.fixture
def phone(playwright: Playwright, team: FieldTeam, tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh phone: Pixel 7's screen, touch and user agent; notifications allowed. A profile
    on disk, as an installed app has (an incognito window cannot install apps)."""
    device = {k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"}
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile",
        executable_path=str(CHROMIUM),
        headless=True,
        **device,
        color_scheme="light",
    )
    context.grant_permissions(["notifications"], origin=team.service.base_url)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def screens(tmp_path: Path) -> Path:
    folder = tmp_path / "screens"
    folder.mkdir()
    return folder


def sign_in(page: Page, team: FieldTeam, email: str = AGENT_EMAIL) -> None:
    page.goto(team.url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def open_today(page: Page, team: FieldTeam, screens: Path | None = None) -> None:
    sign_in(page, team)
    page.get_by_role("heading", name="Today").wait_for()
    page.get_by_text("Maria Lopez").first.wait_for()
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    # The lists are fetched once the service worker controls the page, so that it caches them.
    if page.evaluate("() => navigator.serviceWorker.controller === null"):
        page.reload()
        page.get_by_text("Maria Lopez").first.wait_for()


def synced_at(page: Page) -> int:
    value = page.locator("[data-synced-at]").first.get_attribute("data-synced-at")
    assert value, "no last-sync time shown"
    return int(value)


def cdp(page: Page) -> CDPSession:
    return page.context.new_cdp_session(page)


def test_a_field_agent_signs_in_and_sees_todays_leads_in_an_installable_app(
    phone: BrowserContext, team: FieldTeam, screens: Path
) -> None:
    page = phone.new_page()
    page.goto(team.url)
    page.get_by_role("button", name="Sign in").wait_for()
    page.screenshot(path=screens / "1-sign-in.png")
    open_today(page, team)

    today = page.locator("main")
    assert today.get_by_text("Maria Lopez").count() == 1
    assert today.get_by_text("Maria wants a quote for repainting two rooms").count() == 1
    assert today.get_by_text("4,000 USD").count() == 1  # collected data
    assert today.get_by_text("Interested").count() >= 1  # the last call's outcome
    callbacks = page.locator("section", has=page.get_by_role("heading", name="Call backs"))
    assert callbacks.get_by_text("John Park").count() == 1
    assert callbacks.get_by_text("Asked to talk after his site visit.").count() == 1
    assert today.get_by_text("Someone Else").count() == 0  # not her lead
    assert "Last synced" in page.locator(".sync-line").inner_text()
    page.screenshot(path=screens / "2-today.png", full_page=True)

    session = cdp(page)
    errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == []
    manifest = session.send("Page.getAppManifest")
    assert manifest["errors"] == []
    assert manifest["url"] == f"{team.url}manifest.webmanifest"
    parsed = json.loads(manifest["data"])
    assert (parsed["display"], parsed["start_url"], parsed["scope"]) == (
        "standalone",
        "/m/",
        "/m/",
    )
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in parsed["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in parsed["icons"]:
        fetched = httpx.get(f"{team.url}{icon['src']}")
        assert fetched.headers["content-type"] == "image/png"
        assert fetched.content[:8] == b"\x89PNG\r\n\x1a\n"

    page.get_by_text("Dana Whitfield").first.click()
    page.get_by_role("heading", name="Dana Whitfield").wait_for()
    assert page.get_by_role("link", name="Call myself").get_attribute("href") == "tel:+12122345603"
    page.get_by_role("button", name="Call with AI").click()
    refusal = page.get_by_role("alert")
    refusal.wait_for()
    assert "on the do-not-call list" in refusal.inner_text()
    page.screenshot(path=screens / "3-lead-call-refused.png", full_page=True)

    page.get_by_role("button", name="Back").click()
    page.get_by_text("Maria Lopez").first.click()
    page.get_by_role("heading", name="Maria Lopez").wait_for()
    assert page.get_by_text("Quote wanted").count() == 1
    page.screenshot(path=screens / "4-lead.png", full_page=True)

    page.get_by_role("button", name="Back").click()
    page.get_by_role("button", name="Settings").click()
    page.get_by_role("heading", name="Notifications").wait_for()
    page.screenshot(path=screens / "5-settings.png", full_page=True)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    stored = page.evaluate(
        """async () => {
            const names = await caches.keys();
            const lists = await caches.has('velox-lists');
            const db = await new Promise((ok, fail) => {
                const open = indexedDB.open('velox-field');
                open.onsuccess = () => ok(open.result);
                open.onerror = () => fail(open.error);
            });
            const account = await new Promise((ok) => {
                const get = db.transaction('account').objectStore('account').get('current');
                get.onsuccess = () => ok(get.result ?? null);
            });
            return {names, lists, account};
        }"""
    )
    assert stored["account"] is None
    assert stored["lists"] is False
    page.reload()
    page.get_by_role("button", name="Sign in").wait_for()  # the token is gone for good


def test_a_support_user_is_told_the_app_is_for_field_agents(
    phone: BrowserContext, team: FieldTeam
) -> None:
    email = "sam@acme.example"
    with team.service.database.session() as session:
        _, token = accounts.invite_user(
            session,
            team.service.organization_id,
            email,
            Role.SUPPORT,
            accounts.AccountRules(),
            actor="test",
        )
    httpx.post(
        f"{team.service.base_url}/v1/auth/invite/accept",
        json={"token": token, "password": PASSWORD},
    ).raise_for_status()
    page = phone.new_page()
    sign_in(page, team, email)
    refusal = page.get_by_role("alert")
    refusal.wait_for()
    assert "This app is for field agents" in refusal.inner_text()
    assert page.get_by_role("button", name="Sign in").is_visible()


def test_offline_the_shell_and_leads_open_and_an_outcome_is_stored_once_when_back_online(
    phone: BrowserContext, team: FieldTeam, screens: Path
) -> None:
    page = phone.new_page()
    open_today(page, team)
    first_sync = synced_at(page)
    time.sleep(1.2)  # a new sync would be a later second

    phone.set_offline(True)
    page.reload()
    page.get_by_role("heading", name="Today").wait_for()
    page.get_by_text("Maria Lopez").first.wait_for()
    assert page.locator(".sync-line").get_by_text("Offline").count() == 1
    assert synced_at(page) == first_sync  # from the cache, not the network
    assert "Last synced" in page.locator(".sync-line").inner_text()

    dana = team.leads["Dana Whitfield"]
    page.get_by_text("Dana Whitfield").first.click()
    page.get_by_label("Outcome").select_option("meeting_booked")
    page.get_by_label("Note").fill("Visit booked for Tuesday 10:00.")
    page.get_by_role("button", name="Save outcome").click()
    page.get_by_text("Saved on this phone").wait_for()
    queue = page.get_by_test_id("lead-queue")
    assert "Meeting booked" in queue.inner_text()
    assert "waiting to be sent" in queue.inner_text()
    page.screenshot(path=screens / "6-lead-outcome-queued-offline.png", full_page=True)
    page.get_by_role("button", name="Back").click()
    page.get_by_test_id("outbox").wait_for()
    page.screenshot(path=screens / "7-today-offline.png", full_page=True)
    assert team.reports_of(dana) == 0

    phone.set_offline(False)  # the `online` event replays the queue
    page.get_by_test_id("outbox").wait_for(state="detached", timeout=10_000)
    page.get_by_role("button", name="Refresh").click()
    synced = "Number(document.querySelector('[data-synced-at]')?.dataset.syncedAt)"
    wait_until(page, f"() => {synced} > {first_sync}")
    assert team.reports_of(dana) == 1
    page.reload()  # the app starting replays nothing more: the queue is empty
    page.get_by_text("Maria Lopez").first.wait_for()
    time.sleep(0.5)
    assert team.reports_of(dana) == 1
    page.screenshot(path=screens / "8-today-synced.png", full_page=True)


def test_a_push_message_is_shown_as_a_notification_that_opens_the_lead(
    phone: BrowserContext, team: FieldTeam
) -> None:
    page = phone.new_page()
    open_today(page, team)
    session = cdp(page)
    registrations: list[dict[str, Any]] = []
    session.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    session.send("ServiceWorker.enable")
    deadline = time.monotonic() + 5
    while not any(r["scopeURL"] == team.url for r in registrations):
        assert time.monotonic() < deadline, f"no service worker registered for /m/: {registrations}"
        page.wait_for_timeout(50)
    registration_id = next(r for r in registrations if r["scopeURL"] == team.url)["registrationId"]
    john = team.leads["John Park"]
    payload = {
        "type": "callback_due",
        "title": "Call back John Park",
        "body": "Due now: +12122345602",
        "lead_id": john,
        "callback_id": "cb-1",
    }
    session.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": team.service.base_url,
            "registrationId": registration_id,
            "data": json.dumps(payload),
        },
    )
    script = """async () => {
        const registration = await navigator.serviceWorker.ready;
        const shown = await registration.getNotifications();
        return shown.map((n) => ({title: n.title, body: n.body, data: n.data}));
    }"""
    deadline = time.monotonic() + 5
    shown: list[dict[str, Any]] = page.evaluate(script)
    while not shown and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        shown = page.evaluate(script)
    assert [(n["title"], n["body"]) for n in shown] == [
        ("Call back John Park", "Due now: +12122345602")
    ]
    assert shown[0]["data"]["url"] == f"/m/?lead={john}"
    page.goto(f"{team.url}?lead={john}")  # where a tap on it goes
    page.get_by_role("heading", name="John Park").wait_for()
    assert page.url == f"{team.url}leads/{john}"
