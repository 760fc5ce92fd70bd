"""Call analytics, computed by the database: figures for a period, per day of a time zone, per
agent; a campaign's funnel. Only aggregated rows come back to Python.

The calls counted are those whose start time (as the API shows it) falls in the range, narrowed by
the same filters as the call list (`CallFilters`). Everything counted is read from the calls'
digests (`call_digests`: one row per call with what its analysis, dial and turns say), never
from the turns or by joining per call. Percentiles are `percentile_cont` on PostgreSQL; SQLite
computes the same interpolation between closest ranks with window functions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, case, cast, func, literal, select, text, true
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select, Subquery

from app.db.call_digests import call_digests
from app.db.call_search import CallFilters, digest, with_filters
from app.db.models import Agent, CallAttempt, Campaign, CampaignLead

# How a call ended when the agent handed it to a person, or when no provider could run it.
TRANSFERRED = "transferred"
NO_PROVIDER = "no_provider"
UNKNOWN = "unknown"
# The group of a summary: every call counted (not grouped by anything).
ONE_GROUP = 0
# PostgreSQL's memory for one sort of analytics (a 30-day period of a busy organization holds a
# few hundred thousand measured turns; the server's default of 4 MB spills them to disk).
SORT_MEMORY = "64MB"


class UnknownTimeZoneError(ValueError):
    """The database does not know a time zone the service does (their zone data differ)."""


@dataclass(slots=True)
class Figures:
    """One group's calls. Durations in seconds, latencies in milliseconds; None: nothing to
    compute it from (no ended call, no measured turn)."""

    calls: int = 0
    duration_secs: float = 0.0
    # Each call once: its outcome / sentiment, "unknown" without one.
    outcomes: dict[str, int] = field(default_factory=dict)
    sentiments: dict[str, int] = field(default_factory=dict)
    successes: int = 0
    failures: int = 0
    average_duration_secs: float | None = None
    p95_duration_secs: float | None = None
    voice_to_voice_turns: int = 0
    voice_to_voice_p50_ms: float | None = None
    voice_to_voice_p95_ms: float | None = None
    interrupted_turns: int = 0
    transfers: int = 0
    # Provider errors the calls met, plus calls refused because no provider could run them.
    provider_failures: int = 0

    @property
    def success_rate(self) -> float | None:
        """Successes among the calls whose analysis judged success or failure."""
        judged = self.successes + self.failures
        return self.successes / judged if judged else None

    @property
    def interruptions_per_call(self) -> float | None:
        return self.interrupted_turns / self.calls if self.calls else None


@dataclass(frozen=True, slots=True)
class AgentFigures:
    agent_id: str
    agent_name: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class Funnel:
    """A campaign's leads, and how many got how far (each lead counted once per stage)."""

    leads: int
    dialed: int  # an attempt was dialed
    answered: int  # an attempt was picked up (a person or a machine)
    human: int  # a person was reached
    # Of the leads a person was reached on: the outcome of the latest such attempt.
    outcomes: dict[str, int]


def summary(session: Session, organization_id: str, filters: CallFilters) -> Figures:
    """The figures of every call `filters` allows (a start time range among them)."""
    return _figures_by(session, organization_id, filters, None).get(ONE_GROUP, Figures())


def per_agent(session: Session, organization_id: str, filters: CallFilters) -> list[AgentFigures]:
    """The figures of each agent that has calls `filters` allows, busiest first."""
    groups = _figures_by(session, organization_id, filters, digest.agent_id)
    names = {
        agent_id: name
        for agent_id, name in session.execute(
            select(Agent.id, Agent.name).where(
                Agent.organization_id == organization_id, Agent.id.in_(list(groups))
            )
        )
    }
    rows = [AgentFigures(agent, names.get(agent, ""), figures) for agent, figures in groups.items()]
    return sorted(rows, key=lambda row: (-row.figures.calls, row.agent_name, row.agent_id))


def day_starts(first_day: date, last_day: date, zone: ZoneInfo) -> list[datetime]:
    """The UTC instant each day from `first_day` to the day after `last_day` begins in `zone`:
    its local midnight (the first instant of the day, should midnight fall in a DST gap)."""
    days = (last_day - first_day).days + 2
    return [
        datetime.combine(first_day + timedelta(days=n), time(), tzinfo=zone).astimezone(UTC)
        for n in range(days)
    ]


