"""The dashboard's Analytics and Live pages, end to end: real Chromium, the built static export
served by the real service (with test-double speech providers) on a real port.

Analytics reads finished calls seeded through the data layer, as the recorder and the analysis
worker store them. Live watches a real conversation held open on the conversation socket: its
transcript streams in over the server-sent events, and a supporter ends it from the page.
Each page is checked with axe-core and photographed under test-results/dashboard/ (1280 px,
dark mode, a tablet's 820 px).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.config.agent import AgentConfig
from app.people import accounts
from app.people.roles import Role
from tests.e2e.dashboard_app import (
    ensure_dashboard_build,
    launch,
    screenshot,
    serious_accessibility_violations,
)
from tests.e2e.socket_client import next_of, socket_url
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.integration.seeded_calls import (
    Analysed,
    Said,
    agent,
    campaign,
    dial,
    finished_call,
    lead,
    unanswered_call,
)

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
GREETING = "Thanks for calling Acme dental."
CALLER_LINE = "I would like to move my cleaning to Friday."


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ensure_dashboard_build()
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    config = AgentConfig(name="Front desk")
    config.conversation_config.agent.first_message = GREETING
    # The held conversation sends no audio: no re-prompt, no hang-up for silence.
    config.conversation_config.turn.turn_timeout = -1
    config.conversation_config.turn.silence_end_call_timeout = -1
    with voice_service(
        tmp_path,
        config=config,
        stt=ScriptedSpeechToText([]),
        llm=ScriptedLanguageModel(lambda messages: f"Sure: {messages[-1].content}"),
        tts=ToneTextToSpeech(),
    ) as running:
        yield running


def person(service: VoiceService, email: str, role: Role) -> str:
    with service.database.session() as session:
        _, token = accounts.invite_user(
            session, service.organization_id, email, role, accounts.AccountRules(), actor="test"
        )
    accepted = httpx.post(
        f"{service.base_url}/v1/auth/invite/accept", json={"token": token, "password": PASSWORD}
    )
    accepted.raise_for_status()
    return email


class PageOpener:
    """Opens pages in their own browser contexts, and closes them all before the service stops
    (an open event stream would hold the server's shutdown)."""

    def __init__(self, browser: Browser, service: VoiceService) -> None:
        self._browser, self._service = browser, service
        self._contexts: list[BrowserContext] = []

    def __call__(
        self, *, dark: bool = False, width: int = 1280, time_zone: str = "America/New_York"
    ) -> Page:
        context = self._browser.new_context(
            base_url=self._service.base_url,
            viewport={"width": width, "height": 900},
            color_scheme="dark" if dark else "light",
            timezone_id=time_zone,
        )
        self._contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture
def open_page(browser: Browser, service: VoiceService) -> Iterator[PageOpener]:
    opener = PageOpener(browser, service)
    yield opener
    opener.close()


def sign_in(page: Page, email: str) -> None:
    page.goto("/sign-in/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()


def assert_accessible(page: Page, what: str) -> None:
    violations = serious_accessibility_violations(page)
    assert not violations, f"{what}:\n" + "\n".join(violations)


def seed_period(service: VoiceService) -> dict[str, str]:
    """Five calls over the last three days: two agents, one campaign with two leads (one
    reached, one busy); 8.75 minutes; three successes and one failure judged."""
    now = datetime.now(UTC).replace(microsecond=0)
    org = service.organization_id
    with service.database.session() as session:
        reception = agent(session, org, "Reception")
        sales = agent(session, org, "Sales outbound")
        spring = campaign(session, org, sales, "+15559990000")
        finished_call(
            session,
            org,
            reception,
            started_at=now - timedelta(days=2),
            duration_secs=120,
            turns=[
                Said("agent", "Acme, how can I help?", interrupted=True),
                Said("user", "Where is my refund?", voice_to_voice_ms=800),
                Said("agent", "It left today."),
                Said("user", "Thanks.", voice_to_voice_ms=1200),
            ],
            analysis=Analysed("Refund sent.", "positive", "resolved", "success"),
        )
        finished_call(
            session,
            org,
            reception,
            started_at=now - timedelta(days=2, hours=-1),
            duration_secs=60,
            turns=[Said("user", "Call me later.", voice_to_voice_ms=900)],
            analysis=Analysed("Wants a call back.", "negative", "call_back", "failure"),
        )
        demo = finished_call(
            session,
            org,
            sales,
            started_at=now - timedelta(days=1),
            duration_secs=300,
            channel="sip",
            direction="outbound",
            turns=[Said("user", "Book a demo.", voice_to_voice_ms=700)],
            analysis=Analysed("Demo booked.", "positive", "meeting_booked", "success"),
        )
        busy = unanswered_call(session, org, sales, placed_at=now - timedelta(days=1, hours=-1))
        finished_call(
            session,
            org,
            reception,
            started_at=now - timedelta(hours=3),
            duration_secs=45,
            turns=[Said("user", "Opening hours?", voice_to_voice_ms=1000)],
            analysis=Analysed("Asked the hours.", "neutral", "resolved", "success"),
        )
        for number, call_id, outcome in ((1, demo.id, "meeting_booked"), (2, busy.id, "busy")):
            lead_id = lead(session, org, spring, f"+1555000000{number}")
            dial(
                session,
                org,
                spring,
                lead_id,
                number=1,
                outcome=outcome,
                dialed_at=now - timedelta(days=1),
                conversation_id=call_id,
            )
    return {"reception": reception, "sales": sales, "campaign": spring}


def tile(page: Page, label: str) -> str:
    totals = page.get_by_label("Totals")
    value: str = (
        totals.locator("div", has=page.get_by_text(label, exact=True))
        .locator("dd")
        .first.inner_text()
    )
    return value


def test_a_manager_reads_the_periods_figures_as_charts_and_tables(
    open_page: PageOpener, service: VoiceService
) -> None:
    seed_period(service)
    email = person(service, "maria@acme.test", Role.MANAGER)
    page = open_page()
    sign_in(page, email)
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Analytics")).to_be_visible()
    navigation.get_by_role("link", name="Analytics").click()

    expect(page).to_have_url(re.compile(r"/analytics/$"))
    expect(page.get_by_text("days from midnight to midnight in America/New York")).to_be_visible()
    expect(page.get_by_label("Totals")).to_be_visible()
    assert (tile(page, "Calls"), tile(page, "Minutes"), tile(page, "Success rate")) == (
        "5",
        "8.8 min",
        "75%",
    )
    assert tile(page, "Voice-to-voice p50") == "900 ms"
    for name in (
        "Calls and minutes per day",
        "Voice-to-voice latency per day",
        "Success rate per day",
        "Outcomes",
        "Sentiment",
        "Interruptions per call, per day",
    ):
        figure = page.get_by_role("figure", name=name, exact=True)
        expect(figure).to_be_visible()
        expect(
            figure.get_by_role("img", name=name, exact=True).locator("svg").first
        ).to_be_visible()
    outcomes = page.get_by_role("figure", name="Outcomes", exact=True)
    outcomes.get_by_text("Show the numbers").click()
    expect(outcomes.get_by_role("row", name=re.compile(r"^Resolved 2 40%"))).to_be_visible()

    agents = page.get_by_role("table", name="Per agent")
    expect(agents.get_by_role("row", name=re.compile(r"^Reception 3 "))).to_be_visible()
    expect(agents.get_by_role("row", name=re.compile(r"^Sales outbound 2 "))).to_be_visible()
    campaigns = page.get_by_role("table", name="Per campaign")
    expect(
        campaigns.get_by_role("row", name=re.compile(r"^Spring demos Running 2 "))
    ).to_be_visible()
    funnel = page.get_by_role("figure", name="Campaign funnel")
    expect(funnel).to_contain_text(
        "Leads 2, Dialed 2 (100%), Answered 1 (50%), Reached a person 1 (50%)."
    )
    assert_accessible(page, "analytics page")
    screenshot(page, "analytics")

    page.get_by_label("Period").select_option("7d")
    expect(page).to_have_url(re.compile(r"/analytics/\?range=7d$"))
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    expect(page).to_have_url(re.compile(r"range=7d&tz=Asia%2FTokyo$"))
    expect(page.get_by_text("days from midnight to midnight in Asia/Tokyo")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    expect(page.get_by_label("Period")).to_have_value("7d")
    assert tile(page, "Calls") == "5"

    page.get_by_label("Period").select_option("custom")
    page.get_by_label("From", exact=True).fill("2020-02-01")
    page.get_by_label("To", exact=True).fill("2020-01-01")
    expect(page.get_by_text("The first day comes after the last day: swap them.")).to_be_visible()
    page.get_by_label("To", exact=True).fill("2020-02-29")
    expect(page).to_have_url(re.compile(r"from=2020-02-01&to=2020-02-29&tz=Asia%2FTokyo$"))
    expect(page.get_by_role("heading", name="No calls in this period")).to_be_visible()
    assert_accessible(page, "analytics page, empty period")
    screenshot(page, "analytics-empty")


def test_the_analytics_page_reads_in_dark_mode_and_on_a_tablet(
    open_page: PageOpener, service: VoiceService
) -> None:
    seed_period(service)
    email = person(service, "sam@acme.test", Role.SUPPORT)
    for name, dark, width in (("analytics-dark", True, 1280), ("analytics-820", False, 820)):
        page = open_page(dark=dark, width=width)
        sign_in(page, email)
        page.goto("/analytics/?range=7d")
        expect(page.get_by_role("table", name="Per agent")).to_be_visible()
        expect(page.get_by_role("figure", name="Campaign funnel")).to_be_visible()
        assert_accessible(page, name)
        screenshot(page, name)


def test_a_bad_time_zone_in_the_link_is_named_and_the_browsers_used(
    open_page: PageOpener, service: VoiceService
) -> None:
    email = person(service, "ana@acme.test", Role.MANAGER)
    page = open_page(time_zone="Europe/Paris")
    sign_in(page, email)
    page.goto("/analytics/?tz=Mars/Olympus")
    expect(
        page.get_by_text('"Mars/Olympus" is not a time zone; showing Europe/Paris.')
    ).to_be_visible()
    expect(page.get_by_role("heading", name="No calls in this period")).to_be_visible()


class HeldConversation:
    """A conversation on the socket, in its own thread: the greeting, then one line said in text
    when the test says so (`say_the_line`), then held open until the server closes it."""

    def __init__(self, service: VoiceService) -> None:
        self._url = socket_url(service)
        self.conversation_id = ""
        self.started = threading.Event()
        self.speak = threading.Event()
        self.answered = threading.Event()
        self.closed = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HeldConversation:
        self._thread.start()
        assert self.started.wait(15), self.error
        return self

    def __exit__(self, *exc: object) -> None:
        self.speak.set()
        self._thread.join(timeout=15)

    def say_the_line(self) -> None:
        self.speak.set()

    def _run(self) -> None:
        try:
            asyncio.run(self._hold())
        except BaseException as error:  # the test reads it
            self.error = error
            self.started.set()

    async def _hold(self) -> None:
        async with connect(self._url) as ws:
            await ws.send(json.dumps({"type": "conversation_initiation_client_data"}))
            metadata = await next_of(ws, "conversation_initiation_metadata")
            self.conversation_id = metadata["conversation_initiation_metadata_event"][
                "conversation_id"
            ]
            self.started.set()
            await next_of(ws, "agent_response", within_s=15)  # the greeting
            await asyncio.to_thread(self.speak.wait, 30)
            await ws.send(json.dumps({"type": "user_message", "text": CALLER_LINE}))
            await next_of(ws, "agent_response", within_s=15)
            self.answered.set()
            try:
                while True:
                    await ws.recv()
            except ConnectionClosed:
                self.closed.set()


def test_a_supporter_watches_a_live_call_and_ends_it(
    open_page: PageOpener, service: VoiceService
) -> None:
    email = person(service, "lee@acme.test", Role.SUPPORT)
    page = open_page()
    sign_in(page, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Live").click()
    expect(page).to_have_url(re.compile(r"/live/$"))
    expect(page.get_by_role("heading", name="No calls in progress")).to_be_visible()
    expect(page.get_by_role("status", name="Live updates: Live")).to_be_visible()
    assert_accessible(page, "live page, no calls")
    screenshot(page, "live-empty")

    with HeldConversation(service) as call:
        card = page.get_by_role("article", name=re.compile("Call Front desk"))
        expect(card).to_be_visible()
        transcript = card.get_by_role("log")
        expect(transcript).to_contain_text(GREETING)  # logged once it has played
        expect(card).to_contain_text("Listening")
        call.say_the_line()
        expect(transcript).to_contain_text(CALLER_LINE)
        expect(transcript).to_contain_text(f"Sure: {CALLER_LINE}")
        expect(transcript).to_contain_text("typed")  # the caller's line came as text, not speech
        expect(card).to_contain_text("Web/app")
        assert call.answered.wait(5)
        assert_accessible(page, "live page, a call")
        screenshot(page, "live-call")

        card.get_by_role("button", name="End call").click()
        dialog = page.get_by_role("alertdialog", name="End this call?")
        expect(dialog).to_contain_text("saved as ended by a supervisor")
        assert_accessible(page, "live page, confirm end")
        screenshot(page, "live-confirm-end")
        dialog.get_by_role("button", name="End call").click()

        expect(card).to_have_count(0)
        ended = page.get_by_role("region", name="Ended while you watched")
        expect(ended).to_contain_text("Ended by a supervisor")
        assert call.closed.wait(10), "the socket stayed open"
        screenshot(page, "live-ended")

    saved = service.ended_conversation(call.conversation_id, timeout=10)
    assert saved["status"] == "done"
    assert saved["metadata"]["termination_reason"] == "ended_by_supervisor"
    ended.get_by_role("link", name="Open the call").click()
    expect(page).to_have_url(re.compile(rf"/calls/view/\?id={call.conversation_id}$"))


def test_the_live_page_reconnects_when_the_event_stream_drops(
    open_page: PageOpener, service: VoiceService
) -> None:
    email = person(service, "kim@acme.test", Role.SUPPORT)
    page = open_page(dark=True)
    sign_in(page, email)
    page.route("**/v1/calls/live/events", lambda route: route.abort("connectionreset"))
    page.goto("/live/")
    expect(page.get_by_role("status", name=re.compile("Stream lost; reconnecting"))).to_be_visible()
    expect(page.get_by_role("heading", name="No calls in progress")).to_be_visible()
    screenshot(page, "live-reconnecting-dark")
    page.unroute("**/v1/calls/live/events")
    expect(page.get_by_role("status", name="Live updates: Live")).to_be_visible(timeout=20_000)

    # Connected again, it sees a call that starts now.
    with HeldConversation(service) as call:
        card = page.get_by_role("article", name=re.compile("Call Front desk"))
        expect(card.get_by_role("log")).to_contain_text(GREETING)
        call.say_the_line()
        expect(card.get_by_role("log")).to_contain_text(CALLER_LINE)
        assert_accessible(page, "live page, dark")
        screenshot(page, "live-call-dark")
        page.set_viewport_size({"width": 820, "height": 1000})
        screenshot(page, "live-call-820")
        card.get_by_role("button", name="End call").click()
        page.get_by_role("alertdialog").get_by_role("button", name="End call").click()
        expect(card).to_have_count(0)


def test_a_field_agent_has_neither_page(open_page: PageOpener, service: VoiceService) -> None:
    email = person(service, "fay@acme.test", Role.FIELD_AGENT)
    page = open_page()
    sign_in(page, email)
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation).to_be_attached()
    assert navigation.get_by_role("link", name="Analytics").count() == 0
    assert navigation.get_by_role("link", name="Live").count() == 0
    page.goto("/live/")
    expect(page.get_by_text("Not available to your role")).to_be_visible()
