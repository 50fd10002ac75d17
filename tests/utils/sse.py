"""Read a live stream with httpx-sse in the background and wait for particular events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse


@dataclass
class Event:
    type: str
    id: str | None
    data: Any
    retry: int | None
    received: float = field(default_factory=time.monotonic)  # when the client read it


@dataclass
class StreamReader:
    response: httpx.Response
    events: list[Event] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def _record(self, sse: ServerSentEvent) -> None:
        data = json.loads(sse.data) if sse.data else None
        async with self._arrived:
            self.events.append(Event(sse.event, sse.id or None, data, sse.retry))
            self._arrived.notify_all()

    async def wait_for(
        self, match: Callable[[Event], bool], timeout: float = 10.0, start: int = 0
    ) -> Event:
        """The first event from index ``start`` on that matches; fails after ``timeout``."""

        def found() -> Event | None:
            return next((e for e in self.events[start:] if match(e)), None)

        async with asyncio.timeout(timeout), self._arrived:
            while (event := found()) is None:
                await self._arrived.wait()
            return event

    async def next_of(self, event_type: str, timeout: float = 10.0) -> Event:
        """The next ``event_type`` event after those already recorded."""
        return await self.wait_for(lambda e: e.type == event_type, timeout, start=len(self.events))

    def of(self, event_type: str) -> list[Event]:
        return [e for e in self.events if e.type == event_type]

    @property
    def last_id(self) -> str | None:
        ids = [e.id for e in self.events if e.id]
        return ids[-1] if ids else None


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[StreamReader]:
    """Connect, check it is an event stream, and record events until the block exits."""
    async with aconnect_sse(client, "GET", url, headers=dict(headers or {})) as source:
        response = source.response
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = StreamReader(response)

        async def pump() -> None:
            try:
                async for sse in source.aiter_sse():
                    await reader._record(sse)
            except (httpx.ReadError, httpx.RemoteProtocolError):
                pass
            finally:
                reader.ended.set()

        task = asyncio.create_task(pump())
        try:
            yield reader
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
