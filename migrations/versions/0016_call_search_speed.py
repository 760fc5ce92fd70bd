"""call search speed: one digest row per call holding everything the call list filters and
analytics count, kept at commit time; statistics that let PostgreSQL see rare search words

Revision ID: 0016_call_search_speed
Revises: 0015_push
Create Date: 2026-12-09

Why (bench/RESULTS.md section 7): at a million calls the list's filters on the analysis and the
campaign dial (sentiment, verdict, outcome) joined three tables per call walked, and analytics
hash-joined whole tables for a 30-day period. `call_digests` now carries, per call, the call's
own filter columns, its finished analysis' verdict, sentiment and outcome, its dial's campaign
and outcome, and its turn count, under indexes in the list's order; list, export and analytics
read it instead of joining.

Who writes it: the calls' own triggers (a call's row is locked by whoever writes it), the turns'
statement triggers (as in 0013), and, for `call_analyses` and `call_attempts`, constraint
triggers deferred to commit on PostgreSQL, as the search document's summary triggers now are too.
At commit each locks its calls in `seq` order and then reads what is committed: a transaction
that locks an attempt and then writes an analysis (or the other way round) takes the call's lock
last, so the dialer ending attempts and the analysis worker refining their outcome cannot
deadlock on a call's row. SQLite has one writer at a time: plain row triggers.

PostgreSQL's statistics on `call_search.document` keep the 10,000 x 10 most common words (the
whole table sampled up to 3 million rows): a word missing from them is then known to be rare,
so a search for a name or an order number reads the few matching calls from the index instead
of walking every call of the organization newest first.

Self-contained: 0013's SQL that this revision replaces is repeated here for the downgrade.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016_call_search_speed"
down_revision: str | None = "0015_push"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINISHED_ANALYSES = "('done', 'failed')"
SEARCH_STATISTICS = 10_000

# The digest's new columns: from the call, its finished analysis, its campaign dial, its turns.
NEW_COLUMNS = (
    ("organization_id", "VARCHAR(64)"),
    ("agent_id", "VARCHAR(64)"),
    ("call_start", "TIMESTAMP WITH TIME ZONE"),
    ("channel", "VARCHAR(32)"),
    ("direction", "VARCHAR(16)"),
    ("status", "VARCHAR(16)"),
    ("duration_secs", "DOUBLE PRECISION"),
    ("termination_reason", "TEXT"),
    ("campaign_id", "VARCHAR(64)"),
    ("outcome", "VARCHAR(32)"),
    ("sentiment", "VARCHAR(16)"),
    ("call_successful", "VARCHAR(16)"),
    ("message_count", "INTEGER NOT NULL DEFAULT 0"),
)
REQUIRED = ("organization_id", "agent_id", "call_start", "channel", "direction", "status")
# The list's order per organization and per agent; analytics' period per organization. On
# PostgreSQL they carry what the list filters and shows and what analytics counts, so a page or a
# period is read from the index alone (calls are stored in the order they end, not start).
LIST_COLUMNS = (
    "channel, direction, status, duration_secs, outcome, sentiment, call_successful, "
    "message_count, interrupted_turns"
)
POSTGRES_DIGEST_INDEXES = (
    "CREATE INDEX ix_call_digests_organization_id_start "
    "ON call_digests (organization_id, call_start, call_seq) INCLUDE (agent_id, campaign_id, "
    f"{LIST_COLUMNS}, termination_reason, provider_errors, voice_to_voice_ms)",
    "CREATE INDEX ix_call_digests_agent_id_start ON call_digests (agent_id, call_start, call_seq) "
    f"INCLUDE (organization_id, {LIST_COLUMNS})",
)
SQLITE_DIGEST_INDEXES = (
    "CREATE INDEX ix_call_digests_organization_id_start "
    "ON call_digests (organization_id, call_start, call_seq)",
    "CREATE INDEX ix_call_digests_agent_id_start ON call_digests (agent_id, call_start, call_seq)",
)
# What the call itself gives the digest, and the calls' columns whose change rewrites it.
CALL_FIELDS = (
    "c.organization_id, c.agent_id, coalesce(c.started_at, c.created_at), c.channel, "
    "c.direction, c.status, c.duration_secs, c.termination_reason"
)
WATCHED_CALL_COLUMNS = (
    "agent_id",
    "channel",
    "direction",
    "status",
    "started_at",
    "created_at",
    "duration_secs",
    "termination_reason",
)
ANALYSIS_COLUMNS = ("status", "sentiment", "outcome", "call_successful")
ATTEMPT_COLUMNS = ("conversation_id", "campaign_id", "outcome")


def _distinct(columns: Sequence[str]) -> str:
    """A trigger's WHEN: any of `columns` changed."""
    return " OR ".join(f"OLD.{name} IS DISTINCT FROM NEW.{name}" for name in columns)


