"""The time zone a lead is called in: named in the lead file, else inferred from the number.

Calling windows are legal limits in the lead's local time, so when the number alone cannot
say which zone the lead is in, every zone it may be in is kept and the window must be open in
all of them (see `resolve_lead_time_zone`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from phonenumbers import timezone as phone_timezones

_UNKNOWN_ZONE = "Etc/Unknown"


class UnknownTimeZoneError(ValueError):
    """A time zone name that is not in the IANA database."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"unknown time zone {name!r}: use an IANA name such as America/New_York or Europe/Paris"
        )
        self.name = name


class TimeZoneSource(enum.StrEnum):
    """Where a lead's time zone came from, shown to the user next to the lead."""

    LEAD_FILE = "lead_file"
    PHONE_NUMBER = "phone_number"
    CAMPAIGN_DEFAULT = "campaign_default"


@dataclass(frozen=True, slots=True)
class LeadTimeZone:
    """The zone(s) a lead may be in; the lead is callable only when its window is open in all."""

    zones: tuple[ZoneInfo, ...]
    source: TimeZoneSource

    def __post_init__(self) -> None:
        if not self.zones:
            raise ValueError("a lead time zone needs at least one zone")

    @property
    def names(self) -> tuple[str, ...]:
        """The IANA names of the zones, for storage and display."""
        return tuple(zone.key for zone in self.zones)


@cache
def _zone_names_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_time_zone(name: str) -> ZoneInfo:
    """Return the IANA zone named `name` (case-insensitive, e.g. "america/chicago").

    Raises `UnknownTimeZoneError` for anything else, including offsets like "GMT+2" that are
    not zone names.
    """
    canonical = _zone_names_by_folded_name().get(name.strip().casefold())
    if canonical is None:
        raise UnknownTimeZoneError(name)
    return ZoneInfo(canonical)


def time_zones_for_number(e164: str) -> tuple[str, ...]:
    """The IANA zones `phonenumbers` maps an E.164 number to, sorted; empty when unknown."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ()
    names = phone_timezones.time_zones_for_number(parsed)
    return tuple(sorted(name for name in names if name != _UNKNOWN_ZONE))


def resolve_lead_time_zone(
    e164: str, named_zone: str | None, campaign_default: ZoneInfo
) -> LeadTimeZone:
    """Decide the zone(s) a lead is called in.

    The rule, in order: a zone named in the lead file wins (it is validated; an unknown name
    raises `UnknownTimeZoneError`). Else the zones `phonenumbers` gives for the number: when it
    gives several (an area code that spans zones, a mobile number of a country with many zones),
    all are kept, sorted by name for determinism, and the calling window is evaluated as their
    intersection - it opens when it has opened in the zone where it opens latest and closes when
    it has closed in the zone where it closes earliest, so no call lands outside the window of
    any zone the lead may be in. A number with no known zone uses the campaign's default zone.
    """
    if named_zone is not None and named_zone.strip():
        return LeadTimeZone((parse_time_zone(named_zone),), TimeZoneSource.LEAD_FILE)
    names = time_zones_for_number(e164)
    zones = tuple(ZoneInfo(name) for name in names if name in _zone_names())
    if zones:
        return LeadTimeZone(zones, TimeZoneSource.PHONE_NUMBER)
    return LeadTimeZone((campaign_default,), TimeZoneSource.CAMPAIGN_DEFAULT)
