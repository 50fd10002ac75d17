"""The E2E suite writes to a deployment only when told to (E2E_WRITES=1: the local stack and
preprod); without it, as against prod, it collects the read-only tests alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ_ONLY = {
    "tests/e2e/test_service.py::test_dashboard_health",
    "tests/e2e/test_service.py::test_sse_health",
    "tests/e2e/test_service.py::test_metrics_and_items_are_readable",
    "tests/e2e/test_streams.py::test_global_stream_greets_at_once",
    "tests/e2e/test_streams.py::test_heartbeat_within_the_advertised_interval",
}
WRITING = {
    "tests/e2e/test_streams.py::test_item_posted_while_connected_arrives",
    "tests/e2e/test_streams.py::test_items_posted_while_disconnected_are_replayed",
    "tests/e2e/test_streams.py::TestConfigurationStreams::test_401_then_404",
    "tests/e2e/test_streams.py::TestConfigurationStreams::test_ticket_stream_is_filtered",
}


def collected(writes: str | None) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "E2E_WRITES"}
    if writes is not None:
        env["E2E_WRITES"] = writes
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/e2e",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return {line for line in result.stdout.splitlines() if line.startswith("tests/e2e/")}


def test_without_e2e_writes_only_read_only_tests_are_collected() -> None:
    for value in (None, "0", "yes"):
        tests = collected(value)
        assert tests >= READ_ONLY
        assert not tests & WRITING, value


def test_with_e2e_writes_every_test_is_collected() -> None:
    assert collected("1") >= READ_ONLY | WRITING
