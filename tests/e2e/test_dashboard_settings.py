"""The dashboard's Settings, end to end: real Chromium, the built static export served by the
real service on a real port, a webhook delivered by the real delivery task to a real receiver.

Each section is checked with axe-core (light and dark) and photographed under
test-results/dashboard/ at 1280 px and at a tablet's 820 px.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from app.db import webhooks as webhook_rows
from app.people.roles import Role
from tests.e2e.dashboard_app import (
    RunningDashboard,
    deliver_due_webhooks,
    launch,
    running_dashboard,
    screenshot,
)
from tests.e2e.test_dashboard import assert_accessible, nav_links, open_page, person, sign_in
from tests.live_server import free_port

pytestmark = pytest.mark.e2e

SECTIONS = ("numbers", "webhooks", "api-keys", "provider-keys", "do-not-call", "users", "audit")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("settings")


@pytest.fixture(scope="module")
def dashboard(data_dir: Path) -> Iterator[RunningDashboard]:
    with running_dashboard(data_dir) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def admin(dashboard: RunningDashboard) -> str:
    return person(dashboard, "ada@acme.test", Role.ADMIN)


def admin_page(browser: Browser, dashboard: RunningDashboard, admin: str, section: str) -> Page:
    page = open_page(browser, dashboard)
    sign_in(page, admin)
    page.goto(f"/settings/?section={section}")
    return page


def with_key(dashboard: RunningDashboard, key: str) -> int:
    response = httpx.get(f"{dashboard.base_url}/v1/me", headers={"xi-api-key": key})
    return response.status_code


def test_an_admin_creates_an_api_key_sees_it_once_and_revokes_it(
    browser: Browser, dashboard: RunningDashboard, admin: str
) -> None:
    page = admin_page(browser, dashboard, admin, "api-keys")
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    page.get_by_role("button", name="New API key").first.click()
    dialog = page.get_by_role("dialog", name="New API key")
    dialog.get_by_label("Key name").fill("CRM sync")
    dialog.get_by_label("Only what I choose").check()
    dialog.get_by_label("Read calls").check()
    assert_accessible(page, "new API key dialog")
    dialog.get_by_role("button", name="Create key").click()

    shown = page.get_by_role("dialog", name="Your new API key")
    key = shown.get_by_label("API key").inner_text().strip()
    assert key.startswith("vx_")
    expect(shown.get_by_role("button", name="Copy")).to_be_visible()
    screenshot(page, "settings-api-key-shown-once")
    me = httpx.get(f"{dashboard.base_url}/v1/me", headers={"xi-api-key": key}).json()
    assert me["permissions"] == ["calls:read"]

    shown.get_by_role("button", name="Done").click()
    row = page.get_by_role("row").filter(has_text="CRM sync")
    expect(row).to_contain_text(key[:8] + "…")
    assert key not in page.content()
    page.reload()
    expect(page.get_by_role("row").filter(has_text="CRM sync")).to_be_visible()
    assert key not in page.content()

    page.get_by_role("button", name="Revoke CRM sync").click()
    confirm = page.get_by_role("alertdialog", name="Revoke “CRM sync”?")
    assert_accessible(page, "revoke confirmation")
    confirm.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("row").filter(has_text="CRM sync")).to_contain_text("Revoked")
    assert with_key(dashboard, key) == 401


def test_an_admin_sets_and_clears_a_provider_key_never_shown(
    browser: Browser, dashboard: RunningDashboard, admin: str
) -> None:
    secret = "dg-secret-e2e-0123456789"
    page = admin_page(browser, dashboard, admin, "provider-keys")
    page.get_by_role("button", name="Set key for deepgram").click()
    page.get_by_role("dialog").get_by_label("API key").fill(secret)
    page.get_by_role("button", name="Save key").click()
    deepgram = page.get_by_role("listitem").filter(has_text="Deepgram")
    expect(deepgram).to_contain_text("Key set")
    assert secret not in page.content()
    listing = httpx.get(
        f"{dashboard.base_url}/v1/provider-keys", headers={"xi-api-key": dashboard.api_key}
    )
    assert secret not in listing.text
    assert {k["provider"]: k["is_set"] for k in listing.json()["provider_keys"]}["deepgram"]

    page.get_by_role("button", name="Clear the deepgram key").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Clear key").click()
    expect(deepgram).to_contain_text("No key")
    after = httpx.get(
        f"{dashboard.base_url}/v1/provider-keys", headers={"xi-api-key": dashboard.api_key}
    ).json()
    assert {k["provider"]: k["is_set"] for k in after["provider_keys"]}["deepgram"] is False


def test_an_admin_adds_and_removes_a_do_not_call_number(
    browser: Browser, dashboard: RunningDashboard, admin: str
) -> None:
    page = admin_page(browser, dashboard, admin, "do-not-call")
    expect(page.get_by_role("heading", name="No numbers on the list")).to_be_visible()
    page.get_by_label("Phone number").fill("12")
    page.get_by_role("button", name="Add to list").click()
    number_field = page.locator("div", has=page.get_by_label("Phone number")).last
    expect(number_field.get_by_role("alert")).to_be_visible()

    page.get_by_label("Phone number").fill("+1 415 555 0100")
    page.get_by_label("Note").fill("Asked by letter")
    page.get_by_role("button", name="Add to list").click()
    expect(page.get_by_role("cell", name="+14155550100", exact=True)).to_be_visible()
    assert_accessible(page, "do-not-call list")

    page.get_by_role("button", name="Remove +14155550100").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Remove number").click()
    expect(page.get_by_role("heading", name="No numbers on the list")).to_be_visible()


def test_an_admin_invites_a_user_and_the_link_works(
    browser: Browser, dashboard: RunningDashboard, admin: str
) -> None:
    page = admin_page(browser, dashboard, admin, "users")
    page.get_by_role("button", name="Invite someone").first.click()
    dialog = page.get_by_role("dialog", name="Invite someone")
    dialog.get_by_label("Email address").fill("new.manager@acme.test")
    dialog.get_by_label("Role").select_option("manager")
    dialog.get_by_role("button", name="Create invite").click()
    shown = page.get_by_role("dialog", name="Invite link")
    link = shown.get_by_label("Invite link").inner_text().strip()
    assert re.search(r"/invite\?token=", link)
    assert_accessible(page, "invite link dialog")
    screenshot(page, "settings-invite-link")
    shown.get_by_role("button", name="Done").click()
    expect(page.get_by_role("row").filter(has_text="new.manager@acme.test")).to_contain_text(
        "invited"
    )

    invited = open_page(browser, dashboard)
    invited.goto(link)
    expect(invited.get_by_role("heading", name="Set your password")).to_be_visible()


class _Receiver(BaseHTTPRequestHandler):
    """A business's webhook endpoint: answers 200 and keeps what it was sent."""

    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        type(self).received.append(self.rfile.read(length))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/velox"
    finally:
        server.shutdown()


