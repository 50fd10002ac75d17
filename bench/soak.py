"""Soak: constant ingest, 200 streams, storage stalls; and one stream's memory over its lifetime.

An SSE app (``run.sh``, production storage-client settings) talks to DynamoDB through a fault
proxy that stalls it now and then. Items are posted steadily through the healthy dashboard
API. Of 200 viewers, half hold one stream the whole time and half reconnect every 2-8 s with
``Last-Event-ID``, as EventSource does after a drop. Reported: items lost (every item posted
after a viewer's first heartbeat must reach it), duplicate deliveries per reconnect, the
longest gap between heartbeats within a connection, and the SSE process's RSS and open file
descriptors after warm-up and at the end.

Beside it, a second SSE app with the Lambda defaults (30 s heartbeats and metrics) serves one
stream for a whole stream lifetime (``SSE_MAX_STREAM_SECONDS``); its peak RSS (VmHWM) tells
whether the SSE Lambda fits in 128 MB.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import aconnect_sse
from tests.utils.faults import FaultProxy

from bench.common import Poster, say
from bench.processes import Server, fresh_stack, log_dir, sse_server

HEARTBEAT_SECONDS = 1.0
RECONNECT_SECONDS = (2.0, 8.0)
INGEST_GAP_SECONDS = (0.3, 0.7)  # about 2 items/s
# After the last post, how long every viewer may take to get every item before the missing ones
# count as lost (most arrive within a poll interval; a busy machine can be slower).
SETTLE_SECONDS = 60.0
# Before the "start" reading: every viewer connected, ingest and reconnects under way for a
# while, so the start is the process at work (pools, arenas, caches filled), not at rest.
WARM_UP_SECONDS = 30.0
SOAK_ENV = {
    "SSE_HEARTBEAT_INTERVAL": str(HEARTBEAT_SECONDS),
    "SSE_METRICS_INTERVAL": "5",
    "SSE_POLL_INTERVAL": "1",
    "SSE_MAX_CONNECTIONS": "400",
    "SSE_MAX_STREAM_SECONDS": "900",
}
LAMBDA_MEMORY_MB = 128


@dataclass(frozen=True)
class Plan:
    seconds: float
    stalls: tuple[tuple[float, float], ...]  # (start, duration) after the viewers are ready
    lifetime_seconds: float  # the one-stream process's stream lifetime
    viewers: int = 200


QUICK = Plan(seconds=90, stalls=((20, 30),), lifetime_seconds=120)
FULL = Plan(seconds=840, stalls=((120, 30), (360, 60), (600, 30)), lifetime_seconds=840)


@dataclass
class Viewer:
    """One browser: every item it saw (by id, with how often), across its connections."""

    reconnects: bool
    seen: Counter[str] = field(default_factory=Counter)
    last_id: str | None = None
    ready_at: float | None = None  # the first heartbeat
    connections: int = 0
    errors: int = 0
    server_closes: int = 0
    longest_gap: float = 0.0
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, client: httpx.AsyncClient, url: str, stop: asyncio.Event) -> None:
        rng = random.Random()
        while not stop.is_set():
            leave_at = time.monotonic() + rng.uniform(*RECONNECT_SECONDS)
            if not self.reconnects:
                leave_at = float("inf")
            try:
                await self._connection(client, url, stop, leave_at)
            except (httpx.HTTPError, OSError):
                self.errors += 1
                await asyncio.sleep(3.0)  # EventSource's retry after an error

    async def _connection(
        self, client: httpx.AsyncClient, url: str, stop: asyncio.Event, leave_at: float
    ) -> None:
        headers = {"Last-Event-ID": self.last_id} if self.last_id else {}
        self.connections += 1
        beat: float | None = None
        async with aconnect_sse(client, "GET", url, headers=headers) as source:
            if source.response.status_code != 200:
                raise httpx.HTTPStatusError("refused", request=source.response.request,
                                            response=source.response)  # fmt: skip
            async for event in source.aiter_sse():
                now = time.monotonic()
                if event.id:
                    self.last_id = event.id
                if event.event == "heartbeat":
                    if beat is not None:
                        self.longest_gap = max(self.longest_gap, now - beat)
                    beat = now
                    self.ready_at = self.ready_at or now
                    self.ready.set()
                elif event.event == "new_item":
                    self.seen[json.loads(event.data)["item_id"]] += 1
                if now >= leave_at or stop.is_set():
                    return
        self.server_closes += 1


def proc_reading(pid: int) -> dict[str, int]:
    """RSS, peak RSS (KiB) and open file descriptors of a process, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {
        "rss_kib": int(fields["VmRSS"].split()[0]),
        "peak_rss_kib": int(fields["VmHWM"].split()[0]),
        "fds": len(list(Path(f"/proc/{pid}/fd").iterdir())),
    }


