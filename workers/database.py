"""The service's database as tasks see it: one engine per worker process, made on first use."""

from __future__ import annotations

import os
from typing import Any

from app.db.session import Database
from app.settings import Settings

# Keyed by process too: a pool process forked from the worker must not share its parent's
# connections.
_databases: dict[tuple[int, str], Database] = {}


def task_database(celery: Any) -> Database:
    """The database named by the Celery app's ``velox_database_url`` (see workers.celery_app)."""
    url: str = celery.conf["velox_database_url"]
    key = (os.getpid(), url)
    database = _databases.get(key)
    if database is None:
        database = _databases[key] = Database(url)
    return database


def task_settings(celery: Any) -> Settings:
    """The service settings the Celery app was made with (see workers.celery_app)."""
    settings: Settings = celery.conf["velox_settings"]
    return settings
