"""Waiting in a browser page for a script's condition, under Velox's Content Security Policy.

Playwright's `wait_for_function` compiles its predicate inside the page (`new Function`), which a
policy without `'unsafe-eval'` (Velox's, app/api/security_headers.py) refuses. `page.evaluate`
runs through the DevTools protocol, which the page's policy does not govern: `wait_until` polls
with it instead.
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page


def wait_until(
    page: Page, expression: str, *, timeout_ms: float = 30_000, polling_ms: float = 50
) -> Any:
    """Evaluate `expression` (a JS expression or function) until it is truthy; its value.
    AssertionError naming it when `timeout_ms` passes first."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression!r} (last value {value!r})")
        time.sleep(polling_ms / 1000)
