"""Starts `python -m bench.serve` as its own process, so callers' CPU never counts against it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from bench.machine import tree_cpu_seconds, tree_resident_bytes
from tests.live_server import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ServerUnavailableError(RuntimeError):
    """The bench server did not start; `missing` names providers it lacked, if that was why."""

    def __init__(self, message: str, missing: str = "") -> None:
        super().__init__(message)
        self.missing = missing


@dataclass
class ServerProcess:
    stack: str
    start_timeout_s: float = 120.0
    port: int = field(default_factory=free_port)
    agent_id: str = ""
    api_key: str = ""
    vad: str = ""
    playout_lead_ms: int = 200
    workers: int = 1
    feel: bool = False  # one agent per conversational-feel probe kind (`agents`)
    record: bool = False  # the agents record every call
    sip_port: int | None = None  # also answer SIP here (UDP, one server process)
    rate_limits: bool = True  # the organization's rates (new calls a minute among them)
    agents: dict[str, str] = field(default_factory=dict)
    _process: subprocess.Popen[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> str:
        return (
            f"python -m bench.serve --stack {self.stack} --port {self.port}"
            f" --workers {self.workers}"
            + (" --feel" if self.feel else "")
            + (" --record" if self.record else "")
            + (f" --sip-port {self.sip_port}" if self.sip_port is not None else "")
            + ("" if self.rate_limits else " --no-rate-limits")
        )

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.pid)

    def resident_bytes(self) -> int:
        return tree_resident_bytes(self.pid)

    def __enter__(self) -> ServerProcess:
        self._process = subprocess.Popen(
            [
                *(sys.executable, "-m", "bench.serve", "--stack", self.stack),
                *("--port", str(self.port), "--workers", str(self.workers)),
                *(["--feel"] if self.feel else []),
                *(["--record"] if self.record else []),
                *(["--sip-port", str(self.sip_port)] if self.sip_port is not None else []),
                *([] if self.rate_limits else ["--no-rate-limits"]),
            ],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            self._read_banner()
            self._wait_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _read_banner(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            key, _, value = line.strip().partition("=")
            if key == "missing":
                raise ServerUnavailableError(f"bench server lacks providers: {value}", value)
            if key.startswith("agent."):
                self.agents[key.removeprefix("agent.")] = value
            elif key in ("agent_id", "api_key", "vad"):
                setattr(self, key, value)
            elif key == "playout_lead_ms":
                self.playout_lead_ms = int(value)
            if key == "agent_id":
                return
        raise ServerUnavailableError(f"bench server exited with {self._process.wait()}")

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base_url}/health", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise ServerUnavailableError(f"bench server not listening after {self.start_timeout_s} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully, saving live calls
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
