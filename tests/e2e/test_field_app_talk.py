"""Talking to an AI agent from the field app, in Debian Chromium with a phone's profile and a
WAV file as its microphone, against a real Velox server reached through a network that drops.

The agent greets the lead by name (the lead's details went as dynamic variables), hears the
microphone's question and answers it; then the network drops every connection and stays down
for a moment: the app says it is reconnecting, takes the same conversation back when the
network returns, and the second question flows on. The saved conversation is one continuous
conversation with one greeting. Screenshots of the Talk screen are written to `screens/`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from app.config.agent import AgentConfig
from app.providers.base import ChatMessage
from tests.audio_samples import silence
from tests.cuttable_network import CuttableNetwork, cuttable_network
from tests.e2e.browser_page import CHROMIUM, write_microphone_wav
from tests.e2e.field_team import AGENT_EMAIL, PASSWORD, FieldTeam, ensure_build, field_team
from tests.e2e.voice_service import VoiceService, voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech
from tests.models.spoken import speak

pytestmark = pytest.mark.e2e

AGENT_NAME = "Field desk"
GREETING = "Hi {{name}}, this is the field desk."
QUESTION = "What did Maria order last time?"
SECOND = "Please book her for Friday."
# The microphone: quiet through the greeting, the question, a long pause (the network drops in
# it and comes back), the second question, then quiet.
BEFORE_QUESTION_S = 4.0
PAUSE_S = 10.0
DOWN_S = 1.5


def reply(messages: list[ChatMessage]) -> str:
    return f"Noted: {messages[-1].content}"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceService]:
    ensure_build()
    config = AgentConfig(name=AGENT_NAME)
    config.conversation_config.agent.first_message = GREETING
    config.conversation_config.turn.turn_timeout = 30.0  # no "are you still there?" in the pause
    with voice_service(
        tmp_path_factory.mktemp("talk_server"),
        config=config,
        stt=ScriptedSpeechToText([QUESTION, SECOND]),
        llm=ScriptedLanguageModel(reply),
        tts=ToneTextToSpeech(ms_per_char=8.0),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def team(service: VoiceService) -> FieldTeam:
    return field_team(service)


@pytest.fixture
def network(service: VoiceService, team: FieldTeam) -> Iterator[CuttableNetwork]:
    with cuttable_network(int(service.base_url.rsplit(":", 1)[1])) as proxy:
        team.base_url = proxy.base_url
        yield proxy


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[BrowserContext]:
    """A Pixel 7 whose microphone plays the two questions once."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure_browser.sh")
    speech = (
        silence(BEFORE_QUESTION_S)
        + speak(QUESTION)
        + silence(PAUSE_S)
        + speak(SECOND)
        + silence(30.0)
    )
    wav = write_microphone_wav(tmp_path / "microphone.wav", speech)
    with sync_playwright() as playwright:
        device = {
            k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"
        }
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={wav}%noloop",
                "--autoplay-policy=no-user-gesture-required",
            ],
            **device,
            color_scheme="dark",
        )
        try:
            yield context
        finally:
            context.close()


def line(page: Page, text: str) -> None:
    page.locator(".transcript li", has_text=text).first.wait_for(timeout=20_000)


def loudest_until(page: Page, text: str, timeout_s: float = 20.0) -> int:
    """The microphone meter's highest reading until the transcript shows `text`."""
    meter = page.get_by_role("meter", name="Microphone level")
    done = page.locator(".transcript li", has_text=text)
    loudest = 0
    deadline = time.monotonic() + timeout_s
    while done.count() == 0:
        assert time.monotonic() < deadline, f"{text!r} never appeared in the transcript"
        loudest = max(loudest, int(meter.get_attribute("aria-valuenow") or 0))
        page.wait_for_timeout(50)
    return loudest


def notice(page: Page) -> str:
    return page.locator(".call-notice").inner_text()


def test_talk_survives_the_network_dropping_as_one_conversation(
    phone: BrowserContext,
    team: FieldTeam,
    network: CuttableNetwork,
    service: VoiceService,
    tmp_path: Path,
) -> None:
    screens = tmp_path / "screens"
    screens.mkdir()
    page = phone.new_page()
    page.goto(team.url)
    page.get_by_label("Email").fill(AGENT_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Maria Lopez").first.click()
    page.get_by_role("button", name="Talk to an AI agent about this lead").click()
    start = page.get_by_role("button", name=f"Talk to {AGENT_NAME}")
    start.wait_for()
    page.screenshot(path=screens / "1-talk-ready.png", full_page=True)
    start.click()

    line(page, "Hi Maria Lopez, this is the field desk.")  # the lead's name went as a variable
    assert notice(page) == "Connected"
    processing = page.get_by_test_id("processing").inner_text()
    assert "Echo cancellation on" in processing, processing
    conversation_id = page.locator(".call-notice").get_attribute("data-conversation-id")
    assert conversation_id

    # The meter moves while the microphone speaks; the agent hears the words.
    assert loudest_until(page, QUESTION) > 30
    line(page, f"Noted: {QUESTION}")
    page.screenshot(path=screens / "2-talk-in-call.png", full_page=True)
    # The answer has played (what the lead did not hear is not kept), then the network drops.
    speaking = page.get_by_text("Agent speaking")
    with contextlib.suppress(PlaywrightTimeoutError):  # it may have played already
        speaking.wait_for(state="visible", timeout=2_000)
    speaking.wait_for(state="hidden", timeout=10_000)

    network.cut(down_for_s=DOWN_S)
    page.get_by_text("Connection lost — reconnecting…").wait_for(timeout=5_000)
    page.screenshot(path=screens / "3-talk-reconnecting.png", full_page=True)
    page.get_by_text("Reconnected").wait_for(timeout=DOWN_S * 1000 + 5_000)
    assert page.locator(".call-notice").get_attribute("data-conversation-id") == conversation_id

    line(page, SECOND)  # speech flows again on the resumed conversation
    line(page, f"Noted: {SECOND}")
    # Heard to its end before the call ends: the transcript keeps what the lead heard, and an
    # answer ended mid-sentence is kept as far as it played (here: none of it, had the test
    # hung up at once — the line shows when the words are known, before they play).
    with contextlib.suppress(PlaywrightTimeoutError):
        speaking.wait_for(state="visible", timeout=2_000)
    speaking.wait_for(state="hidden", timeout=10_000)
    page.get_by_role("button", name="Mute").click()
    assert page.get_by_role("button", name="Unmute").get_attribute("aria-pressed") == "true"
    page.screenshot(path=screens / "4-talk-resumed-muted.png", full_page=True)
    page.get_by_role("button", name="End call").click()
    page.get_by_text("You ended the call.").wait_for()
    page.get_by_role("button", name="Record the outcome").wait_for()
    page.screenshot(path=screens / "5-talk-ended.png", full_page=True)

    body = service.ended_conversation(conversation_id, timeout=10.0)
    said = [(t["role"], t["message"]) for t in body["transcript"]]
    assert said == [
        ("agent", "Hi Maria Lopez, this is the field desk."),
        ("user", QUESTION),
        ("agent", f"Noted: {QUESTION}"),
        ("user", SECOND),
        ("agent", f"Noted: {SECOND}"),
    ]
    kinds = [event["kind"] for event in body["velox"]["events"]]
    assert kinds.count("connection_lost") == 1
    assert kinds.index("connection_lost") < kinds.index("connection_resumed")
    assert network.cuts == 1
