"""The dashboard's own checks, run by `make test`: its typed API client is generated from the
API as it is now, its TypeScript compiles under `strict`, and its Vitest component tests pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DASHBOARD = Path(__file__).resolve().parents[2] / "web_dashboard"


def _npm(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    if shutil.which("npm") is None:
        pytest.fail("npm is not installed: apt-get install -y nodejs npm")
    installed = DASHBOARD / "node_modules" / ".package-lock.json"  # npm writes it on install
    lock = DASHBOARD / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=DASHBOARD, check=True, timeout=timeout
        )
    environment = {**os.environ, "VELOX_PYTHON": sys.executable, "CI": "1"}
    return subprocess.run(
        ["npm", "run", "--silent", *args],
        cwd=DASHBOARD,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )


def _explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"


def test_the_committed_api_client_matches_the_apis_schema() -> None:
    result = _npm("check:api")

    assert result.returncode == 0, _explain(result)


def test_the_dashboard_typechecks_under_strict() -> None:
    result = _npm("typecheck")

    assert result.returncode == 0, _explain(result)


def test_the_dashboards_component_tests_pass() -> None:
    result = _npm("test")

    assert result.returncode == 0, _explain(result)
