"""The field app's speed, in Debian Chromium with a phone's profile (Pixel 7).

Shell: the app opened again from its warm service worker with the CPU throttled 4× (DevTools
protocol) over a network shaped like Lighthouse's Slow 4G (a proxy between the phone and Velox
adds the latency and the bandwidth, so the service worker's own requests are slowed too); the
time from navigation to Today shown with its leads, which is when the app answers a tap.
Reconnect: a call with an agent whose network drops every connection and stays down; from the
moment the network returns to the microphone's audio reaching the server again on the resumed
conversation, on a fast local network and on Slow 4G.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from app.config.agent import AgentConfig
from bench.feel_report import engine_version
from bench.sections import FIELD_APP, splice_section
from tests.audio_samples import silence
from tests.cuttable_network import SLOW_4G, CuttableNetwork, cuttable_network
from tests.e2e.browser_page import CHROMIUM, write_microphone_wav
from tests.e2e.field_team import AGENT_EMAIL, PASSWORD, FieldTeam, ensure_build, field_team
from tests.e2e.voice_service import voice_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech

SECTION = FIELD_APP
TARGET_SHELL_S = 1.5
TARGET_RECONNECT_S = 2.0
CPU_SLOWDOWN = 4
# When each socket of the page sent its first microphone audio (wall clock, ms). The app only
# sends audio once the server has handed it the conversation, so the first piece the proxy
# delivers on that connection after this moment is that audio.
FIRST_AUDIO_SENDS = """
(() => {
  const send = WebSocket.prototype.send;
  const seen = new WeakSet();
  window.__firstAudio = [];
  WebSocket.prototype.send = function (data) {
    if (!seen.has(this) && typeof data === 'string' && data.startsWith('{"user_audio_chunk"')) {
      seen.add(this);
      window.__firstAudio.push(performance.timeOrigin + performance.now());
    }
    return send.call(this, data);
  };
})();
"""
TODAY_SHOWN = """
(() => {
  const seen = () => {
    const heading = [...document.querySelectorAll('h1')].some(h => h.textContent === 'Today');
    if (heading && document.body.textContent.includes('Maria Lopez') && !window.__todayAt) {
      window.__todayAt = performance.now();
    }
  };
  const watch = {subtree: true, childList: true, characterData: true};
  new MutationObserver(seen).observe(document, watch);
})();
"""


@dataclass
class FieldAppSpeed:
    shell_s: list[float] = field(default_factory=list)
    reconnect_s: dict[str, list[float]] = field(default_factory=dict)


def _sign_in(page: Page, team: FieldTeam) -> None:
    page.goto(team.url)
    page.get_by_label("Email").fill(AGENT_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Maria Lopez").first.wait_for()
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    if page.evaluate("() => navigator.serviceWorker.controller === null"):
        page.reload()
        page.get_by_text("Maria Lopez").first.wait_for()


def measure_shell(page: Page, network: CuttableNetwork, reloads: int) -> list[float]:
    """Seconds from navigation to Today with its leads, warm service worker, slowed phone."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    network.shape = SLOW_4G
    times = []
    try:
        for _ in range(reloads):
            page.reload(wait_until="commit")
            page.wait_for_function("() => window.__todayAt !== undefined", timeout=30_000)
            times.append(page.evaluate("() => window.__todayAt") / 1000)
    finally:
        network.shape = None
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    return times


