"""sipp plays a PCMA capture (`play_pcap_audio`): a question spoken by espeak-ng and an RFC 4733
key press, written into a pcap here. The question reaches the recognizer (the agent answers
it), the key press is the call's DTMF event, both on the saved conversation.

What sipp's pcap play needs (sip-tester 3.6.1, built with PCAP): the default UDP transport, a
capture of Ethernet (or Linux cooked) frames of IPv4/IPv6 UDP, none truncated; it sends them on
a raw socket, so it runs as root (or with CAP_NET_RAW), as these tests do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audio_samples import silence
from tests.e2e.sip_peer import run_sipp, sipp_errors
from tests.e2e.test_sip_call import ANSWER, answering_service, to_8k, wait_saved
from tests.e2e.voice_service import SIP_NUMBER, VoiceService
from tests.rtp_pcap import RtpCapture, espeak_8k

pytestmark = pytest.mark.e2e

SCENARIOS = Path(__file__).parent / "sipp"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VoiceService]:
    with answering_service(tmp_path) as running:
        yield running


def test_a_pcma_capture_with_a_key_press_is_heard_and_the_key_is_an_event(
    service: VoiceService, tmp_path: Path
) -> None:
    capture = RtpCapture()
    capture.audio(to_8k(silence(0.3)))
    capture.audio(espeak_8k("What are your opening hours?"))
    capture.audio(to_8k(silence(1.0)))
    capture.digit("5")
    capture.audio(to_8k(silence(0.5)))
    assert len(capture.packets) * 0.02 < 5.0, "the capture outlasts the scenario's pause"
    capture.write(tmp_path / "call.pcap")
    result = run_sipp(
        service.sip_port,
        [
            "-sf",
            str(SCENARIOS / "uac_pcap.xml"),
            "-s",
            SIP_NUMBER.lstrip("+"),
            "-m",
            "1",
            "-trace_msg",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + sipp_errors(tmp_path)
    messages = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*_messages.log"))
    assert "a=rtpmap:8 PCMA/8000" in messages.split("SIP/2.0 200 OK", 1)[1]  # answered PCMA
    (call,) = wait_saved(service, 1)
    assert call.status == "done"
    body = service.conversation(call.id)
    said = [(line["role"], line["message"]) for line in body["transcript"]]
    assert ("user", "What are your opening hours?") in said, "the speech reached the recognizer"
    assert ("agent", ANSWER) in said
    events = body["velox"]["events"]
    assert [e["data"].get("digit") for e in events if e["kind"] == "dtmf"] == ["5"]
