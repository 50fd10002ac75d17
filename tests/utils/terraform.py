"""Run the Terraform module (infrastructure/terraform) in throwaway copies, offline.

Nothing is written into the repository: each run copies the module into a temporary directory
with its own TF_DATA_DIR, a CLI config whose ``provider_installation`` reads hashicorp/aws from a
filesystem mirror (``$TF_PLUGIN_DIR``, default /opt/tf-plugins; laid out as
registry.terraform.io/hashicorp/aws/<version>/<os_arch>/), and a session-wide plugin cache.

``applied_terraform`` is a session fixture: the module applied against a moto server on loopback
(a ``provider_override.tf`` in the copy points every AWS endpoint at it). It yields an
:class:`AppliedTerraform` -- ``workdir`` (run ``terraform output -json`` there, with ``env``),
``outputs`` (already read) and ``env`` -- and destroys everything at the end of the session,
failing if anything is left. To use it from another test module::

    from tests.utils.terraform import applied_terraform  # noqa: F401  (the fixture)

    def test_something(applied_terraform: AppliedTerraform) -> None:
        outputs = applied_terraform.output_json()

(or add ``pytest_plugins = ["tests.utils.terraform"]`` to the top-level conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.utils.moto_server import CREDENTIALS, REGION, moto_server

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "infrastructure" / "terraform"
PROVIDER = "registry.terraform.io/hashicorp/aws"
DEFAULT_PLUGIN_DIR = "/opt/tf-plugins"
# Only these files of the module are copied (no state, no .terraform, no real tfvars).
# The committed provider lock too: init refuses a provider it does not list (-lockfile=readonly).
MODULE_FILES = ("*.tf", ".terraform.lock.hcl")

# What the apply test deploys (and what other tests can rely on).
ENVIRONMENT = "tftest"
CORS_ORIGINS = ["https://dashboard.example.test"]
AUTH_SECRET = "terraform-test-auth-secret-0123456789abcdef"
INGEST_API_KEY = "terraform-test-ingest-key"
ALARM_EMAILS = ["oncall@example.test"]
# Every service the module calls (the provider override points them at moto), and the clients
# the tests read it back with.
ENDPOINTS = (
    "cloudformation",
    "cloudwatch",
    "dynamodb",
    "iam",
    "kms",
    "lambda",
    "logs",
    "sns",
    "ssm",
    "sts",
)
CLIENTS = ("cloudformation", "cloudwatch", "dynamodb", "iam", "lambda", "logs", "sns", "ssm")


def plugin_dir() -> Path:
    return Path(os.environ.get("TF_PLUGIN_DIR", DEFAULT_PLUGIN_DIR))


def terraform_binary() -> str | None:
    return os.environ.get("TERRAFORM") or shutil.which("terraform")


def unavailable_reason() -> str | None:
    """Why Terraform cannot run here (None if it can)."""
    if terraform_binary() is None:
        return "terraform binary not found on PATH (set TERRAFORM=/path/to/terraform)"
    mirror = plugin_dir() / PROVIDER
    if not any(mirror.glob("*/*/terraform-provider-aws*")):
        return (
            f"no hashicorp/aws provider in the filesystem mirror {mirror} "
            "(set TF_PLUGIN_DIR to a directory laid out as "
            "registry.terraform.io/hashicorp/aws/<version>/<os_arch>/)"
        )
    return None


def require_terraform() -> None:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)


def cli_config(cache_dir: Path) -> str:
    """A CLI config installing hashicorp/aws from the mirror only (never the network)."""
    return f"""\
plugin_cache_dir = "{cache_dir}"
plugin_cache_may_break_dependency_lock_file = true

