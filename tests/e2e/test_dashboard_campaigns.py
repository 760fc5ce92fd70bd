"""The dashboard's campaign pages end to end: real Chromium, the built dashboard served by the
real service over PostgreSQL, a real Celery worker dialing through the real `twilio` client into
the Twilio REST double, Twilio's signed status callbacks.

A manager creates a campaign in the wizard from a CSV file with one bad row and sees that row
reported, starts it, and watches its progress bars move as the dialer dials and the calls end.
Every page is checked with axe-core and photographed under test-results/dashboard/ (1280 px,
dark mode, and a tablet's 820 px).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.campaign_service import PASSWORD, CampaignService, campaign_service
from tests.e2e.dashboard_app import launch, screenshot, serious_accessibility_violations

if TYPE_CHECKING:
    from tests.conftest import PostgresDatabases

pytestmark = pytest.mark.e2e

LEADS_CSV = (
    "Cell,Customer,Company\n"
    "+12125550101,Maria Lopez,Lopez Dental\n"
    "not-a-number,Bad Row,Nowhere Inc\n"
    "+12125550102,John Park,Park & Co\n"
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture(scope="module")
def service(
    postgres_databases: PostgresDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CampaignService]:
    tmp_path = tmp_path_factory.mktemp("campaign-pages")
    with campaign_service(postgres_databases.create(), tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def signed_in(browser: Browser, service: CampaignService, email: str, **options: Any) -> Page:
    context = browser.new_context(
        base_url=service.base_url,
        viewport={"width": options.get("width", 1280), "height": 900},
        color_scheme="dark" if options.get("dark") else "light",
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/sign-in/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    return page


def check(page: Page, name: str) -> None:
    """No serious accessibility violation; photographed as it is."""
    violations = serious_accessibility_violations(page)
    assert not violations, f"{name}:\n" + "\n".join(violations)
    screenshot(page, name)


def in_every_view(
    browser: Browser, service: CampaignService, email: str, path: str, name: str, ready: str
) -> None:
    """The page in dark mode at 1280 px and light at a tablet's 820 px: checked, photographed."""
    for suffix, options in (("dark", {"dark": True}), ("tablet", {"width": 820})):
        page = signed_in(browser, service, email, **options)
        page.goto(path)
        expect(page.get_by_text(ready).first).to_be_visible()
        check(page, f"{name}-{suffix}")
        page.context.close()


def progress(page: Page, label: str) -> Any:
    return page.get_by_role("progressbar", name=label, exact=True)


