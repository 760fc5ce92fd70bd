"""`python -m bench.call_queries_server URL PORT`: Velox's REST API over the call-queries bench's
database, under uvicorn as `velox serve` runs it, in a process of its own (so the bench reads its
memory alone).
"""

from __future__ import annotations

import sys

import uvicorn

from app.api import analytics
from app.api.server_protocols import uvicorn_protocols
from app.db.session import Database
from tests.api_app import build_api_app


def main() -> None:
    url, port = sys.argv[1], int(sys.argv[2])
    app = build_api_app(Database(url))
    if not any(getattr(route, "path", "").startswith("/v1/analytics") for route in app.routes):
        app.include_router(analytics.router)  # until app/api/routers.py lists it
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", **uvicorn_protocols(10.0)
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
