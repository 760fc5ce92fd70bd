"""Live calls across nodes: two `velox serve` processes share PostgreSQL and Redis; a call held
by one is listed, streamed and ended from the other."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.db import agents as agent_queries
from app.db import organizations as org_queries
from app.db.migrate import upgrade
from app.db.session import Database
from tests.conftest import PostgresDatabases
from tests.live_server import free_port
from tests.models.dental_agent import GREETING, dental_agent
from tests.redis_dbs import redis_url
from tests.twilio_caller import TwilioCaller

pytestmark = pytest.mark.integration

REDIS_URL = redis_url(13)
READY_S = 120.0


@dataclass
class Node:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def node(tmp_path: Path, name: str, database_url: str) -> Iterator[Node]:
    port = free_port()
    log = tmp_path / f"{name}.log"
    env = {
        **os.environ,
        "VELOX_PORT": str(port),
        "VELOX_DATA_DIR": str(tmp_path / name),
        "VELOX_DATABASE_URL": database_url,
        "VELOX_REDIS_URL": REDIS_URL,
        "VELOX_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "VELOX_SECRET_KEY": "11" * 32,
        "VELOX_TWILIO_AUTH_TOKEN": "",
        "VELOX_LOG_LEVEL": "INFO",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "velox"), "serve"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Node(port, process, log)
    try:
        deadline = time.monotonic() + READY_S
        while True:
            try:
                if httpx.get(f"{running.url}/health", timeout=2).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{name} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def place_call(node: Node, agent_id: str) -> tuple[str, dict[str, str]]:
    response = httpx.post(
        f"{node.url}/twilio/voice?agent_id={agent_id}",
        data={
            "CallSid": "CA" + "7" * 32,
            "AccountSid": "AC" + "0" * 32,
            "From": "+15550001111",
            "To": "+15552223333",
            "Direction": "inbound",
            "CallStatus": "ringing",
        },
    )
    response.raise_for_status()
    stream = ET.fromstring(response.text).find("./Connect/Stream")
    assert stream is not None, response.text
    return stream.attrib["url"], {p.attrib["name"]: p.attrib["value"] for p in stream}


async def collect(url: str, headers: dict[str, str], into: list[dict[str, Any]]) -> None:
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                into.append(json.loads(line[6:]))


async def test_a_call_on_one_node_is_listed_streamed_and_ended_from_the_other(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> None:
    database_url = postgres_databases.create()
    upgrade(database_url)
    database = Database(database_url)
    with database.session() as session:
        organization, key = org_queries.create_organization(session, "Live")
        agent_id = agent_queries.create_agent(session, organization.id, dental_agent()).id
    database.dispose()
    headers = {"xi-api-key": key}

    with node(tmp_path, "a", database_url) as a, node(tmp_path, "b", database_url) as b:
        moments: list[dict[str, Any]] = []
        watching = asyncio.create_task(collect(f"{b.url}/v1/calls/live/events", headers, moments))
        await asyncio.sleep(1.0)  # the stream is subscribed before the call starts
        stream_url, parameters = place_call(a, agent_id)
        conversation_id = parameters["conversation_id"]
        async with TwilioCaller(stream_url, custom_parameters=parameters) as caller:
            await caller.silence(0.3)
            await caller.wait_for_audio(timeout=30)

            async with httpx.AsyncClient(base_url=b.url, headers=headers) as from_b:
                listed = (await from_b.get("/v1/calls/live")).json()["calls"]
                assert [c["conversation_id"] for c in listed] == [conversation_id]
                holder = listed[0]["node_id"]
                greeting_heard = asyncio.create_task(caller.silence(6.0))
                deadline = time.monotonic() + 15
                while not [m for m in moments if m.get("type") == "turn"]:
                    assert time.monotonic() < deadline, moments
                    await asyncio.sleep(0.1)
                await greeting_heard
                ended = await from_b.post(f"/v1/calls/live/{conversation_id}/end")
                assert ended.status_code == 202, ended.text
                assert ended.json()["node_id"] == holder
            await caller.wait_for_close(timeout=10)

        async with httpx.AsyncClient(base_url=b.url, headers=headers) as from_b:
            url = f"/v1/convai/conversations/{conversation_id}"
            deadline = time.monotonic() + 10
            body = (await from_b.get(url)).json()
            while body["status"] not in ("done", "failed"):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
                body = (await from_b.get(url)).json()
            assert body["metadata"]["termination_reason"] == "ended_by_supervisor"
            assert (await from_b.get("/v1/calls/live")).json()["calls"] == []
        deadline = time.monotonic() + 5
        while not [m for m in moments if m.get("type") == "call_ended"]:
            assert time.monotonic() < deadline, moments
            await asyncio.sleep(0.1)
        ended_moments = [m for m in moments if m.get("type") == "call_ended"]
        # The stream says why the call ended as its record does, not how its socket closed.
        assert [m["reason"] for m in ended_moments] == ["ended_by_supervisor"]
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)

    kinds = [m["type"] for m in moments]
    assert kinds[0] == "call_started"
    assert all(m["conversation_id"] == conversation_id for m in moments)
    [greeting] = [m for m in moments if m["type"] == "turn" and m["role"] == "agent"][:1]
    assert greeting["message"] == GREETING
    assert "speech_ms" in greeting["metrics"]
    assert kinds[-1] == "call_ended"
