"""The SIP listener: a UDP socket and a TCP listener on `VELOX_SIP_HOST:VELOX_SIP_PORT`, a
sans-I/O user agent behind each, a timer tick, and one `InboundCall` per call they take."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import time

from app.aio import cancel_and_wait
from app.calls.runtime import VoiceRuntime
from app.config.credentials import CredentialBox
from app.db.sip_messages import LoggedSipMessage
from app.observability.metrics import CALLS_REFUSED_DRAINING, MALFORMED_FRAMES
from telephony.sip.call import SipCall
from telephony.sip.digest import DigestChecker
from telephony.sip.inbound import InboundCall
from telephony.sip.media import CHANNEL
from telephony.sip.outbound import OutboundSipCall
from telephony.sip.placing import Placement
from telephony.sip.transactions import Address
from telephony.sip.transport_tcp import TcpTransport
from telephony.sip.user_agent import (
    CallAnswered,
    CallEnded,
    CallFailed,
    Event,
    IncomingCall,
    MessageRejected,
    SessionOffered,
    TransferEnded,
    UserAgent,
)

log = logging.getLogger(__name__)

TICK_S = 0.05  # timers fire within this of their deadline (T1 is 500 ms)
RETRY_AFTER_S = 5  # told to a caller refused at capacity
MAX_LOGGED_BYTES = 8_000  # of one message, in a call's SIP log
_CALL_ID = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*([^\r\n]+)", re.IGNORECASE | re.MULTILINE)


class _Socket(asyncio.DatagramProtocol):
    def __init__(self, server: SipServer) -> None:
        self._server = server

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._server.datagram_received(data, (str(addr[0]), int(addr[1])))


class SipServer:
    """Answers SIP calls for the voice runtime; `start` binds, `stop` ends every call."""

    def __init__(self, runtime: VoiceRuntime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self._host = settings.sip_host
        self._public_host = settings.sip_public_host
        self._port = settings.sip_port if settings.sip_port is not None else 5060
        self._socket: asyncio.DatagramTransport | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._user_agent = UserAgent(self.local_host_for, self._port)
        self._tcp_agent = UserAgent(self.local_host_for, self._port, "TCP")
        self._tcp = TcpTransport(
            lambda data, peer: self._received(self._tcp_agent, data, peer),
            lambda peer: self._tcp_agent.uses(peer),
            max_connections=settings.sip_tcp_max_connections,
            idle_s=settings.sip_tcp_idle_s,
        )
        self._agent_of: dict[str, UserAgent] = {}  # the calls over TCP, by key
        self.calls: dict[str, SipCall] = {}
        self._by_call_id: dict[str, SipCall] = {}  # the calls, by their messages' Call-ID
        self._tasks: set[asyncio.Task[None]] = set()
        secret = settings.signing_secret()
        self._credential_box = CredentialBox(secret)
        self._digest = DigestChecker(secret)

    @property
    def digest(self) -> DigestChecker:
        """Challenges and checks callers' digest credentials (nonces any node can check)."""
        return self._digest

    @property
    def credential_box(self) -> CredentialBox:
        return self._credential_box

    @property
    def port(self) -> int:
        return self._port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        any_port = self._port == 0
        for attempt in range(5 if any_port else 1):  # any port: one free for UDP and TCP both
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Socket(self), local_addr=(self._host, 0 if any_port else self._port)
            )
            port = transport.get_extra_info("sockname")[1]
            try:
                await self._tcp.start(self._host, port)
                break
            except OSError:
                transport.close()
                if attempt == 4 or not any_port:
                    raise
        self._socket, self._port = transport, port
        self._user_agent = UserAgent(self.local_host_for, self._port)
        self._tcp_agent = UserAgent(self.local_host_for, self._port, "TCP")
        self._ticker = loop.create_task(self._tick_forever())
        log.info("SIP listening on %s:%d (UDP and TCP)", self._host, self._port)

    async def stop(self) -> None:
        for call in list(self.calls.values()):
            call.hang_up("service_shutdown")
        self._flush()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)
        if self._ticker is not None:
            await cancel_and_wait(self._ticker)
        if self._socket is not None:
            self._socket.close()
        await self._tcp.stop()

    # --- the wire -----------------------------------------------------------------------------

    def datagram_received(self, data: bytes, source: Address) -> None:
        self._received(self._user_agent, data, source)

    def _received(self, agent: UserAgent, data: bytes, source: Address) -> None:
        """A datagram, or a whole message off a TCP connection."""
        now = asyncio.get_running_loop().time()
        arrived_us = time.time_ns() // 1000
        events = agent.receive(data, source, now)
        for event in events:  # an INVITE makes its call here: it is logged with it, below
            if isinstance(event, IncomingCall) and agent is self._tcp_agent:
                self._agent_of[event.key] = agent
            self._on_event(event)
        self._log("in", data, source, arrived_us)
        self._flush()

    def _flush(self) -> None:
        if self._socket is None:
            return
        for data, to in self._user_agent.datagrams():
            self._socket.sendto(data, to)
            self._log("out", data, to, time.time_ns() // 1000)
        for data, to in self._tcp_agent.datagrams():
            self._tcp.send(data, to)
            self._log("out", data, to, time.time_ns() // 1000)

    def _agent(self, key: str) -> UserAgent:
        return self._agent_of.get(key, self._user_agent)

    def _log(self, direction: str, data: bytes, remote: Address, at_us: int) -> None:
        """Keep a message with its call (one the service has), for the call's SIP log."""
        found = _CALL_ID.search(data[:4096])
        if found is None:
            return
        sip_call_id = found.group(1).strip().decode("utf-8", "replace")
        call = self._by_call_id.get(sip_call_id)
        if call is None:
            return
        call.log_message(
            LoggedSipMessage(
                sip_call_id=sip_call_id,
                direction=direction,
                local_address=f"{self._public_host or self._host}:{self._port}",
                remote_address=f"{remote[0]}:{remote[1]}",
                raw_message=data[:MAX_LOGGED_BYTES].decode("utf-8", "replace"),
                created_at_unix_micro=at_us,
            )
        )

    async def _tick_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK_S)
            now = loop.time()
            events = self._user_agent.tick(now) + self._tcp_agent.tick(now)
            self._flush()
            for event in events:
                self._on_event(event)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, IncomingCall):
            self._take(event)
        elif isinstance(event, CallEnded):
            call = self.calls.get(event.key)
            if call is not None:
                call.end(event.reason)
        elif isinstance(event, SessionOffered):
            call = self.calls.get(event.key)
            if call is not None:
                call.offered(event)
            else:
                self.refuse_offer(event.key, 500, "Server Internal Error")
        elif isinstance(event, TransferEnded):
            call = self.calls.get(event.key)
            if call is not None:
                call.transfer_ended(event)
        elif isinstance(event, CallAnswered | CallFailed):
            placed = self.calls.get(event.key)
            if isinstance(placed, OutboundSipCall):
                if isinstance(event, CallAnswered):
                    placed.answered(event)
                else:
                    placed.failed(event)
        elif isinstance(event, MessageRejected):
            MALFORMED_FRAMES.labels(channel=CHANNEL, reason=event.reason).inc()
            log.info("SIP message rejected (%s, answered: %s)", event.reason, event.answered)

    def _take(self, incoming: IncomingCall) -> None:
        if self.runtime.draining:  # shutting down: the trunk tries another node
            CALLS_REFUSED_DRAINING.labels(channel=CHANNEL).inc()
            self.reject(incoming.key, 503, "Shutting down", RETRY_AFTER_S)
            return
        if len(self.calls) >= self.runtime.settings.sip_max_calls:
            self.reject(incoming.key, 503, "At capacity", RETRY_AFTER_S)
            return
        call = InboundCall(self.runtime, self, incoming)
        self._start(call, incoming.key, incoming.key.split(";", 1)[0])

    def _start(self, call: SipCall, key: str, call_id: str) -> None:
        self.calls[key] = call
        self._by_call_id[call_id] = call
        self._keep(asyncio.get_running_loop().create_task(self._run(call, call_id)))

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, call: SipCall, call_id: str) -> None:
        try:
            await call.take()
        except Exception:
            log.exception("SIP call %s failed", call.key)
            self.reject(call.key, 500, "Server Internal Error")
            call.hang_up("engine_error")
        finally:
            await call.save_messages()
            if self.calls.get(call.key) is call:  # not its retry with credentials
                del self.calls[call.key]
            if self._by_call_id.get(call_id) is call:
                del self._by_call_id[call_id]
                self._agent_of.pop(call.key, None)

    def place(self, placement: Placement, call: SipCall) -> str:
        """Send the INVITE of a call we place and run `call`, which hears how it goes."""
        call.key = placement.call_id
        agent = self._tcp_agent if placement.reliable else self._user_agent
        if placement.reliable:
            self._agent_of[placement.call_id] = agent
        self._start(call, placement.call_id, placement.call_id)
        key = agent.place(placement, self._now())
        self._flush()
        return key

    # --- Signaling, for the calls -------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def ring(self, key: str) -> None:
        self._agent(key).ring(key)
        self._flush()

    def answer(self, key: str, sdp: bytes) -> bool:
        answered = self._agent(key).answer(key, sdp, self._now())
        self._flush()
        return answered

    def reject(
        self,
        key: str,
        status: int,
        reason: str = "",
        retry_after: int = 0,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self._agent(key).reject(
            key, status, self._now(), reason=reason, retry_after=retry_after, headers=headers
        )
        self._flush()

    def hang_up(self, key: str) -> None:
        self._agent(key).hang_up(key, self._now())
        self._flush()

    def accept_offer(self, key: str, sdp: bytes) -> bool:
        accepted = self._agent(key).accept_offer(key, sdp, self._now())
        self._flush()
        return accepted

    def refuse_offer(self, key: str, status: int, reason: str) -> None:
        self._agent(key).refuse_offer(key, status, reason, self._now())
        self._flush()

    def refer(self, key: str, target: str) -> bool:
        sent = self._agent(key).refer(key, target, self._now())
        self._flush()
        return sent

    def local_host_for(self, remote_host: str) -> str:
        """The address `remote_host` reaches us at: the configured public one, our bound one,
        or the local address of the route towards it."""
        if self._public_host:
            return self._public_host
        if self._host and not _is_wildcard(self._host):
            return self._host
        family = socket.AF_INET6 if ":" in remote_host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect((remote_host, 9))  # no packet is sent: only the route is looked up
                return str(probe.getsockname()[0])
            except OSError:
                return "127.0.0.1"


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False  # a host name: callers reach us by it