# --- PostgreSQL --------------------------------------------------------------------------------


def _postgres_write_digests(full: bool) -> str:
    """`velox_write_call_digests(call_ids)`: the whole digest (`full`), or 0013's."""
    columns = "call_seq, interrupted_turns, provider_errors, voice_to_voice_ms"
    values = (
        "c.seq, coalesce(t.interrupted_turns, 0), "
        "coalesce(trunc(least(greatest("
        "velox_json_number(c.metrics -> 'counters' -> 'provider_errors'), 0), 1000000)"
        ")::integer, 0), coalesce(t.voice_to_voice_ms, '{}')"
    )
    updates = ["interrupted_turns", "provider_errors", "voice_to_voice_ms"]
    joins = ""
    if full:
        added = [name for name, _ in NEW_COLUMNS]
        columns += ", " + ", ".join(added)
        values += (
            f", {CALL_FIELDS}, attempt.campaign_id, coalesce(attempt.outcome, analysis.outcome), "
            "analysis.sentiment, analysis.call_successful, coalesce(t.message_count, 0)"
        )
        updates += added
        joins = (
            "LEFT JOIN call_analyses AS analysis ON analysis.call_id = c.id "
            f"AND analysis.status IN {FINISHED_ANALYSES} "
            "LEFT JOIN call_attempts AS attempt ON attempt.conversation_id = c.id"
        )
    return f"""
    CREATE OR REPLACE FUNCTION velox_write_call_digests(call_ids text[]) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO call_digests AS digest ({columns})
        SELECT {values}
        FROM calls AS c
        {joins}
        LEFT JOIN LATERAL (
            SELECT count(*) AS message_count,
                   count(*) FILTER (WHERE turn.interrupted) AS interrupted_turns,
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
            {", ".join(f"{name} = excluded.{name}" for name in updates)}
    $$
    """


