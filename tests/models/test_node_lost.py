"""A voice node killed mid-call: when a node starts again, that call ends `node_lost`.

The real service runs as its own process (`velox serve`, SQLite, the offline stack); a browser
-style conversation is put in progress over the ElevenLabs socket, the process is SIGKILLed, and
a new process on the same database finishes the call it left "in progress".
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.live_server import free_port

pytestmark = pytest.mark.models

ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        env = os.environ | {"VELOX_DATA_DIR": str(data_dir), "VELOX_PORT": str(port)}
        env.pop("VELOX_DATABASE_URL", None)
        self.output = data_dir / f"serve-{port}-{time.monotonic_ns()}.log"
        with self.output.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code in (200, 503):
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"velox serve did not start: {self.output.read_text()}")
            time.sleep(0.2)

    def api_key(self) -> str:
        lines = self.output.read_text().splitlines()
        shown = next(n for n, line in enumerate(lines) if "Its API key (shown only once)" in line)
        return lines[shown + 1].strip()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def start_conversation_then_kill(service: ServiceProcess, agent_id: str) -> str:
    url = service.base_url.replace("http://", "ws://")
    async with connect(f"{url}/v1/convai/conversation?agent_id={agent_id}") as ws:
        await ws.send(json.dumps({"type": "conversation_initiation_client_data"}))
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "conversation_initiation_metadata":
                break
        service.kill()  # mid-call: nothing of it is saved
    conversation_id: str = message["conversation_initiation_metadata_event"]["conversation_id"]
    return conversation_id


def test_a_call_on_a_killed_node_ends_node_lost_when_a_node_starts_again(tmp_path: Path) -> None:
    first = ServiceProcess(tmp_path, free_port())
    try:
        key = first.api_key()
        agent = httpx.post(
            f"{first.base_url}/v1/convai/agents/create",
            json={"conversation_config": {"agent": {"first_message": "Hello."}}},
            headers={"xi-api-key": key},
        ).json()
        assert "agent_id" in agent, agent
        agent = agent["agent_id"]
        conversation_id = asyncio.run(start_conversation_then_kill(first, agent))
    finally:
        first.stop()

    second = ServiceProcess(tmp_path, free_port())
    try:
        body = httpx.get(
            f"{second.base_url}/v1/convai/conversations/{conversation_id}",
            headers={"xi-api-key": key},
        ).json()
    finally:
        second.stop()
    assert body["status"] == "failed", body["status"]
    assert body["metadata"]["termination_reason"] == "node_lost"
    assert "node_lost" in [event["kind"] for event in body["velox"]["events"]]