def test_a_manager_creates_a_campaign_from_a_file_starts_it_and_watches_it_call(
    browser: Browser, service: CampaignService, tmp_path: Path
) -> None:
    email = service.manager("maria@acme.test")
    page = signed_in(browser, service, email)
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("heading", name="No campaigns yet")).to_be_visible()
    check(page, "campaigns-empty")

    page.get_by_role("link", name="Create your first campaign").click()
    expect(page.get_by_role("heading", name="New campaign")).to_be_visible()
    page.get_by_label("Campaign name").fill("Spring renewals")
    page.get_by_label("Agent").select_option(label="Sales rep")
    page.get_by_label("Calls from").select_option(label="+12125550100 · sales")
    check(page, "campaign-new-basics")

    page.get_by_role("button", name="Next").click()
    page.get_by_label("Leads file (CSV)").set_input_files(
        {"name": "leads.csv", "mimeType": "text/csv", "buffer": LEADS_CSV.encode()}
    )
    expect(page.get_by_text("Choose the column that holds the phone number.")).to_be_visible()
    page.get_by_label("Role of column Cell").select_option("phone_number")
    page.get_by_label("Role of column Customer").select_option("name")
    expect(page.get_by_role("cell", name="Lopez Dental")).to_be_visible()
    check(page, "campaign-new-leads")

    page.get_by_role("button", name="Next").click()
    for day in DAYS:  # every hour of every day in the leads' zone, so the test may run any time
        first = page.get_by_label(f"{day} range 1", exact=True)
        if first.count() == 0:
            page.get_by_role("button", name=f"Add range on {day}").click()
        first.fill("00:00-24:00")
    check(page, "campaign-new-schedule")

    page.get_by_role("button", name="Next").click()
    page.get_by_label("Calls started per minute").fill("5000")
    page.get_by_role("button", name="Create campaign").click()
    # The API's own check, shown beside its field.
    expect(
        page.get_by_text("Input should be less than or equal to 1000", exact=True)
    ).to_be_visible()
    expect(page.get_by_label("Calls started per minute")).to_have_attribute("aria-invalid", "true")
    check(page, "campaign-new-dialing-error")
    page.get_by_label("Calls started per minute").fill("30")
    page.get_by_role("button", name="Create campaign").click()

    expect(page.get_by_role("heading", name="Spring renewals is ready")).to_be_visible()
    report = page.get_by_role("table", name="Rows not imported, with the reason")
    expect(report.get_by_role("row")).to_have_count(2)  # the header and the bad row
    expect(report.get_by_role("cell", name="3", exact=True)).to_be_visible()
    expect(report.get_by_text("phone number 'not-a-number'")).to_be_visible()
    check(page, "campaign-new-report")

    page.get_by_role("button", name="Start campaign").click()
    expect(page).to_have_url(re.compile(r"/campaigns/view/?\?id=camp_"))
    campaign_id = page.url.split("id=", 1)[1]
    expect(page.get_by_text("Running", exact=True)).to_be_visible()
    expect(progress(page, "Pending")).to_have_attribute("aria-valuenow", "2")
    expect(progress(page, "Dialed")).to_have_attribute("aria-valuenow", "0")
    expect(page.get_by_role("cell", name=re.compile("Maria Lopez"))).to_be_visible()

    # The dialer's tick: the worker dials both leads through the Twilio double.
    claimed = service.tick(datetime.now(UTC))
    assert len(claimed["claimed"]) == 2, (claimed, service.worker_log())
    expect(progress(page, "Dialed")).to_have_attribute("aria-valuenow", "2", timeout=20_000)
    expect(progress(page, "Pending")).to_have_attribute("aria-valuenow", "0")
    attempts = wait_for_dialed(service, campaign_id, 2)
    assert sorted(r.form["To"] for r in service.rest.created) == ["+12125550101", "+12125550102"]
    check(page, "campaign-view-dialing")

    # Maria answers and the call ends; John does not answer.
    by_number = {
        r.form["StatusCallback"].split("conversation_id=")[1]: r.form["To"]
        for r in service.rest.created
    }
    for attempt in attempts:
        answered = by_number[attempt["conversation_id"]] == "+12125550101"
        service.twilio_reports(attempt, "completed" if answered else "no-answer")
    service.tick(datetime.now(UTC))
    expect(progress(page, "Answered")).to_have_attribute("aria-valuenow", "1", timeout=20_000)
    expect(progress(page, "Completed")).to_have_attribute("aria-valuenow", "1")
    # No answer is retried later (the default rule): that lead is pending again.
    expect(progress(page, "Pending")).to_have_attribute("aria-valuenow", "1")
    expect(page.get_by_text("No answer").first).to_be_visible()
    check(page, "campaign-view")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export report (CSV)").click()
    saved = tmp_path / "report.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [row["phone_number"] for row in rows] == ["+12125550101", "+12125550102"]
    assert [row["last_outcome"] for row in rows] == ["completed", "no_answer"]

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Paused", exact=True)).to_be_visible()
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("Running", exact=True)).to_be_visible()

    page.goto("/campaigns/")
    row = page.get_by_role("row").filter(has_text="Spring renewals")
    expect(row.get_by_role("progressbar", name="Leads finished")).to_have_attribute(
        "aria-valuenow", "1"
    )
    check(page, "campaigns")
    page.get_by_role("tab", name="Batch calls").click()
    expect(page.get_by_role("link", name="Spring renewals")).to_be_visible()
    check(page, "campaigns-batch-calls")

    in_every_view(browser, service, email, "/campaigns/", "campaigns", "Spring renewals")
    in_every_view(
        browser, service, email, f"/campaigns/view/?id={campaign_id}", "campaign-view", "Outcomes"
    )
    in_every_view(browser, service, email, "/campaigns/new/", "campaign-new", "Campaign name")


def wait_for_dialed(service: CampaignService, campaign_id: str, count: int) -> list[dict[str, Any]]:
    """The campaign's attempts once `count` of them have their Twilio call."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        attempts = [a for a in service.attempts(campaign_id) if a["call_sid"]]
        if len(attempts) >= count:
            return attempts
        time.sleep(0.1)
    raise AssertionError((service.attempts(campaign_id), service.worker_log()))
