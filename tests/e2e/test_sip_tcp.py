"""SIP over TCP through the real service: sipp `-t t1` calls in with audio and is answered, sipp
as a TCP trunk takes a call we place, and a raw TCP peer splits, coalesces and breaks its
messages."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.observability.metrics import SIP_TCP_CLOSED
from telephony.audio import pcm16_to_mulaw
from telephony.sip.framing import StreamFramer
from telephony.sip.message import SipResponse, parse_message
from telephony.sip.transport_tcp import TcpTransport
from tests.audio_samples import silence, speech_like
from tests.e2e.sip_peer import run_sipp, sipp_errors
from tests.e2e.test_sip_call import ANSWER, answering_service, to_8k, wait_saved
from tests.e2e.test_sip_outbound_call import Callee, place, set_outbound_trunk, wait_ended
from tests.e2e.voice_service import SIP_NUMBER, VoiceService
from tests.unit.sip_requests import request

pytestmark = pytest.mark.e2e

SCENARIOS = Path(__file__).parent / "sipp"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    with answering_service(tmp_path) as running:
        yield running


def test_sipp_over_tcp_asks_over_rtp_and_the_answer_is_saved(
    service: VoiceService, tmp_path: Path
) -> None:
    question = to_8k(speech_like(1.0)) + to_8k(silence(1.0))
    (tmp_path / "question.ulaw").write_bytes(pcm16_to_mulaw(question))
    result = run_sipp(
        service.sip_port,
        [
            "-t",
            "t1",
            "-sf",
            str(SCENARIOS / "uac_question.xml"),
            "-s",
            SIP_NUMBER.lstrip("+"),
            "-m",
            "1",
            "-trace_msg",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    (call,) = wait_saved(service, 1)
    assert call.status == "done"
    assert call.termination_reason == "caller_hung_up"
    body = service.conversation(call.id)
    said = [(line["role"], line["message"]) for line in body["transcript"]]
    assert ("user", "What are your opening hours?") in said
    assert ("agent", ANSWER) in said
    messages = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*_messages.log"))
    assert "Contact: <sip:velox@127.0.0.1:" in messages
    assert ";transport=tcp>" in messages
    # Over TCP the 200 came once: sipp would log a retransmission otherwise.
    assert messages.count("SIP/2.0 200 OK") == 2  # the INVITE's and the BYE's


def test_sipp_places_10_calls_each_on_its_own_tcp_connection(
    service: VoiceService, tmp_path: Path
) -> None:
    result = run_sipp(
        service.sip_port,
        [
            *("-t", "tn", "-max_socket", "100"),  # sipp's default (50000) is over the fd limit
            *("-sn", "uac", "-s", SIP_NUMBER.lstrip("+")),
            *("-m", "10", "-r", "5", "-l", "5", "-d", "500"),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    calls = wait_saved(service, 10)
    assert len(calls) == 10
    assert {call.termination_reason for call in calls} == {"caller_hung_up"}


def test_a_call_placed_over_a_tcp_trunk_is_answered_and_ended(
    service: VoiceService, tmp_path: Path
) -> None:
    callee = Callee(service, "uas_answer.xml", tmp_path, transport="t1")
    number_id = set_outbound_trunk(service, callee.port, transport="tcp")
    placed = place(service, number_id)
    assert placed["success"] is True
    result = callee.finish()
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    call = wait_ended(service, placed["conversation_id"])
    assert call.status == "done"
    assert call.termination_reason == "caller_hung_up"
    invite = callee.messages()
    assert f"INVITE sip:+14155552671@127.0.0.1:{callee.port};transport=tcp SIP/2.0" in invite
    assert "Via: SIP/2.0/TCP 127.0.0.1:" in invite


class RawTcpPeer:
    """A TCP peer on the service's SIP port, reading whole messages with the same framing."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.framer = StreamFramer()
        self.local = self.sock.getsockname()

    def options(self, branch: str) -> bytes:
        via = f"SIP/2.0/TCP 127.0.0.1:{self.local[1]};branch={branch}"
        data = request("OPTIONS", branch=branch, call_id=f"{branch}@127.0.0.1")
        return data.replace(b"SIP/2.0/UDP 192.0.2.10:5060;branch=" + branch.encode(), via.encode())

    def read(self, count: int, timeout: float = 5.0) -> list[SipResponse]:
        out: list[SipResponse] = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            for data in self.framer.feed(chunk):
                message = parse_message(data)
                assert isinstance(message, SipResponse)
                out.append(message)
        return out

    def closed_by_peer(self, timeout: float = 5.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536) == b""
        except ConnectionResetError:
            return True