def per_day(
    session: Session,
    organization_id: str,
    filters: CallFilters,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
) -> list[tuple[date, Figures]]:
    """The figures of each day from `first_day` to `last_day` in `zone` (days without calls
    included). `filters`' own start range is replaced by those days."""
    starts = day_starts(first_day, last_day, zone)
    within = replace(filters, started_from=starts[0], started_before=starts[-1])
    if session.get_bind().dialect.name == "postgresql":
        day: ColumnElement[Any] = cast(func.timezone(zone.key, digest.call_start), Date)
        try:
            groups = _figures_by(session, organization_id, within, day)
        except DataError as error:
            raise UnknownTimeZoneError(f"the database does not know {zone.key!r}") from error
    else:
        # SQLite cannot convert zones: each call is placed by the days' UTC boundaries.
        inner = starts[1:-1]
        index: ColumnElement[Any] = (
            case(
                *((digest.call_start < start, n) for n, start in enumerate(inner)),
                else_=len(inner),
            )
            if inner
            else literal(0)
        )
        by_index = _figures_by(session, organization_id, within, index)
        groups = {first_day + timedelta(days=n): f for n, f in by_index.items()}
    return [
        (first_day + timedelta(days=n), groups.get(first_day + timedelta(days=n), Figures()))
        for n in range(len(starts) - 1)
    ]


# --- the queries -------------------------------------------------------------------------------


