"""The dashboard's pages timed in Debian Chromium (headless, 1280 × 900), signed in as the
support lead.

Every time is `performance.now()` in the page: milliseconds from the navigation's start. An init
script, installed before the page's own scripts, watches the document with a MutationObserver
and notes when what is measured first appears; "painted" is the first moment after the frame
that drew it (a message posted from that frame's `requestAnimationFrame` callback is delivered
once the frame is painted).

- Calls page: the first row of the calls table (`table tbody tr`) painted.
- Call page: interactive when both (a) every line of the transcript is painted (the list named
  "Transcript" holds as many items as the call has turns) and (b) the player is ready. A page
  whose player declares itself (any element with `data-player-ready`) is ready when that
  attribute turns "true"; a page with a plain `<audio>` element is ready at its
  `loadedmetadata` event: the duration is known, so the controls play and seek (by Range
  requests) and a transcript line can seek it. Its `canplay` is noted beside when it comes.

Cold: a new browser context (empty HTTP cache, only the session cookie), so every script is
fetched. Warm: the same URL opened again in that context, scripts from the HTTP cache
(`/_next/static/` is served immutable). The database is warm in both: the runs follow each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, ViewportSize

VIEWPORT = ViewportSize(width=1280, height=900)
TIMEOUT_MS = 60_000

_WATCH = """
(() => {
  const marks = {};
  window.__bench = marks;
  const afterPaint = (key) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => { marks[key] = performance.now(); };
    channel.port2.postMessage(null);
  });
  const note = (key) => {
    if (marks[key] === undefined) marks[key] = performance.now();
  };
  const expectedLines = __EXPECTED_LINES__;
  const look = () => {
    if (marks.rowsInserted === undefined && document.querySelector('table tbody tr')) {
      note('rowsInserted');
      afterPaint('rowsPainted');
    }
    if (expectedLines > 0 && marks.transcriptInserted === undefined) {
      const list = document.querySelector('[aria-label="Transcript"]');
      if (list && list.querySelectorAll('li').length >= expectedLines) {
        note('transcriptInserted');
        afterPaint('transcriptPainted');
      }
    }
    const declared = document.querySelectorAll('[data-player-ready]');
    if (declared.length > 0) {
      marks.playerKind = 'declared';
      if ([...declared].some((el) => el.getAttribute('data-player-ready') === 'true')) {
        note('playerReady');
      }
    }
  };
  const watch = {subtree: true, childList: true, attributes: true,
                 attributeFilter: ['data-player-ready']};
  new MutationObserver(look).observe(document, watch);
  document.addEventListener('loadedmetadata', (event) => {
    if (event.target instanceof HTMLMediaElement) {
      marks.duration = event.target.duration;
      if (marks.playerKind !== 'declared') {
        marks.playerKind = 'audio';
        note('playerReady');
      }
    }
  }, true);
  document.addEventListener('canplay', (event) => {
    if (event.target instanceof HTMLMediaElement) note('canplay');
  }, true);
})();
"""
ROWS_PAINTED = "() => window.__bench && window.__bench.rowsPainted !== undefined"
CALL_INTERACTIVE = (
    "() => window.__bench && window.__bench.transcriptPainted !== undefined"
    " && window.__bench.playerReady !== undefined"
)
# Where the time went: the document's DOMContentLoaded, and each API request (its path, when it
# was sent and when its answer ended), from the same clock; the scripts fetched so far.
_TIMELINE = """() => {
  const navigation = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  return {
    domContentLoaded: navigation ? navigation.domContentLoadedEventEnd : null,
    api: resources.filter((entry) => new URL(entry.name).pathname.startsWith('/v1/'))
      .map((entry) => ({path: new URL(entry.name).pathname, sent: entry.startTime,
                        answered: entry.responseEnd})),
    scripts: resources.filter((entry) => new URL(entry.name).pathname.endsWith('.js'))
      .map((entry) => ({transfer: entry.transferSize, decoded: entry.decodedBodySize})),
  };
}"""


@dataclass
class Sample:
    ms: float  # the figure: rows painted, or interactive
    marks: dict[str, Any]
    rows: int = 0
    scripts: int = 0
    script_transfer_bytes: int = 0  # the scripts fetched by then, as sent
    script_decoded_bytes: int = 0  # and as run


@dataclass
class PageTimes:
    name: str
    url: str
    cold: list[Sample] = field(default_factory=list)
    warm: list[Sample] = field(default_factory=list)


def watch_script(expected_lines: int = 0) -> str:
    return _WATCH.replace("__EXPECTED_LINES__", json.dumps(expected_lines))


def signed_in_state(browser: Browser, base_url: str, email: str, password: str) -> Any:
    """Sign in through the dashboard's form; the context's cookies, to start others from."""
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto("/sign-in/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Account menu").wait_for()
        return context.storage_state()
    finally:
        context.close()


def _open(page: Page, url: str, ready: str, pick: str) -> Sample:
    page.goto(url, wait_until="commit")
    try:
        page.wait_for_function(ready, timeout=TIMEOUT_MS)
    except Exception as error:  # what the page showed says why
        text = page.locator("main").inner_text(timeout=5000) if page.locator("main").count() else ""
        raise RuntimeError(
            f"{url} never got ready: {error}; the page said: {text[:300]}"
        ) from error
    marks: dict[str, Any] = page.evaluate("() => window.__bench")
    if pick == "interactive":
        figure = max(float(marks["transcriptPainted"]), float(marks["playerReady"]))
    else:
        figure = float(marks[pick])
    timeline: dict[str, Any] = page.evaluate(_TIMELINE)
    marks["domContentLoaded"] = timeline["domContentLoaded"]
    for request in timeline["api"]:  # the first request to each path
        marks.setdefault(f"sent {request['path']}", request["sent"])
        marks.setdefault(f"answered {request['path']}", request["answered"])
    scripts = timeline["scripts"]
    return Sample(
        ms=figure,
        marks=marks,
        rows=page.locator("table tbody tr").count(),
        scripts=len(scripts),
        script_transfer_bytes=sum(int(entry["transfer"]) for entry in scripts),
        script_decoded_bytes=sum(int(entry["decoded"]) for entry in scripts),
    )


def time_page(
    browser: Browser,
    base_url: str,
    state: Any,
    times: PageTimes,
    runs: int,
    *,
    expected_lines: int = 0,
    screenshot: Path | None = None,
) -> PageTimes:
    """`runs` cold openings of `times.url`, each followed by one warm opening."""
    ready, pick = (
        (CALL_INTERACTIVE, "interactive") if expected_lines else (ROWS_PAINTED, "rowsPainted")
    )
    for run in range(runs):
        context = browser.new_context(
            base_url=base_url,
            viewport=VIEWPORT,
            storage_state=state,
        )
        try:
            page = context.new_page()
            page.add_init_script(watch_script(expected_lines))
            times.cold.append(_open(page, times.url, ready, pick))
            times.warm.append(_open(page, times.url, ready, pick))
            if screenshot is not None and run == 0:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot))
        finally:
            context.close()
    return times
