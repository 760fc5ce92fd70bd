"""Bring a database up to the newest schema revision, the only way Velox creates its schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from app.db.session import normalize_database_url
from app.settings import PROJECT_ROOT

ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"


def alembic_config(url: str) -> Config:
    """Alembic's configuration for ``url``, independent of the working directory."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # ConfigParser treats % as interpolation, and URL-encoded passwords contain it.
    config.set_main_option("sqlalchemy.url", normalize_database_url(url).replace("%", "%%"))
    # The caller (service or test) owns logging; alembic's fileConfig must not reset it.
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: str) -> None:
    """Run ``alembic upgrade head`` against ``url``, creating a SQLite file's directory first."""
    parsed = make_url(normalize_database_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")
