"""The dashboard bench's marks in real Chromium: a call page is interactive only once its whole
transcript is painted and its player is ready, whichever player the page has."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from bench.dashboard_browser import CALL_INTERACTIVE, watch_script
from tests.e2e.dashboard_app import launch

pytestmark = pytest.mark.e2e

# Three transcript lines, the third added after 200 ms; a player that declares itself ready
# after 400 ms, as a waveform player does once it has decoded the file.
DECLARED_PLAYER = """
<div data-player-ready="false" id="player"></div>
<ol aria-label="Transcript"><li>Agent: hello</li><li>Caller: hi</li></ol>
<script>
  setTimeout(() => {
    const line = document.createElement('li');
    line.textContent = 'Agent: how can I help?';
    document.querySelector('ol').append(line);
  }, 200);
  setTimeout(() => document.getElementById('player').setAttribute('data-player-ready', 'true'),
             400);
</script>
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def test_a_declared_player_is_ready_when_it_says_so_and_not_before(browser: Browser) -> None:
    page = browser.new_page()
    page.add_init_script(watch_script(expected_lines=3))
    page.goto("about:blank")
    page.set_content(DECLARED_PLAYER)

    page.wait_for_function(CALL_INTERACTIVE, timeout=5000)
    marks = page.evaluate("() => window.__bench")
    page.close()

    assert marks["playerKind"] == "declared"
    assert marks["transcriptPainted"] >= marks["transcriptInserted"]
    assert marks["playerReady"] - marks["transcriptInserted"] >= 150  # 400 ms vs 200 ms


def test_an_incomplete_transcript_is_not_interactive(browser: Browser) -> None:
    page = browser.new_page()
    page.add_init_script(watch_script(expected_lines=4))
    page.goto("about:blank")
    page.set_content(DECLARED_PLAYER)

    page.wait_for_timeout(800)
    marks = page.evaluate("() => window.__bench")
    interactive = page.evaluate(CALL_INTERACTIVE)
    page.close()

    assert marks["playerReady"] > 0
    assert "transcriptInserted" not in marks
    assert interactive is False
