"""Engine and session factory for one database URL (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalize_database_url(url: str) -> str:
    """Point a plain ``postgresql://`` URL at psycopg 3, the driver Velox ships with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while a call is being written; SQLite leaves foreign keys off
    # unless asked on every connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # SQLite has one writer at a time: a second one waits for the lock (up to 5 s) rather
    # than failing at once with "database is locked".
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_database_engine(url: str) -> Engine:
    """An engine configured for the URL's backend."""
    normalized = normalize_database_url(url)
    if make_url(normalized).get_backend_name() == "sqlite":
        # The API serves requests from a thread pool and the engine records calls from worker
        # threads, so a connection may be used by a thread other than the one that opened it.
        engine = create_engine(normalized, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        return engine
    # FastAPI serves sync routes from 40 threads: let each of them hold a connection.
    return create_engine(normalized, pool_pre_ping=True, pool_size=10, max_overflow=30)


class Database:
    """One engine plus its session factory, shared by the API and the call recorder."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = normalize_database_url(url)
        self.engine = engine if engine is not None else create_database_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
