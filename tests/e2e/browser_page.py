"""Real Chromium holding a conversation through the unmodified `@elevenlabs/client` from npm.

The page in `tests/e2e/browser/` bundles the client with esbuild; this module builds the bundle
when it is missing or older than its sources, serves it over HTTP on 127.0.0.1, launches the
Debian `chromium` (never a downloaded browser), and drives the page's `window.velox` API. Each
callback the client fires is kept in `window.velox.events`. The microphone is either a WAV file
Chromium plays from the moment a page opens it, or the cued microphone (`cued_microphone.js`),
quiet until the test says something into it: a caller who must speak after the agent has
finished is cued, so that a slow start of the page or the greeting cannot put the words over it.
"""

from __future__ import annotations

import base64
import functools
import http.server
import itertools
import json
import shutil
import subprocess
import threading
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_DIR = Path(__file__).parent / "browser"
DIST_DIR = BROWSER_DIR / "dist"
BUNDLE = DIST_DIR / "main.js"
BUNDLE_SOURCES = (
    BROWSER_DIR / "package.json",
    BROWSER_DIR / "package-lock.json",
    BROWSER_DIR / "build.mjs",
    BROWSER_DIR / "page" / "index.html",
    BROWSER_DIR / "page" / "main.js",
)
MICROPHONE_SAMPLE_RATE = 16_000
CUED_MICROPHONE = Path(__file__).parent / "cued_microphone.js"


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, cwd=BROWSER_DIR, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({' '.join(command)}):\n{result.stdout}\n{result.stderr}")


def ensure_bundle() -> Path:
    """The built page's directory; runs `npm ci` and the esbuild build first when out of date."""
    if shutil.which("npm") is None:
        pytest.fail(
            "npm is not installed: apt-get install -y npm (or run scripts/ensure_browser.sh)"
        )
    installed = BROWSER_DIR / "node_modules" / ".package-lock.json"  # npm writes it on install
    lock = BROWSER_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        _run(["npm", "ci", "--no-audit", "--no-fund"], "npm ci in tests/e2e/browser")
    newest_source = max(source.stat().st_mtime for source in BUNDLE_SOURCES)
    built = [BUNDLE, DIST_DIR / "index.html"]
    if (
        not all(path.exists() for path in built)
        or min(path.stat().st_mtime for path in built) < newest_source
    ):
        _run(["npm", "run", "--silent", "build"], "the esbuild bundle of tests/e2e/browser/page")
    return DIST_DIR


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve `directory` over HTTP on 127.0.0.1 until the block ends; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def write_microphone_wav(path: Path, pcm16: bytes) -> Path:
    """PCM16 16 kHz mono as the 16-bit PCM WAV Chromium's fake microphone plays."""
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(MICROPHONE_SAMPLE_RATE)
        writer.writeframes(pcm16)
    return path


def launch_chromium(playwright: Playwright, microphone_wav: Path | None = None) -> Browser:
    """Headless Debian Chromium. With `microphone_wav`, microphone permission is granted and
    the microphone plays the file once when a page opens it; without, a context that needs a
    microphone installs the cued one (`use_cued_microphone`), which asks no permission."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/ensure_browser.sh (apt-get install -y chromium)"
        )
    microphone = (
        []
        if microphone_wav is None
        else [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone_wav}%noloop",
        ]
    )
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*microphone, "--autoplay-policy=no-user-gesture-required"],
    )


def use_cued_microphone(context: BrowserContext) -> None:
    """Every page of `context` gets a microphone that is quiet until `say` (`cued_microphone.js`):
    the test speaks when the agent has finished, not at a time counted from the page's start."""
    context.add_init_script(path=str(CUED_MICROPHONE))


