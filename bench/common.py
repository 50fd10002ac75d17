"""What every benchmark group shares: progress lines, percentiles, /proc readings, item ids that
carry their send time, a steady poster, and a description of the machine."""

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"  # scratch space (gitignored): logs, unpacked zips, runtime dir
RESULTS = Path(__file__).resolve().parent / "results"
ID_PREFIX = "bench-"
_STARTED = time.monotonic()
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def say(message: str) -> None:
    """A progress line, prefixed with the seconds since the run started."""
    print(f"[{time.monotonic() - _STARTED:7.1f}s] {message}", flush=True)


# --- statistics ----------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of ``values``; None when there are none."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: Iterable[float]) -> dict[str, Any]:
    """p50/p95/p99/max in milliseconds of durations given in seconds."""
    values = [s * 1000 for s in seconds]
    result: dict[str, Any] = {"n": len(values)}
    for name, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100)):
        value = percentile(values, q)
        result[name] = None if value is None else round(value, 2)
    return result


class Histogram:
    """Latencies at 1 ms resolution, cheap to fill in a client and to merge across clients."""

    def __init__(self, counts: dict[int, int] | None = None) -> None:
        self.counts: Counter[int] = Counter(counts or {})

    def add_ns(self, nanoseconds: int) -> None:
        self.counts[max(0, nanoseconds) // 1_000_000] += 1

    def merge(self, other: dict[str | int, int]) -> None:
        for key, count in other.items():
            self.counts[int(key)] += count

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    def percentile_ms(self, q: float) -> float | None:
        total = self.n
        if not total:
            return None
        rank = max(1, min(total, round(q / 100 * total + 0.5)))
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= rank:
                return bucket + 0.5  # the middle of the 1 ms bucket
        raise AssertionError("unreachable")

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = {"n": self.n}
        for name, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100)):
            result[name] = self.percentile_ms(q)
        return result


# --- processes -----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (and its reaped children: not used here), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def load_average() -> float:
    return os.getloadavg()[0]


def busy_other_processes(exclude: set[int], threshold: float = 20.0) -> list[str]:
    """Processes outside ``exclude`` using more than ``threshold``% CPU right now (ps)."""
    try:
        output = subprocess.run(
            ["ps", "-eo", "pid,pcpu,comm", "--sort=-pcpu", "--no-headers"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    busy = []
    for line in output.splitlines()[:10]:
        pid, pcpu, command = line.split(None, 2)
        if int(pid) not in exclude and float(pcpu) >= threshold:
            busy.append(f"{command}({pid}) {pcpu}%")
    return busy


def http_json(url: str, timeout: float = 30) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
        return json.load(response)


def wait_http_ok(url: str, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer 200 within {timeout} s")


# --- items ---------------------------------------------------------------------------------

BODY_TEMPLATE = (
    '{"item_id":"%s","source":"bench","title":"Benchmark item %d","url":'
    '"https://news.example.com/bench/%d","tickers":["%s"],"sentiment":"%s","score":%.3f,'
    '"confidence":0.9,"published_at":"2026-11-21T10:00:00Z"}'
)
TICKERS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "TSLA", "META", "JPM")
SENTIMENTS = ("positive", "neutral", "negative")


def item_id(seq: int, sent_ns: int) -> str:
    """An item id carrying its send time (``time.monotonic_ns()``: one clock for every
    process on this machine), so any client can compute the delivery latency by itself."""
    return f"{ID_PREFIX}{seq}-{sent_ns}"


def sent_ns_of(identifier: str) -> int:
    return int(identifier.rsplit("-", 1)[1])


class Poster:
    """POSTs one item at a time to the dashboard ingest API over one keep-alive connection."""

    def __init__(self, dashboard_url: str, api_key: str, seed: int = 7) -> None:
        self._client = httpx.Client(
            base_url=dashboard_url,
            headers={"X-API-Key": api_key, "Content-Type": "application/json"},
            timeout=30,
        )
        self._random = random.Random(seed)
        self.seq = 0
        self.post_seconds: list[float] = []
        self.sent: dict[str, int] = {}
        self.failures = 0

    def post(self) -> str:
        self.seq += 1
        seq, rng = self.seq, self._random
        ticker, sentiment = rng.choice(TICKERS), rng.choice(SENTIMENTS)
        sent_ns = time.monotonic_ns()  # the clock start: just before the POST is sent
        identifier = item_id(seq, sent_ns)
        body = BODY_TEMPLATE % (identifier, seq, seq, ticker, sentiment, rng.uniform(-1, 1))
        response = self._client.post("/api/v2/items", content=body)
        self.post_seconds.append((time.monotonic_ns() - sent_ns) / 1e9)
        if response.status_code != 201:
            self.failures += 1
        self.sent[identifier] = sent_ns
        return identifier

    def run(self, seconds: float, low: float, high: float) -> list[str]:
        """Post for ``seconds`` at random gaps uniform in [low, high]; returns the ids posted."""
        end = time.monotonic() + seconds
        first = self._random.uniform(0, high)
        return self._paced(low, high, first, lambda due, _count: due < end)

    def run_count(self, count: int, low: float, high: float) -> list[str]:
        return self._paced(low, high, 0.0, lambda _due, posted: posted < count)

    def _paced(
        self, low: float, high: float, first: float, more: Callable[[float, int], bool]
    ) -> list[str]:
        # An absolute schedule, so a slow POST does not lower the rate.
        posted: list[str] = []
        due = time.monotonic() + first
        while more(due, len(posted)):
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            posted.append(self.post())
            due += self._random.uniform(low, high)
        return posted

    def close(self) -> None:
        self._client.close()


# --- the machine ---------------------------------------------------------------------------


def _command_output(*command: str) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, cwd=ROOT)
        return result.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, Any]:
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    dirty = _command_output("git", "status", "--porcelain", "--", "src", "bench")
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model,
        "ram_gib": round(memory_kib / 1024**2, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "open_files_limit": _command_output("sh", "-c", "ulimit -n"),
        "git_commit": _command_output("git", "rev-parse", "--short", "HEAD"),
        "git_dirty_paths": dirty.splitlines(),
        "command": " ".join([Path(sys.executable).name, "-m", "bench", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_average_at_start": round(load_average(), 2),
    }
