"""Velox's own Jinja2 templates (the top-level `templates/` folder), rendered in a sandbox.

Strict: a variable the caller did not pass is an error, so a template and its caller cannot
drift apart silently.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    if not TEMPLATES_DIR.is_dir():
        raise FileNotFoundError(
            f"{TEMPLATES_DIR} is missing: Velox reads its templates from the source tree "
            "(install it with `pip install -e .`)"
        )
    return SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    """`templates/<name>` rendered with `context`, without its trailing newline."""
    return _environment().get_template(name).render(**context).strip()
