"""The schema is created by migrations alone, and they create exactly what the models say (plus
what the database maintains itself beside them: app/db/call_digests.py)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db.call_digests import MAINTAINED_TABLES, include_name
from app.db.migrate import upgrade
from app.db.models import Base
from app.db.session import create_database_engine

pytestmark = pytest.mark.integration


def test_upgrade_creates_every_table_on_an_empty_database(empty_database_url: str) -> None:
    upgrade(empty_database_url)

    engine = create_database_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables - MAINTAINED_TABLES == set(Base.metadata.tables) | {"alembic_version"}
    assert {"call_digests", "call_search"} <= tables


def test_upgrade_twice_is_a_no_op(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)


# SQLAlchemy cannot reflect SQLite's expression indexes; they are left out of the comparison anyway.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)

    engine = create_database_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_name": include_name,
                },
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
