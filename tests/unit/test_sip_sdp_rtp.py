"""SDP offer/answer and RTP packets: codecs chosen, telephone-event kept, digits de-duplicated."""

from __future__ import annotations

import pytest

from telephony.sip.rtp import DigitReceiver, RtpPacket, RtpSender
from telephony.sip.sdp import SdpError, choose, parse_offer, render_answer
from tests.unit.sip_requests import SDP_OFFER

pytestmark = pytest.mark.unit


def test_the_first_offered_codec_we_speak_is_chosen_with_the_callers_event_type() -> None:
    offer = parse_offer(SDP_OFFER.encode())
    assert (offer.address, offer.port) == ("192.0.2.10", 40000)
    answer = choose(offer)
    assert (answer.codec, answer.payload_type, answer.telephone_event) == ("PCMA", 8, 101)


def test_the_answer_names_the_chosen_codec_and_telephone_event_at_20_ms() -> None:
    answer = choose(parse_offer(SDP_OFFER.replace("101", "96").encode()))
    sdp = render_answer(answer, "198.51.100.1", 10002, 7).decode()
    assert "m=audio 10002 RTP/AVP 8 96\r\n" in sdp
    assert "a=rtpmap:96 telephone-event/8000" in sdp
    assert "c=IN IP4 198.51.100.1" in sdp
    assert "a=ptime:20" in sdp


def test_an_offer_without_a_common_codec_is_refused_with_what_was_offered() -> None:
    offer = SDP_OFFER.replace("RTP/AVP 8 0 101", "RTP/AVP 9 101").replace(
        "a=rtpmap:8 PCMA/8000", "a=rtpmap:9 G722/8000"
    )
    with pytest.raises(SdpError) as refused:
        choose(parse_offer(offer.encode()))
    assert refused.value.reason == "no_common_codec"
    assert "G722/8000" in str(refused.value)


def test_static_payload_types_need_no_rtpmap() -> None:
    offer = "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n"
    assert choose(parse_offer(offer.encode())).codec == "PCMU"


def test_an_offer_without_audio_is_refused() -> None:
    with pytest.raises(SdpError) as refused:
        parse_offer(b"v=0\r\nc=IN IP4 192.0.2.1\r\nm=video 4000 RTP/AVP 96\r\n")
    assert refused.value.reason == "sdp_no_audio"


def test_packets_are_numbered_and_stamped_20_ms_apart() -> None:
    sender = RtpSender(0)
    first = RtpPacket.parse(sender.frame(b"\xff" * 160))
    second = RtpPacket.parse(sender.frame(b"\xff" * 160))
    assert first.marker
    assert not second.marker
    assert (second.sequence - first.sequence) % 65536 == 1
    assert (second.timestamp - first.timestamp) % 2**32 == 160
    sender.silent_frame()
    third = RtpPacket.parse(sender.frame(b"\xff" * 160))
    assert third.marker
    assert (third.timestamp - second.timestamp) % 2**32 == 320


def event_packet(timestamp: int, event: int, end: bool, sequence: int) -> RtpPacket:
    payload = bytes([event, 0x80 if end else 0, 0, 160])
    return RtpPacket(101, sequence, timestamp, 1, payload)


def test_a_digit_is_announced_once_though_its_end_packet_comes_three_times() -> None:
    digits = DigitReceiver()
    heard = [
        digits.receive(event_packet(1000, 5, end, sequence))
        for sequence, end in enumerate([False, False, True, True, True])
    ]
    heard.append(digits.receive(event_packet(2000, 11, True, 9)))
    assert [d for d in heard if d] == ["5", "#"]