async def _ingest(poster: Poster, stop: asyncio.Event, posted: dict[str, float]) -> None:
    rng = random.Random(11)
    while not stop.is_set():
        identifier = await asyncio.to_thread(poster.post)
        posted[identifier] = time.monotonic()
        await asyncio.sleep(rng.uniform(*INGEST_GAP_SECONDS))


async def _sample_rss(pid: int, stop: asyncio.Event, every: float) -> list[float]:
    """The process's RSS in MiB every ``every`` seconds: a leak climbs, a warm-up levels off."""
    samples = []
    while not stop.is_set():
        samples.append(round(proc_reading(pid)["rss_kib"] / 1024, 1))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
    return samples


async def _stalls(proxy: FaultProxy, plan: Plan, started: float) -> list[dict[str, float]]:
    done = []
    for start, duration in plan.stalls:
        await asyncio.sleep(max(0.0, started + start - time.monotonic()))
        say(f"soak: DynamoDB stalls for {duration:g} s")
        proxy.stall()
        await asyncio.sleep(duration)
        proxy.heal()
        say("soak: DynamoDB answers again")
        done.append({"start_s": start, "seconds": duration})
    return done


async def _one_stream_lifetime(server: Server, seconds: float) -> dict[str, Any]:
    """One stream on its own server until the server closes it; the server's peak RSS."""
    viewer = Viewer(reconnects=False)
    timeout = httpx.Timeout(10, read=60)
    async with httpx.AsyncClient(timeout=timeout) as client:
        with contextlib.suppress(httpx.HTTPError):
            await viewer._connection(
                client, f"{server.url}/api/v2/stream", asyncio.Event(), float("inf")
            )
    reading = proc_reading(server.pid)
    return {
        "lifetime_setting_s": seconds,
        "closed_by_server": viewer.server_closes == 1,
        "items_seen": len(viewer.seen),
        "peak_rss_mib": round(reading["peak_rss_kib"] / 1024, 1),
        "rss_at_end_mib": round(reading["rss_kib"] / 1024, 1),
    }


def _missing(viewer: Viewer, posted: dict[str, float]) -> set[str]:
    """Items posted after the viewer's first heartbeat that it has not seen (yet)."""
    expected = {i for i, at in posted.items() if viewer.ready_at and at > viewer.ready_at}
    return expected - set(viewer.seen)


async def _settle(viewers: list[Viewer], posted: dict[str, float]) -> float:
    """Seconds until every viewer has every item, at most SETTLE_SECONDS."""
    started = time.monotonic()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SETTLE_SECONDS):
            while any(_missing(viewer, posted) for viewer in viewers):  # noqa: ASYNC110
                await asyncio.sleep(0.5)  # the viewers' tasks deliver; nothing to wait on
    return round(time.monotonic() - started, 1)


def _summary(viewers: list[Viewer], posted: dict[str, float]) -> dict[str, Any]:
    lost = duplicates = reconnects = 0
    for viewer in viewers:
        lost += len(_missing(viewer, posted))
        duplicates += sum(count - 1 for count in viewer.seen.values())
        reconnects += viewer.connections - 1
    return {
        "viewers": len(viewers),
        "ready": sum(1 for v in viewers if v.ready_at),
        "items_posted": len(posted),
        "items_lost": lost,
        "reconnects": reconnects,
        "duplicates": duplicates,
        "duplicates_per_reconnect": round(duplicates / reconnects, 3) if reconnects else 0.0,
        "longest_heartbeat_gap_s": round(max(v.longest_gap for v in viewers), 2),
        "connection_errors": sum(v.errors for v in viewers),
        "closed_by_server": sum(v.server_closes for v in viewers),
    }


