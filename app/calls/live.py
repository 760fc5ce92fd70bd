"""Live calls, seen from any node: what happens in each call, and supervisors' commands.

Every node publishes its calls' moments (started, each transcript line with its latencies,
notable events, ended) on its organization's channel, and listens on its own command channel
(a supervisor ending a call that another node holds). With `VELOX_REDIS_URL` the channels are
Redis pub/sub, so a dashboard connected to any node sees every node's calls; without it (one
machine, the embedded default) they stay in this process.

Publishing never waits: a moment is queued, and a slow or absent subscriber loses moments
rather than slowing a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

# Moments a subscriber may fall behind by before the oldest are dropped.
SUBSCRIBER_QUEUE = 500
PUBLISH_QUEUE = 5000

Moment = dict[str, Any]
CommandHandler = Callable[[dict[str, Any]], Awaitable[None]]


class Subscription(Protocol):
    async def next(self) -> Moment:
        """The next moment (waits for one)."""
        ...

    async def close(self) -> None: ...


class LiveBus(Protocol):
    def publish(self, organization_id: str, moment: Moment) -> None:
        """Queue `moment` for the organization's subscribers; never blocks."""

    async def subscribe(self, organization_id: str) -> Subscription:
        """The organization's moments from every node, from the moment this returns (it is
        subscribed by then, so a caller may tell its client it is listening)."""
        ...

    async def command(self, node_id: str, command: dict[str, Any]) -> None:
        """Send a command to the node holding a call."""

    async def start(self, node_id: str, on_command: CommandHandler) -> None:
        """Start delivering, and take this node's commands."""

    async def stop(self) -> None: ...


class LocalBus:
    """One process: moments go straight to this process's subscribers."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Moment]]] = {}
        self._node_id: str | None = None
        self._on_command: CommandHandler | None = None

    def publish(self, organization_id: str, moment: Moment) -> None:
        for queue in self._subscribers.get(organization_id, ()):
            _offer(queue, moment)

    async def subscribe(self, organization_id: str) -> Subscription:
        queue: asyncio.Queue[Moment] = asyncio.Queue(SUBSCRIBER_QUEUE)
        subscribers = self._subscribers.setdefault(organization_id, set())
        subscribers.add(queue)
        return _LocalSubscription(queue, subscribers)

    async def command(self, node_id: str, command: dict[str, Any]) -> None:
        if node_id == self._node_id and self._on_command is not None:
            await self._on_command(command)
        else:
            log.warning("command for node %s dropped: no message bus to reach it", node_id)

    async def start(self, node_id: str, on_command: CommandHandler) -> None:
        self._node_id, self._on_command = node_id, on_command

    async def stop(self) -> None:
        self._subscribers.clear()


class _LocalSubscription:
    def __init__(self, queue: asyncio.Queue[Moment], subscribers: set[asyncio.Queue[Moment]]):
        self._queue = queue
        self._subscribers = subscribers

    async def next(self) -> Moment:
        return await self._queue.get()

    async def close(self) -> None:
        self._subscribers.discard(self._queue)


def _offer(queue: asyncio.Queue[Moment], moment: Moment) -> None:
    """Put, dropping the oldest moment of a subscriber that has fallen behind."""
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(moment)


class RedisBus:
    """Several nodes: moments and commands over Redis pub/sub (`redis.asyncio`)."""

    def __init__(self, url: str, prefix: str = "velox") -> None:
        from redis import asyncio as redis

        self._redis = redis.from_url(url)
        self._prefix = prefix
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(PUBLISH_QUEUE)
        self._tasks: list[asyncio.Task[None]] = []

    def _live(self, organization_id: str) -> str:
        return f"{self._prefix}:live:{organization_id}"

    def _node(self, node_id: str) -> str:
        return f"{self._prefix}:node:{node_id}"

    def publish(self, organization_id: str, moment: Moment) -> None:
        if self._outbox.full():
            log.warning("live moments dropped: the publisher is behind")
            return
        self._outbox.put_nowait((self._live(organization_id), json.dumps(moment)))

    async def subscribe(self, organization_id: str) -> Subscription:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self._live(organization_id))
        return _RedisSubscription(pubsub)

    async def command(self, node_id: str, command: dict[str, Any]) -> None:
        await self._redis.publish(self._node(node_id), json.dumps(command))

    async def start(self, node_id: str, on_command: CommandHandler) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self._node(node_id))
        self._tasks = [
            asyncio.create_task(self._send(), name="live-publisher"),
            asyncio.create_task(self._take_commands(pubsub, on_command), name="live-commands"),
        ]

    async def _send(self) -> None:
        while True:
            channel, data = await self._outbox.get()
            try:
                await self._redis.publish(channel, data)
            except Exception:  # Redis away: the moment is lost, the call goes on
                log.exception("a live moment could not be published")

    async def _take_commands(self, pubsub: Any, on_command: CommandHandler) -> None:
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    await on_command(json.loads(message["data"]))
                except Exception:
                    log.exception("a live-call command failed")
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._redis.aclose()


class _RedisSubscription:
    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    async def next(self) -> Moment:
        while True:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if message is not None and message.get("type") == "message":
                moment: Moment = json.loads(message["data"])
                return moment

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()


def live_bus(redis_url: str) -> LiveBus:
    return RedisBus(redis_url) if redis_url else LocalBus()
