"""Write the API's OpenAPI schema, as the app itself builds it, to a JSON file; and, given a
second file, the values the call list's filters take (the schema describes them in words only).

The dashboard's typed client is generated from these (`npm run generate:api` in web_dashboard/
runs this script, then openapi-typescript). Usage:
`python scripts/dump_openapi.py SCHEMA.json [FILTER_VALUES.json]`.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The schema is this checkout's, whichever checkout the interpreter's editable install names.
sys.path.insert(0, str(ROOT))


def openapi_document() -> dict[str, object]:
    from app.main import create_app
    from app.settings import Settings

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            _env_file=None,
            data_dir=Path(data_dir),
            public_url="http://127.0.0.1:8000",
        )
        document: dict[str, object] = create_app(settings, preload=False).openapi()
        return document


def call_filter_values() -> dict[str, list[str]]:
    """Each enumerated filter of `GET /v1/convai/conversations` and the values it accepts."""
    from app.api import call_filters

    return {
        "channel": list(call_filters.CHANNELS),
        "direction": list(call_filters.DIRECTIONS),
        "status": list(call_filters.STATUSES),
        "call_successful": list(call_filters.VERDICTS),
        "outcome": list(call_filters.OUTCOMES),
        "sentiment": list(call_filters.SENTIMENTS),
    }


def _write(path: str, document: object) -> None:
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    Path(path).write_text(text, encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(f"usage: {argv[0]} SCHEMA.json [FILTER_VALUES.json]", file=sys.stderr)
        return 2
    _write(argv[1], openapi_document())
    if len(argv) == 3:
        _write(argv[2], call_filter_values())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
