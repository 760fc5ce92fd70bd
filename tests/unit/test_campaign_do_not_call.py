import pytest

from campaigns.do_not_call import may_dial, normalize_do_not_call_entry
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