def _figures_by(
    session: Session, organization_id: str, filters: CallFilters, key: ColumnElement[Any] | None
) -> dict[Any, Figures]:
    """The figures of the calls `filters` allows, grouped by `key` (None: one group,
    `ONE_GROUP`, with nothing to sort by), in one query for the call totals, one for the outcome
    and sentiment split, one or two for the percentiles."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # A period's latencies are sorted for their percentiles: in memory, not on disk. Not
        # in parallel: gathering a month's few hundred thousand latencies from the workers
        # costs more than the one scan they would share (measured in bench/RESULTS.md).
        session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    grouped = key is not None
    scoped = _scoped_calls(
        session, organization_id, filters, key if key is not None else literal(ONE_GROUP)
    )
    groups: dict[Any, Figures] = {}
    duration = scoped.c.duration_secs
    group_key = scoped.c.key if grouped else literal(ONE_GROUP)
    totals: list[Any] = [
        group_key,
        func.count(),
        func.coalesce(func.sum(duration), 0.0),
        func.avg(duration),
        func.sum(case((scoped.c.termination_reason == TRANSFERRED, 1), else_=0)),
        func.sum(func.coalesce(scoped.c.provider_errors, 0))
        + func.sum(case((scoped.c.termination_reason == NO_PROVIDER, 1), else_=0)),
        func.sum(func.coalesce(scoped.c.interrupted_turns, 0)),
        func.sum(case((scoped.c.call_successful == "success", 1), else_=0)),
        func.sum(case((scoped.c.call_successful == "failure", 1), else_=0)),
    ]
    if postgres:
        totals.append(func.percentile_cont(0.95).within_group(duration))
    for row in session.execute(_grouped(select(*totals), scoped, grouped)):
        if row[1] == 0:  # one group, and no call in it
            continue
        figures = groups[row[0]] = Figures(
            calls=row[1],
            duration_secs=float(row[2]),
            average_duration_secs=None if row[3] is None else float(row[3]),
            transfers=int(row[4]),
            provider_failures=int(row[5]),
            interrupted_turns=int(row[6]),
            successes=int(row[7]),
            failures=int(row[8]),
        )
        if postgres and row[9] is not None:
            figures.p95_duration_secs = float(row[9])
    split = _grouped(
        select(group_key, scoped.c.outcome, scoped.c.sentiment, func.count()), scoped, grouped
    ).group_by(scoped.c.outcome, scoped.c.sentiment)
    for group, outcome, sentiment, count in session.execute(split):
        figures = groups[group]
        figures.outcomes[outcome or UNKNOWN] = figures.outcomes.get(outcome or UNKNOWN, 0) + count
        mood = sentiment or UNKNOWN
        figures.sentiments[mood] = figures.sentiments.get(mood, 0) + count
    if not postgres:
        for group, (p95,), _ in _ranked_percentiles(session, scoped, duration, (0.95,)):
            groups[group].p95_duration_secs = p95
    for group, (p50, p95), count in _latency_percentiles(session, scoped, postgres, grouped):
        figures = groups[group]
        figures.voice_to_voice_p50_ms, figures.voice_to_voice_p95_ms = p50, p95
        figures.voice_to_voice_turns = count
    return groups


def _grouped(query: Select[Any], scoped: Subquery, grouped: bool) -> Select[Any]:
    """`query` grouped by the key. One group is not grouped at all: PostgreSQL would sort
    every row by the constant first."""
    return query.group_by(scoped.c.key) if grouped else query


def _scoped_calls(
    session: Session, organization_id: str, filters: CallFilters, key: ColumnElement[Any]
) -> Subquery:
    """One row per call counted: its group `key` and what the figures read."""
    query = select(
        key.label("key"),
        digest.duration_secs,
        digest.termination_reason,
        digest.call_successful,
        digest.sentiment,
        digest.outcome,
        digest.interrupted_turns,
        digest.provider_errors,
        digest.voice_to_voice_ms,
    ).select_from(call_digests)
    return with_filters(query, session, organization_id, filters).subquery("scoped")


def _latency_percentiles(
    session: Session, scoped: Subquery, postgres: bool, grouped: bool
) -> list[tuple[Any, tuple[float | None, ...], int]]:
    """Per group: the callers' voice-to-voice p50 and p95 over every measured turn, and how
    many turns were measured."""
    if postgres:
        latencies = select(
            scoped.c.key, func.unnest(scoped.c.voice_to_voice_ms).label("latency")
        ).subquery("latencies")
        query = select(
            latencies.c.key if grouped else literal(ONE_GROUP),
            func.percentile_cont(0.5).within_group(latencies.c.latency),
            func.percentile_cont(0.95).within_group(latencies.c.latency),
            func.count(),
        )
        if grouped:
            query = query.group_by(latencies.c.key)
        return [
            (group, (float(p50), float(p95)), count)
            for group, p50, p95, count in session.execute(query)
            if count
        ]
    each = func.json_each(scoped.c.voice_to_voice_ms).table_valued("value")
    latencies = (
        select(scoped.c.key, each.c.value.label("latency"))
        .select_from(scoped)
        .join(each, true())
        .subquery("latencies")
    )
    return _ranked_percentiles(session, latencies, latencies.c.latency, (0.5, 0.95))


def _ranked_percentiles(
    session: Session, values: Subquery, value: ColumnElement[Any], fractions: Sequence[float]
) -> list[tuple[Any, tuple[float | None, ...], int]]:
    """Per group of `values` (by its `key`): the `fractions` percentiles of `value` (nulls left
    out) as PostgreSQL's percentile_cont has them: at rank p·(n−1), interpolated linearly between
    the two closest ranks; and n. Window functions, for SQLite."""
    ranked = (
        select(
            values.c.key,
            value.label("value"),
            func.row_number().over(partition_by=values.c.key, order_by=value).label("place"),
            func.count().over(partition_by=values.c.key).label("n"),
        )
        .where(value.is_not(None))
        .subquery("ranked")
    )

    def at(fraction: float) -> ColumnElement[Any]:
        position = literal(fraction) * (ranked.c.n - 1)
        low = cast(position, Integer)  # floor: the position is never negative
        first = func.max(case((ranked.c.place == low + 1, ranked.c.value)))
        second = func.coalesce(func.max(case((ranked.c.place == low + 2, ranked.c.value))), first)
        return first + (second - first) * func.max(position - low)

    query = select(ranked.c.key, *(at(f) for f in fractions), func.max(ranked.c.n)).group_by(
        ranked.c.key
    )
    return [
        (row[0], tuple(None if v is None else float(v) for v in row[1:-1]), int(row[-1]))
        for row in session.execute(query)
    ]


# --- campaigns ---------------------------------------------------------------------------------


def campaign_funnel(
    session: Session,
    organization_id: str,
    campaign_id: str,
    *,
    answered: Collection[str],
    reached: Collection[str],
) -> Funnel | None:
    """The campaign's funnel; None if the organization has no such campaign. `answered`: the
    attempt outcomes where the call was picked up; `reached`: those where a person was (the
    campaign domain's vocabulary, handed in)."""
    campaign = session.scalar(
        select(Campaign.id).where(
            Campaign.organization_id == organization_id, Campaign.id == campaign_id
        )
    )
    if campaign is None:
        return None
    leads = session.scalar(
        select(func.count()).where(
            CampaignLead.organization_id == organization_id,
            CampaignLead.campaign_id == campaign_id,
        )
    )

    def reached_stage(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.max(case((condition, 1), else_=0))

    of_campaign = (
        CallAttempt.organization_id == organization_id,
        CallAttempt.campaign_id == campaign_id,
    )
    per_lead = (
        select(
            reached_stage(CallAttempt.dialed_at.is_not(None)).label("dialed"),
            reached_stage(CallAttempt.outcome.in_(list(answered))).label("answered"),
            reached_stage(CallAttempt.outcome.in_(list(reached))).label("human"),
        )
        .where(*of_campaign)
        .group_by(CallAttempt.lead_id)
        .subquery("per_lead")
    )
    stages = session.execute(
        select(
            func.coalesce(func.sum(per_lead.c.dialed), 0),
            func.coalesce(func.sum(per_lead.c.answered), 0),
            func.coalesce(func.sum(per_lead.c.human), 0),
        )
    ).one()
    latest = (
        select(
            CallAttempt.outcome,
            func.row_number()
            .over(partition_by=CallAttempt.lead_id, order_by=CallAttempt.number.desc())
            .label("latest"),
        )
        .where(*of_campaign, CallAttempt.outcome.in_(list(reached)))
        .subquery("latest")
    )
    outcomes = session.execute(
        select(latest.c.outcome, func.count())
        .where(latest.c.latest == 1)
        .group_by(latest.c.outcome)
    )
    return Funnel(
        leads=int(leads or 0),
        dialed=int(stages[0]),
        answered=int(stages[1]),
        human=int(stages[2]),
        outcomes={outcome: int(count) for outcome, count in outcomes},
    )
