"""What the database keeps about each call for search and analytics, beside the models.

Migrations 0013 and 0016 create these objects outside `Base.metadata`, and the database's own
triggers write them whenever a call, its turns, its analysis or its campaign dial change, so
every writer (the recorder, the analysis worker, the dialer, a deletion, a retried save) keeps
them true without knowing they exist. Velox only reads them:

- `call_digests`, one row per call with everything the call list filters and analytics count,
  so that neither joins per call: the call's own columns (organization, agent, start time as the
  API shows it, channel, direction, status, duration, termination reason), its finished
  analysis' verdict and sentiment, its campaign dial's campaign, its outcome (the dial's, else
  the analysis'), how many turns it has and how many of them were interrupted, how many provider
  errors it met (the engine's `counters.provider_errors`), and its callers' voice-to-voice
  latencies in turn order (a PostgreSQL `float8[]`, a JSON array on SQLite). On PostgreSQL the
  analysis' and the dial's part is written when their transaction commits;
- `call_search`: the call's transcript and analysis summary as one searchable document (a
  `tsvector` under a GIN index on PostgreSQL, an FTS5 table whose rowid is the call's `seq` on
  SQLite);
- indexes on `call_digests` for the list's order (start time, then `seq`) per organization and
  per agent, and on `calls` for the phone number filter.

`include_name` keeps Alembic's model comparison away from them (migrations/env.py and the schema
test use it). A later migration that rebuilds `calls`, `turns` or `call_analyses` on SQLite
(a batch "move and copy") drops their triggers and must create them again;
tests/integration/test_call_digests.py fails until it does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Float, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR

from app.db.models import SurrogateKey, UtcDateTime

DERIVED = MetaData()

call_digests = Table(
    "call_digests",
    DERIVED,
    Column("call_seq", SurrogateKey, primary_key=True),
    Column("organization_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    # When the call started, as the API shows it: media start, else when it was recorded (a
    # call that never connected).
    Column("call_start", UtcDateTime(), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("duration_secs", Float()),
    Column("termination_reason", Text()),
    Column("campaign_id", String(64)),
    Column("outcome", String(32)),
    Column("sentiment", String(16)),
    # The finished analysis' verdict; NULL without one.
    Column("call_successful", String(16)),
    Column("message_count", Integer, nullable=False),
    Column("interrupted_turns", Integer, nullable=False),
    Column("provider_errors", Integer, nullable=False),
    Column("voice_to_voice_ms", ARRAY(Float()).with_variant(JSON(), "sqlite"), nullable=False),
)

# PostgreSQL's search table; SQLite's is an FTS5 virtual table of the same name (see
# `app.db.call_search`, which queries each its own way).
call_search = Table(
    "call_search",
    DERIVED,
    Column("call_seq", SurrogateKey, primary_key=True),
    Column("document", TSVECTOR(), nullable=False),
)

MAINTAINED_TABLES = frozenset(
    {
        "call_digests",
        "call_search",
        # FTS5's shadow tables behind SQLite's call_search.
        "call_search_config",
        "call_search_content",
        "call_search_data",
        "call_search_docsize",
        "call_search_idx",
    }
)
MAINTAINED_INDEXES = frozenset(
    {
        "ix_calls_organization_id_start",
        "ix_calls_agent_id_start",
        "ix_calls_organization_id_from_number",
        "ix_calls_organization_id_to_number",
        "ix_call_search_document",
        "ix_call_digests_organization_id_start",
        "ix_call_digests_agent_id_start",
    }
)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name` hook: leave out what the database maintains beside the models."""
    if type_ == "table":
        return name not in MAINTAINED_TABLES
    if type_ == "index":
        return name not in MAINTAINED_INDEXES
    return True
