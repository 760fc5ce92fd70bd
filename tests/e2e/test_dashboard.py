"""The web dashboard, end to end: real Chromium, the built static export served by the real
service on a real port, people invited as `velox users create` does.

Each page is checked with axe-core (no serious or critical violation, light and dark) and
photographed under test-results/dashboard/ (1280 px wide, dark mode, and a tablet's 820 px).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from app.people.roles import Role
from tests.e2e.dashboard_app import (
    RunningDashboard,
    launch,
    running_dashboard,
    screenshot,
    screenshot_path,
    serious_accessibility_violations,
)
from tests.e2e.page_waits import wait_until

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
NAV_LABELS = ("Agents", "Calls", "Campaigns", "Analytics", "Live", "Settings")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDashboard]:
    with running_dashboard(tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def open_page(
    browser: Browser, dashboard: RunningDashboard, *, dark: bool = False, width: int = 1280
) -> Page:
    context = browser.new_context(
        base_url=dashboard.base_url,
        viewport={"width": width, "height": 900},
        color_scheme="dark" if dark else "light",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def person(dashboard: RunningDashboard, email: str, role: Role) -> str:
    """A person with a password (the invite accepted over the API); their email."""
    link = dashboard.invite(email, role)
    token = link.split("token=", 1)[1]
    accepted = httpx.post(
        f"{dashboard.base_url}/v1/auth/invite/accept", json={"token": token, "password": PASSWORD}
    )
    accepted.raise_for_status()
    return email


def sign_in(page: Page, email: str) -> None:
    page.goto("/sign-in/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()


def assert_accessible(page: Page, what: str) -> None:
    violations = serious_accessibility_violations(page)
    assert not violations, f"{what}:\n" + "\n".join(violations)


def nav_links(page: Page) -> list[str]:
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation).to_be_attached()
    return [label for label in NAV_LABELS if navigation.get_by_role("link", name=label).count() > 0]


def create_agent_over_api(dashboard: RunningDashboard, name: str) -> str:
    response = httpx.post(
        f"{dashboard.base_url}/v1/convai/agents/create",
        json={"name": name, "conversation_config": {}},
        headers={"xi-api-key": dashboard.api_key},
    )
    response.raise_for_status()
    agent_id: str = response.json()["agent_id"]
    return agent_id


def test_an_invited_manager_sets_a_password_and_lands_on_the_agents_page(
    browser: Browser, dashboard: RunningDashboard
) -> None:
    page = open_page(browser, dashboard)
    page.goto(dashboard.invite("maria@acme.test", Role.MANAGER))
    expect(page.get_by_role("heading", name="Set your password")).to_be_visible()
    assert_accessible(page, "invite page")
    screenshot(page, "invite")

    page.get_by_label("New password").fill("short")
    page.get_by_label("Repeat password").fill("short")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("A password needs at least 10 characters")).to_be_visible()

    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()

    expect(page).to_have_url(re.compile(r"/agents/$"))
    expect(page.get_by_role("heading", name="No agents yet")).to_be_visible()
    assert nav_links(page) == ["Agents", "Calls", "Campaigns", "Analytics", "Live", "Settings"]
    assert_accessible(page, "agents page, empty")
    screenshot(page, "agents-empty")


def test_a_used_invite_link_says_so(browser: Browser, dashboard: RunningDashboard) -> None:
    link = dashboard.invite("used@acme.test", Role.SUPPORT)
    token = link.split("token=", 1)[1]
    httpx.post(
        f"{dashboard.base_url}/v1/auth/invite/accept", json={"token": token, "password": PASSWORD}
    ).raise_for_status()
    page = open_page(browser, dashboard)
    page.goto(link)

    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()

    used = page.get_by_role("alert").filter(has_text="This invite was used already")
    expect(used).to_be_visible()


def test_sign_in_gives_the_apis_refusal_then_returns_to_the_page_asked_for(
    browser: Browser, dashboard: RunningDashboard
) -> None:
    email = person(dashboard, "sam@acme.test", Role.SUPPORT)
    page = open_page(browser, dashboard)
    page.goto("/account/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next="))
    expect(page.get_by_role("heading", name="Sign in to Velox")).to_be_visible()
    assert_accessible(page, "sign-in page")
    screenshot(page, "sign-in")

    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    wrong = "The e-mail address or the password is wrong"
    refusal = page.get_by_role("alert").filter(has_text=wrong)
    expect(refusal).to_be_visible()
    screenshot(page, "sign-in-refused")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.get_by_text("Acme Support")).to_be_visible()

    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in/$"))
    page.goto("/agents/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next="))


def test_a_manager_creates_an_agent_in_the_editor_and_finds_it_in_the_list(
    browser: Browser, dashboard: RunningDashboard
) -> None:
    email = person(dashboard, "lena@acme.test", Role.MANAGER)
    page = open_page(browser, dashboard)
    sign_in(page, email)
    page.goto("/agents/")

    page.get_by_role("button", name="New agent").click()
    dialog = page.get_by_role("dialog", name="New agent")
    dialog.get_by_label("Agent name").fill("Renewals outbound")
    assert_accessible(page, "new agent dialog")
    dialog.get_by_role("button", name="Create agent").click()
    expect(page).to_have_url(re.compile(r"/agents/edit/\?id=agent_"))
    agent_id = page.url.split("id=", 1)[1]
    expect(page.get_by_role("heading", name="Renewals outbound", level=1)).to_be_visible()

    # A template that does not parse: the preview and the save both say why, by the field.
    prompt = page.get_by_label("System prompt", exact=True)
    prompt.fill("You renew plans for {{ company }}. {% if vip %}Be extra kind.")
    parse_error = re.compile("Template error on line 1")
    expect(page.get_by_role("alert").filter(has_text=parse_error)).to_be_visible()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Not saved: one field needs attention")).to_be_visible()
    prompt_field = page.locator("div", has=page.get_by_label("System prompt", exact=True)).last
    expect(prompt_field.get_by_role("alert")).to_contain_text(parse_error)

    # Fixed, it renders with the sample value given for its variable.
    prompt.fill("You renew plans for {{ company }}. {% if vip %}Be extra kind.{% endif %}")
    page.get_by_label("company", exact=True).fill("Acme")
    expect(page.get_by_text("You renew plans for Acme.")).to_be_visible()
    page.locator("#prompt").screenshot(path=str(screenshot_path("agent-editor-prompt-preview")))

    # A value the API refuses shows its message under that field.
    page.get_by_label("Yield after (ms of speech)").fill("5")
    page.get_by_role("button", name="Add field").click()
    page.get_by_label("Field 1 name").fill("renewal_month")
    page.get_by_label("Field 1 description").fill("The month the caller wants to renew in")
    page.get_by_role("button", name="Save", exact=True).click()
    yield_field = page.locator("div", has=page.get_by_label("Yield after (ms of speech)")).last
    expect(yield_field.get_by_role("alert")).to_contain_text("greater than or equal to 20")
    assert_accessible(page, "agent editor with errors")
    screenshot(page, "agent-editor-errors")

    page.get_by_label("Yield after (ms of speech)").fill("120")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()

    stored = dashboard.agent_config(agent_id)
    assert stored["velox"]["barge_in_min_speech_ms"] == 120
    assert stored["conversation_config"]["agent"]["prompt"]["prompt"].startswith(
        "You renew plans for {{ company }}."
    )
    assert stored["platform_settings"]["data_collection"] == {
        "renewal_month": {"type": "string", "description": "The month the caller wants to renew in"}
    }
    assert_accessible(page, "agent editor")
    screenshot(page, "agent-editor")

    # Removing the field removes it from the stored agent (a null in the merge patch).
    page.get_by_role("button", name="Remove field renewal_month").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    assert dashboard.agent_config(agent_id)["platform_settings"]["data_collection"] == {}

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agents").click()
    expect(page.get_by_role("link", name="Renewals outbound")).to_be_visible()
    assert_accessible(page, "agents page")
    screenshot(page, "agents")

    page.get_by_label("Search agents").fill("front desk")
    expect(page.get_by_text("No agent matches “front desk”")).to_be_visible()
    expect(page).to_have_url(re.compile(r"search=front"))
    page.get_by_label("Search agents").fill("renewals")
    expect(page.get_by_role("link", name="Renewals outbound")).to_be_visible()


def test_deleting_an_agent_asks_first_and_removes_it(
    browser: Browser, dashboard: RunningDashboard
) -> None:
    agent_id = create_agent_over_api(dashboard, "Old front desk")
    email = person(dashboard, "ines@acme.test", Role.ADMIN)
    page = open_page(browser, dashboard)
    sign_in(page, email)
    page.goto(f"/agents/edit/?id={agent_id}")

    page.get_by_role("button", name="Delete", exact=True).click()
    confirm = page.get_by_role("alertdialog", name="Delete Old front desk?")
    expect(confirm).to_be_visible()
    assert_accessible(page, "delete confirmation")
    confirm.get_by_role("button", name="Cancel").click()
    assert dashboard.agent_config(agent_id)["name"] == "Old front desk"

    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("button", name="Delete agent").click()

    expect(page).to_have_url(re.compile(r"/agents/$"))
    expect(page.get_by_role("link", name="Old front desk")).to_have_count(0)
    with pytest.raises(httpx.HTTPStatusError):
        dashboard.agent_config(agent_id)


def test_a_support_lead_reads_agents_but_cannot_change_them(
    browser: Browser, dashboard: RunningDashboard
) -> None:
    agent_id = create_agent_over_api(dashboard, "Billing questions")
    email = person(dashboard, "noor@acme.test", Role.SUPPORT)
    page = open_page(browser, dashboard)
    sign_in(page, email)
    page.goto("/agents/")
    expect(page.get_by_role("link", name="Billing questions")).to_be_visible()
    expect(page.get_by_role("button", name="New agent")).to_have_count(0)

    page.goto(f"/agents/edit/?id={agent_id}")
    expect(page.get_by_text("Read only")).to_be_visible()
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)


def test_a_field_agent_sees_no_settings_and_no_page_their_role_cannot_open(
    browser: Browser, dashboard: RunningDashboard
) -> None:
    page = open_page(browser, dashboard)
    page.goto(dashboard.invite("tom@acme.test", Role.FIELD_AGENT))
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()

    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.get_by_text("Field agent")).to_be_visible()
    assert nav_links(page) == []
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    assert_accessible(page, "account page")
    screenshot(page, "account-field-agent")

    page.goto("/agents/")
    expect(page.get_by_text("Not available to your role")).to_be_visible()


def test_a_support_lead_filters_and_searches_the_calls_and_exports_what_they_see(
    browser: Browser, dashboard: RunningDashboard, tmp_path: Path
) -> None:
    calls = dashboard.seed_calls()
    email = person(dashboard, "kim@acme.test", Role.SUPPORT)
    page = open_page(browser, dashboard)
    sign_in(page, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calls").click()
    table = page.get_by_role("table", name="Calls")
    for conversation_id in calls.values():
        expect(table.get_by_text(conversation_id)).to_be_visible()
    assert_accessible(page, "calls page")
    screenshot(page, "calls")

    page.get_by_label("Outcome").select_option("meeting_booked")
    expect(page).to_have_url(re.compile(r"outcome=meeting_booked"))
    expect(table.get_by_text(calls["demo"])).to_be_visible()
    expect(table.get_by_text(calls["refund"])).to_have_count(0)

    page.get_by_role("button", name="Clear filters").click()
    page.get_by_label("Search transcripts").fill("refund")
    expect(page).to_have_url(re.compile(r"search=refund"))
    expect(table.get_by_text(calls["refund"])).to_be_visible()
    expect(table.get_by_text(calls["demo"])).to_have_count(0)
    screenshot(page, "calls-searched")

    # A shared link opens the same view.
    shared = open_page(browser, dashboard)
    sign_in(shared, email)
    shared.goto(page.url.replace(dashboard.base_url, ""))
    expect(shared.get_by_label("Search transcripts")).to_have_value("refund")
    expect(shared.get_by_role("table", name="Calls").get_by_text(calls["refund"])).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    path = tmp_path / "calls.csv"
    download.value.save_as(path)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("conversation_id,")
    assert [line.split(",")[0] for line in lines[1:]] == [calls["refund"]]

    page.get_by_label("Search transcripts").fill("")
    page.get_by_role("button", name="More filters").click()
    page.get_by_label("Channel").select_option("websocket")
    expect(table.get_by_text(calls["failed"])).to_be_visible()
    expect(table.get_by_text(calls["demo"])).to_have_count(0)
    assert_accessible(page, "calls page, more filters")
    screenshot(page, "calls-filtered")

    page.get_by_label("Phone number").fill("not a number")
    expect(page.get_by_role("alert").filter(has_text="is not a phone number")).to_be_visible()


def test_a_support_lead_opens_a_recorded_call_reads_its_latency_and_seeks_by_line(
    browser: Browser, dashboard: RunningDashboard
) -> None:
    call_id = dashboard.seed_recorded_call()
    email = person(dashboard, "rita@acme.test", Role.SUPPORT)
    page = open_page(browser, dashboard)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    sign_in(page, email)
    page.goto("/calls/")
    row = page.get_by_role("table", name="Calls").get_by_role("row").filter(has_text=call_id)
    expect(row).to_contain_text("+15550007777→ +15559990000")
    expect(row).to_contain_text("Resolved")
    expect(row).to_contain_text("Positive")
    expect(row.get_by_text("Recorded", exact=True)).to_be_attached()
    screenshot(page, "calls-with-recording")
    row.get_by_role("link").click()

    expect(page).to_have_url(re.compile(rf"/calls/view/\?id={call_id}$"))
    expect(page.get_by_role("heading", name="Call with Billing line", level=1)).to_be_visible()
    transcript = page.get_by_role("list", name="Transcript")
    expect(transcript.get_by_text("I was charged twice this month.")).to_be_visible()
    interrupted = transcript.get_by_role("listitem").filter(has_text="let me look that up")
    expect(interrupted.get_by_text("Interrupted")).to_be_visible()

    # Each caller turn's chain, the slowest stage named; only the stages the turn has.
    second = page.get_by_role("list", name="Latency of turn 2")
    expect(second.get_by_role("listitem")).to_have_count(5)
    expect(second.get_by_role("listitem").filter(has_text="(slowest stage)")).to_contain_text(
        "LLM first token"
    )
    expect(second.get_by_role("listitem").filter(has_text="First audio")).to_contain_text("1.09 s")
    sixth = page.get_by_role("list", name="Latency of turn 6")
    expect(sixth.get_by_role("listitem").filter(has_text="(slowest stage)")).to_contain_text(
        "STT final"
    )
    first = page.get_by_role("list", name="Latency of turn 1")
    expect(first.get_by_role("listitem")).to_have_count(1)
    analysis = page.get_by_role("region", name="Analysis")
    expect(analysis.get_by_text("Double charge reversed.")).to_be_visible()
    assert_accessible(page, "call page")
    screenshot(page, "call-detail")

    # The recording as two lanes (caller, agent) drawn from the API's peaks on one time axis,
    # the interruption marked where the caller cut in (the barge-in event at 4.1 s).
    lanes = page.get_by_test_id("recording-lanes")
    expect(lanes).to_have_attribute("data-ready", "true")
    expect(lanes).to_have_attribute("data-player-ready", "true")  # drawn, and able to seek
    expect(page.get_by_test_id("recording-time")).to_have_text("0:00 / 0:12")
    drawn = page.evaluate(
        """() => [...document.querySelector('[data-testid=recording-lanes]').querySelectorAll('*')]
            .flatMap(el => el.shadowRoot ? [...el.shadowRoot.querySelectorAll('canvas')] : [])
            .filter(c => c.width > 0).length"""
    )
    assert drawn >= 2, f"expected both lanes drawn, found {drawn} canvases"
    mark = page.get_by_role("button", name="Interruption at 0:04, play from here")
    expect(mark).to_be_visible()

    # Play, then pause: the time moves on.
    page.get_by_role("button", name="Play the recording").click()
    wait_until(page, "document.querySelector('audio').currentTime > 0.3")
    page.get_by_role("button", name="Pause the recording").click()
    expect(page.get_by_role("button", name="Play the recording")).to_be_visible()

    # A line seeks the player to its time and is then the one highlighted; so does a mark.
    wait_until(page, "document.querySelector('audio').readyState >= 1")
    duration = page.evaluate("document.querySelector('audio').duration")
    assert 11 < duration < 13, duration
    page.get_by_role("button", name=re.compile(r"^Agent 0:08 I see both.*play from here")).click()
    wait_until(page, "document.querySelector('audio').currentTime >= 8")
    playing = transcript.locator("li[aria-current='true']")
    expect(playing).to_contain_text("I see both charges")
    page.evaluate("document.querySelector('audio').pause()")
    screenshot(page, "call-detail-seeked")
    mark.click()
    wait_until(
        page, "Math.abs(document.querySelector('audio').currentTime - 4.1) < 0.5", polling_ms=50
    )
    expect(playing).to_contain_text("let me look that up")
    page.evaluate("document.querySelector('audio').pause()")
    # A click on the lanes seeks too (wavesurfer): three quarters in is 0:09.
    box = lanes.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + 20)
    wait_until(
        page, "Math.abs(document.querySelector('audio').currentTime - 9) < 0.6", polling_ms=50
    )
    page.evaluate("document.querySelector('audio').pause()")
    assert_accessible(page, "call page with the recording's lanes")
    elsewhere = [u for u in requests if not u.startswith((dashboard.base_url, "blob:", "data:"))]
    assert elsewhere == [], "the call page reached beyond the Velox server"

    page.get_by_role("button", name="Like", exact=True).click()
    expect(page.get_by_role("button", name="Like", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_text("Raw JSON").click()
    expect(page.locator("pre")).to_contain_text(f'"conversation_id": "{call_id}"')
    expect(page.locator("pre")).to_contain_text('"feedback": "like"')

    dark = open_page(browser, dashboard, dark=True, width=820)
    sign_in(dark, email)
    dark.goto(f"/calls/view/?id={call_id}")
    expect(dark.get_by_role("list", name="Latency of turn 2")).to_be_visible()
    assert_accessible(dark, "call page, dark, 820 px")
    screenshot(dark, "call-detail-dark-820")
    overflow = dark.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the call page scrolls sideways by {overflow} px at 820 px"


def test_a_field_agent_cannot_open_the_calls(browser: Browser, dashboard: RunningDashboard) -> None:
    email = person(dashboard, "fieldcalls@acme.test", Role.FIELD_AGENT)
    page = open_page(browser, dashboard)
    sign_in(page, email)
    page.goto("/calls/")

    expect(page.get_by_text("Not available to your role")).to_be_visible()
    assert nav_links(page) == []


def test_lists_show_a_skeleton_while_they_load(
    browser: Browser, dashboard: RunningDashboard
) -> None:
    email = person(dashboard, "slow@acme.test", Role.MANAGER)
    page = open_page(browser, dashboard)
    sign_in(page, email)
    held: list[Route] = []
    page.route(re.compile(r"/v1/convai/(agents|conversations)\?"), lambda route: held.append(route))

    for path, label in (("/agents/", "Loading agents"), ("/calls/", "Loading calls")):
        page.goto(path)
        expect(page.get_by_role("status", name=label)).to_be_visible()
        assert_accessible(page, f"{path} while loading")
        screenshot(page, f"{path.strip('/')}-loading")
    assert held, "no list request was held"
    page.context.close()  # the held requests end with it


@pytest.mark.parametrize("width", [1280, 820])
def test_the_pages_in_dark_mode_and_on_a_tablet(
    browser: Browser, dashboard: RunningDashboard, width: int
) -> None:
    agent_id = create_agent_over_api(dashboard, f"Front desk {width}")
    email = person(dashboard, f"dark{width}@acme.test", Role.MANAGER)
    page = open_page(browser, dashboard, dark=True, width=width)
    page.goto("/sign-in/")
    assert page.evaluate("document.documentElement.classList.contains('dark')")
    assert_accessible(page, f"sign-in page, dark, {width} px")
    screenshot(page, f"sign-in-dark-{width}")
    sign_in(page, email)

    page.goto("/calls/")
    expect(page.get_by_role("heading", name="Calls", exact=True)).to_be_visible()
    loaded = page.get_by_role("table", name="Calls").or_(page.get_by_text("No calls yet"))
    expect(loaded).to_be_visible()
    assert_accessible(page, f"calls page, dark, {width} px")
    screenshot(page, f"calls-dark-{width}")

    page.goto("/agents/")
    expect(page.get_by_role("link", name=f"Front desk {width}")).to_be_visible()
    assert_accessible(page, f"agents page, dark, {width} px")
    screenshot(page, f"agents-dark-{width}")

    page.goto(f"/agents/edit/?id={agent_id}")
    expect(page.get_by_role("heading", name=f"Front desk {width}", level=1)).to_be_visible()
    expect(page.get_by_text("Hello! How can I help you today?").last).to_be_visible()
    assert_accessible(page, f"agent editor, dark, {width} px")
    screenshot(page, f"agent-editor-dark-{width}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the editor scrolls sideways by {overflow} px at {width} px"
