"""This voice process as a node: registered on start, beating while it runs, and watching the
others, so a call whose node died (SIGKILL, crash, lost host) ends `node_lost` instead of
staying "in progress" for ever. Every node checks on start (a node restarted on the same host
finishes its predecessor's calls at once) and at each beat (a node on another host that went
silent for `node_lost_after_s`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import timedelta

from app.calls.runtime import VoiceRuntime
from app.db import voice_nodes

log = logging.getLogger(__name__)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


class NodeWatch:
    def __init__(self, runtime: VoiceRuntime) -> None:
        self._runtime = runtime
        self._hostname = socket.gethostname()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        runtime = self._runtime
        runtime.node_id = await asyncio.to_thread(self._register)
        await asyncio.to_thread(self.finish_lost_calls)
        self._task = asyncio.create_task(self._beat(), name="voice-node-beat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._runtime.node_id is not None:
            await asyncio.to_thread(self._stop)

    def finish_lost_calls(self) -> list[str]:
        runtime = self._runtime
        assert runtime.node_id is not None
        with runtime.database.session() as db:
            finished = voice_nodes.finish_calls_of_lost_nodes(
                db,
                this_node=runtime.node_id,
                hostname=self._hostname,
                silent_for=timedelta(seconds=runtime.settings.node_lost_after_s),
                process_exists=process_exists,
            )
        if finished:
            log.warning("calls of voice nodes that are gone ended as node_lost: %s", finished)
        return finished

    def _register(self) -> str:
        with self._runtime.database.session() as db:
            return voice_nodes.register_node(db, self._hostname, os.getpid())

    def _stop(self) -> None:
        assert self._runtime.node_id is not None
        with self._runtime.database.session() as db:
            voice_nodes.stop_node(db, self._runtime.node_id)

    async def _beat(self) -> None:
        runtime = self._runtime
        assert runtime.node_id is not None
        while True:
            await asyncio.sleep(runtime.settings.node_heartbeat_s)
            try:
                await asyncio.to_thread(self._beat_once, runtime.node_id)
            except Exception:  # a database hiccup must not stop the beat for good
                log.exception("voice node %s: heartbeat failed", runtime.node_id)

    def _beat_once(self, node_id: str) -> None:
        with self._runtime.database.session() as db:
            voice_nodes.beat(db, node_id)
        self.finish_lost_calls()