async def test_split_and_coalesced_messages_are_each_answered_and_a_bad_frame_closes(
    service: VoiceService,
) -> None:
    peer = RawTcpPeer(service.sip_port)
    try:
        first = peer.options("z9hG4bK-split")
        peer.sock.sendall(first[:17])
        await asyncio.sleep(0.2)
        peer.sock.sendall(first[17:60])
        await asyncio.sleep(0.2)
        peer.sock.sendall(first[60:])
        (split,) = await asyncio.to_thread(peer.read, 1)
        assert split.status == 200
        assert split.branch == "z9hG4bK-split"
        both = peer.options("z9hG4bK-one") + b"\r\n\r\n" + peer.options("z9hG4bK-two")
        peer.sock.sendall(both)
        answers = await asyncio.to_thread(peer.read, 2)
        assert [(a.status, a.branch) for a in answers] == [
            (200, "z9hG4bK-one"),
            (200, "z9hG4bK-two"),
        ]
        # Framed but malformed (CSeq names another method): a 400 on the same connection.
        broken = peer.options("z9hG4bK-cseq").replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE")
        peer.sock.sendall(broken)
        (refused,) = await asyncio.to_thread(peer.read, 1)
        assert refused.status == 400
        # No Content-Length: the stream's boundaries are lost, the connection is closed.
        closed_before = SIP_TCP_CLOSED.labels(reason="missing_content_length")._value.get()
        peer.sock.sendall(b"OPTIONS sip:velox@127.0.0.1 SIP/2.0\r\nCall-ID: x\r\n\r\n")
        assert await asyncio.to_thread(peer.closed_by_peer)
        closed = SIP_TCP_CLOSED.labels(reason="missing_content_length")._value.get()
        assert closed == closed_before + 1
    finally:
        peer.sock.close()


async def test_connections_over_the_cap_and_idle_ones_are_closed() -> None:
    delivered: list[tuple[bytes, tuple[str, int]]] = []
    busy: set[tuple[str, int]] = set()
    transport = TcpTransport(
        lambda data, peer: delivered.append((data, peer)),
        lambda peer: peer in busy,
        max_connections=2,
        idle_s=1.0,
    )
    port = await transport.start("127.0.0.1", 0)
    capped_before = SIP_TCP_CLOSED.labels(reason="connection_cap")._value.get()
    loop = asyncio.get_running_loop()
    try:
        first = await asyncio.open_connection("127.0.0.1", port)
        second = await asyncio.open_connection("127.0.0.1", port)
        third = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(third[0].read(), 5) == b""  # over the cap: closed
        assert SIP_TCP_CLOSED.labels(reason="connection_cap")._value.get() == capped_before + 1
        busy.add(first[1].get_extra_info("sockname"))  # a call still uses the first
        started = loop.time()
        assert await asyncio.wait_for(second[0].read(), 5) == b""  # idle, no call: closed
        assert 0.9 < loop.time() - started < 3.0
        await asyncio.sleep(1.0)
        assert transport.connections == 1  # the one a call uses stays
        first[1].write(request("OPTIONS"))
        await asyncio.sleep(0.3)
        assert [data for data, _ in delivered] == [request("OPTIONS")]
        first[1].close()
        second[1].close()
        third[1].close()
    finally:
        await transport.stop()
