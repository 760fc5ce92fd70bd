"""Calls to Twilio's REST API (outbound calls, transfer, hang-up), through the official client.

The client is synchronous, so every call runs in a worker thread. The API base URL comes
from settings, so tests point the real client at a local server speaking Twilio's format.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app.settings import Settings
from telephony.twilio.twiml import dial

# Seconds to connect to Twilio, and then to wait for its answer.
REQUEST_TIMEOUT_S = 15.0
# Every progress event Twilio can report for an outbound call.
CALL_PROGRESS_EVENTS = ("initiated", "ringing", "answered", "completed")


class TwilioRestError(RuntimeError):
    """Twilio refused or could not be reached; the message says which call and why.

    `status` is Twilio's HTTP status and `code` its error code (21211: invalid `To`, say) when
    Twilio answered; both are None when it could not be reached.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        may_have_reached_twilio: bool = False,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        # True when the request was sent and no answer came back (a read timeout, a reset):
        # Twilio may have acted on it. False when Twilio answered, or was never reached.
        self.may_have_reached_twilio = may_have_reached_twilio


@dataclass(frozen=True, slots=True)
class OutboundCallRequest:
    """What `calls.create` needs: who to ring, from which number, where its TwiML and events go.

    `machine_detection` is Twilio's `MachineDetection` (`Enable` or `DetectMessageEnd`), run
    asynchronously so the conversation starts at once and the verdict arrives at `amd_callback`.
    """

    to: str
    from_: str
    twiml_url: str
    status_callback: str
    timeout_s: int | None = None
    record: bool = False
    machine_detection: str | None = None
    amd_callback: str | None = None


@dataclass(frozen=True, slots=True)
class PlacedCall:
    sid: str
    status: str


class TwilioRest:
    def __init__(self, account_sid: str, auth_token: str, api_base_url: str) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._api_base_url = api_base_url.rstrip("/")

    @property
    def configured(self) -> bool:
        return bool(self._account_sid and self._auth_token)

    def _client(self) -> Client:
        if not self.configured:
            raise TwilioRestError(
                "Twilio credentials are not set: set VELOX_TWILIO_ACCOUNT_SID and "
                "VELOX_TWILIO_AUTH_TOKEN"
            )
        http = TwilioHttpClient(timeout=REQUEST_TIMEOUT_S)
        client = Client(self._account_sid, self._auth_token, http_client=http)
        client.api.base_url = self._api_base_url
        return client

    async def place_call(self, request: OutboundCallRequest) -> PlacedCall:
        """Ask Twilio to dial `request.to`; when answered, Twilio fetches `request.twiml_url`."""
        detection = request.machine_detection

        def create() -> PlacedCall:
            call = self._client().calls.create(
                to=request.to,
                from_=request.from_,
                url=request.twiml_url,
                method="POST",
                status_callback=request.status_callback,
                status_callback_method="POST",
                status_callback_event=list(CALL_PROGRESS_EVENTS),
                timeout=values.unset if request.timeout_s is None else request.timeout_s,
                record=request.record or values.unset,
                machine_detection=detection or values.unset,
                async_amd="true" if detection else values.unset,
                async_amd_status_callback=(request.amd_callback or values.unset)
                if detection
                else values.unset,
                async_amd_status_callback_method="POST" if detection else values.unset,
            )
            return PlacedCall(sid=call.sid or "", status=str(call.status or ""))

        try:
            return await asyncio.to_thread(create)
        except TwilioRestException as error:
            raise TwilioRestError(
                f"Twilio refused the call to {request.to}: {error.msg} (code {error.code})",
                status=error.status,
                code=error.code,
            ) from error
        except TwilioException as error:
            raise TwilioRestError(f"calling {request.to} failed: {error}") from error
        except requests.RequestException as error:
            raise TwilioRestError(
                f"calling {request.to} failed: Twilio could not be reached ({error})",
                may_have_reached_twilio=not _never_sent(error),
            ) from error

    async def redirect_to_dial(self, call_sid: str, phone_number: str) -> None:
        """Replace the live call's TwiML with `<Dial>` to `phone_number`."""
        await self._update(call_sid, twiml=dial(phone_number))

    async def redirect(self, call_sid: str, twiml: str) -> None:
        """Replace the live call's TwiML with `twiml` (a warm transfer's `<Dial>`)."""
        await self._update(call_sid, twiml=twiml)

    async def hang_up(self, call_sid: str) -> None:
        await self._update(call_sid, status="completed")

    async def _update(self, call_sid: str, **changes: str) -> None:
        def update() -> None:
            self._client().calls(call_sid).update(**changes)

        try:
            await asyncio.to_thread(update)
        except (TwilioException, requests.RequestException) as error:
            raise TwilioRestError(f"updating call {call_sid} failed: {error}") from error


def _never_sent(error: requests.RequestException) -> bool:
    """Whether the request surely never reached Twilio (no connection was made)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = error.args[0] if error.args else None
        return "NewConnectionError" in type(getattr(reason, "reason", reason)).__name__
    return False


def twilio_rest(settings: Settings) -> TwilioRest:
    """The REST client for the account in the settings (not `configured` without credentials)."""
    return TwilioRest(
        settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_base_url
    )
