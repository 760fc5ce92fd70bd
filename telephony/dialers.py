"""The carrier that places a campaign's call: its number's. Twilio numbers are dialed through
Twilio's REST API (`twilio/outbound.py`); SIP-trunk numbers are queued for a SIP node
(`sip/dial_queue.py`), since the campaign dialer's worker holds no SIP socket. Used by the
dial task and by a field agent's "call my lead now"."""

from __future__ import annotations

import asyncio

from app.db.phone_numbers import get_phone_number
from app.db.session import Database
from app.outbound.calls import OutboundCall, PlacedOutboundCall
from app.settings import Settings
from telephony.sip.dial_queue import queue_sip_dial
from telephony.sip.outbound import PROVIDER as SIP_TRUNK
from telephony.twilio.outbound import place_outbound_call


async def place_campaign_call(
    database: Database, settings: Settings, call: OutboundCall
) -> PlacedOutboundCall:
    """Record the call and have its number's carrier place it; `OutboundCallError` if the call
    cannot be placed at all."""
    if await asyncio.to_thread(_provider_of, database, call) == SIP_TRUNK:
        return await asyncio.to_thread(queue_sip_dial, database, settings, call)
    return await place_outbound_call(database, settings, call)


def _provider_of(database: Database, call: OutboundCall) -> str | None:
    with database.session() as session:
        number = get_phone_number(session, call.organization_id, call.phone_number_id)
        return number.provider if number is not None else None
