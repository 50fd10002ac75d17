"""scripts/export_outputs.py against the state of a real `terraform apply` (on moto server):
the deploy workflow hands its output to the E2E job."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.utils.terraform import ROOT, AppliedTerraform

pytestmark = [pytest.mark.terraform, pytest.mark.timeout(600)]
SCRIPT = ROOT / "scripts" / "export_outputs.py"


def export(applied: AppliedTerraform, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--dir", str(applied.workdir), *args],
        env={**applied.env, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_prints_both_urls_of_the_applied_stack(applied_terraform: AppliedTerraform) -> None:
    outputs = applied_terraform.output_json()

    printed = export(applied_terraform).splitlines()

    assert printed == [
        f"DASHBOARD_URL={outputs['dashboard_function_url'].rstrip('/')}",
        f"SSE_LAMBDA_URL={outputs['sse_lambda_function_url'].rstrip('/')}",
    ]
    assert outputs["dashboard_function_url"] != outputs["sse_lambda_function_url"]
    assert all(line.split("=", 1)[1].startswith("http") for line in printed)


def test_writes_github_step_outputs(applied_terraform: AppliedTerraform, tmp_path: Path) -> None:
    outputs = applied_terraform.output_json()
    github_output = tmp_path / "github_output"
    github_output.write_text("earlier=kept\n")

    export(applied_terraform, "--github-output", env={"GITHUB_OUTPUT": str(github_output)})

    assert github_output.read_text().splitlines() == [
        "earlier=kept",
        f"dashboard_url={outputs['dashboard_function_url'].rstrip('/')}",
        f"sse_lambda_url={outputs['sse_lambda_function_url'].rstrip('/')}",
    ]


def test_fails_clearly_without_the_outputs(tmp_path: Path) -> None:
    (tmp_path / "outputs.json").write_text('{"dashboard_function_url": {"value": "https://d/"}}')

    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--json", str(tmp_path / "outputs.json")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "'sse_lambda_function_url' is missing or not a URL" in result.stderr