def say(
    page: Page,
    pcm16: bytes,
    sample_rate: int = MICROPHONE_SAMPLE_RATE,
    *,
    until_played: bool = True,
) -> None:
    """Speak PCM16 mono into the page's cued microphone; returns once it has played, or at once
    (`until_played=False`) for a test that watches the page meanwhile."""
    script = (
        "([audio, rate]) => window.veloxMicrophone.say(audio, rate)"
        if until_played
        else "([audio, rate]) => { window.veloxMicrophone.say(audio, rate); }"
    )
    page.evaluate(script, [base64.b64encode(pcm16).decode("ascii"), sample_rate])


class ConversationPage:
    """The test page in one browser tab: start a session, watch its callbacks, end it."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        page.goto(f"{base_url}/index.html")
        page.wait_for_function("() => window.velox !== undefined", timeout=10_000)

    def start(
        self,
        *,
        agent_id: str | None = None,
        origin: str | None = None,
        signed_url: str | None = None,
    ) -> str:
        """`Conversation.startSession` over WebSocket; the conversation id it resolves to."""
        options = {"agentId": agent_id, "origin": origin, "signedUrl": signed_url}
        conversation_id: str = self.page.evaluate("options => window.velox.start(options)", options)
        return conversation_id

    def start_refused(self, *, signed_url: str) -> dict[str, Any]:
        """Start a session that must fail; the error `startSession` rejected with."""
        try:
            self.page.evaluate("options => window.velox.start(options)", {"signedUrl": signed_url})
        except PlaywrightError:
            failures = self.events("startFailed")
            assert failures, f"startSession failed without reporting why; {self.describe()}"
            return failures[-1]
        raise AssertionError(f"the session started; {self.describe()}")

    def end(self) -> None:
        """`endSession()`, awaited."""
        self.page.evaluate("() => window.velox.end()")

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Callback records (`{kind, data, at_ms}`'s data), oldest first, of one kind or all."""
        recorded: list[dict[str, Any]] = self.page.evaluate("() => window.velox.events")
        if kind is None:
            return recorded
        return [event["data"] for event in recorded if event["kind"] == kind]

    def messages(self) -> list[tuple[str, str]]:
        """Every `onMessage` as (source, message)."""
        return [(m["source"], m["message"]) for m in self.events("message")]

    def status(self) -> str:
        status: str = self.page.evaluate("() => window.velox.status()")
        return status

    def max_output_volume(self) -> float:
        """The loudest `getOutputVolume()` sampled while connected (0 to 1)."""
        volume: float = self.page.evaluate("() => window.velox.maxOutputVolume()")
        return volume

    def wait_for(self, what: str, predicate: str, timeout_s: float) -> None:
        """Wait until the JS `predicate(events)` (over the records) holds, or fail naming `what`."""
        script = f"() => ({predicate})(window.velox.events)"
        try:
            self.page.wait_for_function(script, timeout=timeout_s * 1000, polling=50)
        except PlaywrightTimeoutError:
            raise AssertionError(f"timed out waiting for {what}; {self.describe()}") from None

    def describe(self) -> str:
        """The callbacks so far (each run of `onAudio` on one line) and the console."""
        recorded = self.events()
        vad_scores = sum(1 for event in recorded if event["kind"] == "vadScore")
        lines: list[str] = []
        shown = (event for event in recorded if event["kind"] != "vadScore")
        for is_audio, run in itertools.groupby(shown, key=lambda event: event["kind"] == "audio"):
            events = list(run)
            if is_audio:
                first, last = events[0]["at_ms"], events[-1]["at_ms"]
                lines.append(f"  {first:9.0f} ms audio: {len(events)} chunks until {last:.0f} ms")
                continue
            lines.extend(
                f"  {e['at_ms']:9.0f} ms {e['kind']}: {json.dumps(e['data'])}" for e in events
            )
        lines.append(f"  ({vad_scores} onVadScore calls)")
        console = "\n".join(f"  {line}" for line in self.console[-20:])
        return "callbacks:\n" + "\n".join(lines) + "\nconsole:\n" + console
