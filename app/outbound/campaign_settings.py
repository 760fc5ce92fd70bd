"""A campaign's settings as the API takes them and the database keeps them, and the domain
`Campaign` (campaigns/) they stand for. Every way a setting can be wrong is a validation error
with the field's name, raised when the campaign is created, never later at dial time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.db.models import Campaign as CampaignRow
from campaigns.campaign import Campaign
from campaigns.outcomes import Outcome
from campaigns.pacing import Pace
from campaigns.retries import RetryPolicy, RetryRule
from campaigns.states import CampaignState
from campaigns.timezones import UnknownTimeZoneError, parse_time_zone, resolve_lead_time_zone
from campaigns.voicemail import VoicemailBehaviour
from campaigns.windows import (
    CallingWindows,
    InvalidCallingWindowError,
    LocalTimeRange,
    Weekday,
    WeeklySchedule,
)

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RetryRuleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay_minutes: float = Field(ge=0, le=60 * 24 * 30)
    max_attempts: int = Field(ge=1, le=20)


def _default_retry_rules() -> dict[Outcome, RetryRuleSettings]:
    return {
        outcome: RetryRuleSettings(
            delay_minutes=rule.delay.total_seconds() / 60, max_attempts=rule.max_attempts
        )
        for outcome, rule in RetryPolicy().rules.items()
    }


class RetrySettings(BaseModel):
    """Per outcome: how long to wait and how many attempts may end that way; unlisted outcomes
    are final. `max_total_attempts` caps a lead's attempts whatever their outcomes."""

    model_config = ConfigDict(extra="forbid")

    max_total_attempts: int = Field(default=RetryPolicy().max_total_attempts, ge=1, le=20)
    rules: dict[Outcome, RetryRuleSettings] = Field(default_factory=_default_retry_rules)

    @field_validator("rules")
    @classmethod
    def _no_retry_of_do_not_call(
        cls, rules: dict[Outcome, RetryRuleSettings]
    ) -> dict[Outcome, RetryRuleSettings]:
        if Outcome.DO_NOT_CALL in rules:
            raise ValueError("do_not_call is always final: the lead asked not to be called again")
        return rules


class VoicemailSettings(BaseModel):
    """On an answering machine: hang up, or leave `message` (prompt variables allowed)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["hang_up", "leave_message"] = "hang_up"
    message: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _message_matches_action(self) -> VoicemailSettings:
        if self.action == "leave_message" and not (self.message or "").strip():
            raise ValueError("leave_message needs the message to leave")
        if self.action == "hang_up" and self.message is not None:
            raise ValueError("hang_up leaves no message: drop message or choose leave_message")
        return self


class CampaignSettings(BaseModel):
    """When, how fast and how often a campaign calls. Times of day are the lead's local time."""

    model_config = ConfigDict(extra="forbid")

    calling_hours: dict[str, list[str]] = Field(
        default_factory=lambda: {day: ["09:00-19:00"] for day in DAY_NAMES[:5]},
        description='local calling windows per weekday, e.g. {"mon": ["09:00-12:00"]}',
    )
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    default_time_zone: str = Field(
        default="UTC",
        description="for leads whose row names no zone and whose number does not tell one",
    )
    default_region: str | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="ISO country for national-format numbers in lead files, e.g. US",
    )
    max_concurrent_calls: int = Field(default=2, ge=1, le=500)
    calls_per_minute: int = Field(default=10, ge=1, le=1000)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    voicemail: VoicemailSettings = Field(default_factory=VoicemailSettings)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-01T09:00:00Z")
        return value.astimezone(UTC) if value is not None else None

    @field_validator("default_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            parse_time_zone(value)
        except UnknownTimeZoneError as error:
            raise ValueError(str(error)) from None
        return value

    @model_validator(mode="after")
    def _windows_valid(self) -> CampaignSettings:
        try:
            self.windows()
        except InvalidCallingWindowError as error:
            raise ValueError(str(error)) from None
        return self

    def windows(self) -> CallingWindows:
        hours: dict[Weekday | str, list[LocalTimeRange | str]] = {
            day: list(ranges) for day, ranges in self.calling_hours.items()
        }
        return CallingWindows(WeeklySchedule.from_ranges(hours), self.starts_at, self.ends_at)

    def retry_policy(self) -> RetryPolicy:
        rules = {
            outcome: RetryRule(timedelta(minutes=rule.delay_minutes), rule.max_attempts)
            for outcome, rule in self.retry.rules.items()
        }
        return RetryPolicy(rules, self.retry.max_total_attempts)

    def voicemail_behaviour(self) -> VoicemailBehaviour:
        if self.voicemail.action == "leave_message":
            return VoicemailBehaviour.leave_message("campaign")
        return VoicemailBehaviour.hang_up()

    def campaign(self, agent_id: str, caller_id: str, state: str) -> Campaign:
        """The domain campaign the dialer decides with."""
        return Campaign(
            agent_id=agent_id,
            caller_id=caller_id,
            windows=self.windows(),
            default_time_zone=parse_time_zone(self.default_time_zone),
            pace=Pace(self.max_concurrent_calls, self.calls_per_minute),
            retry_policy=self.retry_policy(),
            voicemail=self.voicemail_behaviour(),
            state=CampaignState(state),
        )


def settings_of(campaign: CampaignRow) -> CampaignSettings:
    """The settings stored on a campaign's row."""
    return CampaignSettings.model_validate(campaign.settings)


def zone_of_lead(campaign: CampaignRow, phone_number: str, named_zone: str | None) -> ZoneInfo:
    """The zone a campaign's lead lives in (the first, when its number spans several)."""
    default = parse_time_zone(settings_of(campaign).default_time_zone)
    return resolve_lead_time_zone(phone_number, named_zone, default).zones[0]
