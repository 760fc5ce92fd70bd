import pytest

from campaigns.phone_numbers import InvalidPhoneNumberError, normalize_phone_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("raw", ["+1 212 555 0100", "+1 (212) 555-0100", "  +12125550100 "])
def test_international_formats_normalise_to_e164(raw: str) -> None:
    assert normalize_phone_number(raw) == "+12125550100"


def test_international_dialling_prefix_of_the_default_region_is_understood() -> None:
    assert normalize_phone_number("00 1 212 555 0100", "FR") == "+12125550100"


def test_national_format_uses_the_default_region() -> None:
    assert normalize_phone_number("(212) 555-0100", "US") == "+12125550100"
    assert normalize_phone_number("020 7946 0958", "gb") == "+442079460958"


def test_national_format_without_a_default_region_asks_for_a_country_code() -> None:
    with pytest.raises(InvalidPhoneNumberError, match="country code"):
        normalize_phone_number("212 555 0100")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "missing"),
        ("call me", "not a phone number"),
        ("+1212", "impossible"),
        ("+1 212 555 0100 99999", "impossible"),
        ("+1 555 123 4567", "not a valid number"),
    ],
)
def test_undialable_numbers_are_rejected_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumberError) as caught:
        normalize_phone_number(raw, "US")
    assert reason in caught.value.reason
    assert caught.value.raw == raw
