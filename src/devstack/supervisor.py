"""A tiny process supervisor: start children in order, prefix their output, stop them together.

If any child exits on its own the whole group is stopped and the supervisor fails loudly;
Ctrl-C or SIGTERM stops every child (newest first) and exits cleanly.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

STOP_GRACE_SECONDS = 8.0
READY_TIMEOUT_SECONDS = 45.0


class StackError(RuntimeError):
    """A child failed to start or died."""


@dataclass
class ProcessSpec:
    """One child: its command, environment and how to tell it is ready."""

    name: str
    command: Sequence[str]
    env: dict[str, str]
    ready_url: str | None = None


@dataclass
class _Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    pump: threading.Thread = field(init=False)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: deliver SIGTERM to the child if the supervisor itself is killed."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class Supervisor:
    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        self._children: list[_Child] = []
        self._write = write or self._print
        self._lock = threading.Lock()
        self._stopping = False

    @staticmethod
    def _print(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def say(self, message: str) -> None:
        with self._lock:
            self._write(f"devstack | {message}")

    def start(self, spec: ProcessSpec) -> None:
        """Start a child and wait until it is ready (its URL answers 200, or it just runs)."""
        self.say(f"starting {spec.name}: {' '.join(spec.command)}")
        process = subprocess.Popen(  # noqa: S603 - commands are built by this package
            list(spec.command),
            env=spec.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops children in order
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        child = _Child(spec, process)
        child.pump = threading.Thread(target=self._pump, args=(child,), daemon=True)
        child.pump.start()
        self._children.append(child)
        if spec.ready_url:
            self._wait_ready(child)
        self.say(f"{spec.name} is up (pid {process.pid})")

    def _pump(self, child: _Child) -> None:
        assert child.process.stdout is not None
        width = max(8, len(child.spec.name))
        for raw in iter(child.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            with self._lock:
                self._write(f"{child.spec.name:<{width}} | {line}")

    def _wait_ready(self, child: _Child) -> None:
        assert child.spec.ready_url
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._stopping:
                raise StackError("interrupted while starting")
            if child.process.poll() is not None:
                raise StackError(
                    f"{child.spec.name} exited with code {child.process.returncode} while starting"
                )
            if _http_ok(child.spec.ready_url):
                return
            time.sleep(0.1)
        raise StackError(
            f"{child.spec.name} was not ready at {child.spec.ready_url} "
            f"after {READY_TIMEOUT_SECONDS:.0f}s"
        )

    def watch(self) -> None:
        """Block until a child dies (raises StackError) or the supervisor is told to stop."""
        while not self._stopping:
            for child in self._children:
                code = child.process.poll()
                if code is not None and not self._stopping:
                    child.pump.join(timeout=1)
                    raise StackError(f"{child.spec.name} exited unexpectedly with code {code}")
            time.sleep(0.2)

    def request_stop(self) -> None:
        self._stopping = True

    def stop_all(self) -> None:
        """Stop children newest first: SIGTERM, then SIGKILL after a grace period."""
        self._stopping = True
        for child in reversed(self._children):
            process = child.process
            if process.poll() is None:
                self.say(f"stopping {child.spec.name}")
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    self.say(f"{child.spec.name} did not stop in time; killing it")
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            child.pump.join(timeout=2)
        self._children.clear()
