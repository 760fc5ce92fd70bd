"""The agent editor's Test panel end to end: real Chromium (its microphone a WAV file) on the
built dashboard, served by the real service with test-double speech providers, talking to the
agent through the dashboard's own `@elevenlabs/client` over the Velox socket.

The panel shows the transcript as it comes, the microphone's level, each exchange's latency
(Velox's `velox_turn_metrics` event), mute, and once ended a link to the call; text chat goes
through the same client. Every request the page makes must stay on the Velox server (the
client's audio worklets included). Checked with axe-core, photographed at 1280 px, dark, and a
tablet's 820 px under test-results/dashboard/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from app.config.agent import AgentConfig
from app.people import accounts
from app.people.roles import Role
from app.providers.base import ChatMessage
from tests.audio_samples import speech_like
from tests.e2e.browser_page import launch_chromium, say, use_cued_microphone
from tests.e2e.dashboard_app import (
    ensure_dashboard_build,
    screenshot,
    serious_accessibility_violations,
)
from tests.e2e.page_waits import wait_until
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
GREETING = "Thanks for calling Acme dental."
QUESTION = "Can I move my cleaning to Friday?"
TYPED = "Do you open on Saturdays?"
# Whether the panel has shown "Agent speaking…", and since when it has not: every change of
# the page is looked at, so a greeting that plays between two polls of the test is still seen.
WATCH_AGENT_SPEAKING = """() => {
  const speaking = () =>
    [...document.querySelectorAll("li")].some(li => li.textContent === "Agent speaking…");
  window.agentSpoke = false;
  window.agentQuietSince = null;
  new MutationObserver(() => {
    if (speaking()) {
      window.agentSpoke = true;
      window.agentQuietSince = null;
    } else if (window.agentSpoke && window.agentQuietSince === null) {
      window.agentQuietSince = performance.now();
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""
# The greeting has played out: quiet for half a second after it spoke (a gap in a loaded
# machine's audio would show "Agent speaking…" again within it).
GREETING_PLAYED = (
    "window.agentQuietSince !== null && performance.now() - window.agentQuietSince > 500"
)


def reply(messages: list[ChatMessage]) -> str:
    return f"Sure: {messages[-1].content}"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    ensure_dashboard_build()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    config = AgentConfig(name="Front desk")
    config.conversation_config.agent.first_message = GREETING
    # Text chat is the client asking for a text-only conversation: the agent must allow it.
    config.platform_settings.overrides.conversation_config_override = {
        "conversation": {"text_only": True}
    }
    with voice_service(
        tmp_path,
        config=config,
        stt=ScriptedSpeechToText([QUESTION]),
        llm=ScriptedLanguageModel(reply),
        tts=ToneTextToSpeech(),
    ) as running:
        yield running


class Tab:
    """A signed-in page whose every request and socket is recorded."""

    def __init__(self, context: BrowserContext, service: VoiceService) -> None:
        self.page: Page = context.new_page()
        self.page.set_default_timeout(15_000)
        self.requests: list[str] = []
        self.sockets: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("websocket", lambda socket: self.sockets.append(socket.url))
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(f"{error}\n{error.stack}"))
        self.base_url = service.base_url

    def elsewhere(self) -> list[str]:
        """Requests and sockets that went anywhere but the Velox server (inline worklets are
        blob: or data: URLs, which leave nothing)."""
        own = (self.base_url, self.base_url.replace("http://", "ws://", 1), "blob:", "data:")
        return [url for url in self.requests + self.sockets if not url.startswith(own)]


def signed_in(browser: Browser, service: VoiceService, email: str, **options: object) -> Tab:
    with service.database.session() as session:
        _, token = accounts.invite_user(
            session,
            service.organization_id,
            email,
            Role.MANAGER,
            accounts.AccountRules(),
            actor="test",
        )
    httpx.post(
        f"{service.base_url}/v1/auth/invite/accept", json={"token": token, "password": PASSWORD}
    ).raise_for_status()
    context = browser.new_context(base_url=service.base_url, **options)  # type: ignore[arg-type]
    use_cued_microphone(context)  # quiet until the test speaks into it
    tab = Tab(context, service)
    tab.page.goto("/sign-in/")
    tab.page.get_by_label("Email").fill(email)
    tab.page.get_by_label("Password").fill(PASSWORD)
    tab.page.get_by_role("button", name="Sign in").click()
    expect(tab.page.get_by_role("button", name="Account menu")).to_be_visible()
    return tab


def assert_accessible(page: Page, what: str) -> None:
    violations = serious_accessibility_violations(page)
    assert not violations, f"{what}:\n" + "\n".join(violations)


def test_a_manager_talks_to_the_agent_and_sees_the_transcript_level_and_latency(
    chromium: Browser, service: VoiceService
) -> None:
    tab = signed_in(chromium, service, "mia@acme.test", viewport={"width": 1280, "height": 900})
    page = tab.page
    page.goto(f"/agents/edit/?id={service.agent_id}")
    panel = page.get_by_role("region", name="Test")
    expect(panel).to_be_visible()
    assert_accessible(page, "agent editor with the Test panel")

    page.evaluate(WATCH_AGENT_SPEAKING)
    panel.get_by_role("button", name="Start voice test").click()
    transcript = panel.get_by_role("list", name="Test transcript")
    expect(transcript).to_contain_text(f"Agent{GREETING}")
    expect(panel.get_by_text("Live: speak now")).to_be_visible()
    # Once the greeting has played, a second of voiced sound the energy VAD hears; the
    # microphone's level rises while it plays.
    wait_until(page, GREETING_PLAYED, timeout_ms=15_000)
    say(page, speech_like(1.2), until_played=False)
    wait_until(
        page,
        "Number(document.querySelector('[role=meter]')?.getAttribute('aria-valuenow')) > 0",
        timeout_ms=15_000,
        polling_ms=50,
    )
    expect(transcript).to_contain_text(f"You{QUESTION}", timeout=15_000)
    assert tab.errors == []
    expect(transcript).to_contain_text(f"AgentSure: {QUESTION}")
    latency = panel.get_by_test_id("turn-latency")
    expect(latency).to_contain_text(re.compile(r"Answered in \d+(\.\d+)? m?s voice to voice"))
    expect(latency).to_contain_text("LLM first token")
    assert_accessible(page, "Test panel in a conversation")
    screenshot(page, "agent-test-panel")

    panel.get_by_role("button", name="Mute").click()
    expect(panel.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "true")
    expect(panel.get_by_role("meter")).to_have_attribute("aria-valuetext", "muted")

    panel.get_by_role("button", name="End", exact=True).click()
    expect(panel.get_by_text("Ended", exact=True)).to_be_visible()
    conversation_id = panel.locator(".font-mono").inner_text()
    body = service.ended_conversation(conversation_id)
    spoken = [(t["role"], t["message"]) for t in body["transcript"] if t["message"]]
    assert spoken == [("agent", GREETING), ("user", QUESTION), ("agent", f"Sure: {QUESTION}")]
    assert body["velox"]["channel"] == "websocket"

    panel.get_by_role("link", name="Open its call page").click()
    expect(page).to_have_url(re.compile(rf"/calls/view/\?id={conversation_id}$"))
    expect(page.get_by_role("list", name="Transcript")).to_contain_text(QUESTION)
    assert tab.elsewhere() == [], "the page reached beyond the Velox server"
    assert any("/v1/convai/conversation?" in url for url in tab.sockets)


def test_a_manager_chats_with_the_agent_in_text(chromium: Browser, service: VoiceService) -> None:
    tab = signed_in(
        chromium,
        service,
        "noa@acme.test",
        viewport={"width": 820, "height": 1100},
        color_scheme="dark",
    )
    page = tab.page
    page.goto(f"/agents/edit/?id={service.agent_id}")
    panel = page.get_by_role("region", name="Test")

    panel.get_by_role("button", name="Start text chat").click()
    expect(panel.get_by_text("Live: type below")).to_be_visible()
    message = panel.get_by_label("Message to the agent")
    message.fill(TYPED)
    message.press("Enter")
    transcript = panel.get_by_role("list", name="Test transcript")
    expect(transcript).to_contain_text(f"You{TYPED}")
    expect(transcript).to_contain_text(f"AgentSure: {TYPED}")
    expect(panel.get_by_role("meter")).to_have_count(0)
    assert_accessible(page, "Test panel in text chat, dark, 820 px")
    screenshot(page, "agent-test-panel-text-dark-tablet")
    panel.get_by_role("button", name="End", exact=True).click()
    expect(panel.get_by_role("link", name="Open its call page")).to_be_visible()
    assert tab.elsewhere() == []


def test_a_refused_conversation_is_said_in_words(chromium: Browser, service: VoiceService) -> None:
    # The agent stops allowing text-only conversations: the server refuses the chat.
    httpx.patch(
        f"{service.base_url}/v1/convai/agents/{service.agent_id}",
        json={
            "platform_settings": {
                "overrides": {
                    "conversation_config_override": {"conversation": {"text_only": False}}
                }
            }
        },
        headers=service.headers,
    ).raise_for_status()
    tab = signed_in(chromium, service, "ola@acme.test")
    page = tab.page
    page.goto(f"/agents/edit/?id={service.agent_id}")
    panel = page.get_by_role("region", name="Test")

    panel.get_by_role("button", name="Start text chat").click()

    alert = panel.get_by_role("alert")
    expect(alert).to_contain_text("The server refused the conversation")
    expect(alert).to_contain_text("text_only")
    screenshot(page, "agent-test-panel-refused")
    expect(panel.get_by_role("button", name="Start text chat")).to_be_visible()
