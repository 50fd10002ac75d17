"""A moto server on loopback emulating every AWS service these tests touch (DynamoDB, SSM, IAM,
Lambda, CloudWatch Logs, CloudWatch, SNS, STS, KMS), for the packaging smoke test and the
Terraform apply test. It is moto's own server plus the saved Logs Insights query calls moto
lacks (tests/utils/moto_query_definitions.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.utils.processes import free_port

ROOT = Path(__file__).resolve().parents[2]

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
# Dummy credentials: nothing here may ever reach a real AWS account.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def client_environment(endpoint: str) -> dict[str, str]:
    """Variables that point boto3 (and the Terraform AWS provider's SDK) at ``endpoint``."""
    return {
        **CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextmanager
def moto_server(log_file: Path | None = None) -> Iterator[str]:
    """moto's server (``tests.utils.moto_query_definitions``) on a free loopback port; yields
    its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        # Managed policies (arn:aws:iam::aws:policy/...) only exist in moto when asked for.
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        # AWS's default account concurrency: moto then refuses reservations that leave fewer
        # than 100 executions unreserved, as Lambda does.
        "MOTO_LAMBDA_CONCURRENCY_QUOTA": "1000",
    }
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        env.pop(name, None)
    log = log_file.open("wb") if log_file else subprocess.DEVNULL
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.utils.moto_query_definitions",
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/moto-api/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not start on {url}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_file and hasattr(log, "close"):
            log.close()
