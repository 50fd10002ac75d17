"""Smoke test of the Lambda artifacts themselves, not the source tree (docs/deploy.md, step 1).

Builds ``dashboard.zip`` and ``sse.zip`` with ``scripts/package.py`` (wheels cached under
build/package), unpacks each into an EMPTY folder and runs it with a bare python3.12 (``-I -S``:
no site-packages, no project, no .venv), the way Lambda runs it from /var/task:

- the dashboard handler answers Function URL 2.0 events (health, page, anonymous session with
  the secret read from SSM, ingest) against a moto server on loopback;
- ``run.sh`` (the handler LWA executes) serves /health and a stream whose first event is a
  ``heartbeat`` with an ``id:``.

Every distribution in a zip is exactly the one its lock (``requirements/<function>.txt``) pins,
and a lock whose hash does not match the wheel stops the build.

The zips do not bundle boto3 (the Lambda runtime provides it), so, as on Lambda, boto3 comes
from a separate "runtime" directory on the path, standing in for /var/runtime. A second build
from scratch must give byte-identical zips. Select with ``pytest -k packaging`` or by path.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from scripts.package import Target, locked, normalize, read_lock, runtime_python, unpack

from sentiment.settings import Settings
from sentiment.store.tables import create_tables
from tests.utils.factories import item_payload
from tests.utils.lambda_events import LambdaContext, function_url_event
from tests.utils.moto_server import CREDENTIALS, moto_server
from tests.utils.processes import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "scripts" / "package.py"
LAMBDA_PYTHON = "3.12"
ENVIRONMENT = "smoke"
AUTH_PARAM = f"/{ENVIRONMENT}/sentiment/auth-secret"
INGEST_PARAM = f"/{ENVIRONMENT}/sentiment/ingest-api-key"
INGEST_KEY = "smoke-test-ingest-key"
MAX_ZIP_BYTES = 20_000_000


@dataclass(frozen=True)
class Artifacts:
    dashboard: Path
    sse: Path
    runtime: Path  # boto3 as the Lambda runtime provides it (stands in for /var/runtime)
    build_output: str


def run_builder(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(PACKAGE), "--python-version", LAMBDA_PYTHON, *args],
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert result.returncode == 0, f"package.py {args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    """Both zips built into a temporary dist (dependencies from the build/package cache)."""
    base = tmp_path_factory.mktemp("package")
    output = run_builder("--dist", str(base / "dist"))
    run_builder("--runtime-dir", str(base / "runtime"))
    return Artifacts(base / "dist" / "dashboard.zip", base / "dist" / "sse.zip", base / "runtime",
                     output)  # fmt: skip


@pytest.fixture(scope="session")
def python() -> str:
    found = runtime_python(LAMBDA_PYTHON)
    if found is None:
        pytest.skip(
            f"no python{LAMBDA_PYTHON} found (set LAMBDA_RUNTIME_PYTHON, or install it with "
            "pyenv): running the zips needs the Lambda runtime's Python version"
        )
    return found


def files_under(directory: Path) -> set[str]:
    return {path.relative_to(directory).as_posix() for path in directory.rglob("*")}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bare_environment(endpoint: str, runtime: Path) -> dict[str, str]:
    """What the function sees: Lambda-style settings and nothing from this test process."""
    settings = {
        "ENVIRONMENT": ENVIRONMENT,
        "ITEMS_TABLE": f"{ENVIRONMENT}-sentiment-items",
        "COUNTERS_TABLE": f"{ENVIRONMENT}-sentiment-counters",
        "CONFIGURATIONS_TABLE": f"{ENVIRONMENT}-sentiment-configurations",
        "AUTH_SECRET_PARAM": AUTH_PARAM,
        "INGEST_API_KEY_PARAM": INGEST_PARAM,
        "SSE_URL": "https://sse.example.invalid",
        "CORS_ALLOWED_ORIGINS": "",
        "SSE_HEARTBEAT_INTERVAL": "1",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(runtime.parent),
        "LANG": "C.UTF-8",
        **CREDENTIALS,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ENDPOINT_URL_SSM": endpoint,
        **settings,
    }


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto server with the three tables and both SecureString parameters."""
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        settings = Settings(
            ENVIRONMENT=ENVIRONMENT,
            ITEMS_TABLE=f"{ENVIRONMENT}-sentiment-items",
            COUNTERS_TABLE=f"{ENVIRONMENT}-sentiment-counters",
            CONFIGURATIONS_TABLE=f"{ENVIRONMENT}-sentiment-configurations",
        )
        create_tables(session.client("dynamodb", endpoint_url=endpoint), settings)
        ssm = session.client("ssm", endpoint_url=endpoint)
        ssm.put_parameter(
            Name=AUTH_PARAM, Value="smoke-auth-secret-" + "x" * 32, Type="SecureString"
        )
        ssm.put_parameter(Name=INGEST_PARAM, Value=INGEST_KEY, Type="SecureString")
        yield endpoint