def test_a_webhooks_delivery_appears_in_its_log(
    browser: Browser, dashboard: RunningDashboard, admin: str, receiver: str, data_dir: Path
) -> None:
    page = admin_page(browser, dashboard, admin, "webhooks")
    page.get_by_role("button", name="Add a webhook").first.click()
    page.get_by_label("Name").fill("CRM")
    page.get_by_label("Endpoint URL").fill(receiver)
    page.get_by_role("button", name="Add webhook").click()
    secret = page.get_by_role("dialog", name="Webhook added").get_by_label("Signing secret")
    assert secret.inner_text().startswith("wsec_")
    page.get_by_role("button", name="Done").click()

    # A call ends: the recorder queues the event in the call's own transaction.
    with dashboard.database.session() as session:
        queued = webhook_rows.enqueue_event(
            session, dashboard.organization_id, "call_ended", {"conversation_id": "conv_e2e"}
        )
    assert queued == 1
    assert deliver_due_webhooks(data_dir)["delivered"] == 1
    assert b"conv_e2e" in _Receiver.received[-1]

    page.get_by_role("link", name="Delivery log of CRM").click()
    expect(page).to_have_url(re.compile(r"section=webhooks&id=whk_"))
    row = page.get_by_role("row").filter(has_text="call_ended")
    expect(row).to_contain_text("delivered")
    expect(row).to_contain_text("HTTP 200")
    assert_accessible(page, "webhook delivery log")
    screenshot(page, "settings-webhook-deliveries")


def test_a_field_agent_sees_no_settings_and_is_told_so(
    browser: Browser, dashboard: RunningDashboard
) -> None:
    email = person(dashboard, "field.settings@acme.test", Role.FIELD_AGENT)
    page = open_page(browser, dashboard)
    sign_in(page, email)
    assert "Settings" not in nav_links(page)
    page.goto("/settings/")
    expect(page.get_by_text("Not available to your role")).to_be_visible()
    expect(page.get_by_role("navigation", name="Settings sections")).to_have_count(0)
    assert_accessible(page, "settings, field agent")
    screenshot(page, "settings-field-agent")


def test_a_manager_sees_only_the_sections_managers_run(
    browser: Browser, dashboard: RunningDashboard
) -> None:
    email = person(dashboard, "mona@acme.test", Role.MANAGER)
    page = open_page(browser, dashboard)
    sign_in(page, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    sections = page.get_by_role("navigation", name="Settings sections").get_by_role("link")
    expect(sections).to_have_text(["Phone numbers", "Webhooks", "Do-not-call list"])


@pytest.mark.parametrize(("width", "dark"), [(1280, False), (820, False), (1280, True)])
def test_every_section_is_accessible_and_fits(
    browser: Browser, dashboard: RunningDashboard, admin: str, width: int, dark: bool
) -> None:
    page = open_page(browser, dashboard, dark=dark, width=width)
    sign_in(page, admin)
    for section in SECTIONS:
        page.goto(f"/settings/?section={section}")
        expect(page.get_by_role("link", name=re.compile(".")).first).to_be_visible()
        expect(page.get_by_role("status", name=re.compile("^Loading"))).to_have_count(0)
        what = f"settings {section}, {width} px{', dark' if dark else ''}"
        assert_accessible(page, what)
        screenshot(page, f"settings-{section}-{width}{'-dark' if dark else ''}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{what} scrolls sideways by {overflow} px"