def _postgres_row_function(name: str, key: str, body: str) -> str:
    """A row trigger's function: the calls named by OLD.`key` and NEW.`key`, locked in order,
    then `body` (statements over `changed`)."""
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        changed text[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            changed := ARRAY[NEW.{key}];
        ELSIF TG_OP = 'UPDATE' THEN
            changed := ARRAY[OLD.{key}, NEW.{key}];
        ELSE
            changed := ARRAY[OLD.{key}];
        END IF;
        PERFORM velox_lock_calls(changed);
        {body}
        RETURN NULL;
    END
    $$
    """


def _at_commit(name: str, event: str, table: str, function: str, when: str = "") -> str:
    return (
        f"CREATE CONSTRAINT TRIGGER {name} AFTER {event} ON {table} "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        + (f"WHEN ({when}) " if when else "")
        + f"EXECUTE FUNCTION {function}()"
    )


# 0013's summary triggers, immediate (for the downgrade) or deferred to commit.
SUMMARY_TRIGGERS = (
    ("call_search_on_analysis_insert", "INSERT", "NEW.summary <> ''"),
    (
        "call_search_on_analysis_summary",
        "UPDATE OF summary",
        "OLD.summary IS DISTINCT FROM NEW.summary",
    ),
    ("call_search_on_analysis_delete", "DELETE", "OLD.summary <> ''"),
)

POSTGRES_UPGRADE = (
    *(f"ALTER TABLE call_digests ADD COLUMN {name} {kind}" for name, kind in NEW_COLUMNS),
    _postgres_write_digests(full=True),
    "SELECT velox_write_call_digests(ARRAY(SELECT id FROM calls))",
    *(f"ALTER TABLE call_digests ALTER COLUMN {name} SET NOT NULL" for name in REQUIRED),
    *POSTGRES_DIGEST_INDEXES,
    # The call's own columns: its row is locked by the statement that changed it (0013's
    # function, which writes the digest of NEW.id, serves any of them).
    "DROP TRIGGER call_digests_on_calls_metrics ON calls",
    f"""
    CREATE TRIGGER call_digests_on_calls_update
    AFTER UPDATE OF metrics, {", ".join(WATCHED_CALL_COLUMNS)} ON calls
    FOR EACH ROW WHEN (OLD.metrics::text IS DISTINCT FROM NEW.metrics::text
                       OR {_distinct(WATCHED_CALL_COLUMNS)})
    EXECUTE FUNCTION velox_call_metrics_changed()
    """,
    _postgres_row_function(
        "velox_analysis_changed", "call_id", "PERFORM velox_write_call_digests(changed);"
    ),
    _postgres_row_function(
        "velox_attempt_changed", "conversation_id", "PERFORM velox_write_call_digests(changed);"
    ),
    _at_commit(
        "call_digests_on_analysis_insert", "INSERT", "call_analyses", "velox_analysis_changed"
    ),
    _at_commit(
        "call_digests_on_analysis_update",
        f"UPDATE OF {', '.join(ANALYSIS_COLUMNS)}",
        "call_analyses",
        "velox_analysis_changed",
        _distinct(ANALYSIS_COLUMNS),
    ),
    _at_commit(
        "call_digests_on_analysis_delete", "DELETE", "call_analyses", "velox_analysis_changed"
    ),
    _at_commit(
        "call_digests_on_attempt_insert", "INSERT", "call_attempts", "velox_attempt_changed"
    ),
    _at_commit(
        "call_digests_on_attempt_update",
        f"UPDATE OF {', '.join(ATTEMPT_COLUMNS)}",
        "call_attempts",
        "velox_attempt_changed",
        _distinct(ATTEMPT_COLUMNS),
    ),
    _at_commit(
        "call_digests_on_attempt_delete", "DELETE", "call_attempts", "velox_attempt_changed"
    ),
    # The summary's search document at commit too (0013 wrote it, and locked the call, at once).
    *(f"DROP TRIGGER {name} ON call_analyses" for name, _, _ in SUMMARY_TRIGGERS),
    *(
        _at_commit(name, event, "call_analyses", "velox_summary_changed", when)
        for name, event, when in SUMMARY_TRIGGERS
    ),
    f"ALTER TABLE call_search ALTER COLUMN document SET STATISTICS {SEARCH_STATISTICS}",
    "ANALYZE call_search",
)

POSTGRES_DOWNGRADE = (
    "ALTER TABLE call_search ALTER COLUMN document SET STATISTICS -1",
    *(f"DROP TRIGGER {name} ON call_analyses" for name, _, _ in SUMMARY_TRIGGERS),
    *(
        f"CREATE TRIGGER {name} AFTER {event} ON call_analyses FOR EACH ROW WHEN ({when}) "
        "EXECUTE FUNCTION velox_summary_changed()"
        for name, event, when in SUMMARY_TRIGGERS
    ),
    *(
        f"DROP TRIGGER call_digests_on_attempt_{event} ON call_attempts"
        for event in ("insert", "update", "delete")
    ),
    *(
        f"DROP TRIGGER call_digests_on_analysis_{event} ON call_analyses"
        for event in ("insert", "update", "delete")
    ),
    "DROP FUNCTION velox_attempt_changed()",
    "DROP FUNCTION velox_analysis_changed()",
    "DROP TRIGGER call_digests_on_calls_update ON calls",
    """
    CREATE TRIGGER call_digests_on_calls_metrics AFTER UPDATE OF metrics ON calls
    FOR EACH ROW WHEN (OLD.metrics::text IS DISTINCT FROM NEW.metrics::text)
    EXECUTE FUNCTION velox_call_metrics_changed()
    """,
    "DROP INDEX ix_call_digests_agent_id_start",
    "DROP INDEX ix_call_digests_organization_id_start",
    _postgres_write_digests(full=False),
    *(f"ALTER TABLE call_digests DROP COLUMN {name}" for name, _ in NEW_COLUMNS),
)

# --- SQLite ------------------------------------------------------------------------------------


def _sqlite_digests(where: str, full: bool) -> str:
    """The statement that (re)computes the digests of the calls `c` matching `where`: the whole
    digest (`full`), or 0013's."""
    columns = "call_seq, interrupted_turns, provider_errors, voice_to_voice_ms"
    values = ""
    joins = ""
    if full:
        columns += ", " + ", ".join(name for name, _ in NEW_COLUMNS)
        values = (
            f", {CALL_FIELDS}, attempt.campaign_id, coalesce(attempt.outcome, analysis.outcome), "
            "analysis.sentiment, analysis.call_successful, "
            "(SELECT count(*) FROM turns AS turn WHERE turn.call_id = c.id)"
        )
        joins = (
            "LEFT JOIN call_analyses AS analysis ON analysis.call_id = c.id "
            f"AND analysis.status IN {FINISHED_ANALYSES} "
            "LEFT JOIN call_attempts AS attempt ON attempt.conversation_id = c.id"
        )
    return f"""
        INSERT OR REPLACE INTO call_digests ({columns})
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
               {values}
        FROM calls AS c
        {joins}
        WHERE {where};
    """


def _sqlite_refresh_document(call_id: str) -> str:
    """0013's: replace the search document of the call whose id is `call_id`."""
    return f"""
        DELETE FROM call_search WHERE rowid = (SELECT seq FROM calls WHERE id = {call_id});
        INSERT INTO call_search (rowid, document)
        SELECT c.seq,
               coalesce((SELECT group_concat(message, char(10)) FROM (
                    SELECT turn.message AS message FROM turns AS turn
                    WHERE turn.call_id = c.id ORDER BY turn.position)), '')
               || char(10)
               || coalesce((SELECT analysis.summary FROM call_analyses AS analysis
                            WHERE analysis.call_id = c.id), '')
        FROM calls AS c
        WHERE c.id = {call_id};
    """


def _sqlite_table(full: bool) -> str:
    added = "".join(f"{name} {kind}, " for name, kind in NEW_COLUMNS) if full else ""
    return f"""
    CREATE TABLE call_digests (
        call_seq INTEGER NOT NULL,
        interrupted_turns INTEGER NOT NULL DEFAULT 0,
        provider_errors INTEGER NOT NULL DEFAULT 0,
        voice_to_voice_ms JSON NOT NULL DEFAULT '[]',
        {added}
        CONSTRAINT pk_call_digests PRIMARY KEY (call_seq),
        CONSTRAINT fk_call_digests_call_seq_calls FOREIGN KEY (call_seq)
            REFERENCES calls (seq) ON DELETE CASCADE
    )
    """


def _sqlite_triggers(full: bool) -> tuple[str, ...]:
    """Every trigger that writes `call_digests`: the whole digest's (`full`) or 0013's."""

    def digests(where: str) -> str:
        return _sqlite_digests(where, full)

    triggers = [
        f"""
        CREATE TRIGGER call_digests_on_turns_insert AFTER INSERT ON turns BEGIN
            {digests("c.id = NEW.call_id")}
            {_sqlite_refresh_document("NEW.call_id")}
        END
        """,
        f"""
        CREATE TRIGGER call_digests_on_turns_update AFTER UPDATE ON turns BEGIN
            {digests("c.id IN (OLD.call_id, NEW.call_id)")}
            {_sqlite_refresh_document("OLD.call_id")}
            {_sqlite_refresh_document("NEW.call_id")}
        END
        """,
        f"""
        CREATE TRIGGER call_digests_on_turns_delete AFTER DELETE ON turns BEGIN
            {digests("c.id = OLD.call_id")}
            {_sqlite_refresh_document("OLD.call_id")}
        END
        """,
        f"""
        CREATE TRIGGER call_digests_on_calls_insert AFTER INSERT ON calls BEGIN
            {digests("c.id = NEW.id")}
        END
        """,
    ]
    if not full:
        return (
            *triggers,
            f"""
            CREATE TRIGGER call_digests_on_calls_metrics AFTER UPDATE OF metrics ON calls
            WHEN OLD.metrics IS NOT NEW.metrics BEGIN
                {digests("c.id = NEW.id")}
            END
            """,
        )
    changed = " OR ".join(f"OLD.{name} IS NOT NEW.{name}" for name in WATCHED_CALL_COLUMNS)
    return (
        *triggers,
        f"""
        CREATE TRIGGER call_digests_on_calls_update
        AFTER UPDATE OF metrics, {", ".join(WATCHED_CALL_COLUMNS)} ON calls
        WHEN OLD.metrics IS NOT NEW.metrics OR {changed} BEGIN
            {digests("c.id = NEW.id")}
        END
        """,
        *_sqlite_source_triggers("analysis", "call_analyses", "call_id", ANALYSIS_COLUMNS),
        *_sqlite_source_triggers("attempt", "call_attempts", "conversation_id", ATTEMPT_COLUMNS),
    )


def _sqlite_source_triggers(
    name: str, table: str, key: str, columns: Sequence[str]
) -> tuple[str, ...]:
    """A call's digest rewritten when its analysis or its dial (`table`, naming the call by
    `key`) is written, changed in `columns` or deleted."""
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in columns)
    return (
        f"""
        CREATE TRIGGER call_digests_on_{name}_insert AFTER INSERT ON {table} BEGIN
            {_sqlite_digests(f"c.id = NEW.{key}", full=True)}
        END
        """,
        f"""
        CREATE TRIGGER call_digests_on_{name}_update AFTER UPDATE OF {", ".join(columns)}
        ON {table} WHEN {changed} BEGIN
            {_sqlite_digests(f"c.id IN (OLD.{key}, NEW.{key})", full=True)}
        END
        """,
        f"""
        CREATE TRIGGER call_digests_on_{name}_delete AFTER DELETE ON {table} BEGIN
            {_sqlite_digests(f"c.id = OLD.{key}", full=True)}
        END
        """,
    )


