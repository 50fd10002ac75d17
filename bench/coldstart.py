"""Cold start of the packaged zips under a bare python3.12, as in the packaging smoke test
(tests/integration/test_packaging.py): each zip unpacked into an empty folder, boto3 from a
separate "runtime" folder standing in for /var/runtime, nothing from .venv.

- dashboard: ``python3.12 -I -S -B runner.py`` imports ``dashboard.handler`` and answers one
  Function URL 2.0 ``/health`` event (which reads DynamoDB: a moto server on loopback); the time
  is from spawning the process until its response line is read;
- sse: ``run.sh`` (``$PYTHON`` = python3.12 -S -B) until ``GET /health`` answers 200;
- floor: ``python3.12 -I -S -B -c "import fastapi, boto3"`` with the same paths.

``-B``: Lambda's /var/task is read-only, so nothing may be written; the zips ship
unchecked-hash ``.pyc`` compiled by ``make package`` (when it found the runtime's Python), and
the runtime folder is compiled once beforehand (a runtime image ships its own bytecode). A
"sources only" variant deletes the zips' ``__pycache__`` folders after unpacking: what the
bytecode saves (the floor then compiles fastapi too). ``-X importtime`` of the dashboard
runner names the heaviest imports.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.package import FUNCTIONS, runtime_python, unpack

from bench.common import BUILD, ROOT, say

LAMBDA_PYTHON = "3.12"
RATIO_TARGET = 1.5
MAX_ZIP_BYTES = 20_000_000
RUNNER = """
import json, sys
task, runtime, event_path = sys.argv[1:4]
sys.path[:0] = [task, runtime]

class Context:
    function_name = "dashboard"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:dashboard"
    aws_request_id = "cold-start"
    def get_remaining_time_in_millis(self):
        return 30_000

import time
started = time.perf_counter()
from dashboard.handler import handler
imported = time.perf_counter()
response = handler(json.load(open(event_path)), Context())
answered = time.perf_counter()
# status, then the import phase and the first invocation (app build + /health), in ms
print(response["statusCode"], round((imported - started) * 1000, 1),
      round((answered - imported) * 1000, 1), flush=True)
"""


def runtime_dir(python: str) -> Path:
    """boto3 as the Lambda runtime provides it, built by scripts/package.py (cached wheels)."""
    runtime = BUILD / "runtime"
    if not (runtime / "boto3").is_dir():
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "python"),
                str(ROOT / "scripts" / "package.py"),
                "--python-version",
                LAMBDA_PYTHON,
                "--runtime-dir",
                str(runtime),
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        subprocess.run(
            [python, "-m", "compileall", "-q", "-j", "0", str(runtime)], check=False, timeout=600
        )
    return runtime


def environment(endpoint: str, runtime: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(runtime.parent),
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "ENVIRONMENT": "local",
        "AUTH_SECRET": "cold-start-auth-secret-" + "x" * 32,
        "INGEST_API_KEY": "cold-start-ingest-key",
        "SSE_URL": "https://sse.example.invalid",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }


def time_until_line(
    command: list[str], env: dict[str, str], cwd: Path, phases: list[list[float]] | None = None
) -> float:
    """Seconds from spawning ``command`` until it prints its first line (its response)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = process.stdout.readline() if process.stdout else ""
    elapsed = time.perf_counter() - started
    _, errors = process.communicate(timeout=60)
    if process.returncode != 0 or not line.strip():
        raise RuntimeError(f"{command[:3]} failed ({process.returncode}): {errors[-2000:]}")
    status, *extra = line.split()
    if status not in ("200", "ok"):
        raise RuntimeError(f"unexpected response {line!r}")
    if phases is not None:
        phases.append([float(x) for x in extra])
    return elapsed


def time_until_healthy(command: list[str], env: dict[str, str], cwd: Path, port: int) -> float:
    """Seconds from spawning run.sh until ``GET /health`` answers 200."""
    url = f"http://127.0.0.1:{port}/health"
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"run.sh exited: {process.stderr.read()[-2000:]!r}")  # type: ignore[union-attr]
            if time.perf_counter() - started > 60:
                raise RuntimeError("run.sh did not answer /health within 60 s")
            time.sleep(0.005)
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=15)


