"""Calls to Twilio's REST API (transfer, hang-up), through the official client.

The client is synchronous, so every call runs in a worker thread. The API base URL comes
from settings, so tests point the real client at a local server speaking Twilio's format.
"""

from __future__ import annotations

import asyncio

from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from telephony.twilio.twiml import dial


class TwilioRestError(RuntimeError):
    """Twilio refused or could not be reached; the message says which call and why."""


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
        client = Client(self._account_sid, self._auth_token)
        client.api.base_url = self._api_base_url
        return client

    async def redirect_to_dial(self, call_sid: str, phone_number: str) -> None:
        """Replace the live call's TwiML with `<Dial>` to `phone_number`."""
        await self._update(call_sid, twiml=dial(phone_number))

    async def hang_up(self, call_sid: str) -> None:
        await self._update(call_sid, status="completed")

    async def _update(self, call_sid: str, **changes: str) -> None:
        def update() -> None:
            self._client().calls(call_sid).update(**changes)

        try:
            await asyncio.to_thread(update)
        except TwilioException as error:
            raise TwilioRestError(f"updating call {call_sid} failed: {error}") from error