def measure_reconnects(
    page: Page, team: FieldTeam, network: CuttableNetwork, drops: int, down_s: float
) -> list[float]:
    """Seconds from the network's return to microphone audio reaching the server again."""
    notice = page.locator(".call-notice")
    conversation_id = notice.get_attribute("data-conversation-id")
    wall_minus_monotonic = time.time() - time.monotonic()
    times = []
    for _ in range(drops):
        page.wait_for_timeout(1500)
        sends_before = page.evaluate("() => window.__firstAudio.length")
        back_at = network.cut(down_for_s=down_s)
        page.get_by_text("Connection lost — reconnecting…").wait_for(timeout=10_000)
        page.get_by_text("Reconnected").wait_for(timeout=30_000)
        page.wait_for_function(f"() => window.__firstAudio.length > {sends_before}")
        sent_ms = page.evaluate("() => window.__firstAudio.at(-1)")
        sent_at = sent_ms / 1000 - wall_minus_monotonic
        newest = network.connections
        deadline = time.monotonic() + 10
        while not (
            delivered := [
                at
                for at, connection, _ in list(network.sent)
                if connection == newest and at >= sent_at
            ]
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("the resumed socket's audio never reached the server")
            page.wait_for_timeout(20)
        times.append(delivered[0] - back_at)
        assert notice.get_attribute("data-conversation-id") == conversation_id
    return times


def run(reloads: int, drops: int, down_s: float) -> FieldAppSpeed:
    ensure_build()
    speed = FieldAppSpeed()
    with tempfile.TemporaryDirectory(prefix="velox-field-bench-") as folder:
        tmp = Path(folder)
        config = AgentConfig(name="Field desk")
        config.conversation_config.agent.first_message = "Hi {{name}}."
        # The microphone is quiet for the whole run: no re-prompts, no hang-up for silence.
        config.conversation_config.turn.turn_timeout = -1
        config.conversation_config.turn.silence_end_call_timeout = -1
        with voice_service(
            tmp,
            config=config,
            stt=ScriptedSpeechToText([]),
            llm=ScriptedLanguageModel(lambda messages: "Noted."),
            tts=ToneTextToSpeech(ms_per_char=8.0),
        ) as service:
            team = field_team(service)
            port = int(service.base_url.rsplit(":", 1)[1])
            wav = write_microphone_wav(tmp / "quiet.wav", silence(600.0))
            with cuttable_network(port) as network, sync_playwright() as playwright:
                team.base_url = network.base_url
                context = _phone(playwright, tmp / "profile", wav)
                try:
                    page = context.new_page()
                    page.add_init_script(TODAY_SHOWN)
                    page.add_init_script(FIRST_AUDIO_SENDS)
                    _sign_in(page, team)
                    speed.shell_s = measure_shell(page, network, reloads)
                    page.get_by_text("Maria Lopez").first.click()
                    page.get_by_role("button", name="Talk to an AI agent about this lead").click()
                    page.get_by_role("button", name="Talk to Field desk").click()
                    page.get_by_text("Connected").wait_for(timeout=20_000)
                    speed.reconnect_s["local"] = measure_reconnects(
                        page, team, network, drops, down_s
                    )
                    network.shape = SLOW_4G
                    speed.reconnect_s["Slow 4G"] = measure_reconnects(
                        page, team, network, drops, down_s
                    )
                    network.shape = None
                finally:
                    context.close()
    return speed


def _phone(playwright: Playwright, profile: Path, wav: Path) -> BrowserContext:
    device = {k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"}
    return playwright.chromium.launch_persistent_context(
        profile,
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}%noloop",
            "--autoplay-policy=no-user-gesture-required",
        ],
        **device,
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def render(speed: FieldAppSpeed, *, started: str, command: str, engine: str, down_s: float) -> str:
    shell_p50, shell_p95 = statistics.median(speed.shell_s), _p95(speed.shell_s)
    rows = []
    verdicts = []
    for name, values in speed.reconnect_s.items():
        worst = max(values)
        rows.append(
            f"| {name} | {len(values)} | {statistics.median(values):.2f} | "
            f"{_p95(values):.2f} | {worst:.2f} |"
        )
        verdicts.append(
            f"| speech flowing again ≤ {TARGET_RECONNECT_S:.0f} s after the network returns "
            f"({name}, worst of {len(values)}) | {worst:.2f} s | "
            f"{'met' if worst <= TARGET_RECONNECT_S else '**missed**'} |"
        )
    return "\n".join(
        [
            f"<!-- {SECTION}:begin -->",
            "## 9. Field app: shell and reconnect",
            "",
            f"Generated by `{command}` on {started} ({engine}). Debian Chromium, headless, "
            f"Pixel 7 profile; the phone reaches Velox through a proxy that stands for the "
            f"network. Slow 4G: {SLOW_4G.rtt_ms} ms round trip, {SLOW_4G.down_kbps:.0f} kbit/s "
            f"down, {SLOW_4G.up_kbps:.0f} kbit/s up (Lighthouse's, as DevTools applies it).",
            "",
            f"Shell from a warm service worker, CPU throttled {CPU_SLOWDOWN}×, Slow 4G: Today "
            f"with its leads on screen after {shell_p50:.2f} s (p50), {shell_p95:.2f} s (p95), "
            f"{max(speed.shell_s):.2f} s (worst) over {len(speed.shell_s)} openings.",
            "",
            f"Reconnect: every connection cut, the network down for {down_s:.1f} s, then back; "
            "seconds from its return to the microphone's audio reaching the server on the "
            "resumed conversation:",
            "",
            "| network | drops | p50 | p95 | worst |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "| target | measured | verdict |",
            "|---|---|---|",
            f"| app shell interactive ≤ {TARGET_SHELL_S} s (CPU 4×, Slow 4G, warm service "
            f"worker; p95) | {shell_p95:.2f} s | "
            f"{'met' if shell_p95 <= TARGET_SHELL_S else '**missed**'} |",
            *verdicts,
            f"<!-- {SECTION}:end -->",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.field_app", description=__doc__)
    parser.add_argument("--reloads", type=int, default=10)
    parser.add_argument("--drops", type=int, default=10)
    parser.add_argument("--down-s", type=float, default=3.0)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    speed = run(args.reloads, args.drops, args.down_s)
    text = render(
        speed,
        started=started,
        command="python -m bench.field_app " + " ".join(argv or sys.argv[1:]),
        engine=engine_version(),
        down_s=args.down_s,
    )
    print(text)
    existing = args.output.read_text() if args.output.exists() else "# Velox benchmark results\n"
    args.output.write_text(splice_section(existing, text, SECTION))
    return 0


if __name__ == "__main__":
    sys.exit(main())
