import pytest

from campaigns.do_not_call import asks_not_to_be_called, may_dial, normalize_do_not_call_entry
from campaigns.leads_csv import Lead, read_leads
from campaigns.phone_numbers import InvalidPhoneNumberError

pytestmark = pytest.mark.unit


def test_entries_normalise_like_lead_numbers() -> None:
    (lead,) = read_leads(["phone\n", "+1 212 555 0100\n"])
    assert isinstance(lead, Lead)
    assert normalize_do_not_call_entry("(212) 555-0100", "US") == lead.phone_number


def test_listed_number_may_not_be_dialed() -> None:
    assert not may_dial("+12125550100", {"+12125550100"})


def test_unlisted_number_may_be_dialed() -> None:
    assert may_dial("+14155550101", {"+12125550100"})


def test_invalid_entry_is_rejected_with_a_reason() -> None:
    with pytest.raises(InvalidPhoneNumberError, match="not a phone number"):
        normalize_do_not_call_entry("remove me", "US")


@pytest.mark.parametrize(
    "said",
    [
        "Please remove me from your list.",
        "Take me off your calling list.",
        "Stop calling me!",
        "Don't call me again.",
        "do not call this number anymore",
        "Put me on your do not call list",
        "I said remove my number, thanks.",
        "No more calls, please.",
        "Okay. Please don't call me.",
        "Can you remove me from your calling list?",
        "Please stop contacting me.",
        "I don't want any more calls.",
        "I never want you to call me again.",
        "Stop calling!",
    ],
)
def test_a_request_for_no_more_calls_is_heard(said: str) -> None:
    assert asks_not_to_be_called(said)


@pytest.mark.parametrize(
    "said",
    [
        "Call me back tomorrow afternoon.",
        "I'm not interested right now.",
        "Don't call me before five, I'm at work.",
        "Can you remove the charge from my bill?",
        "Don't call me Shirley.",
        "Stop by the office on Tuesday.",
        "Take me off speaker.",
        "Can you take me off hold?",
        "Don't remove me from the list, I still want updates.",
        "Can you remove me from the meeting invite?",
        "Is my number on the do not call list?",
        "I am not on a do not call list.",
        "Stop calling it a scam.",
        "He said no more calls after 6pm.",
    ],
)
def test_other_sentences_are_not_a_request_for_no_more_calls(said: str) -> None:
    assert not asks_not_to_be_called(said)
