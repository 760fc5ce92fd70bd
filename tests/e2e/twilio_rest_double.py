"""A local stand-in for Twilio's REST API that answers the Calls resource in Twilio's format.

`POST .../Calls.json` creates a call (201 and the call resource, status `queued`), or refuses it
as Twilio does (400 with Twilio's error body) for a number listed in `refuse`;
`POST .../Calls/{Sid}.json` updates one; `run_warm_transfer` then does what Twilio does with a
warm transfer's TwiML (its `<Play>`, `<Dial><Number url>` whisper). Forms are recorded as the
`twilio` client sent them (repeated fields such as `StatusCallbackEvent` keep every value in
`lists`).
"""

from __future__ import annotations

import itertools
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx

from tests.local_http import QuietHandler, serving


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]
    authorization: str
    lists: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class TwilioRestDouble:
    base_url: str
    requests: list[RecordedRequest] = field(default_factory=list)
    # Numbers whose call Twilio refuses: `To` → (error code, message).
    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)
    # Seconds Twilio takes to answer a call-create request (a slow API, or a dial to kill midway).
    create_delay_s: float = 0.0

    @property
    def created(self) -> list[RecordedRequest]:
        """The call-create requests, in order."""
        return [r for r in self.requests if r.path.endswith("/Calls.json")]


_sids = (f"CA{n:032x}" for n in itertools.count(0xA000))


def _call_resource(
    account_sid: str, sid: str, form: dict[str, str], status: str
) -> dict[str, object]:
    return {
        "sid": sid,
        "account_sid": account_sid,
        "parent_call_sid": None,
        "to": form.get("To", ""),
        "to_formatted": form.get("To", ""),
        "from": form.get("From", ""),
        "from_formatted": form.get("From", ""),
        "phone_number_sid": None,
        "status": status,
        "start_time": None,
        "end_time": None,
        "duration": None,
        "price": None,
        "price_unit": "USD",
        "direction": "outbound-api",
        "answered_by": None,
        "api_version": "2010-04-01",
        "forwarded_from": None,
        "caller_name": None,
        "queue_time": "0",
        "trunk_sid": None,
        "date_created": "Sat, 21 Nov 2026 12:00:00 +0000",
        "date_updated": "Sat, 21 Nov 2026 12:00:00 +0000",
        "uri": f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}.json",
        "subresource_uris": {},
    }


@contextmanager
def twilio_rest_double() -> Iterator[TwilioRestDouble]:
    double = TwilioRestDouble(base_url="")

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            lists = parse_qs(raw)
            form = {k: v[0] for k, v in lists.items()}
            double.requests.append(
                RecordedRequest(
                    "POST", self.path, form, self.headers.get("Authorization", ""), lists
                )
            )
            account_sid = self.path.split("/")[3]
            if self.path.endswith("/Calls.json"):
                time.sleep(double.create_delay_s)
                refused = double.refuse.get(form.get("To", ""))
                if refused is not None:
                    code, message = refused
                    error = {
                        "code": code,
                        "message": message,
                        "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": 400,
                    }
                    self._send(400, error)
                    return
                self._send(201, _call_resource(account_sid, next(_sids), form, "queued"))
                return
            call_sid = self.path.rsplit("/", 1)[-1].removesuffix(".json")
            status = form.get("Status", "in-progress")
            self._send(200, _call_resource(account_sid, call_sid, form, status))

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


@dataclass
class WarmTransferHeard:
    """What each side heard of a warm transfer, as Twilio runs its TwiML."""

    dialled: str
    caller_audio: bytes | None  # the WAV the caller heard while it rang
    whisper_twiml: str
    summary_audio: bytes  # the WAV the person heard before the caller was joined


def run_warm_transfer(
    twiml: str, sign: Callable[[str, dict[str, str]], str], call_sid: str
) -> WarmTransferHeard:
    """Do what Twilio does with a warm transfer's TwiML: fetch the `<Play>` audio for the
    caller, dial the `<Number>`, and when the person answers POST its `url` (signed, with the
    new leg's form) and play the `<Play>` of the TwiML it answers on their leg."""
    document = ET.fromstring(twiml)
    play = document.find("./Play")
    number = document.find("./Dial/Number")
    assert number is not None, twiml
    assert number.text, twiml
    caller_audio = httpx.get(play.text or "").content if play is not None else None
    whisper_url = number.attrib["url"]
    assert number.attrib.get("method", "POST") == "POST"
    form = {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": "CA" + "f" * 32,
        "ParentCallSid": call_sid,
        "To": number.text,
        "CallStatus": "in-progress",
        "Direction": "outbound-dial",
    }
    answer = httpx.post(
        whisper_url, data=form, headers={"X-Twilio-Signature": sign(whisper_url, form)}
    )
    answer.raise_for_status()
    whisper = ET.fromstring(answer.text).find("./Play")
    assert whisper is not None, answer.text
    assert whisper.text, answer.text
    summary = httpx.get(whisper.text)
    summary.raise_for_status()
    assert summary.headers["content-type"] == "audio/wav"
    return WarmTransferHeard(number.text, caller_audio, answer.text, summary.content)