async def _soak(plan: Plan) -> dict[str, Any]:
    logs = log_dir()
    with fresh_stack() as stack:
        proxy = FaultProxy(stack.dynamodb_url)
        await proxy.start()
        single_env = {"SSE_MAX_STREAM_SECONDS": str(plan.lifetime_seconds)}
        with (
            sse_server(stack, "soak", SOAK_ENV, dynamodb_port=proxy.port, logs=logs) as server,
            sse_server(stack, "one-stream", single_env, logs=logs) as single,
        ):
            say(f"soak: {plan.viewers} viewers on {server.url} (half reconnecting), "
                f"one stream on {single.url} for up to {plan.lifetime_seconds:g} s")  # fmt: skip
            lifetime = asyncio.create_task(_one_stream_lifetime(single, plan.lifetime_seconds))
            result = await _drive(plan, stack.dashboard_url, stack.api_key, server, proxy)
            say("soak: waiting for the single stream's lifetime to end")
            result["one_stream"] = await lifetime
        await proxy.close()
    one = result["one_stream"]
    one["fits_128_mb"] = one["peak_rss_mib"] < LAMBDA_MEMORY_MB * 0.75
    return result


async def _drive(
    plan: Plan, dashboard_url: str, api_key: str, server: Server, proxy: FaultProxy
) -> dict[str, Any]:
    viewers = [Viewer(reconnects=n % 2 == 1) for n in range(plan.viewers)]
    stop_viewers, stop_ingest = asyncio.Event(), asyncio.Event()
    posted: dict[str, float] = {}
    poster = Poster(dashboard_url, api_key)
    limits = httpx.Limits(max_connections=plan.viewers + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=60), limits=limits) as client:
        url = f"{server.url}/api/v2/stream"
        running = [asyncio.create_task(v.run(client, url, stop_viewers)) for v in viewers]
        async with asyncio.timeout(120):
            await asyncio.gather(*(v.ready.wait() for v in viewers))
        ingest = asyncio.create_task(_ingest(poster, stop_ingest, posted))
        await asyncio.sleep(WARM_UP_SECONDS)
        started = time.monotonic()
        before = proc_reading(server.pid)
        say(f"soak: all viewers connected; RSS {before['rss_kib'] / 1024:.1f} MiB, "
            f"{before['fds']} fds; running {plan.seconds:g} s")  # fmt: skip
        stalls = asyncio.create_task(_stalls(proxy, plan, started))
        rss = asyncio.create_task(_sample_rss(server.pid, stop_viewers, plan.seconds / 10))
        await asyncio.sleep(plan.seconds)
        stop_ingest.set()
        await ingest
        await stalls
        settled_in = await _settle(viewers, posted)
        after = proc_reading(server.pid)
        stop_viewers.set()
        await asyncio.gather(*running, return_exceptions=True)
        rss_series = await rss
    poster.close()
    result = _summary(viewers, posted)
    result.update(
        seconds=plan.seconds,
        stalls=await stalls,
        all_delivered_seconds_after_last_post=settled_in,
        post_failures=poster.failures,
        rss_mib_series=rss_series,
        process_start=before,
        process_end=after,
        rss_growth=round(after["rss_kib"] / before["rss_kib"] - 1, 3),
        fd_growth=round(after["fds"] / before["fds"] - 1, 3),
    )
    say(f"soak: {result['items_posted']} items, {result['items_lost']} lost, "
        f"{result['duplicates_per_reconnect']} duplicates per reconnect over "
        f"{result['reconnects']} reconnects, longest heartbeat gap "
        f"{result['longest_heartbeat_gap_s']} s, RSS {result['rss_growth']:+.1%}, "
        f"fds {result['fd_growth']:+.1%}")  # fmt: skip
    return result


def run(full: bool) -> dict[str, Any]:
    plan = FULL if full else QUICK
    result = asyncio.run(_soak(plan))
    result["met"] = bool(
        result["items_lost"] == 0
        and result["ready"] == result["viewers"]
        and result["longest_heartbeat_gap_s"] <= HEARTBEAT_SECONDS + 1
        and result["rss_growth"] <= 0.10
        and result["fd_growth"] <= 0.10
    )
    one = result["one_stream"]
    say(f"soak: one stream for {one['lifetime_setting_s']:g} s: peak RSS "
        f"{one['peak_rss_mib']} MiB ({'fits' if one['fits_128_mb'] else 'does not fit'} "
        f"128 MB with room for LWA and the runtime)")  # fmt: skip
    return result