# --- the artifacts ---------------------------------------------------------------------------


def test_zip_layout(artifacts: Artifacts) -> None:
    for archive, own, extra, absent in (
        (artifacts.dashboard, "dashboard", "mangum", "uvicorn"),
        (artifacts.sse, "sse", "uvicorn", "mangum"),
    ):
        assert archive.stat().st_size < MAX_ZIP_BYTES, f"{archive.name} over 20 MB"
        with zipfile.ZipFile(archive) as zipped:
            infos = zipped.infolist()
            names = [info.filename for info in infos]
        assert names == sorted(names), "entries must be sorted"
        assert len(names) == len(set(names))
        top = {name.split("/")[0] for name in names}
        assert {"sentiment", own, extra, "fastapi", "pydantic", "aws_lambda_powertools"} <= top
        assert absent not in top
        assert not top & {
            "devstack",
            "tests",
            "boto3",
            "botocore",
            "bin",
            "dashboard" if own == "sse" else "sse",
        }
        assert f"{own}/__init__.py" in names
        assert "sentiment/store/__init__.py" in names
        assert_bytecode(names, zipped_pycs(archive))
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
            assert not info.filename.endswith((".dist-info/RECORD", "direct_url.json"))
            expected = 0o100755 if info.filename.endswith("run.sh") else 0o100644
            assert info.external_attr >> 16 == expected, info.filename
    with zipfile.ZipFile(artifacts.dashboard) as zipped:
        assert "dashboard/static/index.html" in zipped.namelist()
    with zipfile.ZipFile(artifacts.sse) as zipped:
        script = zipped.read("run.sh")
        assert script.startswith(b"#!/bin/sh\n")
        assert b"\r" not in script
        assert zipped.getinfo("run.sh").external_attr >> 16 == 0o100755


