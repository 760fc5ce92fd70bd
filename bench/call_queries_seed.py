"""The call-queries bench's world: one contact center's year of calls among other organizations,
written straight into PostgreSQL with COPY, then digested by the migration's own SQL functions.

What is drawn (from a fixed seed, so every run builds the same calls): eight agents with uneven
shares of the traffic; channels twilio 70 % / sip 15 % / websocket 15 %; a sixth of the calls
dialed by four outbound campaigns (a third of those unanswered), one lead per dial, one lead in
ten dialed once before; durations log-normal around two minutes; 2-16 turns per answered call,
in sentences from a contact center's vocabulary with customer surnames (5,000 of them: each in
about one call in 4,500) and five-digit order numbers (each in a handful of calls per million);
the callers' voice-to-voice latency on their turns; one agent turn in twelve cut short; an
analysis (summary, sentiment, outcome, verdict) on 85 % of the ended calls; one call in five from
2,000 regular callers, the rest from 200,000 numbers.

The rows go in with the tables' triggers off (`session_replication_role = replica`: nothing
else writes the database meanwhile); each call's digest and search document are then made by
`velox_write_call_digests` / `velox_write_call_search`, the functions the triggers run, in
batches. That is bookkeeping before the measures, never part of a figure.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from app.config.agent import AgentConfig
from app.db.agents import create_agent
from app.db.campaigns import create_campaign
from app.db.organizations import create_organization
from app.db.phone_numbers import create_phone_number
from app.db.session import Database

SEED = 20261208
DAYS = 365
AGENTS = (
    ("Reception", 30),
    ("Billing", 18),
    ("Support", 16),
    ("Sales East", 12),
    ("Sales West", 10),
    ("Renewals", 6),
    ("Collections", 5),
    ("After hours", 3),
)
SALES_AGENTS = ("Sales East", "Sales West")
OTHER_ORGANIZATIONS = 3
# Of the sales agents' calls, these are campaign dials (a sixth of all calls).
CAMPAIGN_DIALS = 0.8
BATCH_CALLS = 20_000  # calls digested per statement

NOUNS = (
    "appointment",
    "invoice",
    "refund",
    "order",
    "delivery",
    "subscription",
    "account",
    "password",
    "contract",
    "payment",
    "warranty",
    "cleaning",
    "installation",
    "upgrade",
    "plan",
    "statement",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
USER_SENTENCES = (
    "I need to reschedule my {noun} for {day}.",
    "My {noun} is wrong, can you check it?",
    "I was charged twice on my credit card.",
    "When will my {noun} arrive?",
    "Can I speak to someone about my {noun}?",
    "The name is {surname}, order {order}.",
    "I want to cancel my {noun}.",
    "Yes, {day} works for me.",
    "No, that is not what I asked.",
    "Could you send the {noun} by email?",
    "I have been waiting for a refund since {day}.",
    "Is there a discount on the {noun}?",
)
AGENT_SENTENCES = (
    "Thanks for calling, how can I help you today?",
    "Let me look up your {noun}.",
    "I can book that for {day} morning.",
    "I have updated the {noun} on your account.",
    "Could you confirm your name and order number?",
    "Your refund will be processed within five days.",
    "I will transfer you to a colleague.",
    "Is there anything else I can help you with?",
    "I understand, let me check that for you, {surname}.",
)
OUTCOMES = (
    ("completed", 40),
    ("call_back", 12),
    ("interested", 10),
    ("not_interested", 14),
    ("meeting_booked", 8),
    ("wrong_number", 3),
    ("do_not_call", 1),
)
SENTIMENTS = (("positive", 35), ("neutral", 45), ("negative", 20))
SUMMARIES = (
    "Caller asked about the {noun}; {close}.",
    "{surname} wanted to change the {noun}; {close}.",
    "Question on a {noun} from {day}; {close}.",
)
CLOSES = (
    "resolved on the call",
    "a call back was promised",
    "transferred to billing",
    "no action needed",
)
_SYLLABLES = ("ka", "lo", "mi", "ra", "ven", "dor", "sel", "tu", "bri", "gan", "pe", "sho")


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    api_key: str
    agents: dict[str, str]  # name → id
    campaigns: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class World:
    """What the measures ask about: the organization, its ids, words that occur rarely."""

    target: Organization
    calls: int  # the target organization's
    other_calls: int
    turns: int
    now: datetime
    surname: str  # in a few dozen calls
    order_number: str  # in a handful
    frequent_caller: str
    seed_seconds: float
    digest_seconds: float


def _surnames(rng: random.Random, count: int) -> list[str]:
    """`count` made-up surnames, all different (four syllables each, of 12**4 possible)."""
    names = ("".join(parts).capitalize() for parts in itertools.product(_SYLLABLES, repeat=4))
    return sorted(rng.sample(list(names), count))


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> Callable[[], str]:
    names = [name for name, _ in pairs]
    weights = [weight for _, weight in pairs]
    return lambda: rng.choices(names, weights)[0]


def _organizations(url: str) -> tuple[Organization, list[Organization]]:
    """The target organization (agents, a caller ID, four campaigns) and the others, made
    through the data layer as the API would make them."""
    database = Database(url)
    try:
        with database.session() as session:
            org, key = create_organization(session, "Bench Contact Center")
            agents = {
                name: create_agent(session, org.id, AgentConfig(name=name)).id for name, _ in AGENTS
            }
            caller = create_phone_number(
                session, org.id, phone_number="+15550100000", label="sales", provider="twilio"
            )
            campaigns = [
                create_campaign(
                    session,
                    org.id,
                    name=f"Campaign {n}",
                    agent_id=agents[SALES_AGENTS[n % 2]],
                    phone_number_id=caller.id,
                    state="running",
                    settings={},
                ).id
                for n in range(4)
            ]
            target = Organization(org.id, key, agents, campaigns)
            others = []
            for n in range(OTHER_ORGANIZATIONS):
                other, other_key = create_organization(session, f"Neighbour {n}")
                desk = create_agent(session, other.id, AgentConfig(name="Desk")).id
                others.append(Organization(other.id, other_key, {"Desk": desk}))
    finally:
        database.dispose()
    return target, others


class _Copy:
    """Rows of one table as COPY text, sent in large chunks on a connection of their own (so that
    every table streams at once), with the triggers off."""

    def __init__(self, url: str, table: str, columns: str) -> None:
        self._open = contextlib.ExitStack()
        self._connection = self._open.enter_context(psycopg.connect(url))
        self._connection.execute("SET session_replication_role = replica")
        cursor = self._open.enter_context(self._connection.cursor())
        self._copy = self._open.enter_context(cursor.copy(f"COPY {table} ({columns}) FROM STDIN"))
        self._buffer = io.StringIO()
        self.rows = 0

    def row(self, *values: object) -> None:
        self._buffer.write("\t".join(_text(v) for v in values))
        self._buffer.write("\n")
        self.rows += 1
        if self._buffer.tell() > 1 << 20:
            self._flush()

    def _flush(self) -> None:
        self._copy.write(self._buffer.getvalue())
        self._buffer = io.StringIO()

    def close(self) -> None:
        """Send the rest, end the COPY and commit (the connection's block commits on leaving)."""
        self._flush()
        self._open.close()


def _text(value: object) -> str:
    """A value in COPY's text format (the bench's strings hold no tab, newline or backslash)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


CALL_COLUMNS = (
    "id, organization_id, agent_id, direction, channel, from_number, to_number, status, "
    "termination_reason, started_at, ended_at, duration_secs, metrics, created_at"
)
TURN_COLUMNS = (
    "call_id, organization_id, position, role, message, time_in_call_secs, interrupted, "
    "source, metrics"
)
ANALYSIS_COLUMNS = (
    "call_id, organization_id, status, attempts, due_at, summary, title, sentiment, outcome, "
    "call_successful, data, criteria, metrics, analyzed_by, notes, last_error, created_at, "
    "completed_at"
)
LEAD_COLUMNS = (
    "id, campaign_id, organization_id, phone_number, variables, status, attempts_made, "
    "last_outcome, finished_reason, created_at"
)
ATTEMPT_COLUMNS = (
    "id, campaign_id, lead_id, organization_id, number, status, conversation_id, outcome, "
    "detail, claimed_at, dialed_at, ended_at"
)
SALES_LINE = "+15550100000"
SUCCESSFUL = frozenset({"completed", "meeting_booked", "interested"})


class _Calls:
    """Draws calls and writes them with their turns, analyses, and campaign leads and dials."""

    def __init__(self, url: str, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.calls = _Copy(url, "calls", CALL_COLUMNS)
        self.turns = _Copy(url, "turns", TURN_COLUMNS)
        self.analyses = _Copy(url, "call_analyses", ANALYSIS_COLUMNS)
        self.leads = _Copy(url, "campaign_leads", LEAD_COLUMNS)
        self.attempts = _Copy(url, "call_attempts", ATTEMPT_COLUMNS)
        self.surnames = _surnames(rng, 5000)
        # One call in five is from a regular (2,000 numbers); the rest from 200,000 numbers.
        self.regulars = [f"+1212{n:07d}" for n in range(2000)]
        self.callers = [f"+1{rng.randrange(300, 999)}{n:07d}" for n in range(200_000)]
        self.outcome = _weighted(rng, OUTCOMES)
        self.sentiment = _weighted(rng, SENTIMENTS)
        self.serial = 0
        self.order_numbers: list[int] = []

    def close(self) -> None:
        for table in (self.calls, self.turns, self.analyses, self.leads, self.attempts):
            table.close()

    def _caller(self) -> str:
        pool = self.regulars if self.rng.random() < 0.2 else self.callers
        return self.rng.choice(pool)

    def _sentence(self, pool: tuple[str, ...], organization: Organization) -> str:
        order = self.rng.randrange(10_000, 100_000)
        sentence = self.rng.choice(pool)
        if "{order}" in sentence and organization.campaigns and len(self.order_numbers) < 10:
            self.order_numbers.append(order)
        return sentence.format(
            noun=self.rng.choice(NOUNS),
            day=self.rng.choice(WEEKDAYS),
            surname=self.rng.choice(self.surnames),
            order=order,
        )

    def write(self, organization: Organization, agents: tuple[tuple[str, int], ...]) -> None:
        """One call of `organization`, by one of `agents` (name, share of the traffic)."""
        rng = self.rng
        self.serial += 1
        call_id = f"conv_{self.serial:032x}"
        agent_name = rng.choices([a for a, _ in agents], [w for _, w in agents])[0]
        placed = self.now - timedelta(seconds=rng.uniform(0, DAYS * 86400))
        dial = (
            bool(organization.campaigns)
            and agent_name in SALES_AGENTS
            and rng.random() < CAMPAIGN_DIALS
        )
        outbound = dial or rng.random() < 0.1
        channel = rng.choices(("twilio", "sip", "websocket"), (70, 15, 15))[0]
        caller = self._caller()
        started: datetime | None = placed
        duration: float | None
        outcome: str | None = None
        if dial and rng.random() < 0.3:  # nobody answered
            carrier = rng.choice(("busy", "no-answer"))
            status, reason, duration, started = (
                "failed",
                f"twilio call status: {carrier}",
                0.0,
                None,
            )
            outcome = carrier.replace("-", "_")
        elif self.now - placed < timedelta(minutes=5):
            status, reason, duration = "in-progress", "", None
        else:
            status, reason = "done", "caller hung up"
            duration = min(3600.0, round(math.exp(rng.gauss(math.log(120), 0.8)), 1))
            roll = rng.random()
            if roll < 0.02:
                status, reason = "failed", "no_provider"
            elif roll < 0.06:
                reason = "transferred"
        errors = 1 if rng.random() < 0.03 else 0
        self.calls.row(
            call_id,
            organization.id,
            organization.agents[agent_name],
            "outbound" if outbound else "inbound",
            channel,
            SALES_LINE if outbound else caller,
            caller if outbound else SALES_LINE,
            status,
            reason,
            started,
            placed + timedelta(seconds=duration or 30) if duration is not None else None,
            duration,
            json.dumps({"counters": {"provider_errors": errors, "barge_ins": 0}}),
            placed,
        )
        if status == "done":
            self._turns(organization, call_id)
            if rng.random() < 0.85:
                outcome = self._analysis(organization, call_id, placed)
            else:
                outcome = "completed"
        if dial:
            self._dial(organization, call_id, outcome or "failed", placed)

    def _turns(self, organization: Organization, call_id: str) -> None:
        rng = self.rng
        for position in range(rng.randint(2, 16)):
            user = position % 2 == 1
            if user:
                latency = round(math.exp(rng.gauss(math.log(900), 0.35)), 1)
                metrics = f'{{"voice_to_voice_ms": {latency}, "llm_provider": "groq"}}'
            else:
                metrics = '{"tts_provider": "cartesia"}'
            self.turns.row(
                call_id,
                organization.id,
                position,
                "user" if user else "agent",
                self._sentence(USER_SENTENCES if user else AGENT_SENTENCES, organization),
                position * 4.5,
                not user and rng.random() < 1 / 12,
                "voice",
                metrics,
            )

    def _analysis(self, organization: Organization, call_id: str, at: datetime) -> str:
        rng = self.rng
        summary = rng.choice(SUMMARIES).format(
            noun=rng.choice(NOUNS),
            surname=rng.choice(self.surnames),
            day=rng.choice(WEEKDAYS),
            close=rng.choice(CLOSES),
        )
        outcome = self.outcome()
        verdict = "success" if outcome in SUCCESSFUL else rng.choice(("failure", "unknown"))
        self.analyses.row(
            *(call_id, organization.id, "done", 1, at, summary, summary[:40]),
            *(self.sentiment(), outcome, verdict, "{}", "{}", "{}", "rules", "{}", "", at, at),
        )
        return outcome

    def _dial(self, organization: Organization, call_id: str, outcome: str, at: datetime) -> None:
        """The dial as its campaign recorded it: one lead per dial, one lead in ten dialed once
        before without an answer."""
        campaign_id = self.rng.choice(organization.campaigns)
        lead_id = f"lead_{self.serial:032x}"
        self.leads.row(
            *(lead_id, campaign_id, organization.id, f"+1555{self.serial:09d}", "{}"),
            *("finished", 1, outcome, outcome, at),
        )
        number = 1
        if self.rng.random() < 0.1:
            earlier = f"conv_{self.serial:031x}x"
            self.attempts.row(
                *(f"att_{self.serial:031x}a", campaign_id, lead_id, organization.id, 1),
                *("ended", earlier, "no_answer", "", at, at, at),
            )
            number = 2
        self.attempts.row(
            *(f"att_{self.serial:031x}b", campaign_id, lead_id, organization.id, number),
            *("ended", call_id, outcome, "", at, at, at),
        )


def seed(url: str, calls: int, say: Callable[[str], None]) -> World:
    """Build the world with `calls` calls for the target organization (a quarter as many among
    the others), digested and vacuumed."""
    rng = random.Random(SEED)
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.monotonic()
    target, others = _organizations(url)
    other_calls = calls // 4
    writer = _Calls(url, rng, now)
    try:
        for n in range(calls):
            writer.write(target, AGENTS)
            if n and n % 200_000 == 0:
                say(f"  {n:,} calls written")
        for n in range(other_calls):
            writer.write(others[n % len(others)], (("Desk", 1),))
    finally:
        writer.close()
    seed_seconds = time.monotonic() - started
    say(f"  {calls + other_calls:,} calls, {writer.turns.rows:,} turns in {seed_seconds:.0f} s")
    digested = time.monotonic()
    _digest(url, say)
    return World(
        target=target,
        calls=calls,
        other_calls=other_calls,
        turns=writer.turns.rows,
        now=now,
        surname=writer.surnames[len(writer.surnames) // 2],
        order_number=str(writer.order_numbers[0]),
        frequent_caller=writer.regulars[0],
        seed_seconds=seed_seconds,
        digest_seconds=time.monotonic() - digested,
    )


def _batches(url: str) -> Iterator[tuple[int, int]]:
    with psycopg.connect(url) as connection:
        low, high = connection.execute("SELECT min(seq), max(seq) FROM calls").fetchone() or (0, 0)
    for start in range(low or 0, (high or 0) + 1, BATCH_CALLS):
        yield start, start + BATCH_CALLS


def _digest(url: str, say: Callable[[str], None]) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for low, high in _batches(url):
            ids = "ARRAY(SELECT id FROM calls WHERE seq >= %s AND seq < %s)"
            connection.execute(f"SELECT velox_write_call_digests({ids})", (low, high))
            connection.execute(f"SELECT velox_write_call_search({ids})", (low, high))
        say("  vacuuming ...")
        connection.execute("VACUUM ANALYZE")