SQLITE_DIGEST_TRIGGERS_0013 = (
    "call_digests_on_turns_insert",
    "call_digests_on_turns_update",
    "call_digests_on_turns_delete",
    "call_digests_on_calls_insert",
    "call_digests_on_calls_metrics",
)
SQLITE_DIGEST_TRIGGERS = (
    *SQLITE_DIGEST_TRIGGERS_0013[:-1],
    "call_digests_on_calls_update",
    *(
        f"call_digests_on_{name}_{event}"
        for name in ("analysis", "attempt")
        for event in ("insert", "update", "delete")
    ),
)


def _sqlite_rebuild(dropped: Sequence[str], full: bool) -> tuple[str, ...]:
    """`call_digests` made again (the whole digest, or 0013's) with its triggers, filled in."""
    return (
        *(f"DROP TRIGGER {name}" for name in dropped),
        "DROP TABLE call_digests",
        _sqlite_table(full),
        *(SQLITE_DIGEST_INDEXES if full else ()),
        *_sqlite_triggers(full),
        _sqlite_digests("true", full),
    )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    statements = (
        POSTGRES_UPGRADE if postgres else _sqlite_rebuild(SQLITE_DIGEST_TRIGGERS_0013, full=True)
    )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    statements = (
        POSTGRES_DOWNGRADE if postgres else _sqlite_rebuild(SQLITE_DIGEST_TRIGGERS, full=False)
    )
    for statement in statements:
        op.execute(statement)
