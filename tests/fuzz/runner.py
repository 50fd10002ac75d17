"""Run Schemathesis (its CLI, as a client tool would) against a running stack and read back
what it did: cases generated, checks run and their outcomes, failures, warnings."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.utils.processes import RunningStack

CONFIG = Path(__file__).with_name("schemathesis.toml")
REQUIRED_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# `make test` runs about a minute with this seed; `make fuzz` longer, with a random one.
DEFAULT_SECONDS = 60
DEFAULT_SEED = 20261121


@dataclass(frozen=True)
class FuzzSettings:
    seconds: int
    seed: int
    workers: int

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> FuzzSettings:
        """``FUZZ_SECONDS``, ``FUZZ_SEED`` (a number or ``random``) and ``FUZZ_WORKERS``."""
        env = dict(os.environ if env is None else env)
        seed = env.get("FUZZ_SEED", str(DEFAULT_SEED))
        return cls(
            seconds=int(env.get("FUZZ_SECONDS", DEFAULT_SECONDS)),
            seed=random.SystemRandom().randrange(2**31) if seed == "random" else int(seed),
            # One worker: moto server's TransactWriteItems is not safe to run concurrently
            # (see README "Fuzzing"); a real DynamoDB takes any number.
            workers=int(env.get("FUZZ_WORKERS", 1)),
        )


@dataclass
class FuzzReport:
    exit_code: int
    output: str
    report: dict[str, Any]
    checks: Counter[tuple[str, str]] = field(default_factory=Counter)  # (check, status) -> n

    @property
    def generated(self) -> int:
        return int(self.report["test_cases"]["generated"])

    @property
    def failures(self) -> list[dict[str, Any]]:
        failures: list[dict[str, Any]] = self.report["failures"]
        return failures

    def phase(self, name: str) -> str:
        return str(self.report["phases"][name]["status"])

    def summary(self) -> str:
        by_check = Counter[str]()
        for (name, _), count in self.checks.items():
            by_check[name] += count
        failed = sum(n for (_, status), n in self.checks.items() if status == "failure")
        lines = [
            f"schemathesis: seed {self.report['seed']}, {self.report['running_time']:.0f} s, "
            f"{self.generated:,} cases generated, {sum(by_check.values()):,} checks run, "
            f"{failed} failed, {len(self.failures)} unique failures",
            *(f"  {name}: {count:,}" for name, count in sorted(by_check.items())),
        ]
        return "\n".join(lines)


def run(stack: RunningStack, settings: FuzzSettings, reports: Path) -> FuzzReport:
    """``st run`` against the stack's ``/openapi.json`` for ``settings.seconds``: all phases
    (examples, coverage, fuzzing, stateful), the checks enabled in schemathesis.toml."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{stack.dashboard_url}/openapi.json",
        "--max-time",
        str(settings.seconds),
        "--seed",
        str(settings.seed),
        "--workers",
        str(settings.workers),
        "--report",
        "json,ndjson",
        "--report-dir",
        str(reports),
    ]
    env = {**os.environ, "FUZZ_INGEST_API_KEY": stack.api_key}
    process = subprocess.run(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    [report_file] = reports.glob("json-*.json")
    [events_file] = reports.glob("ndjson-*.ndjson")
    return FuzzReport(
        exit_code=process.returncode,
        output=process.stdout,
        report=json.loads(report_file.read_text()),
        checks=_checks_run(events_file),
    )


def _checks_run(events: Path) -> Counter[tuple[str, str]]:
    """Every check result of every scenario, from the NDJSON event stream."""
    counts: Counter[tuple[str, str]] = Counter()
    with events.open() as lines:
        for line in lines:
            if '"ScenarioFinished"' not in line:
                continue
            recorder = json.loads(line)["ScenarioFinished"].get("recorder") or {}
            for results in recorder.get("checks", {}).values():
                for result in results:
                    counts[result["name"], result["status"]] += 1
    return counts
