from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns.timezones import (
    TimeZoneSource,
    UnknownTimeZoneError,
    parse_time_zone,
    resolve_lead_time_zone,
    time_zones_for_number,
)
from campaigns.windows import CallingWindows, WeeklySchedule

pytestmark = pytest.mark.unit

DEFAULT = ZoneInfo("Europe/London")
BOISE = ZoneInfo("America/Boise")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
IDAHO_NUMBER = "+12085550123"  # area code 208 spans Mountain and Pacific time
NEW_YORK_NUMBER = "+12125550100"


def test_zone_named_in_the_lead_file_wins_over_the_number() -> None:
    zone = resolve_lead_time_zone(NEW_YORK_NUMBER, "Europe/Paris", DEFAULT)
    assert zone.names == ("Europe/Paris",)
    assert zone.source is TimeZoneSource.LEAD_FILE


def test_zone_names_are_read_case_insensitively_and_canonicalised() -> None:
    assert parse_time_zone(" america/new_york ").key == "America/New_York"


@pytest.mark.parametrize("name", ["Mars/Base", "GMT+2 (Paris)", ""])
def test_unknown_zone_names_are_rejected_with_an_example(name: str) -> None:
    with pytest.raises(UnknownTimeZoneError, match="America/New_York"):
        parse_time_zone(name)


def test_blank_zone_in_the_lead_file_falls_through_to_the_number() -> None:
    zone = resolve_lead_time_zone(NEW_YORK_NUMBER, "  ", DEFAULT)
    assert zone.names == ("America/New_York",)


def test_zone_is_inferred_from_the_number() -> None:
    zone = resolve_lead_time_zone(NEW_YORK_NUMBER, None, DEFAULT)
    assert zone.names == ("America/New_York",)
    assert zone.source is TimeZoneSource.PHONE_NUMBER


def test_area_code_spanning_zones_keeps_every_zone_sorted() -> None:
    zone = resolve_lead_time_zone(IDAHO_NUMBER, None, DEFAULT)
    assert zone.names == ("America/Boise", "America/Los_Angeles")


def test_country_with_several_zones_keeps_every_zone() -> None:
    assert time_zones_for_number("+61891234567") == ("Australia/Adelaide", "Australia/Perth")


def test_several_zones_never_open_before_the_latest_opening() -> None:
    windows = CallingWindows(WeeklySchedule.weekdays("09:00-19:00"))
    zone = resolve_lead_time_zone(IDAHO_NUMBER, None, DEFAULT)
    nine_in_boise = datetime(2025, 6, 2, 9, 30, tzinfo=BOISE)  # 08:30 in Los Angeles
    assert not windows.is_open(nine_in_boise, zone.zones)
    assert windows.is_open(datetime(2025, 6, 2, 9, 0, tzinfo=LOS_ANGELES), zone.zones)


def test_several_zones_close_at_the_earliest_closing() -> None:
    windows = CallingWindows(WeeklySchedule.weekdays("09:00-19:00"))
    zone = resolve_lead_time_zone(IDAHO_NUMBER, None, DEFAULT)
    half_past_six_in_la = datetime(2025, 6, 2, 18, 30, tzinfo=LOS_ANGELES)  # 19:30 in Boise
    assert not windows.is_open(half_past_six_in_la, zone.zones)


def test_number_without_a_known_zone_uses_the_campaign_default() -> None:
    zone = resolve_lead_time_zone("+80012345678", None, DEFAULT)  # international freephone
    assert zone.zones == (DEFAULT,)
    assert zone.source is TimeZoneSource.CAMPAIGN_DEFAULT


def test_unparseable_number_uses_the_campaign_default() -> None:
    assert resolve_lead_time_zone("not a number", None, DEFAULT).zones == (DEFAULT,)
