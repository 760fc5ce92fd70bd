"""The dashboard in Chromium under the Content Security Policy Velox serves it with: its pages
render, sign-in works, and the browser reports no violation of the policy on any page of the
signed-in navigation (scripts, styles, fonts, images, connections all from the service itself).
The recorded call's player and the agent test panel's audio worklets are exercised under the
same policy by test_dashboard.py and test_dashboard_test_panel.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from app.people.roles import Role
from tests.e2e.dashboard_app import RunningDashboard
from tests.e2e.test_dashboard import (  # noqa: F401 (its fixtures: a dashboard, Chromium)
    NAV_LABELS,
    browser,
    dashboard,
    person,
    sign_in,
)

pytestmark = pytest.mark.e2e

# Every violation the page sees, as the browser reports it to the page itself.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}`);
});
"""


def watched_page(chromium: Browser, service: RunningDashboard) -> Page:
    """A page of the service whose policy violations collect in `window.__violations`."""
    context = chromium.new_context(base_url=service.base_url)
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def test_the_signed_in_pages_break_no_rule_of_the_policy(
    browser: Browser,  # noqa: F811 (test_dashboard's fixture)
    dashboard: RunningDashboard,  # noqa: F811
) -> None:
    email = person(dashboard, "csp-admin@example.com", Role.ADMIN)
    page = watched_page(browser, dashboard)
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    first = page.goto("/sign-in/")
    assert first is not None
    policy = first.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "http" not in policy

    sign_in(page, email)
    seen = []
    for label in NAV_LABELS:
        page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        seen.append((label, page.evaluate("() => window.__violations")))
    assert refused == []
    assert [(label, v) for label, v in seen if v] == []


def test_the_api_docs_render_from_the_service_alone_under_the_policy(
    browser: Browser,  # noqa: F811 (test_dashboard's fixture)
    dashboard: RunningDashboard,  # noqa: F811
) -> None:
    page = watched_page(browser, dashboard)
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith(dashboard.base_url) else elsewhere.append(r.url),
    )
    page.goto("/docs")
    # The operations are listed: Swagger UI's script ran and read /openapi.json.
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.get_by_text("/v1/convai/agents").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    assert elsewhere == []
    assert page.evaluate("() => window.__violations") == []
