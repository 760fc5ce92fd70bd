"""A local stand-in for Twilio's REST API that answers the Calls resource in Twilio's format."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]
    authorization: str


@dataclass
class TwilioRestDouble:
    base_url: str
    requests: list[RecordedRequest] = field(default_factory=list)


@contextmanager
def twilio_rest_double() -> Iterator[TwilioRestDouble]:
    double = TwilioRestDouble(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            double.requests.append(
                RecordedRequest("POST", self.path, form, self.headers.get("Authorization", ""))
            )
            call_sid = self.path.rsplit("/", 1)[-1].removesuffix(".json")
            body = json.dumps(
                {
                    "sid": call_sid,
                    "account_sid": self.path.split("/")[3],
                    "status": form.get("Status", "in-progress"),
                    "api_version": "2010-04-01",
                    "uri": self.path,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    double.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()