provider_installation {{
  filesystem_mirror {{
    path    = "{plugin_dir()}"
    include = ["{PROVIDER}"]
  }}
  direct {{
    exclude = ["{PROVIDER}"]
  }}
}}
"""


@dataclass
class TerraformWorkdir:
    """A copy of the module with its own CLI config and data dir."""

    path: Path
    env: dict[str, str]

    @classmethod
    def create(
        cls, base: Path, cache_dir: Path, extra_env: dict[str, str] | None = None
    ) -> TerraformWorkdir:
        module = base / "module"
        module.mkdir(parents=True)
        for pattern in MODULE_FILES:
            for source in MODULE.glob(pattern):
                shutil.copy2(source, module / source.name)
        cache_dir.mkdir(parents=True, exist_ok=True)
        config = base / "terraform.rc"
        config.write_text(cli_config(cache_dir))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))},
            "TF_CLI_CONFIG_FILE": str(config),
            "TF_DATA_DIR": str(base / "data"),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            **(extra_env or {}),
        }
        return cls(module, env)

    def run(
        self, *args: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        binary = terraform_binary()
        assert binary is not None
        result = subprocess.run(
            [binary, *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"terraform {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
            )
        return result

    def init(self) -> None:
        self.run("init", "-backend=false", "-no-color", "-input=false", "-lockfile=readonly")

    def output_json(self) -> dict[str, Any]:
        raw = json.loads(self.run("output", "-json", "-no-color").stdout)
        return {name: value["value"] for name, value in raw.items()}


# --- against moto -----------------------------------------------------------------------------


def moto_override(endpoint: str) -> str:
    """A provider override (only in the temporary copy) sending every call to moto."""
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in ENDPOINTS)
    return f"""\
provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""


