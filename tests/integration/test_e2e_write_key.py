"""The deployment suite (tests/e2e) run without INGEST_API_KEY against a deployment it may write
to (E2E_WRITES=1): its tests that write fail and say where the key is. A quiet skip let a
"passing" run never test ingest. A read-only run (E2E_WRITES=0) leaves them out on purpose."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.utils.terraform import ROOT

# A test that writes; it fails in its `writer` fixture, before any request.
WRITE_TEST = "tests/e2e/test_streams.py::test_item_posted_while_connected_arrives"
# Nothing listens there: no test below may reach a deployment.
NOWHERE = "http://127.0.0.1:9"


def run_write_test(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("INGEST_API_KEY", "E2E_WRITES")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", WRITE_TEST, "-p", "no:cacheprovider", "-rA",
         "--no-cov"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**base, "DASHBOARD_URL": NOWHERE, "SSE_LAMBDA_URL": NOWHERE, **env},
    )  # fmt: skip


def test_without_the_key_the_write_tests_fail_and_say_where_it_is() -> None:
    result = run_write_test(E2E_WRITES="1")
    output = " ".join(result.stdout.split())

    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 error" in output, output[-2000:]
    assert "INGEST_API_KEY is not set, so the tests that write cannot run" in output
    assert "ingest_api_key in infrastructure/terraform/terraform.tfvars" in output
    assert '--name "$(terraform output -raw ingest_api_key_parameter_name)"' in output
    assert "make deploy-check reads it from there itself" in output
    assert "E2E_WRITES=0 for a read-only run" in output


def test_read_only_runs_leave_the_write_tests_out_on_purpose() -> None:
    result = run_write_test(E2E_WRITES="0")
    output = " ".join(result.stdout.split())

    assert result.returncode == 5, result.stdout[-3000:]  # pytest: no test left to run
    assert "1 deselected" in output
