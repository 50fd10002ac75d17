"""Processes the benchmarks drive: a fresh local stack, SSE servers with their own settings
(the real one through ``run.sh``, or the naive baseline), and SSE load-client processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import IO, Any

from tests.utils.processes import RunningStack, free_port, running_stack

from bench.common import BUILD, ROOT, Histogram, wait_http_ok
from devstack.stack import HOST, StackConfig, app_environment

# The SSE settings a benchmark server runs with unless told otherwise: the defaults of
# sentiment/settings.py for heartbeats and metrics (30 s), and the longest allowed stream
# lifetime so streams are not recycled in the middle of a measurement.
SERVER_DEFAULTS = {
    "SSE_HEARTBEAT_INTERVAL": "30",
    "SSE_METRICS_INTERVAL": "30",
    "SSE_MAX_STREAM_SECONDS": "900",
}


def log_dir() -> Path:
    path = BUILD / "logs" / time.strftime("%Y%m%d-%H%M%S")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def fresh_stack(env: dict[str, str] | None = None) -> Iterator[RunningStack]:
    """moto server (empty tables: SEED_DEMO_DATA=0), the dashboard and an SSE app, as
    ``make run`` starts them, on free ports. Every benchmark starts one of its own, so one
    benchmark's data never skews another's."""
    with running_stack(demo=False, env={**SERVER_DEFAULTS, **(env or {})}) as stack:
        yield stack


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def status(self) -> dict[str, Any]:
        from bench.common import http_json

        result: dict[str, Any] = http_json(f"{self.url}/api/v2/stream/status")
        return result

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def sse_server(
    stack: RunningStack,
    name: str,
    env: dict[str, str],
    *,
    factory: str | None = None,
    src: Path | None = None,
    dynamodb_port: int | None = None,
    logs: Path,
) -> Iterator[Server]:
    """An SSE app on the stack's DynamoDB (or whatever listens on ``dynamodb_port``, such as a
    fault proxy). ``factory=None`` runs the product's ``run.sh`` (exactly what LWA and the local
    stack run); otherwise uvicorn with the same options and that app factory (the naive
    baseline, the probe). ``src`` runs another source tree."""
    port = free_port()
    config = StackConfig(
        dashboard_port=stack.config.dashboard_port,
        sse_port=port,
        moto_port=dynamodb_port or stack.config.moto_port,
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SSE_", "MALLOC_"))}
    merged = app_environment(config, {**base, **SERVER_DEFAULTS, **env})
    merged.update({"PORT": str(port), "SSE_HOST": HOST})
    # An extra PYTHONPATH in ``env`` (e.g. a folder with uvloop and httptools installed by
    # ``pip install --target``) comes after the source trees.
    paths = ([] if src is None else [str(src)]) + [str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    merged["PYTHONPATH"] = os.pathsep.join(paths)
    if factory is None:
        script = (src / "sse" / "run.sh") if src else Path(str(files("sse") / "run.sh"))
        command = ["sh", str(script)]
    else:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--host",
            HOST,
            "--port",
            str(port),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "2",
        ]
    log_path = logs / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # run.sh execs python: this pid is the server itself
            command, env=merged, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
    server = Server(name, f"http://{HOST}:{port}", process, log_path)
    try:
        wait_http_ok(f"{server.url}/health")
        yield server
    finally:
        server.stop()


class ClientPool:
    """K load-client processes (``bench.sseclient``) sharing the streams evenly."""

    def __init__(self, url: str, processes: int) -> None:
        self.processes: list[subprocess.Popen[str]] = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.sseclient", "--url", url],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            for _ in range(processes)
        ]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def _ask_all(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for process, command in zip(self.processes, commands, strict=True):
            stdin: IO[str] | None = process.stdin
            assert stdin is not None
            stdin.write(json.dumps(command) + "\n")
            stdin.flush()
        answers = []
        for process in self.processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"load client {process.pid} died")
            answers.append(json.loads(line))
        return answers

    def open(self, total: int) -> dict[str, Any]:
        """Open streams until ``total`` are live across the clients."""
        share = [total // len(self.processes)] * len(self.processes)
        for i in range(total % len(self.processes)):
            share[i] += 1
        answers = self._ask_all([{"cmd": "open", "total": n} for n in share])
        return {
            "open": sum(a["open"] for a in answers),
            "failed": sum(a["failed"] for a in answers),
            "rejected": sum(a["rejected"] for a in answers),
            "seconds": max(a["seconds"] for a in answers),
        }

    def mark(self) -> None:
        self._ask_all([{"cmd": "mark"}] * len(self.processes))

    def report(self) -> dict[str, Any]:
        answers = self._ask_all([{"cmd": "report"}] * len(self.processes))
        histogram = Histogram()
        per_item: dict[str, int] = {}
        for answer in answers:
            histogram.merge(answer["histogram"])
            for key, count in answer["per_item"].items():
                per_item[key] = per_item.get(key, 0) + count
        return {
            "open": sum(a["open"] for a in answers),
            "frames": sum(a["frames"] for a in answers),
            "histogram": histogram,
            "per_item": per_item,
            "ended": sum(a["ended"] for a in answers),
            "errors": sum(a["errors"] for a in answers),
            "cpu_seconds": [a["cpu_seconds"] for a in answers],
        }

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._ask_all([{"cmd": "close"}] * len(self.processes))
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> ClientPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
