"""Calling windows: weekly local-time ranges, evaluated in the lead's own time zone.

A window is judged by the lead's wall clock, so it follows daylight-saving changes: 09:00 is
09:00 local on both sides of a transition, and a range that starts in a skipped hour opens at
the first instant that exists after it. Ranges stay within one day; a night range is written
as two ranges, e.g. Fri 22:00-24:00 and Sat 00:00-02:00.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# Any non-empty weekly schedule opens within 8 days in one zone; a second week covers a range
# that falls entirely inside a skipped daylight-saving hour.
SEARCH_HORIZON = timedelta(days=15)
_SEARCH_SPANS = (timedelta(days=3), SEARCH_HORIZON)


class InvalidCallingWindowError(ValueError):
    """A calling window that cannot be evaluated, with what to write instead."""


class Weekday(enum.IntEnum):
    """Days as `datetime.weekday()` numbers them."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6

    @classmethod
    def parse(cls, text: str) -> Weekday:
        """Accept "mon", "Monday", "MONDAY" and the like."""
        folded = text.strip().lower()
        for day in cls:
            if len(folded) >= 3 and day.name.lower().startswith(folded):
                return day
        raise InvalidCallingWindowError(f"unknown weekday {text!r}: use mon, tue, ... sun")


def _parse_clock(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    # isascii: `isdigit` also takes "²", which `int` refuses (the SIP parser had the same fault).
    digits = hours + minutes
    if not (digits.isascii() and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise InvalidCallingWindowError(f"time {text!r} is not HH:MM")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True, slots=True)
class LocalTimeRange:
    """A half-open local wall-clock range [start, end) within one day, in minutes (end <= 24:00)."""

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < MINUTES_PER_DAY or self.end_minute > MINUTES_PER_DAY:
            raise InvalidCallingWindowError(f"range {self} is outside 00:00-24:00")
        if self.end_minute <= self.start_minute:
            raise InvalidCallingWindowError(
                f"range {self} ends before it starts; a range that crosses midnight must be "
                "split in two, e.g. 22:00-24:00 on one day and 00:00-02:00 on the next"
            )

    @classmethod
    def parse(cls, text: str) -> LocalTimeRange:
        """Parse "09:00-19:00" (24:00 is allowed as an end)."""
        start, separator, end = text.replace("–", "-").partition("-")
        if not separator:
            raise InvalidCallingWindowError(f"range {text!r} is not HH:MM-HH:MM")
        return cls(_parse_clock(start), _parse_clock(end))

    def contains(self, minute_of_day: int) -> bool:
        """Whether a local minute of the day falls inside the range."""
        return self.start_minute <= minute_of_day < self.end_minute

    def __str__(self) -> str:
        return "-".join(f"{m // 60:02d}:{m % 60:02d}" for m in (self.start_minute, self.end_minute))


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """Local time ranges per weekday; `days[0]` is Monday. Ranges are sorted and never overlap."""

    days: tuple[tuple[LocalTimeRange, ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise InvalidCallingWindowError("a weekly schedule has exactly 7 days")
        for day, ranges in zip(Weekday, self.days, strict=True):
            for earlier, later in itertools.pairwise(ranges):
                if later.start_minute < earlier.end_minute:
                    raise InvalidCallingWindowError(
                        f"{day.name.lower()}: ranges {earlier} and {later} are unsorted or overlap"
                    )

    @classmethod
    def from_ranges(
        cls, ranges: Mapping[Weekday | str, Iterable[LocalTimeRange | str]]
    ) -> WeeklySchedule:
        """Build from e.g. {"mon": ["09:00-12:00", "13:00-19:00"]}; overlapping ranges merge."""
        per_day: list[list[LocalTimeRange]] = [[] for _ in Weekday]
        for key, day_ranges in ranges.items():
            day = key if isinstance(key, Weekday) else Weekday.parse(key)
            per_day[day].extend(
                r if isinstance(r, LocalTimeRange) else LocalTimeRange.parse(r) for r in day_ranges
            )
        return cls(tuple(_merged(day) for day in per_day))

    @classmethod
    def weekdays(cls, time_range: str) -> WeeklySchedule:
        """The same range Monday to Friday, closed at the weekend."""
        days = (Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY)
        return cls.from_ranges({day: [time_range] for day in (*days, Weekday.FRIDAY)})

    @property
    def is_empty(self) -> bool:
        """Whether no day has any range, i.e. the window never opens."""
        return not any(self.days)

    def is_open_at_wall_clock(self, local: datetime) -> bool:
        """Whether a local wall-clock time falls inside the schedule."""
        minute = local.hour * 60 + local.minute
        return any(r.contains(minute) for r in self.days[local.weekday()])


def _merged(ranges: list[LocalTimeRange]) -> tuple[LocalTimeRange, ...]:
    merged: list[LocalTimeRange] = []
    for current in sorted(ranges, key=lambda r: r.start_minute):
        if merged and current.start_minute <= merged[-1].end_minute:
            last = merged.pop()
            end = max(last.end_minute, current.end_minute)
            current = LocalTimeRange(last.start_minute, end)
        merged.append(current)
    return tuple(merged)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at!r} is a naive datetime; pass an aware UTC instant")
    return at.astimezone(UTC)


def _transition_within(start: datetime, end: datetime, zone: ZoneInfo) -> datetime | None:
    """The first instant in (start, end] with the offset `end` has, if the offset changes."""
    before, after = start.astimezone(zone).utcoffset(), end.astimezone(zone).utcoffset()
    if before == after:
        return None
    low, high = start, end
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def _opening_candidates(
    schedule: WeeklySchedule, zone: ZoneInfo, first_day: date, last_day: date
) -> list[datetime]:
    """Instants where the window may go from closed to open: range starts and offset changes."""
    candidates: list[datetime] = []
    day = first_day
    while day <= last_day:
        midnight = datetime(day.year, day.month, day.day)
        for time_range in schedule.days[day.weekday()]:
            wall = midnight + timedelta(minutes=time_range.start_minute)
            for fold in (0, 1):
                candidates.append(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC))
        next_midnight = midnight + timedelta(days=1)
        transition = _transition_within(
            midnight.replace(tzinfo=zone).astimezone(UTC),
            next_midnight.replace(tzinfo=zone).astimezone(UTC),
            zone,
        )
        if transition is not None:
            candidates.append(transition)
        day += timedelta(days=1)
    return sorted(set(candidates))


def _next_opening_in_zone(
    schedule: WeeklySchedule, at: datetime, zone: ZoneInfo, limit: datetime
) -> datetime | None:
    if schedule.is_open_at_wall_clock(at.astimezone(zone)):
        return at if at < limit else None
    for span in _SEARCH_SPANS:
        horizon = min(at + span, limit)
        first_day = at.astimezone(zone).date() - timedelta(days=1)
        last_day = horizon.astimezone(zone).date() + timedelta(days=1)
        for candidate in _opening_candidates(schedule, zone, first_day, last_day):
            if candidate >= horizon:
                break
            if candidate > at and schedule.is_open_at_wall_clock(candidate.astimezone(zone)):
                return candidate
        if horizon >= limit:
            return None
    return None


def _zones(tz: ZoneInfo | Iterable[ZoneInfo]) -> tuple[ZoneInfo, ...]:
    zones = (tz,) if isinstance(tz, ZoneInfo) else tuple(tz)
    if not zones:
        raise ValueError("no time zone given")
    return zones


@dataclass(frozen=True, slots=True)
class CallingWindows:
    """A campaign's weekly schedule bounded by its start and end (UTC instants, end exclusive).

    Every method takes the lead's zone, or all the zones the lead may be in: then the window is
    open only when it is open in each of them.
    """

    schedule: WeeklySchedule
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.schedule.is_empty:
            raise InvalidCallingWindowError("the calling window has no time range on any day")
        starts_at, ends_at = self.starts_at, self.ends_at
        if starts_at is not None and ends_at is not None and _utc(ends_at) <= _utc(starts_at):
            raise InvalidCallingWindowError("the campaign must end after it starts")

    def is_open(self, at_utc: datetime, tz: ZoneInfo | Iterable[ZoneInfo]) -> bool:
        """Whether a call may start at `at_utc` for a lead in `tz`."""
        at = _utc(at_utc)
        if self.starts_at is not None and at < _utc(self.starts_at):
            return False
        if self.ends_at is not None and at >= _utc(self.ends_at):
            return False
        return all(self.schedule.is_open_at_wall_clock(at.astimezone(z)) for z in _zones(tz))

    def next_opening(
        self,
        at_utc: datetime,
        tz: ZoneInfo | Iterable[ZoneInfo],
        horizon: timedelta = SEARCH_HORIZON,
    ) -> datetime | None:
        """The first UTC instant at or after `at_utc` when the window is open for a lead in `tz`.

        None when there is none before the campaign ends or within `horizon` (zones whose
        windows never overlap). The instant always exists as a local time in every zone.
        """
        zones = _zones(tz)
        at = _utc(at_utc)
        if self.starts_at is not None:
            at = max(at, _utc(self.starts_at))
        limit = at + horizon
        if self.ends_at is not None:
            limit = min(limit, _utc(self.ends_at))
        while at < limit:
            latest = at
            for zone in zones:
                opening = _next_opening_in_zone(self.schedule, at, zone, limit)
                if opening is None:
                    return None
                latest = max(latest, opening)
            if latest == at:
                return at
            at = latest
        return None
