"""Fan-out in one SSE process: N concurrent streams held by load-client processes while items
are posted at about 1 per second (random gaps of 0.5-1.5 s), for N = 1, 100, 1,000, 5,000,
10,000; then the same for the naive baseline (a poller per stream, ``bench.naive``).

Per level, over a measurement window of W seconds after the streams are open and settled:
delivery latency across all streams (send time to arrival), server CPU (utime+stime from
/proc/<pid>/stat over the window), resident memory (VmRSS) and its growth per stream, and
DynamoDB Query calls per second (the ``dynamodb_calls.Query`` delta of
``/api/v2/stream/status`` over the window). Streams are added, never closed, between levels.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    Poster,
    busy_other_processes,
    cpu_seconds,
    http_json,
    load_average,
    rss_kib,
    say,
)
from bench.processes import ClientPool, Server, fresh_stack, log_dir, sse_server

POLL_INTERVAL = 1.0
WARM_STREAMS = 5
TARGET_P99_MS = POLL_INTERVAL * 1000 + 1000
TARGET_BYTES_PER_STREAM = 20_000  # 20 KB
FLAT_RATIO = 1.25  # Query/s at the largest N over Query/s at N=1


@dataclass
class Options:
    levels: list[int]
    naive_levels: list[int]
    window: float
    server_env: dict[str, str] = field(default_factory=dict)
    src: Path | None = None
    probe: bool = False
    profile_level: int | None = None
    clients: int | None = None


def _pyspy_record(
    server: Server, seconds: float, logs: Path, level: int
) -> tuple[subprocess.Popen[bytes], Path] | None:
    """py-spy recording the server for ``seconds`` into a file; None without py-spy."""
    output = logs / f"py-spy-{server.name}-{level}.txt"
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [
        pyspy,
        "record",
        "--pid",
        str(server.pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "100",
        "--format",
        "raw",
        "--output",
        str(output),
    ]
    try:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except FileNotFoundError:
        say("fanout: py-spy is not installed (.venv/bin/pip install py-spy); not profiling")
        return None
    return process, output


def _frame_name(frame: str) -> str:
    """``handle (uvicorn/protocols/http/h11_impl.py:123)`` -> ``handle (h11_impl.py)``."""
    name, _, where = frame.partition(" (")
    if not where:
        return frame
    return f"{name} ({where.rsplit('/', 1)[-1].split(':')[0].rstrip(')')})"


def summarize_collapsed(path: Path, top: int = 15) -> dict[str, Any]:
    """Self and inclusive sample shares per function from py-spy's collapsed ("raw") output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        names = [_frame_name(frame) for frame in stack.split(";")]
        total += count
        own[names[-1]] += count
        for name in set(names):
            inclusive[name] += count
    if not total:
        return {"samples": 0}

    def share(count: int) -> float:
        return round(100 * count / total, 1)

    return {
        "samples": total,
        "self_percent": {name: share(c) for name, c in own.most_common(top)},
        "inclusive_percent": {name: share(c) for name, c in inclusive.most_common(top)},
        "file": str(path),
    }


def avoid_hour_boundary(seconds: float) -> None:
    """Sleep past the turn of the UTC hour if a window of ``seconds`` would touch its last
    minute: there the poller reads two hour buckets (the index partition is the UTC hour and
    writers may be a minute ahead), i.e. twice the Query calls per poll, which would look like
    growth that has nothing to do with the number of streams."""
    now = time.time()
    into_hour = now % 3600
    risky_from = 3600 - 60 - seconds - 10
    if into_hour > risky_from:
        wait = 3600 - into_hour + 5
        say(f"fanout: waiting {wait:.0f} s for the turn of the hour (two index buckets per poll)")
        time.sleep(wait)


def _wait_for_deliveries(
    pool: ClientPool, posted: list[str], streams: int, limit: float = 90.0
) -> dict[str, Any]:
    """Reports until every posted item reached every stream, or arrivals stop for 5 s, or
    ``limit`` seconds pass (a saturated server drains its backlog late: its p99 counts it)."""
    expected = streams * len(posted)
    started = last_progress = time.monotonic()
    delivered = -1
    while True:
        report = pool.report()
        count = sum(min(report["per_item"].get(i, 0), streams) for i in posted)
        if count >= expected or time.monotonic() - started > limit:
            return report
        if count > delivered:
            delivered, last_progress = count, time.monotonic()
        elif time.monotonic() - last_progress > 5:
            return report
        time.sleep(1.0)


