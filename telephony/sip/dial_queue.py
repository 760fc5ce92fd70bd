"""Campaign and batch calls over a SIP trunk: the dial task queues, a SIP node places.

The campaign dialer's dial task runs in a worker, which has no SIP socket and holds no calls.
For a `sip_trunk` number it records the conversation like any outbound call
(`app/outbound/calls.py`) and queues it with the Call-ID it will carry (`queue_sip_dial`); the
attempt is dialed with that Call-ID. Every serving node with SIP takes queued dials (`DialQueue`,
started with the SIP listener) within its room for calls, and sends each INVITE through the same
SIP dialer as the API's calls (`outbound.dial_recorded`). The trunk's answer lands on the call:
busy, no-answer and failed as the call's status, `completed` after an answered call, which the
campaign outcomes turn into the lead's outcome and retries as they do a Twilio call's.

SIP has no answering-machine detection: a campaign's voicemail rules do not apply to its SIP
calls (a machine that answers is a completed call). A campaign's call rings for at most
`outbound.DEFAULT_RING_TIMEOUT_S` (60 s, Twilio's default) before our CANCEL: no answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import logging
import secrets
from datetime import timedelta
from typing import Any

from app.aio import cancel_and_wait
from app.calls.runtime import VoiceRuntime
from app.db import sip_dials
from app.db.models import utc_now
from app.db.session import Database
from app.outbound.calls import OutboundCall, PlacedOutboundCall, open_outbound_call
from app.settings import Settings
from telephony.sip.call import Signaling
from telephony.sip.media import CHANNEL
from telephony.sip.outbound import PROVIDER, RecordedDial, dial_recorded, save_outcome

log = logging.getLogger(__name__)

POLL_S = 0.25  # how often a node looks for queued dials
# A dial no SIP node took within this long is failed (never placed; the lead is retried).
QUEUED_DIAL_EXPIRY = timedelta(seconds=60)
EXPIRED = (
    "failed: no SIP node placed the call within 60 s of its dial (is a node with "
    "VELOX_SIP_PORT running?)"
)


def call_id_for(settings: Settings) -> str:
    """A Call-ID for a call a worker queues: random, `@` the SIP host when it names one."""
    host = settings.sip_public_host or settings.sip_host
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_unspecified:
            host = ""
    token = secrets.token_hex(12)
    return f"{token}@{host}" if host else token


def queue_sip_dial(
    database: Database, settings: Settings, call: OutboundCall
) -> PlacedOutboundCall:
    """Record the conversation and queue it for a SIP node; its Call-ID is the call's sid.
    Raises `OutboundCallError` when the call cannot be placed at all (nothing is recorded)."""
    call = dataclasses.replace(call, machine_detection=None, record=False)
    conversation_id, _ = open_outbound_call(database, call, carrier=PROVIDER, channel=CHANNEL)
    sip_call_id = call_id_for(settings)
    with database.session() as session:
        sip_dials.queue_dial(session, call.organization_id, conversation_id, sip_call_id)
    return PlacedOutboundCall(conversation_id, sip_call_id)


def expire_queued_dials(database: Database) -> int:
    """Fail the dials no SIP node took in time; returns how many (the dialer's tick calls it)."""
    with database.session() as session:
        return sip_dials.expire_queued(session, utc_now() - QUEUED_DIAL_EXPIRY, EXPIRED)


def outbound_call_of(dial: sip_dials.QueuedDial) -> OutboundCall:
    """The call to place, as its dial task asked for it (kept on the call's `initiation`)."""
    initiation = dial.initiation
    return OutboundCall(
        organization_id=dial.organization_id,
        agent_id=dial.agent_id,
        phone_number_id=dial.phone_number_id,
        to_number=dial.to_number,
        dynamic_variables=dict(initiation.get("dynamic_variables") or {}),
        overrides=dict(initiation.get("overrides") or {}),
        record_voice=bool(initiation.get("record_voice")),
        conversation_id=dial.conversation_id,
    )


class DialQueue:
    """A node's side: takes queued dials while it has room for calls, and places them."""

    def __init__(self, runtime: VoiceRuntime, signaling: Signaling, calls: dict[str, Any]) -> None:
        self._runtime = runtime
        self._signaling = signaling
        self._calls = calls  # the SIP calls this node holds, for its room
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._poll_forever())

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)

    async def _poll_forever(self) -> None:
        while True:
            try:
                await self.place_due()
            except Exception:  # a database hiccup: look again at the next poll
                log.exception("queued SIP dials could not be taken")
            await asyncio.sleep(POLL_S)

    async def place_due(self) -> int:
        """Take and place the dials due now, within the room left; returns how many."""
        if self._runtime.draining:
            return 0
        room = self._runtime.settings.sip_max_calls - len(self._calls)
        taken = await asyncio.to_thread(self._take, room)
        for dial in taken:
            recorded = RecordedDial(
                dial.conversation_id, dial.from_number, dial.to_number, dial.sip_call_id
            )
            try:
                call = outbound_call_of(dial)
                await dial_recorded(self._runtime, self._signaling, call, recorded)
            except Exception as error:
                log.exception("the queued SIP dial %s failed", dial.conversation_id)
                await asyncio.to_thread(
                    save_outcome,
                    self._runtime,
                    dial.organization_id,
                    dial.conversation_id,
                    "failed",
                    f"failed: the dial broke ({type(error).__name__})",
                )
        return len(taken)

    def _take(self, room: int) -> list[sip_dials.QueuedDial]:
        with self._runtime.database.session() as session:
            return sip_dials.take_queued(session, utc_now() - QUEUED_DIAL_EXPIRY, room)