def stand_in_zip(path: Path, files: dict[str, str]) -> Path:
    """A tiny deployment package: moto stores the code, it never runs it."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if name.endswith(".sh") else 0o100644) << 16
            archive.writestr(info, text)
    return path


def aws_clients(endpoint: str) -> dict[str, Any]:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return {
        name: session.client(name, endpoint_url=endpoint)  # type: ignore[call-overload]
        for name in CLIENTS
    }


def publish_lwa_layer(endpoint: str, architecture: str = "x86_64") -> str:
    """moto only accepts layers it knows: publish a stand-in of the LWA layer, return its ARN."""
    buffer = Path(tempfile.mkdtemp()) / "layer.zip"
    stand_in_zip(buffer, {"bootstrap": '#!/bin/sh\nexec "$@"\n'})
    response = aws_clients(endpoint)["lambda"].publish_layer_version(
        LayerName="LambdaAdapterLayerX86"
        if architecture == "x86_64"
        else "LambdaAdapterLayerArm64",
        Description="stand-in of the Lambda Web Adapter layer (tests)",
        Content={"ZipFile": buffer.read_bytes()},
        CompatibleArchitectures=[architecture],
    )
    shutil.rmtree(buffer.parent)
    return str(response["LayerVersionArn"])


@dataclass
class AppliedTerraform:
    """The module applied against moto: where, with what, and what it printed."""

    workdir: Path  # run `terraform output -json` here, with `env`
    env: dict[str, str]
    outputs: dict[str, Any]
    endpoint: str
    variables: dict[str, Any]
    destroyed: bool = field(default=False)

    @property
    def terraform(self) -> TerraformWorkdir:
        return TerraformWorkdir(self.workdir, self.env)

    def output_json(self) -> dict[str, Any]:
        return self.terraform.output_json()


def leftovers(endpoint: str, environment: str) -> dict[str, list[str]]:
    """What still exists in moto for ``environment`` (empty lists once destroyed)."""
    clients = aws_clients(endpoint)
    prefix = f"{environment}-sentiment"
    return {
        "tables": [
            t for t in clients["dynamodb"].list_tables()["TableNames"] if t.startswith(prefix)
        ],
        "functions": [
            f["FunctionName"]
            for f in clients["lambda"].list_functions()["Functions"]
            if f["FunctionName"].startswith(prefix)
        ],
        "roles": [
            r["RoleName"]
            for r in clients["iam"].list_roles()["Roles"]
            if r["RoleName"].startswith(prefix)
        ],
        "log_groups": [
            g["logGroupName"]
            for g in clients["logs"].describe_log_groups(
                logGroupNamePrefix=f"/aws/lambda/{prefix}"
            )["logGroups"]
        ],
        "parameters": [
            p["Name"]
            for p in clients["ssm"].describe_parameters()["Parameters"]
            if p["Name"].startswith(f"/{environment}/sentiment/")
        ],
        "stacks": [
            s["StackName"]
            for s in clients["cloudformation"].describe_stacks()["Stacks"]
            if s["StackName"].startswith(prefix) and s["StackStatus"] != "DELETE_COMPLETE"
        ],
        "alarms": [
            a["AlarmName"]
            for a in clients["cloudwatch"].describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
        ],
        "dashboards": [
            d["DashboardName"]
            for d in clients["cloudwatch"].list_dashboards(DashboardNamePrefix=prefix)[
                "DashboardEntries"
            ]
        ],
        "topics": [
            t["TopicArn"]
            for t in clients["sns"].list_topics()["Topics"]
            if t["TopicArn"].rsplit(":", 1)[-1].startswith(prefix)
        ],
        "log_queries": [
            q["name"]
            for q in clients["logs"].describe_query_definitions(queryDefinitionNamePrefix=prefix)[
                "queryDefinitions"
            ]
        ],
    }


@contextmanager
def applied_stack(
    base: Path, endpoint: str, cache_dir: Path, environment: str = ENVIRONMENT
) -> Iterator[AppliedTerraform]:
    """init + apply in a fresh copy of the module; destroy (and verify) on exit."""
    workdir = TerraformWorkdir.create(
        base, cache_dir, {**CREDENTIALS, "AWS_EC2_METADATA_DISABLED": "true"}
    )
    (workdir.path / "provider_override.tf").write_text(moto_override(endpoint))
    artifacts = base / "artifacts"
    artifacts.mkdir()
    variables: dict[str, Any] = {
        "aws_region": REGION,
        "environment": environment,
        "cors_allowed_origins": CORS_ORIGINS,
        "auth_secret": AUTH_SECRET,
        "ingest_api_key": INGEST_API_KEY,
        "lwa_layer_arn": publish_lwa_layer(endpoint),
        "dashboard_zip_path": str(
            stand_in_zip(
                artifacts / "dashboard.zip",
                {
                    "dashboard/__init__.py": "",
                    "dashboard/handler.py": "def handler(event, context):\n    return {}\n",
                },
            )
        ),
        "sse_zip_path": str(stand_in_zip(artifacts / "sse.zip", {"run.sh": "#!/bin/sh\nexit 0\n"})),
        "alarm_email_addresses": ALARM_EMAILS,
    }
    (workdir.path / "test.auto.tfvars.json").write_text(json.dumps(variables, indent=2))
    workdir.init()
    workdir.run("apply", "-auto-approve", "-no-color", "-input=false", timeout=600)
    applied = AppliedTerraform(
        workdir=workdir.path,
        env=workdir.env,
        outputs=workdir.output_json(),
        endpoint=endpoint,
        variables=variables,
    )
    try:
        yield applied
    finally:
        if not applied.destroyed:
            destroy(applied)


def destroy(applied: AppliedTerraform) -> None:
    applied.terraform.run("destroy", "-auto-approve", "-no-color", "-input=false", timeout=600)
    applied.destroyed = True
    remaining = {
        kind: names
        for kind, names in leftovers(applied.endpoint, applied.variables["environment"]).items()
        if names
    }
    assert not remaining, f"terraform destroy left resources behind: {remaining}"


@pytest.fixture(scope="session")
def applied_terraform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppliedTerraform]:
    """The module applied against a moto server for the whole session (destroyed at the end)."""
    require_terraform()
    base = tmp_path_factory.mktemp("terraform-applied")
    with (
        moto_server(base / "moto.log") as endpoint,
        applied_stack(base / "stack", endpoint, base / "plugin-cache") as applied,
    ):
        yield applied
