"""Start the local stack (or extra SSE app processes) exactly as ``make run`` does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import httpx

from devstack.stack import DEV_INGEST_API_KEY, StackConfig, app_environment, process_specs
from devstack.supervisor import Supervisor

# Fast timings so stream tests take seconds, not minutes.
FAST_SSE_ENV = {
    "SSE_HEARTBEAT_INTERVAL": "1",
    "SSE_METRICS_INTERVAL": "2",
    "SSE_POLL_INTERVAL": "0.5",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningStack:
    config: StackConfig
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    api_key: str = DEV_INGEST_API_KEY

    @property
    def dashboard_url(self) -> str:
        return self.config.dashboard_url

    @property
    def sse_url(self) -> str:
        return self.config.sse_url

    @property
    def dynamodb_url(self) -> str:
        return self.config.dynamodb_url

    def log(self) -> str:
        return "\n".join(self.output[-80:])


@contextmanager
def running_stack(demo: bool = False, env: dict[str, str] | None = None) -> Iterator[RunningStack]:
    """``python -m devstack`` on free ports; yields once it prints ``ready``."""
    config = StackConfig(
        dashboard_port=free_port(),
        sse_port=free_port(),
        moto_port=free_port(),
        seed_demo_data=demo,
        producer_interval=1.0,
    )
    args = [
        "--dashboard-port",
        str(config.dashboard_port),
        "--sse-port",
        str(config.sse_port),
        "--moto-port",
        str(config.moto_port),
        "--producer-interval",
        "1",
    ]
    if not demo:
        args.append("--no-demo")
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", *args],
        env={**os.environ, **FAST_SSE_ENV, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = RunningStack(config, process)
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stack.output.append(line.rstrip())
            if line.startswith("devstack | ready"):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while not ready.wait(0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local stack did not start:\n{stack.log()}")
        yield stack
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def extra_app(
    stack: RunningStack,
    env: dict[str, str],
    app: str = "sse",
    dynamodb_port: int | None = None,
    output: list[str] | None = None,
) -> Iterator[str]:
    """Another ``app`` ("sse" through run.sh, or "dashboard") with its own settings, on the
    stack's DynamoDB or, with ``dynamodb_port``, on whatever listens there (a fault proxy).
    Its output lines go to ``output`` when given."""
    config = StackConfig(
        dashboard_port=stack.config.dashboard_port if app == "sse" else free_port(),
        sse_port=free_port() if app == "sse" else stack.config.sse_port,
        moto_port=dynamodb_port or stack.config.moto_port,
    )
    base_env = app_environment(config, {**os.environ, **FAST_SSE_ENV, **env})
    spec = process_specs(config, base_env)[app]
    supervisor = Supervisor(write=output.append if output is not None else lambda line: None)
    supervisor.start(spec)
    try:
        yield config.sse_url if app == "sse" else config.dashboard_url
    finally:
        supervisor.stop_all()


def extra_sse_app(stack: RunningStack, env: dict[str, str]) -> AbstractContextManager[str]:
    """Another SSE app (through run.sh) on the stack's DynamoDB, with its own settings."""
    return extra_app(stack, env)


def wait_for(predicate: object, timeout: float = 10.0, interval: float = 0.1) -> None:
    """Poll ``predicate()`` until truthy; fail with a clear message after ``timeout``."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def stream_status(sse_url: str) -> dict[str, object]:
    response = httpx.get(f"{sse_url}/api/v2/stream/status", timeout=5)
    response.raise_for_status()
    result: dict[str, object] = response.json()
    return result
