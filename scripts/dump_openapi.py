"""Write the API's OpenAPI schema, as the app itself builds it, to a JSON file.

The dashboard's typed client is generated from this file (`npm run generate:api` in
web_dashboard/ runs this script, then openapi-typescript). Usage:
`python scripts/dump_openapi.py web_dashboard/src/api/openapi.json`.
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


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTPUT.json", file=sys.stderr)
        return 2
    text = json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    Path(argv[1]).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