def import_profile(
    python: str, runner: Path, task: Path, runtime: Path, event: Path, env: dict[str, str]
) -> dict[str, float]:
    """Import time of the dashboard runner by top-level package (``-X importtime`` self times
    summed), heaviest first, in ms."""
    command = [python, "-I", "-S", "-B", "-X", "importtime", str(runner)]
    result = subprocess.run(
        [*command, str(task), str(runtime), str(event)],
        env=env,
        cwd=task,
        capture_output=True,
        text=True,
        timeout=120,
    )
    by_package: dict[str, int] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, _cumulative, name = line[len("import time:") :].split("|", 2)
        package = name.strip().split(".")[0]
        by_package[package] = by_package.get(package, 0) + int(own)
    ranked = sorted(by_package.items(), key=lambda kv: -kv[1])
    return {name: round(us / 1000, 1) for name, us in ranked[:15]}


@dataclass(frozen=True)
class Workspace:
    """The unpacked zips and the files the timed commands run, under build/bench/coldstart."""

    python: str  # the runtime's interpreter
    runtime: Path  # boto3 as the Lambda runtime provides it
    tasks: dict[str, Path]  # function -> its unpacked zip, as /var/task
    runner: Path  # RUNNER: imports the dashboard handler and answers one event
    event: Path  # the Function URL event for GET /health
    wrapper: Path  # ``python -S -B``, run.sh's $PYTHON


def prepare(python: str, sources_only: bool) -> Workspace:
    """Both zips unpacked afresh (without their bytecode if ``sources_only``), and the runner,
    its event and the interpreter wrapper written beside them."""
    from tests.utils.lambda_events import function_url_event

    work = BUILD / "coldstart"
    work.mkdir(parents=True, exist_ok=True)
    runtime = runtime_dir(python)
    for name in FUNCTIONS:
        shutil.rmtree(work / name, ignore_errors=True)
    tasks = {name: unpack(ROOT / "dist" / f"{name}.zip", work / name) for name in FUNCTIONS}
    if sources_only:
        for task in tasks.values():
            for cache in list(task.rglob("__pycache__")):
                shutil.rmtree(cache)
    runner = work / "runner.py"
    runner.write_text(RUNNER)
    event = work / "health-event.json"
    event.write_text(json.dumps(function_url_event("GET", "/health")))
    wrapper = work / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{python}" -S -B "$@"\n')
    wrapper.chmod(0o755)
    return Workspace(python, runtime, tasks, runner, event, wrapper)


def create_tables_at(endpoint: str) -> None:
    """The product's tables in the moto server at ``endpoint`` (the dashboard's /health reads
    them)."""
    import boto3

    from sentiment.settings import Settings
    from sentiment.store.tables import create_tables

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    create_tables(client, Settings(ENVIRONMENT="local"))