@dataclass(frozen=True)
class Window:
    """The measurement window of one level: what was posted, and what it cost the server."""

    posted: list[str]
    seconds: float
    ended: float  # time.monotonic() when the last item was posted
    server_cpu: float  # CPU seconds
    clients_cpu: list[float]  # CPU seconds per load-client process
    status_before: dict[str, Any]  # /api/v2/stream/status
    status_after: dict[str, Any]
    gc_before: dict[str, Any] | None  # /__bench/gc, when probing
    gc_after: dict[str, Any] | None
    load_before: float
    busy: list[str]  # other processes busy on the machine at the end of the window


class Level:
    """One fan-out level: open the streams, let them settle, post items through the window,
    wait until they are delivered, and report what it cost."""

    def __init__(
        self,
        server: Server,
        pool: ClientPool,
        poster: Poster,
        streams: int,
        options: Options,
        logs: Path,
    ) -> None:
        self._server = server
        self._pool = pool
        self._poster = poster
        self._streams = streams
        self._options = options
        self._logs = logs
        self._probing = options.probe and server.name == "hub"

    def measure(self) -> dict[str, Any]:
        """Open, settle, post through the window, drain: the level's figures."""
        opened = self._open()
        rss_opened = self._settle()
        profiler = self._start_profiler()
        window = self._window()
        report = self._drain(window)
        level = self._figures(opened, rss_opened, window, report)
        self._add_diagnostics(level, window, profiler)
        self._say(level, window.busy)
        return level

    # --- phases ----------------------------------------------------------------------------

    def _open(self) -> dict[str, Any]:
        """This level's streams, on top of those already open; fails below 99% of them."""
        name, streams = self._server.name, self._streams
        opened = self._pool.open(streams)
        say(
            f"fanout[{name}]: {opened['open']} streams open "
            f"({opened['failed']} failed, {opened['rejected']} rejected) in {opened['seconds']} s"
        )
        if opened["open"] < streams * 0.99:
            raise RuntimeError(f"{name}: only {opened['open']} of {streams} streams opened")
        return opened

    def _settle(self) -> int:
        """Waits out the opening burst (and the turn of the hour); the server's RSS then."""
        time.sleep(3 + self._streams / 2000)
        rss_opened = rss_kib(self._server.pid)
        avoid_hour_boundary(self._options.window)
        return rss_opened

    def _start_profiler(self) -> tuple[subprocess.Popen[bytes], Path] | None:
        if self._options.profile_level != self._streams:
            return None
        return _pyspy_record(self._server, self._options.window, self._logs, self._streams)

    def _window(self) -> Window:
        """Items posted for ``options.window`` seconds, with the usage counters read around it
        (the server's CPU clock and the window's clock as close to the posting as they go)."""
        server, pool = self._server, self._pool
        gc_before = self._gc()
        pool.mark()
        clients_before = [cpu_seconds(pid) for pid in pool.pids]
        load_before = load_average()
        status_before = server.status()
        cpu_before, started = cpu_seconds(server.pid), time.monotonic()
        posted = self._poster.run(self._options.window, 0.5, 1.5)
        ended = time.monotonic()
        cpu = cpu_seconds(server.pid) - cpu_before
        status_after = server.status()
        gc_after = self._gc()
        clients_cpu = [
            cpu_seconds(pid) - before for pid, before in zip(pool.pids, clients_before, strict=True)
        ]
        return Window(
            posted=posted,
            seconds=ended - started,
            ended=ended,
            server_cpu=cpu,
            clients_cpu=clients_cpu,
            status_before=status_before,
            status_after=status_after,
            gc_before=gc_before,
            gc_after=gc_after,
            load_before=load_before,
            busy=busy_other_processes({server.pid, *pool.pids}),
        )

    def _drain(self, window: Window) -> dict[str, Any]:
        """The clients' report once the window's items are delivered (or stopped arriving)."""
        time.sleep(POLL_INTERVAL + 1)  # the last item's poll
        return _wait_for_deliveries(self._pool, window.posted, self._streams)

    def _gc(self) -> dict[str, Any] | None:
        return http_json(f"{self._server.url}/__bench/gc") if self._probing else None

    # --- figures ---------------------------------------------------------------------------

    def _figures(
        self, opened: dict[str, Any], rss_opened: int, window: Window, report: dict[str, Any]
    ) -> dict[str, Any]:
        streams, posted, elapsed = self._streams, window.posted, window.seconds
        before, after = window.status_before, window.status_after
        calls_before, calls_after = before["dynamodb_calls"], after["dynamodb_calls"]
        queries = calls_after.get("Query", 0) - calls_before.get("Query", 0)
        delivered = sum(min(report["per_item"].get(i, 0), streams) for i in posted)
        return {
            "streams": streams,
            "open": report["open"],
            "open_seconds": opened["seconds"],
            "items": len(posted),
            "window_s": round(elapsed, 1),
            "drain_s": round(time.monotonic() - window.ended, 1),
            "latency_ms": report["histogram"].summary(),
            "delivered_fraction": round(delivered / max(1, streams * len(posted)), 5),
            "server_cpu_percent": round(100 * window.server_cpu / elapsed, 1),
            "server_rss_kib": rss_kib(self._server.pid),
            "server_rss_kib_before_window": rss_opened,
            "query_per_s": round(queries / elapsed, 2),
            "polls_per_s": round((after["polls"] - before["polls"]) / elapsed, 2),
            "other_dynamodb_calls": {
                k: v - calls_before.get(k, 0) for k, v in calls_after.items() if k != "Query"
            },
            "client_cpu_percent": [round(100 * c / elapsed, 1) for c in window.clients_cpu],
            "streams_ended_by_server": report["ended"],
            "post_round_trip_ms_p50": self._median_post_ms(len(posted)),
            "load_average": [round(window.load_before, 2), round(load_average(), 2)],
            "busy_other_processes": window.busy,
        }

    def _median_post_ms(self, posted: int) -> float | None:
        """The median round trip of the window's POSTs (the poster's last ``posted``)."""
        if not posted:
            return None
        return sorted(self._poster.post_seconds[-posted:])[posted // 2] * 1000

    def _add_diagnostics(
        self,
        level: dict[str, Any],
        window: Window,
        profiler: tuple[subprocess.Popen[bytes], Path] | None,
    ) -> None:
        """The py-spy profile, the collector's work in the window and the probe's memory
        split, for the experiments that asked for them."""
        if profiler is not None:
            process, output = profiler
            process.wait(timeout=self._options.window + 30)
            if output.exists():
                level["py_spy"] = summarize_collapsed(output)
        if window.gc_before and window.gc_after:
            level["gc_in_window"] = gc_in_window(window.gc_before, window.gc_after, window.seconds)
        if self._probing:
            with contextlib.suppress(Exception):
                level["probe"] = http_json(f"{self._server.url}/__bench/memory", timeout=300)

    def _say(self, level: dict[str, Any], busy: list[str]) -> None:
        latency = level["latency_ms"]
        say(
            f"fanout[{self._server.name}]: N={self._streams}: p99 {latency['p99']} ms "
            f"(p50 {latency['p50']}), delivered {level['delivered_fraction']:.2%}, "
            f"CPU {level['server_cpu_percent']}%, RSS {level['server_rss_kib'] / 1024:.1f} MiB, "
            f"Query {level['query_per_s']}/s, clients CPU {level['client_cpu_percent']}%"
            + (f", busy: {busy}" if busy else "")
        )


def gc_in_window(before: dict[str, Any], after: dict[str, Any], seconds: float) -> dict[str, Any]:
    """What the cyclic collector did between two ``/__bench/gc`` readings ``seconds`` apart."""

    def grown(key: str) -> list[Any]:
        return [a - b for a, b in zip(after[key], before[key], strict=True)]

    spent = grown("seconds_by_generation")
    return {
        "seconds_by_generation": [round(x, 3) for x in spent],
        "collections_by_generation": grown("collections_by_generation"),
        "percent_of_one_core": round(100 * sum(spent) / seconds, 1),
    }


def run_design(design: str, levels: list[int], options: Options) -> dict[str, Any]:
    logs = log_dir()
    say(f"fanout[{design}]: fresh local stack (SEED_DEMO_DATA=0); levels {levels}")
    env = {
        "SSE_POLL_INTERVAL": str(POLL_INTERVAL),
        "SSE_MAX_CONNECTIONS": str(max(levels) + 1000),
        **options.server_env,
    }
    factory = {"hub": "bench.probe:create_app" if options.probe else None}.get(
        design, "bench.naive:create_app"
    )
    if options.probe and options.server_env.get("PYTHONTRACEMALLOC") is None:
        say("fanout: probe without PYTHONTRACEMALLOC: memory split only, no allocation sites")
    with (
        fresh_stack() as stack,
        sse_server(stack, design, env, factory=factory, src=options.src, logs=logs) as server,
    ):
        poster = Poster(stack.dashboard_url, stack.api_key)
        with ClientPool(server.url, 1) as warm:  # warm the server: imports, caches, poller
            warm.open(WARM_STREAMS)
            poster.run(4, 0.5, 1.0)
            time.sleep(2)
        time.sleep(1)
        probe_mark = None
        if options.probe:
            probe_mark = http_json(f"{server.url}/__bench/memory?mark=1", timeout=300)
        clients = options.clients or (2 if max(levels) > 2500 else 1)
        results = []
        with ClientPool(server.url, clients) as pool:
            for streams in levels:
                results.append(Level(server, pool, poster, streams, options, logs).measure())
        poster.close()
    base = results[0]
    for previous, level in zip([None, *results], results, strict=False):
        grown = (level["server_rss_kib"] - base["server_rss_kib"]) * 1024
        extra = level["streams"] - base["streams"]
        level["rss_bytes_per_stream"] = round(grown / extra) if extra > 0 else None
        if previous is not None and level["streams"] > previous["streams"]:
            step = (level["server_rss_kib"] - previous["server_rss_kib"]) * 1024
            level["marginal_bytes_per_stream"] = round(
                step / (level["streams"] - previous["streams"])
            )
    outcome = {"levels": results, "server_log": str(logs / f"{design}.log"), "env": env}
    if probe_mark is not None:
        outcome["probe_mark"] = probe_mark
    return outcome


def verdict(hub: dict[str, Any]) -> dict[str, Any]:
    levels = hub["levels"]
    top = levels[-1]
    # "Flat": no growth with N (the naive design grows linearly). A CPU-starved poller polls
    # less often, which lowers Query/s; that is reported (polls/s) but is not growth.
    first = levels[0]["query_per_s"]
    flat = max(lv["query_per_s"] for lv in levels) / first if first else None
    return {
        "largest_n": top["streams"],
        "p99_ms": top["latency_ms"]["p99"],
        "p99_met": top["latency_ms"]["p99"] is not None
        and top["latency_ms"]["p99"] <= TARGET_P99_MS
        and top["delivered_fraction"] >= 0.999,
        "bytes_per_stream": top["rss_bytes_per_stream"],
        "memory_met": top["rss_bytes_per_stream"] is not None
        and top["rss_bytes_per_stream"] <= TARGET_BYTES_PER_STREAM,
        "query_flat_ratio": round(flat, 2) if flat else None,
        "query_flat_met": flat is not None and flat <= FLAT_RATIO,
    }


def compare(hub: dict[str, Any], naive: dict[str, Any]) -> list[dict[str, Any]]:
    """Side by side at the stream counts both designs ran."""
    rows = []
    by_n = {lv["streams"]: lv for lv in hub["levels"]}
    for lv in naive["levels"]:
        h = by_n.get(lv["streams"])
        if h is None:
            continue

        def ratio(a: float | None, b: float | None) -> float | None:
            return round(a / b, 1) if a is not None and b else None

        rows.append(
            {
                "streams": lv["streams"],
                "query_per_s": [h["query_per_s"], lv["query_per_s"]],
                "query_ratio": ratio(lv["query_per_s"], h["query_per_s"]),
                "cpu_percent": [h["server_cpu_percent"], lv["server_cpu_percent"]],
                "cpu_ratio": ratio(lv["server_cpu_percent"], h["server_cpu_percent"]),
                "p99_ms": [h["latency_ms"]["p99"], lv["latency_ms"]["p99"]],
                "p99_ratio": ratio(lv["latency_ms"]["p99"], h["latency_ms"]["p99"]),
                "delivered": [h["delivered_fraction"], lv["delivered_fraction"]],
            }
        )
    return rows


def run(full: bool, options: Options | None = None) -> dict[str, Any]:
    if options is None:
        options = Options(
            levels=[1, 100, 1000, 5000, 10000] if full else [1, 100, 1000],
            naive_levels=[1, 100, 1000] if full else [1, 100],
            window=45.0 if full else 10.0,
        )
    result: dict[str, Any] = {"options": {**options.__dict__, "src": str(options.src or "")}}
    if options.levels:
        result["hub"] = run_design("hub", options.levels, options)
        result["verdict"] = verdict(result["hub"])
    if options.naive_levels:
        result["naive"] = run_design("naive", options.naive_levels, options)
        if "hub" in result:
            result["comparison"] = compare(result["hub"], result["naive"])
    return result
