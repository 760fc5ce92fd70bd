"""A local stand-in for Twilio's REST Calls resource, for the dialer bench.

`POST .../Calls.json` answers 201 with a call resource in Twilio's format (status `queued`),
as Twilio does, and records when it was asked and which number it was asked to ring; the
workers reach it through the real `twilio` client (`VELOX_TWILIO_API_BASE_URL`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from tests.local_http import QuietHandler, serving


@dataclass
class TwilioDouble:
    base_url: str = ""
    # (wall-clock time, `To`) of every call-create request, in the order they arrived.
    created: list[tuple[float, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, to: str) -> str:
        """Record a call-create request; the new call's CallSid."""
        with self._lock:
            self.created.append((time.time(), to))
            return f"CA{0xB000 + len(self.created):032x}"

    def created_between(self, start: float, end: float) -> int:
        return sum(start <= at < end for at, _ in list(self.created))


def call_resource(account_sid: str, sid: str, to: str, from_: str) -> dict[str, object]:
    return {
        "sid": sid,
        "account_sid": account_sid,
        "to": to,
        "to_formatted": to,
        "from": from_,
        "from_formatted": from_,
        "status": "queued",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "price_unit": "USD",
        "queue_time": "0",
        "date_created": "Sat, 21 Nov 2026 12:00:00 +0000",
        "date_updated": "Sat, 21 Nov 2026 12:00:00 +0000",
        "uri": f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}.json",
        "subresource_uris": {},
    }


@contextmanager
def twilio_double() -> Iterator[TwilioDouble]:
    double = TwilioDouble()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            form = {key: values[0] for key, values in parse_qs(raw).items()}
            if not self.path.endswith("/Calls.json"):
                self._send(404, {"code": 20404, "message": "not found", "status": 404})
                return
            sid = double.record(form.get("To", ""))
            account_sid = self.path.split("/")[3]
            resource = call_resource(account_sid, sid, form.get("To", ""), form.get("From", ""))
            self._send(201, resource)

        def _send(self, code: int, payload: dict[str, object]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(Handler) as base_url:
        double.base_url = base_url
        yield double
