"""A TCP proxy in front of a server, standing for the network between a phone and Velox: it can
cut every open connection at once (no close frames, as when a phone changes networks or enters
a tunnel) and stay down for a while, refusing new connections, before the network returns; and
it can be slow, like a mobile network (`Shape`: a round-trip latency and a bandwidth each way)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    """A network's speed: round-trip latency, and bandwidth down (to the phone) and up."""

    rtt_ms: float
    down_kbps: float
    up_kbps: float


# Lighthouse's "Slow 4G" as Chrome's DevTools applies it (150 ms RTT × 3.75, 1.6 Mbit/s × 0.9
# down, 750 kbit/s × 0.9 up).
SLOW_4G = Shape(rtt_ms=562.5, down_kbps=1474.56, up_kbps=675.0)


class CuttableNetwork:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.shape: Shape | None = None
        self.port = 0
        self.cuts = 0
        self.refused_while_down = 0
        self.connections = 0
        # (monotonic time, connection number, bytes): what clients sent, as the server got it
        self.sent: list[tuple[float, int, int]] = []
        self._down_until = 0.0
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cuttable-network", daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the proxy did not start")

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shut(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _shut(self) -> None:
        if self._server is not None:
            self._server.close()
        for client, upstream in self._links:
            client.transport.abort()
            upstream.transport.abort()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def cut(self, down_for_s: float = 0.0) -> float:
        """Drop every open connection now; refuse new ones for `down_for_s`. Returns the
        monotonic time at which the network comes back."""
        back_at = time.monotonic() + down_for_s
        done = threading.Event()

        def cut_now() -> None:
            self._down_until = back_at
            self.cuts += 1
            for client, upstream in list(self._links):
                client.transport.abort()
                upstream.transport.abort()
            self._links.clear()
            done.set()

        self._loop.call_soon_threadsafe(cut_now)
        done.wait(5)
        return back_at

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self._down_until:
            self.refused_while_down += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        link = (writer, up_writer)
        self._links.add(link)
        self.connections += 1
        number = self.connections

        def sent(size: int) -> None:
            self.sent.append((time.monotonic(), number, size))

        shape = self.shape
        up = (shape.rtt_ms / 2000, shape.up_kbps) if shape else None
        down = (shape.rtt_ms / 2000, shape.down_kbps) if shape else None
        try:
            await asyncio.gather(
                _pump(reader, up_writer, sent, up), _pump(up_reader, writer, None, down)
            )
        finally:
            self._links.discard(link)


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    passed: Callable[[int], None] | None = None,
    slow: tuple[float, float] | None = None,
) -> None:
    """Copy one direction; with `slow` (one-way delay in s, kbit/s) each piece arrives its delay
    after it was sent, and no sooner than the link's bandwidth lets the pieces before it."""
    if slow is None:
        try:
            while data := await reader.read(65536):
                if passed is not None:
                    passed(len(data))
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if not writer.transport.is_closing():
                writer.close()
        return
    delay_s, kbps = slow
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def deliver() -> None:
        line_free_at = 0.0
        while True:
            due, data = await queue.get()
            if not data:
                break
            line_free_at = max(due, line_free_at) + len(data) * 8 / (kbps * 1000)
            await asyncio.sleep(max(0.0, line_free_at - loop.time()))
            if passed is not None:  # what the server receives, when it receives it
                passed(len(data))
            writer.write(data)
            await writer.drain()

    delivering = asyncio.ensure_future(deliver())
    try:
        while data := await reader.read(16384):
            queue.put_nowait((loop.time() + delay_s, data))
        queue.put_nowait((0.0, b""))
        await delivering
    except (ConnectionError, OSError):
        pass
    finally:
        delivering.cancel()
        if not writer.transport.is_closing():
            writer.close()


@contextmanager
def cuttable_network(target_port: int) -> Iterator[CuttableNetwork]:
    network = CuttableNetwork(target_port)
    network.start()
    try:
        yield network
    finally:
        network.stop()
