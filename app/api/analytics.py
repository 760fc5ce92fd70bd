"""Call analytics under `/v1/analytics` (Velox's own; no ElevenLabs counterpart): figures for a
period, per day in a time zone the client names, per agent, each narrowed to an agent, a campaign,
channels or directions; and a campaign's funnel. Computed by the database (app/db/analytics.py).
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, BeforeValidator, Field

from app.api.call_filters import (
    CHANNELS,
    DIRECTIONS,
    AgentId,
    CampaignId,
    Channel,
    Direction,
    StartAfter,
    StartBefore,
    choices,
    rejected,
    time_range,
)
from app.api.deps import OrganizationDep, SessionDep
from app.api.errors import not_found
from app.api.openapi import error_responses
from app.api.times import unix
from app.db import analytics
from app.db.analytics import Figures, UnknownTimeZoneError
from app.db.call_search import CallFilters
from campaigns.outcomes import Outcome

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD: pydantic alone would also read `0` as a Unix time (1970-01-01)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]

DEFAULT_PERIOD = timedelta(days=30)
MAX_DAYS = 366
# Picked up, though by no person: the call was answered all the same.
_MACHINE_OUTCOMES = frozenset({Outcome.VOICEMAIL, Outcome.ANSWERED_BY_MACHINE, Outcome.FAX})
REACHED_OUTCOMES = frozenset(outcome.value for outcome in Outcome if outcome.reached_a_person)
ANSWERED_OUTCOMES = REACHED_OUTCOMES | {outcome.value for outcome in _MACHINE_OUTCOMES}


class FiguresBody(BaseModel):
    calls: int = Field(description="Calls that started in the period")
    minutes: float = Field(description="Their total duration, in minutes")
    outcomes: dict[str, int] = Field(
        description="Calls per outcome (the dial's, else the analysis'); `unknown`: none yet"
    )
    sentiments: dict[str, int] = Field(description="Calls per sentiment; `unknown`: none yet")
    success_rate: float | None = Field(
        description="Successes among the calls the analysis judged success or failure"
    )
    average_duration_secs: float | None
    p95_duration_secs: float | None
    voice_to_voice_p50_ms: float | None = Field(
        description="Caller stops speaking → first agent audio leaves, over every measured turn"
    )
    voice_to_voice_p95_ms: float | None
    voice_to_voice_turns: int = Field(description="The turns those latencies were measured on")
    interruptions_per_call: float | None = Field(description="Turns the caller cut short, per call")
    transfers: int = Field(description="Calls the agent handed over to a person")
    provider_failures: int = Field(
        description="Speech or language provider errors during calls, plus calls refused for "
        "want of a provider"
    )

    @classmethod
    def of(cls, figures: Figures) -> dict[str, Any]:
        """The fields for `figures`, rounded for people to read."""
        return {
            "calls": figures.calls,
            "minutes": round(figures.duration_secs / 60, 2),
            "outcomes": dict(sorted(figures.outcomes.items())),
            "sentiments": dict(sorted(figures.sentiments.items())),
            "success_rate": _rounded(figures.success_rate, 4),
            "average_duration_secs": _rounded(figures.average_duration_secs, 1),
            "p95_duration_secs": _rounded(figures.p95_duration_secs, 1),
            "voice_to_voice_p50_ms": _rounded(figures.voice_to_voice_p50_ms, 1),
            "voice_to_voice_p95_ms": _rounded(figures.voice_to_voice_p95_ms, 1),
            "voice_to_voice_turns": figures.voice_to_voice_turns,
            "interruptions_per_call": _rounded(figures.interruptions_per_call, 3),
            "transfers": figures.transfers,
            "provider_failures": figures.provider_failures,
        }


class SummaryBody(FiguresBody):
    call_start_after_unix: int
    call_start_before_unix: int


class DayBody(FiguresBody):
    date: date


class DailyBody(BaseModel):
    time_zone: str
    start_date: date
    end_date: date
    days: list[DayBody]


class AgentBody(FiguresBody):
    agent_id: str
    agent_name: str


class AgentsBody(BaseModel):
    call_start_after_unix: int
    call_start_before_unix: int
    agents: list[AgentBody]


class FunnelBody(BaseModel):
    campaign_id: str
    leads: int
    dialed: int = Field(description="Leads with a dial placed")
    answered: int = Field(description="Leads whose call was picked up, by a person or a machine")
    human: int = Field(description="Leads a person was reached on")
    outcomes: dict[str, int] = Field(
        description="Of those, each lead's outcome on its latest such call"
    )


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def scope(
    agent_id: AgentId = None,
    campaign_id: CampaignId = None,
    channel: Channel = None,
    direction: Direction = None,
) -> CallFilters:
    """Which calls the figures count, besides the period."""
    return CallFilters(
        agent_id=agent_id or None,
        campaign_id=campaign_id or None,
        channels=choices("channel", channel, CHANNELS),
        directions=choices("direction", direction, DIRECTIONS),
    )


ScopeDep = Annotated[CallFilters, Depends(scope)]


def _period(after: int | None, before: int | None) -> tuple[datetime, datetime]:
    """The period asked for; by default the 30 days up to now (or before `before`)."""
    start, end = time_range(after, before)
    end = end or datetime.now(UTC).replace(microsecond=0)
    start = start or end - DEFAULT_PERIOD
    if start >= end:
        raise rejected(
            "invalid_range", f"call_start_after_unix ({unix(start)}) must be before {unix(end)}"
        )
    return start, end


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def _zone(name: str) -> zoneinfo.ZoneInfo:
    if name not in _known_zones():
        raise rejected(
            "unknown_time_zone",
            f"time_zone: {name[:60]!r} is not an IANA time zone name (such as Europe/Paris)",
        )
    return zoneinfo.ZoneInfo(name)


@router.get("/summary", response_model=SummaryBody, responses=error_responses(422))
def summary(
    organization: OrganizationDep,
    session: SessionDep,
    filters: ScopeDep,
    call_start_after_unix: StartAfter = None,
    call_start_before_unix: StartBefore = None,
) -> SummaryBody:
    """The figures of the calls that started in the period (default: the last 30 days); with
    `campaign_id`, one campaign's."""
    start, end = _period(call_start_after_unix, call_start_before_unix)
    figures = analytics.summary(
        session,
        organization.id,
        replace(filters, started_from=start, started_before=end),
    )
    return SummaryBody(
        call_start_after_unix=unix(start),
        call_start_before_unix=unix(end),
        **FiguresBody.of(figures),
    )


