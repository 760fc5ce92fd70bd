from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.windows import (
    CallingWindows,
    InvalidCallingWindowError,
    LocalTimeRange,
    Weekday,
    WeeklySchedule,
)

pytestmark = pytest.mark.unit

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
ADELAIDE = ZoneInfo("Australia/Adelaide")
WEEKDAYS_9_TO_7 = CallingWindows(WeeklySchedule.weekdays("09:00-19:00"))
EVERY_DAY = list(Weekday)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: ZoneInfo, *date_and_time: int, second: int = 0, fold: int = 0) -> datetime:
    year, month, day, hour, minute = date_and_time
    return datetime(year, month, day, hour, minute, second, tzinfo=zone, fold=fold)


def every_day(time_range: str) -> CallingWindows:
    return CallingWindows(WeeklySchedule.from_ranges({day: [time_range] for day in EVERY_DAY}))


def exists_locally(instant: datetime, zone: ZoneInfo) -> bool:
    wall = instant.astimezone(zone).replace(tzinfo=None)
    return wall.replace(tzinfo=zone).astimezone(UTC) == instant


def test_window_is_open_inside_the_range_on_a_weekday() -> None:
    assert WEEKDAYS_9_TO_7.is_open(local(NEW_YORK, 2025, 6, 2, 10, 0), NEW_YORK)


def test_window_closes_at_the_end_minute() -> None:
    assert WEEKDAYS_9_TO_7.is_open(local(NEW_YORK, 2025, 6, 2, 18, 59, second=59), NEW_YORK)
    assert not WEEKDAYS_9_TO_7.is_open(local(NEW_YORK, 2025, 6, 2, 19, 0), NEW_YORK)


def test_window_is_judged_by_the_leads_wall_clock_not_utc() -> None:
    # 14:00 UTC is 10:00 in New York but 07:00 in Los Angeles.
    at = utc(2025, 6, 2, 14, 0)
    assert WEEKDAYS_9_TO_7.is_open(at, NEW_YORK)
    assert not WEEKDAYS_9_TO_7.is_open(at, ZoneInfo("America/Los_Angeles"))


def test_window_is_closed_at_the_weekend() -> None:
    assert not WEEKDAYS_9_TO_7.is_open(local(NEW_YORK, 2025, 6, 7, 12, 0), NEW_YORK)


def test_next_opening_is_now_when_the_window_is_open() -> None:
    at = local(NEW_YORK, 2025, 6, 2, 12, 0).astimezone(UTC)
    assert WEEKDAYS_9_TO_7.next_opening(at, NEW_YORK) == at


def test_next_opening_after_friday_evening_is_monday_morning() -> None:
    friday_evening = local(NEW_YORK, 2025, 6, 6, 20, 0)
    opening = WEEKDAYS_9_TO_7.next_opening(friday_evening, NEW_YORK)
    assert opening == local(NEW_YORK, 2025, 6, 9, 9, 0)
    assert opening is not None
    assert opening.tzinfo is UTC


def test_next_opening_uses_the_second_range_of_a_split_day() -> None:
    windows = CallingWindows(WeeklySchedule.from_ranges({"mon": ["09:00-12:00", "14:00-18:00"]}))
    lunch = local(NEW_YORK, 2025, 6, 2, 12, 30)
    assert windows.next_opening(lunch, NEW_YORK) == local(NEW_YORK, 2025, 6, 2, 14, 0)


def test_spring_forward_morning_opens_at_local_nine_with_the_new_offset() -> None:
    # 2025-03-09: New York moves from UTC-5 to UTC-4 at 02:00 local.
    saturday_night = local(NEW_YORK, 2025, 3, 8, 20, 0)
    assert every_day("09:00-19:00").next_opening(saturday_night, NEW_YORK) == utc(2025, 3, 9, 13, 0)