class Timings:
    """Cold starts of each zip, each next to its floor (``import fastapi, boto3`` from the same
    folders), and the dashboard's import and first-invocation phases."""

    def __init__(self, workspace: Workspace, env: dict[str, str]) -> None:
        self._workspace = workspace
        self._env = env
        self.seconds: dict[str, list[float]] = {
            "floor_dashboard": [],
            "dashboard": [],
            "floor_sse": [],
            "sse": [],
        }
        self.phases: list[list[float]] = []  # the dashboard's [imports, first invocation] ms

    def once(self) -> None:
        """One cold start of each zip, each after its floor."""
        for name, task in self._workspace.tasks.items():
            self.seconds[f"floor_{name}"].append(self._floor(task))
            start = self._dashboard if name == "dashboard" else self._sse
            self.seconds[name].append(start(task))

    def latest(self) -> str:
        return ", ".join(f"{k} {v[-1] * 1000:.0f} ms" for k, v in self.seconds.items())

    def _floor(self, task: Path) -> float:
        runtime = self._workspace.runtime
        floor = (
            f"import sys; sys.path[:0] = [{str(task)!r}, {str(runtime)!r}]; "
            "import fastapi, boto3; print('ok', flush=True)"
        )
        command = [self._workspace.python, "-I", "-S", "-B", "-c", floor]
        return time_until_line(command, self._env, task)

    def _dashboard(self, task: Path) -> float:
        ws = self._workspace
        command = [ws.python, "-I", "-S", "-B", str(ws.runner), str(task), str(ws.runtime)]
        return time_until_line([*command, str(ws.event)], self._env, task, self.phases)

    def _sse(self, task: Path) -> float:
        from tests.utils.processes import free_port

        port = free_port()
        env = {
            **self._env,
            "PYTHON": str(self._workspace.wrapper),
            "PYTHONPATH": str(self._workspace.runtime),
            "PORT": str(port),
        }
        return time_until_healthy([str(task / "run.sh")], env, task, port)

    def summary(self) -> dict[str, Any]:
        medians = {k: round(statistics.median(v) * 1000, 1) for k, v in self.seconds.items()}
        return {
            "median_ms": medians,
            "all_ms": {k: [round(x * 1000, 1) for x in v] for k, v in self.seconds.items()},
            "ratio": {
                "dashboard": round(medians["dashboard"] / medians["floor_dashboard"], 2),
                "sse": round(medians["sse"] / medians["floor_sse"], 2),
            },
            "dashboard_phases_median_ms": {
                "imports": round(statistics.median(p[0] for p in self.phases), 1),
                "first_invocation": round(statistics.median(p[1] for p in self.phases), 1),
            },
        }


def measure(python: str, reps: int, sources_only: bool) -> dict[str, Any]:
    """``reps`` cold starts of each zip against a moto server, and the dashboard's heaviest
    imports."""
    from tests.utils.moto_server import moto_server

    workspace = prepare(python, sources_only)
    with moto_server() as endpoint:
        create_tables_at(endpoint)
        env = environment(endpoint, workspace.runtime)
        timings = Timings(workspace, env)
        for rep in range(reps):
            timings.once()
            variant = " (sources only)" if sources_only else ""
            say(f"coldstart{variant}: rep {rep + 1}/{reps}: {timings.latest()}")
        dashboard = workspace.tasks["dashboard"]
        imports = import_profile(
            python, workspace.runner, dashboard, workspace.runtime, workspace.event, env
        )
    return {**timings.summary(), "dashboard_import_ms_by_package": imports}


def run(full: bool) -> dict[str, Any]:
    python = runtime_python(LAMBDA_PYTHON)
    if python is None:
        return {
            "skipped": f"no python{LAMBDA_PYTHON} found "
            "(set LAMBDA_RUNTIME_PYTHON, or install it with pyenv)"
        }
    missing = [n for n in ("dashboard", "sse") if not (ROOT / "dist" / f"{n}.zip").exists()]
    if missing:
        return {"skipped": f"dist/{missing[0]}.zip is missing: run make package first"}
    sizes = {n: (ROOT / "dist" / f"{n}.zip").stat().st_size for n in ("dashboard", "sse")}
    newest_source = max(p.stat().st_mtime for p in (ROOT / "src").rglob("*.py"))
    stale = [n for n in sizes if (ROOT / "dist" / f"{n}.zip").stat().st_mtime < newest_source]
    if stale:
        say(
            f"coldstart: warning: dist/{stale[0]}.zip is older than src/ (make package rebuilds it)"
        )
    version = subprocess.run([python, "-V"], capture_output=True, text=True).stdout.strip()
    say(
        f"coldstart: {version} ({python}); zips: "
        + ", ".join(f"{n} {s / 1e6:.2f} MB" for n, s in sizes.items())
    )
    reps = 7 if full else 3
    result: dict[str, Any] = {
        "python": version,
        "zip_bytes": sizes,
        "zips_older_than_src": stale,
        "as_shipped": measure(python, reps, sources_only=False),
        "sources_only": measure(python, reps if full else 2, sources_only=True),
    }
    ratios = result["as_shipped"]["ratio"]
    result["met"] = {
        "dashboard": ratios["dashboard"] <= RATIO_TARGET,
        "sse": ratios["sse"] <= RATIO_TARGET,
        "sizes": all(size < MAX_ZIP_BYTES for size in sizes.values()),
    }
    return result
