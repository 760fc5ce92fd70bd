"""call search: a searchable document and an analytics digest per call, kept by triggers; indexes
for the call list's order and its phone number filter

Revision ID: 0013_call_search
Revises: 0012_recordings
Create Date: 2026-12-08

What each object is for: app/db/call_digests.py. The database writes `call_digests` and
`call_search` itself (triggers on `calls`, `turns` and `call_analyses`), so no writer of calls has
to remember them; existing calls are indexed here.

PostgreSQL: `call_search.document` is a `tsvector` (the `simple` configuration: no stemming, no
stop words) of the turns' text and the analysis summary, ASCII and common typographic punctuation
read as spaces so that words split as SQLite's `unicode61` tokenizer splits them; a GIN index over
it. Statement-level triggers on `turns` refresh each changed call once per statement.

SQLite: `call_search` is an FTS5 table (`unicode61`, diacritics kept, as PostgreSQL keeps them)
whose rowid is the call's `seq`; row-level triggers.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from alembic import op

revision: str = "0013_call_search"
down_revision: str | None = "0012_recordings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Read as word separators in PostgreSQL's document (its parser keeps e-mail addresses, URLs,
# hyphenated words and decimals whole; FTS5 splits them).
PUNCTUATION = string.punctuation + (
    "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2026\u2013\u2014\u00ab\u00bb"
)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


CALL_INDEXES = (
    # The list's order (newest first by start time, then seq) and its time range, per
    # organization and per agent.
    "CREATE INDEX ix_calls_organization_id_start "
    "ON calls (organization_id, coalesce(started_at, created_at), seq)",
    "CREATE INDEX ix_calls_agent_id_start "
    "ON calls (agent_id, coalesce(started_at, created_at), seq)",
    # The phone number filter matches either end of the call.
    "CREATE INDEX ix_calls_organization_id_from_number ON calls (organization_id, from_number)",
    "CREATE INDEX ix_calls_organization_id_to_number ON calls (organization_id, to_number)",
)

# --- PostgreSQL --------------------------------------------------------------------------------

POSTGRES_UPGRADE = (
    """
    CREATE TABLE call_digests (
        call_seq BIGINT NOT NULL,
        interrupted_turns INTEGER NOT NULL DEFAULT 0,
        provider_errors INTEGER NOT NULL DEFAULT 0,
        voice_to_voice_ms DOUBLE PRECISION[] NOT NULL DEFAULT '{}',
        CONSTRAINT pk_call_digests PRIMARY KEY (call_seq),
        CONSTRAINT fk_call_digests_call_seq_calls FOREIGN KEY (call_seq)
            REFERENCES calls (seq) ON DELETE CASCADE
    )
    """,
    """
    CREATE TABLE call_search (
        call_seq BIGINT NOT NULL,
        document TSVECTOR NOT NULL,
        CONSTRAINT pk_call_search PRIMARY KEY (call_seq),
        CONSTRAINT fk_call_search_call_seq_calls FOREIGN KEY (call_seq)
            REFERENCES calls (seq) ON DELETE CASCADE
    )
    """,
    "CREATE INDEX ix_call_search_document ON call_search USING GIN (document)",
    # A JSON number as float8; NULL for anything else, or a number float8 cannot hold (a digest
    # must never fail the save of a call).
    """
    CREATE FUNCTION velox_json_number(value json) RETURNS double precision
    LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN json_typeof(value) = 'number' THEN
            CASE WHEN abs(value::text::numeric) < 1e15 THEN value::text::numeric::float8 END
        END
    $$
    """,
    """
    CREATE FUNCTION velox_write_call_digests(call_ids text[]) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO call_digests AS digest
            (call_seq, interrupted_turns, provider_errors, voice_to_voice_ms)
        SELECT c.seq,
               coalesce(t.interrupted_turns, 0),
               coalesce(trunc(least(greatest(
                   velox_json_number(c.metrics -> 'counters' -> 'provider_errors'), 0), 1000000)
               )::integer, 0),
               coalesce(t.voice_to_voice_ms, '{}')
        FROM calls AS c
        LEFT JOIN LATERAL (
            SELECT count(*) FILTER (WHERE turn.interrupted) AS interrupted_turns,
                   array_agg(velox_json_number(turn.metrics -> 'voice_to_voice_ms')
                             ORDER BY turn.position)
                       FILTER (WHERE turn.role = 'user' AND velox_json_number(
                           turn.metrics -> 'voice_to_voice_ms') IS NOT NULL)
                       AS voice_to_voice_ms
            FROM turns AS turn
            WHERE turn.call_id = c.id
        ) AS t ON true
        WHERE c.id = ANY (call_ids)
        ON CONFLICT (call_seq) DO UPDATE SET
            interrupted_turns = excluded.interrupted_turns,
            provider_errors = excluded.provider_errors,
            voice_to_voice_ms = excluded.voice_to_voice_ms
    $$
    """,
    f"""
    CREATE FUNCTION velox_write_call_search(call_ids text[]) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO call_search AS search (call_seq, document)
        SELECT c.seq,
               to_tsvector('simple', translate(
                   coalesce((SELECT string_agg(turn.message, chr(10) ORDER BY turn.position)
                             FROM turns AS turn WHERE turn.call_id = c.id), '')
                   || chr(10)
                   || coalesce((SELECT analysis.summary FROM call_analyses AS analysis
                                WHERE analysis.call_id = c.id), ''),
                   {_literal(PUNCTUATION)},
                   {_literal(" " * len(PUNCTUATION))}))
        FROM calls AS c
        WHERE c.id = ANY (call_ids)
        ON CONFLICT (call_seq) DO UPDATE SET document = excluded.document
    $$
    """,
    # The digest's inputs (turns, calls.metrics) are written with the call's row locked, so two
    # writers of one call follow each other. The document also reads the analysis summary,
    # written by another transaction: lock the call's row first, so that of a save and an
    # analysis of the same call, the later reads what the earlier committed.
    """
    CREATE FUNCTION velox_lock_calls(call_ids text[]) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM calls WHERE id = ANY (call_ids) ORDER BY seq FOR NO KEY UPDATE;
    END
    $$
    """,
    """
    CREATE FUNCTION velox_turns_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        changed text[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            changed := ARRAY(SELECT DISTINCT call_id FROM new_turns);
        ELSIF TG_OP = 'UPDATE' THEN
            changed := ARRAY(SELECT call_id FROM old_turns UNION SELECT call_id FROM new_turns);
        ELSE
            changed := ARRAY(SELECT DISTINCT call_id FROM old_turns);
        END IF;
        IF cardinality(changed) > 0 THEN
            PERFORM velox_lock_calls(changed);
            PERFORM velox_write_call_digests(changed);
            PERFORM velox_write_call_search(changed);
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER call_digests_on_turns_insert AFTER INSERT ON turns
    REFERENCING NEW TABLE AS new_turns
    FOR EACH STATEMENT EXECUTE FUNCTION velox_turns_changed()
    """,
    """
    CREATE TRIGGER call_digests_on_turns_update AFTER UPDATE ON turns
    REFERENCING OLD TABLE AS old_turns NEW TABLE AS new_turns
    FOR EACH STATEMENT EXECUTE FUNCTION velox_turns_changed()
    """,
    """
    CREATE TRIGGER call_digests_on_turns_delete AFTER DELETE ON turns
    REFERENCING OLD TABLE AS old_turns
    FOR EACH STATEMENT EXECUTE FUNCTION velox_turns_changed()
    """,
    """
    CREATE FUNCTION velox_call_metrics_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM velox_write_call_digests(ARRAY[NEW.id]);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER call_digests_on_calls_insert AFTER INSERT ON calls
    FOR EACH ROW EXECUTE FUNCTION velox_call_metrics_changed()
    """,
    """
    CREATE TRIGGER call_digests_on_calls_metrics AFTER UPDATE OF metrics ON calls
    FOR EACH ROW WHEN (OLD.metrics::text IS DISTINCT FROM NEW.metrics::text)
    EXECUTE FUNCTION velox_call_metrics_changed()
    """,
    """
    CREATE FUNCTION velox_summary_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        changed text[];
    BEGIN
        IF TG_OP = 'DELETE' THEN
            changed := ARRAY[OLD.call_id];
        ELSE
            changed := ARRAY[NEW.call_id];
        END IF;
        PERFORM velox_lock_calls(changed);
        PERFORM velox_write_call_search(changed);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER call_search_on_analysis_insert AFTER INSERT ON call_analyses
    FOR EACH ROW WHEN (NEW.summary <> '') EXECUTE FUNCTION velox_summary_changed()
    """,
    """
    CREATE TRIGGER call_search_on_analysis_summary AFTER UPDATE OF summary ON call_analyses
    FOR EACH ROW WHEN (OLD.summary IS DISTINCT FROM NEW.summary)
    EXECUTE FUNCTION velox_summary_changed()
    """,
    """
    CREATE TRIGGER call_search_on_analysis_delete AFTER DELETE ON call_analyses
    FOR EACH ROW WHEN (OLD.summary <> '') EXECUTE FUNCTION velox_summary_changed()
    """,
    # The calls already stored.
    "SELECT velox_write_call_digests(ARRAY(SELECT id FROM calls))",
    """
    SELECT velox_write_call_search(ARRAY(
        SELECT call_id FROM turns UNION SELECT call_id FROM call_analyses WHERE summary <> ''
    ))
    """,
)

POSTGRES_DOWNGRADE = (
    "DROP TRIGGER call_search_on_analysis_delete ON call_analyses",
    "DROP TRIGGER call_search_on_analysis_summary ON call_analyses",
    "DROP TRIGGER call_search_on_analysis_insert ON call_analyses",
    "DROP TRIGGER call_digests_on_calls_metrics ON calls",
    "DROP TRIGGER call_digests_on_calls_insert ON calls",
    "DROP TRIGGER call_digests_on_turns_delete ON turns",
    "DROP TRIGGER call_digests_on_turns_update ON turns",
    "DROP TRIGGER call_digests_on_turns_insert ON turns",
    "DROP FUNCTION velox_summary_changed()",
    "DROP FUNCTION velox_call_metrics_changed()",
    "DROP FUNCTION velox_turns_changed()",
    "DROP FUNCTION velox_lock_calls(text[])",
    "DROP FUNCTION velox_write_call_search(text[])",
    "DROP FUNCTION velox_write_call_digests(text[])",
    "DROP FUNCTION velox_json_number(json)",
    "DROP TABLE call_search",
    "DROP TABLE call_digests",
)

# --- SQLite ------------------------------------------------------------------------------------


def _sqlite_digests(where: str) -> str:
    """The statement that (re)computes the digests of the calls `c` matching `where`, as
    PostgreSQL's `velox_write_call_digests` does."""
    return f"""
        INSERT OR REPLACE INTO call_digests
            (call_seq, interrupted_turns, provider_errors, voice_to_voice_ms)
        SELECT c.seq,
               (SELECT count(*) FROM turns AS turn
                WHERE turn.call_id = c.id AND turn.interrupted),
               CASE WHEN json_type(c.metrics, '$.counters.provider_errors') IN ('integer', 'real')
                    THEN CAST(min(max(json_extract(c.metrics, '$.counters.provider_errors'), 0),
                                  1000000) AS INTEGER)
                    ELSE 0 END,
               (SELECT json_group_array(latency) FROM (
                    SELECT json_extract(turn.metrics, '$.voice_to_voice_ms') AS latency
                    FROM turns AS turn
                    WHERE turn.call_id = c.id AND turn.role = 'user'
                      AND json_type(turn.metrics, '$.voice_to_voice_ms') IN ('integer', 'real')
                      AND abs(json_extract(turn.metrics, '$.voice_to_voice_ms')) < 1e15
                    ORDER BY turn.position))
        FROM calls AS c
        WHERE {where};
    """


def _sqlite_documents(where: str) -> str:
    """The statement that adds the search documents of the calls `c` matching `where`."""
    return f"""
        INSERT INTO call_search (rowid, document)
        SELECT c.seq,
               coalesce((SELECT group_concat(message, char(10)) FROM (
                    SELECT turn.message AS message FROM turns AS turn
                    WHERE turn.call_id = c.id ORDER BY turn.position)), '')
               || char(10)
               || coalesce((SELECT analysis.summary FROM call_analyses AS analysis
                            WHERE analysis.call_id = c.id), '')
        FROM calls AS c
        WHERE {where};
    """


def _sqlite_refresh_document(call_id: str) -> str:
    """Replace the search document of the call whose id is `call_id` (NEW.call_id, ...)."""
    return (
        f"DELETE FROM call_search WHERE rowid = (SELECT seq FROM calls WHERE id = {call_id});"
        + _sqlite_documents(f"c.id = {call_id}")
    )


SQLITE_UPGRADE = (
    """
    CREATE TABLE call_digests (
        call_seq INTEGER NOT NULL,
        interrupted_turns INTEGER NOT NULL DEFAULT 0,
        provider_errors INTEGER NOT NULL DEFAULT 0,
        voice_to_voice_ms JSON NOT NULL DEFAULT '[]',
        CONSTRAINT pk_call_digests PRIMARY KEY (call_seq),
        CONSTRAINT fk_call_digests_call_seq_calls FOREIGN KEY (call_seq)
            REFERENCES calls (seq) ON DELETE CASCADE
    )
    """,
    """
    CREATE VIRTUAL TABLE call_search USING fts5(
        document, tokenize = 'unicode61 remove_diacritics 0'
    )
    """,
    f"""
    CREATE TRIGGER call_digests_on_turns_insert AFTER INSERT ON turns BEGIN
        {_sqlite_digests("c.id = NEW.call_id")}
        {_sqlite_refresh_document("NEW.call_id")}
    END
    """,
    f"""
    CREATE TRIGGER call_digests_on_turns_update AFTER UPDATE ON turns BEGIN
        {_sqlite_digests("c.id IN (OLD.call_id, NEW.call_id)")}
        {_sqlite_refresh_document("OLD.call_id")}
        {_sqlite_refresh_document("NEW.call_id")}
    END
    """,
    f"""
    CREATE TRIGGER call_digests_on_turns_delete AFTER DELETE ON turns BEGIN
        {_sqlite_digests("c.id = OLD.call_id")}
        {_sqlite_refresh_document("OLD.call_id")}
    END
    """,
    f"""
    CREATE TRIGGER call_digests_on_calls_insert AFTER INSERT ON calls BEGIN
        {_sqlite_digests("c.id = NEW.id")}
    END
    """,
    f"""
    CREATE TRIGGER call_digests_on_calls_metrics AFTER UPDATE OF metrics ON calls
    WHEN OLD.metrics IS NOT NEW.metrics BEGIN
        {_sqlite_digests("c.id = NEW.id")}
    END
    """,
    # FTS5 has no foreign keys; the digest's cascade is repeated for a connection without them.
    """
    CREATE TRIGGER call_digests_on_calls_delete AFTER DELETE ON calls BEGIN
        DELETE FROM call_search WHERE rowid = OLD.seq;
        DELETE FROM call_digests WHERE call_seq = OLD.seq;
    END
    """,
    f"""
    CREATE TRIGGER call_search_on_analysis_insert AFTER INSERT ON call_analyses
    WHEN NEW.summary <> '' BEGIN
        {_sqlite_refresh_document("NEW.call_id")}
    END
    """,
    f"""
    CREATE TRIGGER call_search_on_analysis_summary AFTER UPDATE OF summary ON call_analyses
    WHEN OLD.summary IS NOT NEW.summary BEGIN
        {_sqlite_refresh_document("NEW.call_id")}
    END
    """,
    f"""
    CREATE TRIGGER call_search_on_analysis_delete AFTER DELETE ON call_analyses
    WHEN OLD.summary <> '' BEGIN
        {_sqlite_refresh_document("OLD.call_id")}
    END
    """,
    # The calls already stored.
    _sqlite_digests("true"),
    _sqlite_documents(
        "EXISTS (SELECT 1 FROM turns AS turn WHERE turn.call_id = c.id)"
        " OR EXISTS (SELECT 1 FROM call_analyses AS analysis"
        " WHERE analysis.call_id = c.id AND analysis.summary <> '')"
    ),
)

SQLITE_DOWNGRADE = (
    "DROP TRIGGER call_search_on_analysis_delete",
    "DROP TRIGGER call_search_on_analysis_summary",
    "DROP TRIGGER call_search_on_analysis_insert",
    "DROP TRIGGER call_digests_on_calls_delete",
    "DROP TRIGGER call_digests_on_calls_metrics",
    "DROP TRIGGER call_digests_on_calls_insert",
    "DROP TRIGGER call_digests_on_turns_delete",
    "DROP TRIGGER call_digests_on_turns_update",
    "DROP TRIGGER call_digests_on_turns_insert",
    "DROP TABLE call_search",
    "DROP TABLE call_digests",
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in (*CALL_INDEXES, *(POSTGRES_UPGRADE if postgres else SQLITE_UPGRADE)):
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DOWNGRADE if postgres else SQLITE_DOWNGRADE:
        op.execute(statement)
    for name in (
        "ix_calls_organization_id_to_number",
        "ix_calls_organization_id_from_number",
        "ix_calls_agent_id_start",
        "ix_calls_organization_id_start",
    ):
        op.execute(f"DROP INDEX {name}")