def test_range_starting_in_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    opening = every_day("02:30-05:00").next_opening(utc(2025, 3, 9, 5, 0), NEW_YORK)
    assert opening == utc(2025, 3, 9, 7, 0)
    assert opening is not None
    assert opening.astimezone(NEW_YORK).hour == 3
    assert exists_locally(opening, NEW_YORK)


def test_range_entirely_inside_the_skipped_hour_waits_for_the_next_day() -> None:
    opening = every_day("02:15-02:45").next_opening(utc(2025, 3, 9, 5, 0), NEW_YORK)
    assert opening == local(NEW_YORK, 2025, 3, 10, 2, 15)
    assert opening is not None
    assert exists_locally(opening, NEW_YORK)


def test_fall_back_morning_opens_at_local_nine_with_the_new_offset() -> None:
    # 2025-11-02: New York moves from UTC-4 to UTC-5 at 02:00 local.
    saturday_night = local(NEW_YORK, 2025, 11, 1, 20, 0)
    assert every_day("09:00-19:00").next_opening(saturday_night, NEW_YORK) == utc(
        2025, 11, 2, 14, 0
    )


def test_repeated_hour_is_open_both_times_it_is_on_the_wall_clock() -> None:
    windows = every_day("00:00-01:30")
    first = local(NEW_YORK, 2025, 11, 2, 1, 15, fold=0)
    second = local(NEW_YORK, 2025, 11, 2, 1, 15, fold=1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    assert windows.is_open(first, NEW_YORK)
    assert windows.is_open(second, NEW_YORK)


def test_repeated_hour_reopens_when_the_clock_falls_back() -> None:
    windows = every_day("00:00-01:30")
    after_first_pass = utc(2025, 11, 2, 5, 30)  # 01:30 EDT
    assert windows.next_opening(after_first_pass, NEW_YORK) == utc(2025, 11, 2, 6, 0)


def test_half_hour_offset_zone_opens_at_its_local_nine() -> None:
    saturday = utc(2025, 3, 8, 12, 0)
    assert WEEKDAYS_9_TO_7.next_opening(saturday, KOLKATA) == utc(2025, 3, 10, 3, 30)


def test_half_hour_zone_with_daylight_saving_follows_its_fall_back() -> None:
    # 2025-04-06: Adelaide moves from UTC+10:30 to UTC+9:30.
    opening = every_day("09:00-19:00").next_opening(utc(2025, 4, 5, 12, 0), ADELAIDE)
    assert opening == utc(2025, 4, 5, 23, 30)
    assert opening is not None
    assert opening.astimezone(ADELAIDE).hour == 9


def test_window_is_closed_before_the_campaign_starts() -> None:
    starts = local(NEW_YORK, 2025, 6, 4, 0, 0)
    windows = CallingWindows(WEEKDAYS_9_TO_7.schedule, starts_at=starts)
    assert not windows.is_open(local(NEW_YORK, 2025, 6, 2, 10, 0), NEW_YORK)


def test_next_opening_before_the_start_is_the_first_opening_after_it() -> None:
    starts = local(NEW_YORK, 2025, 6, 4, 12, 0)
    windows = CallingWindows(WEEKDAYS_9_TO_7.schedule, starts_at=starts)
    assert windows.next_opening(local(NEW_YORK, 2025, 6, 2, 10, 0), NEW_YORK) == starts


def test_no_opening_after_the_campaign_ends() -> None:
    ends = local(NEW_YORK, 2025, 6, 6, 19, 0)
    windows = CallingWindows(WEEKDAYS_9_TO_7.schedule, ends_at=ends)
    assert windows.next_opening(local(NEW_YORK, 2025, 6, 6, 20, 0), NEW_YORK) is None
    assert not windows.is_open(ends, NEW_YORK)


def test_opening_exactly_at_the_end_is_not_an_opening() -> None:
    ends = local(NEW_YORK, 2025, 6, 9, 9, 0)
    windows = CallingWindows(WEEKDAYS_9_TO_7.schedule, ends_at=ends)
    assert windows.next_opening(local(NEW_YORK, 2025, 6, 6, 20, 0), NEW_YORK) is None


def test_several_zones_open_only_when_open_in_all_of_them() -> None:
    zones = [ZoneInfo("America/Boise"), ZoneInfo("America/Los_Angeles")]
    monday_nine_boise = local(ZoneInfo("America/Boise"), 2025, 6, 2, 9, 0)
    opening = WEEKDAYS_9_TO_7.next_opening(monday_nine_boise, zones)
    assert opening == local(ZoneInfo("America/Los_Angeles"), 2025, 6, 2, 9, 0)


def test_zones_without_a_common_window_have_no_opening() -> None:
    zones = [ZoneInfo("Europe/Lisbon"), ZoneInfo("Asia/Kamchatka")]
    assert WEEKDAYS_9_TO_7.next_opening(utc(2025, 6, 2, 0, 0), zones) is None


def test_range_crossing_midnight_is_rejected_with_how_to_split_it() -> None:
    with pytest.raises(InvalidCallingWindowError, match="split in two"):
        LocalTimeRange.parse("22:00-02:00")


def test_range_may_end_at_midnight() -> None:
    windows = every_day("22:00-24:00")
    assert windows.is_open(local(NEW_YORK, 2025, 6, 2, 23, 59), NEW_YORK)
    assert not windows.is_open(local(NEW_YORK, 2025, 6, 3, 0, 0), NEW_YORK)


def test_overlapping_ranges_of_a_day_are_merged() -> None:
    schedule = WeeklySchedule.from_ranges({"tue": ["09:00-12:00", "11:00-15:00"]})
    assert schedule.days[Weekday.TUESDAY] == (LocalTimeRange.parse("09:00-15:00"),)


def test_weekday_names_are_read_case_insensitively() -> None:
    assert Weekday.parse("Wednesday") is Weekday.WEDNESDAY
    assert Weekday.parse("SAT") is Weekday.SATURDAY


def test_a_schedule_with_no_range_is_rejected() -> None:
    with pytest.raises(InvalidCallingWindowError, match="no time range"):
        CallingWindows(WeeklySchedule.from_ranges({}))


def test_a_campaign_ending_before_it_starts_is_rejected() -> None:
    with pytest.raises(InvalidCallingWindowError, match="end after it starts"):
        CallingWindows(
            WEEKDAYS_9_TO_7.schedule, starts_at=utc(2025, 6, 2, 0, 0), ends_at=utc(2025, 6, 1, 0, 0)
        )


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        WEEKDAYS_9_TO_7.is_open(datetime(2025, 6, 2, 10, 0), NEW_YORK)


def first_open_minute_by_scanning(
    windows: CallingWindows, at: datetime, zone: ZoneInfo
) -> datetime | None:
    for minute in range(8 * 24 * 60):
        candidate = at + timedelta(minutes=minute)
        if windows.is_open(candidate, zone):
            return candidate
    return None


@pytest.mark.parametrize(
    ("zone_name", "around"),
    [
        ("America/New_York", utc(2025, 3, 9, 7, 0)),
        ("America/New_York", utc(2025, 11, 2, 6, 0)),
        ("Australia/Adelaide", utc(2025, 4, 5, 16, 30)),
        ("Australia/Lord_Howe", utc(2025, 10, 4, 15, 30)),
        ("Asia/Kathmandu", utc(2025, 6, 2, 0, 0)),
    ],
)
def test_next_opening_matches_a_minute_by_minute_scan_around_clock_changes(
    zone_name: str, around: datetime
) -> None:
    zone = ZoneInfo(zone_name)
    windows = CallingWindows(
        WeeklySchedule.from_ranges(
            {day: ["00:30-01:30", "02:15-03:10", "09:00-19:00"] for day in EVERY_DAY}
        )
    )
    for hours in range(-6, 7):
        at = around + timedelta(hours=hours, minutes=7)
        assert windows.next_opening(at, zone) == first_open_minute_by_scanning(windows, at, zone)
