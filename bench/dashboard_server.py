"""`python -m bench.dashboard_server`: the whole Velox service (`app.main.create_app`: the API,
the dashboard's static build at `/`, the recordings) under uvicorn as `velox serve` runs it, in a
process of its own, over the database and folders its `VELOX_*` environment names. Models are
not preloaded (no call is placed; the dashboard never needs them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import uvicorn

from app.api.server_protocols import uvicorn_protocols
from app.main import create_app
from app.settings import Settings
from tests.live_server import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DashboardServer:
    """The service in its own process on a free port, over `database_url`, with `data_dir` as
    its data folder (recordings under `data_dir/recordings`) and the build in `dashboard`."""

    def __init__(self, database_url: str, data_dir: Path, dashboard: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._environment = {
            "VELOX_DATABASE_URL": database_url,
            "VELOX_DATA_DIR": str(data_dir),
            "VELOX_DASHBOARD_DIR": str(dashboard),
            "VELOX_PORT": str(self.port),
            "VELOX_PUBLIC_URL": self.base_url,
            "VELOX_REDIS_URL": "",
            "VELOX_LOG_LEVEL": "WARNING",
        }
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DashboardServer:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.dashboard_server"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **self._environment, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base_url}/health", timeout=1)  # any answer: it listens
                return self
            except httpx.TransportError:
                pass
            if self._process.poll() is not None:
                break
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("the dashboard bench's server did not start")

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._process = None


def main() -> None:
    settings = Settings(_env_file=None)
    config = uvicorn.Config(
        create_app(settings, preload=False),
        host="127.0.0.1",
        port=settings.port,
        log_level="warning",
        **uvicorn_protocols(settings.header_timeout_s),
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