@router.get("/daily", response_model=DailyBody, responses=error_responses(422))
def daily(
    organization: OrganizationDep,
    session: SessionDep,
    filters: ScopeDep,
    time_zone: Annotated[
        str, Query(description="IANA name (Europe/Paris); days run midnight to midnight there")
    ] = "UTC",
    start_date: Annotated[
        IsoDate | None, Query(description="First day (default: 29 days before end_date)")
    ] = None,
    end_date: Annotated[IsoDate | None, Query(description="Last day (default: today)")] = None,
) -> DailyBody:
    """The figures of each day from `start_date` to `end_date` in `time_zone` (at most 366
    days), days without calls included."""
    zone = _zone(time_zone)
    last = end_date or datetime.now(zone).date()
    first = start_date or last - timedelta(days=29)
    if first > last or (last - first).days >= MAX_DAYS:
        raise rejected(
            "invalid_range",
            f"start_date ({first}) to end_date ({last}) must run forward, at most {MAX_DAYS} days",
        )
    try:
        days = analytics.per_day(session, organization.id, filters, first, last, zone)
    except UnknownTimeZoneError as error:
        raise rejected("unknown_time_zone", str(error)) from error
    return DailyBody(
        time_zone=zone.key,
        start_date=first,
        end_date=last,
        days=[DayBody(date=day, **FiguresBody.of(figures)) for day, figures in days],
    )


@router.get("/agents", response_model=AgentsBody, responses=error_responses(422))
def agents(
    organization: OrganizationDep,
    session: SessionDep,
    filters: ScopeDep,
    call_start_after_unix: StartAfter = None,
    call_start_before_unix: StartBefore = None,
) -> AgentsBody:
    """The figures of each agent with calls in the period (default: the last 30 days), the
    busiest first."""
    start, end = _period(call_start_after_unix, call_start_before_unix)
    rows = analytics.per_agent(
        session,
        organization.id,
        replace(filters, started_from=start, started_before=end),
    )
    return AgentsBody(
        call_start_after_unix=unix(start),
        call_start_before_unix=unix(end),
        agents=[
            AgentBody(
                agent_id=row.agent_id,
                agent_name=row.agent_name,
                **FiguresBody.of(row.figures),
            )
            for row in rows
        ],
    )


@router.get(
    "/campaigns/{campaign_id}/funnel",
    response_model=FunnelBody,
    responses=error_responses(404),
)
def campaign_funnel(
    campaign_id: str, organization: OrganizationDep, session: SessionDep
) -> FunnelBody:
    """How far the campaign's leads got: dialed, answered, a person reached, and the outcome."""
    funnel = analytics.campaign_funnel(
        session,
        organization.id,
        campaign_id,
        answered=ANSWERED_OUTCOMES,
        reached=REACHED_OUTCOMES,
    )
    if funnel is None:
        raise not_found("campaign", campaign_id)
    return FunnelBody(
        campaign_id=campaign_id,
        leads=funnel.leads,
        dialed=funnel.dialed,
        answered=funnel.answered,
        human=funnel.human,
        outcomes=dict(sorted(funnel.outcomes.items())),
    )
