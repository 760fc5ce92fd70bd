"""sipp, the real SIP peer: installed when missing (scripts/ensure_sipp.sh), run in the
foreground with its exit status checked."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.live_server import free_port

ENSURE_SIPP = Path(__file__).resolve().parents[2] / "scripts" / "ensure_sipp.sh"


def sipp_binary() -> str:
    """The sipp executable, installed first if missing; fails the test loudly if it cannot be."""
    found = shutil.which("sipp")
    if found is None:
        result = subprocess.run([str(ENSURE_SIPP)], capture_output=True, text=True, check=False)
        found = shutil.which("sipp")
        if result.returncode != 0 or found is None:
            pytest.fail(
                f"sipp (Debian sip-tester) is missing and could not be installed:\n{result.stderr}"
            )
    return found


def run_sipp(
    port: int,
    arguments: list[str],
    work_dir: Path,
    timeout_s: int = 60,
    *,
    sip_port: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """sipp against 127.0.0.1:`port`, in the foreground, on its SIP port `sip_port` (a free one
    unless given: a callee's is the trunk address it is reached at); its errors kept in
    `work_dir`."""
    command = [
        sipp_binary(),
        f"127.0.0.1:{port}",
        "-i",
        "127.0.0.1",
        "-p",
        str(sip_port or free_port()),
        "-mp",
        str(free_port()),
        "-nostdin",
        "-timeout",
        f"{timeout_s}s",
        "-timeout_error",
        "-trace_err",
        *arguments,
    ]
    return subprocess.run(
        command, cwd=work_dir, capture_output=True, text=True, timeout=timeout_s + 30, check=False
    )


def sipp_errors(work_dir: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in work_dir.glob("*_errors.log"))
