"""A light SSE load client: many raw asyncio sockets reading ``GET /api/v2/stream``.

Runs as its own process (``python -m bench.sseclient --url http://127.0.0.1:PORT``) driven by
JSON lines on stdin, answering JSON lines on stdout:

    {"cmd": "open", "total": N}  open streams until N are live (their first heartbeat arrived)
    {"cmd": "mark"}              start a measurement window (forget earlier arrivals)
    {"cmd": "report"}            arrivals since the mark: latency histogram, per-item counts
    {"cmd": "close"}             close every stream and exit

Each ``new_item`` frame's item id carries its send time (``bench.common.item_id``), so the
latency (arrival minus send, one monotonic clock for the machine) is computed right here,
taken when the bytes completing the frame are read. Streams the server ends (lifetime, slow
subscriber) are reopened and counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from bench.common import Histogram

_ITEM_ID = re.compile(rb'"item_id":"(bench-\d+-\d+)"')
_CONNECT_CONCURRENCY = 64


class Stats:
    def __init__(self) -> None:
        self.histogram = Histogram()
        self.per_item: Counter[bytes] = Counter()
        self.frames = 0
        self.heartbeats = 0
        self.ended = 0
        self.rejected = 0
        self.errors = 0


class StreamProtocol(asyncio.Protocol):
    def __init__(self, client: Client) -> None:
        self.client = client
        self.tail = b""
        self.live: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.closed_by_us = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.client.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        if not self.live.done():
            if data.startswith(b"HTTP/1.1 ") and not data.startswith(b"HTTP/1.1 200"):
                self.client.stats.rejected += 1
                self.live.set_result(False)
                self.closed_by_us = True
                assert self.transport is not None
                self.transport.close()
                return
            if b"event: heartbeat" in data:
                self.live.set_result(True)
        buffer = self.tail + data if self.tail else data
        cut = buffer.rfind(b"\n\n")
        if cut < 0:
            self.tail = buffer
            return
        complete, self.tail = buffer[: cut + 2], buffer[cut + 2 :]
        if b"new_item" not in complete:
            return
        stats = self.client.stats
        for match in _ITEM_ID.finditer(complete):
            identifier = match.group(1)
            stats.per_item[identifier] += 1
            stats.histogram.add_ns(now - int(identifier.rsplit(b"-", 1)[1]))
            stats.frames += 1

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.live.done():
            self.live.set_result(False)
            self.closed_by_us = True  # never became live: not a stream that ended
        self.client.lost(self)


class Client:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        path = parts.path.rstrip("/") + "/api/v2/stream"
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
        ).encode()
        self.stats = Stats()
        self.streams: set[StreamProtocol] = set()
        self.closing = False
        self._reopen: set[asyncio.Task[Any]] = set()

    async def open_one(self) -> bool:
        loop = asyncio.get_running_loop()
        protocol = StreamProtocol(self)
        try:
            await loop.create_connection(lambda: protocol, self.host, self.port)
        except OSError:
            self.stats.errors += 1
            return False
        try:
            live = await asyncio.wait_for(protocol.live, 30)
        except TimeoutError:
            live = False
        if live and not protocol.closed_by_us:
            self.streams.add(protocol)  # only live streams are counted, and reopened if ended
        elif protocol.transport is not None:
            protocol.closed_by_us = True
            protocol.transport.close()
        return live

    async def open(self, total: int) -> dict[str, Any]:
        started = time.monotonic()
        gate = asyncio.Semaphore(_CONNECT_CONCURRENCY)
        failed = 0

        # Give up on a server that does not serve streams, rather than wait 30 s for each.
        deadline = started + 120 + total / 50

        async def one() -> None:
            nonlocal failed
            async with gate:
                if failed > 50 + total // 10 or time.monotonic() > deadline:
                    failed += 1
                    return
                if not await self.open_one():
                    failed += 1

        need = total - len(self.streams)
        attempts = 0
        while need > 0 and attempts < 3 and time.monotonic() < deadline:
            await asyncio.gather(*(one() for _ in range(need)))
            need = total - len(self.streams)
            attempts += 1
        return {
            "open": len(self.streams),
            "failed": failed,
            "rejected": self.stats.rejected,
            "seconds": round(time.monotonic() - started, 2),
        }

    def lost(self, protocol: StreamProtocol) -> None:
        was_open = protocol in self.streams
        self.streams.discard(protocol)
        if was_open and not protocol.closed_by_us and not self.closing:
            self.stats.ended += 1
            task = asyncio.get_running_loop().create_task(self.open_one())
            self._reopen.add(task)
            task.add_done_callback(self._reopen.discard)

    def mark(self) -> None:
        ended, rejected = self.stats.ended, self.stats.rejected
        self.stats = Stats()
        self.stats.ended, self.stats.rejected = ended, rejected

    def report(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "open": len(self.streams),
            "frames": stats.frames,
            "histogram": dict(stats.histogram.counts),
            "per_item": {key.decode(): count for key, count in stats.per_item.items()},
            "ended": stats.ended,
            "rejected": stats.rejected,
            "errors": stats.errors,
            "cpu_seconds": sum(os.times()[:2]),
        }

    def close(self) -> None:
        self.closing = True
        for protocol in list(self.streams):
            protocol.closed_by_us = True
            if protocol.transport is not None:
                protocol.transport.close()
        self.streams.clear()


async def serve(client: Client) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    while line := await reader.readline():
        command = json.loads(line)
        name = command["cmd"]
        if name == "open":
            answer(await client.open(int(command["total"])))
        elif name == "mark":
            client.mark()
            answer({"ok": True})
        elif name == "report":
            answer(client.report())
        elif name == "close":
            client.close()
            await asyncio.sleep(0.2)
            answer({"ok": True})
            return
    client.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sseclient", description=__doc__)
    parser.add_argument("--url", required=True, help="the SSE app, e.g. http://127.0.0.1:8001")
    args = parser.parse_args(argv)
    asyncio.run(serve(Client(args.url)))


if __name__ == "__main__":
    main()