def zipped_pycs(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zipped:
        return {name: zipped.read(name)[:16] for name in zipped.namelist() if name.endswith(".pyc")}


def assert_bytecode(names: list[str], pyc_headers: dict[str, bytes]) -> None:
    """With the runtime's Python on this machine, every module ships one unchecked-hash pyc
    for exactly that Python, beside its source; without it, no bytecode at all."""
    cache_tag = f"cpython-{LAMBDA_PYTHON.replace('.', '')}"
    modules = {name for name in names if name.endswith(".py")}
    if runtime_python(LAMBDA_PYTHON) is None:
        assert not pyc_headers
        return
    expected = {
        "/".join(
            [
                *module.split("/")[:-1],
                "__pycache__",
                f"{module.split('/')[-1][:-3]}.{cache_tag}.pyc",
            ]
        )
        for module in modules
    }
    assert set(pyc_headers) == expected
    for name, header in pyc_headers.items():
        # PEP 552: after the magic number, flags 0b01 = hash-based, source never checked.
        assert int.from_bytes(header[4:8], "little") == 0b01, name


def zipped_distributions(archive: Path) -> dict[str, str]:
    """{name: version} of every ``*.dist-info/METADATA`` in a zip."""
    found = {}
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            if name.count("/") == 1 and name.endswith(".dist-info/METADATA"):
                headers = dict(
                    line.split(": ", 1)
                    for line in zipped.read(name).decode().splitlines()[:10]
                    if ": " in line
                )
                found[normalize(headers["Name"])] = headers["Version"]
    return found


def test_zip_contents_are_exactly_the_lock(artifacts: Artifacts) -> None:
    target = Target(LAMBDA_PYTHON, "x86_64")
    for function, archive in (("dashboard", artifacts.dashboard), ("sse", artifacts.sse)):
        pins = {pin.name: pin.version for pin in locked(function, target, bundle_boto3=False)}
        assert zipped_distributions(archive) == pins, function
    runtime = {
        normalize(path.name.split("-")[0]): path.name[: -len(".dist-info")].split("-", 1)[1]
        for path in artifacts.runtime.glob("*.dist-info")
    }
    pins = {pin.name: pin.version for pin in locked("lambda-runtime", target, bundle_boto3=False)}
    assert runtime == pins


def test_a_hash_the_lock_does_not_list_stops_the_build(
    tmp_path: Path, artifacts: Artifacts
) -> None:
    """The wheel cache holds the real fastapi wheel; a lock naming another sha256 refuses it."""
    locks = tmp_path / "requirements"
    shutil.copytree(ROOT / "requirements", locks)
    lock = locks / "dashboard.txt"
    [fastapi] = [pin for pin in read_lock(lock) if pin.name == "fastapi"]
    text = lock.read_text()
    for digest in fastapi.hashes:
        text = text.replace(digest, "sha256:" + "0" * 64)
    lock.write_text(text)
    result = subprocess.run(
        [sys.executable, str(PACKAGE), "dashboard", "--python-version", LAMBDA_PYTHON,
         "--locks", str(locks), "--dist", str(tmp_path / "dist"), "--offline", "--no-bytecode"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode != 0
    assert "DO NOT MATCH THE HASHES" in result.stderr, result.stderr[-2000:]
    assert f"fastapi=={fastapi.version}" in result.stderr
    assert not (tmp_path / "dist" / "dashboard.zip").exists()


def test_builder_reports_sizes(artifacts: Artifacts) -> None:
    for function in ("dashboard", "sse"):
        assert f"{function}: wrote" in artifacts.build_output
    assert "MB zipped" in artifacts.build_output
    assert "MB unzipped" in artifacts.build_output


def differing_entries(first: Path, second: Path) -> list[str]:
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        names = sorted(set(a.namelist()) | set(b.namelist()))
        return [
            n
            for n in names
            if n not in a.namelist()
            or n not in b.namelist()
            or a.read(n) != b.read(n)
            or a.getinfo(n).external_attr != b.getinfo(n).external_attr
        ]


def test_rebuild_from_scratch_is_byte_identical(tmp_path: Path, artifacts: Artifacts) -> None:
    """Build twice, the second time reinstalling every dependency (new files, new mtimes, new
    temp paths). Both builds read a snapshot of src/, so edits in progress cannot interfere."""
    src = tmp_path / "src"
    for package in ("sentiment", "dashboard", "sse"):
        shutil.copytree(ROOT / "src" / package, src / package)
    run_builder("--src", str(src), "--dist", str(tmp_path / "first"))
    run_builder("--src", str(src), "--dist", str(tmp_path / "second"), "--reinstall", "--offline")
    for name in ("dashboard.zip", "sse.zip"):
        first, second = tmp_path / "first" / name, tmp_path / "second" / name
        assert sha256(first) == sha256(second), differing_entries(first, second)


# --- the dashboard handler from the unpacked zip ---------------------------------------------

RUNNER = """
import json, sys
task, runtime, events_path, output_path = sys.argv[1:5]
# Lambda's order: the function's code first (/var/task), then the runtime's libraries.
sys.path[:0] = [task, runtime]


class Context:
    def __init__(self, fields):
        self.__dict__.update(fields)

    def get_remaining_time_in_millis(self):
        return 30_000


from dashboard.handler import handler

calls = json.load(open(events_path))
responses = [handler(call["event"], Context(call["context"])) for call in calls]
origins = {name: sys.modules[name].__file__ for name in
           ("dashboard", "sentiment", "fastapi", "mangum", "pydantic_core", "boto3")}
json.dump({"responses": responses, "origins": origins, "sys_path": sys.path},
          open(output_path, "w"))
"""


def context_fields() -> dict[str, Any]:
    return dict(vars(LambdaContext()))


def test_dashboard_handler_answers_function_url_events(
    artifacts: Artifacts, python: str, aws: str, tmp_path: Path
) -> None:
    task = unpack(artifacts.dashboard, tmp_path / "task")
    (tmp_path / "runner").mkdir()
    runner = tmp_path / "runner" / "invoke.py"
    runner.write_text(RUNNER)
    item = item_payload(tickers=["SMOKE"])
    events = [
        function_url_event("GET", "/health"),
        function_url_event("GET", "/"),
        function_url_event("GET", "/api/v2/runtime-config"),
        function_url_event("POST", "/api/v2/auth/anonymous"),
        function_url_event("POST", "/api/v2/items", headers={"x-api-key": INGEST_KEY}, body=item),
        function_url_event("GET", "/api/v2/items", query="ticker=SMOKE"),
        function_url_event("GET", "/", headers={"accept-encoding": "gzip"}),
        function_url_event("GET", "/docs"),
        function_url_event("GET", "/docs/assets/swagger-ui-bundle.js"),
    ]
    events_path = tmp_path / "runner" / "events.json"
    events_path.write_text(json.dumps([{"event": e, "context": context_fields()} for e in events]))
    output = tmp_path / "runner" / "output.json"
    shipped = files_under(task)

    result = subprocess.run(
        [
            python,
            "-I",
            "-S",
            str(runner),
            str(task),
            str(artifacts.runtime),
            str(events_path),
            str(output),
        ],
        cwd=task,
        env=bare_environment(aws, artifacts.runtime),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    # /var/task is read-only: the shipped bytecode must be used as is, nothing written beside it.
    assert files_under(task) == shipped
    report = json.loads(output.read_text())
    origins = report["origins"]
    for name in ("dashboard", "sentiment", "fastapi", "mangum", "pydantic_core"):
        assert origins[name].startswith(str(task)), f"{name} imported from {origins[name]}"
    assert origins["boto3"].startswith(str(artifacts.runtime))
    assert not any(".venv" in entry or "site-packages" in entry for entry in report["sys_path"])

    health, page, runtime_config, session, ingest, listing, zipped, docs, swagger = report[
        "responses"
    ]
    assert health["statusCode"] == 200
    assert json.loads(health["body"]) == {"status": "ok", "dynamodb": "ok"}
    assert page["statusCode"] == 200
    assert "<html" in page["body"].lower()
    config = json.loads(runtime_config["body"])
    assert (config["sse_url"], config["environment"]) == (
        "https://sse.example.invalid",
        ENVIRONMENT,
    )
    assert config["watch_lists"]["max_tickers"] == 5
    # The signing secret and the ingest key both come from SSM SecureString parameters.
    assert session["statusCode"] == 201, session
    assert set(json.loads(session["body"])) >= {"user_id", "token", "expires_at"}
    assert ingest["statusCode"] == 201, ingest
    assert json.loads(ingest["body"]) == {"created": [item["item_id"]], "duplicates": []}
    assert [i["item_id"] for i in json.loads(listing["body"])["items"]] == [item["item_id"]]
    # gzip through Mangum: base64 bytes with Content-Encoding, the same page once unzipped.
    assert zipped["isBase64Encoded"] is True
    assert zipped["headers"]["content-encoding"] == "gzip"
    assert gzip.decompress(base64.b64decode(zipped["body"])).decode() == page["body"]
    # Swagger UI ships in the zip: /docs works without a CDN.
    assert docs["statusCode"] == 200
    assert "/docs/assets/swagger-ui-bundle.js" in docs["body"]
    assert swagger["statusCode"] == 200
    assert "SwaggerUIBundle" in swagger["body"]


# --- run.sh from the unpacked SSE zip --------------------------------------------------------


@pytest.fixture
def sse_process(artifacts: Artifacts, python: str, aws: str, tmp_path: Path) -> Iterator[str]:
    task = unpack(artifacts.sse, tmp_path / "task")
    # run.sh runs "$PYTHON -m uvicorn"; a one-line wrapper keeps that interpreter bare (-S).
    wrapper_dir = tmp_path / "interpreter"
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{python}" -S "$@"\n')
    wrapper.chmod(0o755)
    port = free_port()
    env = {
        **bare_environment(aws, artifacts.runtime),
        "PYTHON": str(wrapper),
        "PYTHONPATH": str(artifacts.runtime),
        "PYTHONNOUSERSITE": "1",
        "PORT": str(port),
    }
    log = (tmp_path / "sse.log").open("w")
    process = subprocess.Popen(
        [str(task / "run.sh")],
        cwd=task,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"run.sh did not serve /health:\n{(tmp_path / 'sse.log').read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def first_event(url: str) -> bytes:
    """The raw bytes of the first event of a stream (up to the blank line that ends it)."""
    buffer = b""
    with httpx.stream("GET", url, timeout=httpx.Timeout(10, read=15)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for chunk in response.iter_raw():
            buffer += chunk
            if b"\n\n" in buffer.replace(b"\r\n", b"\n"):
                break
    return buffer.replace(b"\r\n", b"\n").split(b"\n\n")[0]


def test_run_sh_serves_health_and_a_stream(sse_process: str) -> None:
    health = httpx.get(f"{sse_process}/health", timeout=5)
    assert health.status_code == 200

    event = first_event(f"{sse_process}/api/v2/stream")

    lines = event.decode().splitlines()
    assert "event: heartbeat" in lines, event
    assert any(line.startswith("id:") and line[3:].strip() for line in lines), event
    data = json.loads(next(line[5:] for line in lines if line.startswith("data:")))
    assert {"timestamp", "connections", "uptime_seconds"} <= set(data)
