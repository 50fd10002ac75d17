"""docs/deploy.md, followed as written: its step blocks, run against moto server.

The guide marks the ``sh`` block of each step with ``<!-- guide-step: NAME -->``. The test copies
the repository into a temporary directory (a real deployment's state in the working copy is never
touched) and runs each block in a fresh ``bash -euo pipefail`` that starts in the directory the
previous block ended in, the way a user pastes them into one terminal. A block that relies on a
variable set by another block fails here, as it would for a user who opened a new terminal.

Only what stands in for an AWS account is added, and logged (the guide's table "The guide, run
against moto" names each one and what a real account uses instead): the moto endpoint and dummy
credentials, a stand-in Lambda Web Adapter layer published into moto, the offline provider mirror,
and, for step 5 only, a local stack answering for the two Function URLs, since moto never runs a
function. ``make clean`` runs before the teardown step: destroy must not need build output.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("tests.utils.terraform")

from tests.e2e.run_local import LOCAL_ENV  # noqa: E402
from tests.utils.moto_server import client_environment, moto_server  # noqa: E402
from tests.utils.processes import running_stack  # noqa: E402
from tests.utils.terraform import (  # noqa: E402
    ROOT,
    aws_clients,
    leftovers,
    plugin_dir,
    publish_lwa_layer,
    require_terraform,
    terraform_binary,
)

GUIDE = ROOT / "docs" / "deploy.md"
STEPS = ("package", "configure", "init", "plan", "apply", "output", "cors", "e2e", "destroy")
BLOCK = re.compile(r"<!-- guide-(step|check): ([\w-]+) -->\s*```sh\n(.*?)```", re.DOTALL)
# What the copy needs to run the guide (no build output, state, secrets or virtualenvs).
COPIED = ("Makefile", "pyproject.toml", "requirements", "README.md", "docs", "infrastructure",
          "scripts", "src", "tests")  # fmt: skip
NOT_COPIED = shutil.ignore_patterns(
    "__pycache__", ".terraform", "*.tfstate*", "terraform.tfvars", "*.auto.tfvars*", "tfplan",
    "backend.tf", "*.egg-info",
)  # fmt: skip
ENVIRONMENT = "dev"  # terraform.tfvars.example's
# Not in a user's terminal: the host's AWS/Terraform settings, and make's own when `make test`
# runs this test.
TERMINAL_UNSET = ("AWS_", "TF_", "MAKE", "MFLAGS")
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Terraform colours its output for people


def guide_blocks(kind: str = "step") -> dict[str, str]:
    """The marked ``sh`` blocks of the guide, by name, in the order they appear."""
    return {name: body for found, name, body in BLOCK.findall(GUIDE.read_text()) if found == kind}


def test_the_guide_marks_every_step_in_order() -> None:
    assert tuple(guide_blocks()) == STEPS


def test_the_quick_checks_set_every_variable_they_use() -> None:
    """Pasting them alone must work (they once used variables set only for another command)."""
    block = guide_blocks("check")["curl"]
    assigned = set(re.findall(r"^\s*([A-Z_][A-Z0-9_]*)=", block, re.MULTILINE))
    used = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", block))

    assert used, block
    assert used <= assigned, f"used but not set in the block: {sorted(used - assigned)}"
    assert subprocess.run(["bash", "-n", "-c", block], check=False).returncode == 0


# --- the whole guide against moto -------------------------------------------------------------


@dataclass
class Session:
    """One terminal following the guide: where it is, and what it has printed."""

    root: Path
    env: dict[str, str]
    base: Path
    cwd: Path = field(init=False)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cwd = self.root

    def say(self, line: str) -> None:
        self.log.append(line)
        print(line, flush=True)

    def run(self, name: str, block: str, env: dict[str, str] | None = None,
            answer: str = "") -> str:  # fmt: skip
        script = self.base / f"step-{name}.sh"
        script.write_text(block)
        where = self.base / "cwd"
        self.say(f"==> guide step {name} (in {self.cwd.relative_to(self.root.parent)}):\n{block}")
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", 'cd "$1"; source "$2"; pwd > "$3"', "guide",
             str(self.cwd), str(script), str(where)],
            env={**self.env, **(env or {})}, input=answer, capture_output=True, text=True,
            timeout=900,
        )  # fmt: skip
        output = ANSI.sub("", result.stdout + result.stderr)
        assert result.returncode == 0, (
            f"docs/deploy.md step {name!r} failed ({result.returncode}):\n{block}\n"
            f"--- output ---\n{output[-6000:]}"
        )
        self.cwd = Path(where.read_text().strip())
        self.say("\n".join(["--- last lines ---", *output.strip().splitlines()[-12:]]))
        return output


def copy_repository(target: Path) -> Path:
    target.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=NOT_COPIED)
        else:
            shutil.copy2(source, target / name)
    # The project's virtualenv, shared: make must not reinstall it from the copy (an editable
    # install there would point the real .venv at a temporary directory).
    stamp = ROOT / ".venv" / ".installed-stamp"
    if not stamp.exists() or stamp.stat().st_mtime < (ROOT / "pyproject.toml").stat().st_mtime:
        pytest.fail("the .venv is older than pyproject.toml: run `make .venv/.installed-stamp`")
    (target / ".venv").symlink_to(ROOT / ".venv")
    older = stamp.stat().st_mtime - 1
    for prerequisite in ("pyproject.toml", "requirements/dev.txt"):  # the stamp's, in the Makefile
        os.utime(target / prerequisite, (older, older))
    return target


def mirror_config(path: Path) -> Path:
    """hashicorp/aws from the filesystem mirror only: this machine has no registry access."""
    provider = "registry.terraform.io/hashicorp/aws"
    path.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path    = "{plugin_dir()}"\n'
        f'    include = ["{provider}"]\n  }}\n  direct {{\n    exclude = ["{provider}"]\n  }}\n}}\n'
    )
    return path


def tfvars_value(path: Path, name: str) -> str:
    match = re.search(rf'^{name}\s*=\s*"([^"]*)"', path.read_text(), re.MULTILINE)
    assert match, f"{name} not found in {path}"
    return match.group(1)


def terraform_outputs(binary: str, module: Path, env: dict[str, str]) -> dict[str, Any]:
    raw = subprocess.run([binary, "output", "-json"], cwd=module, env=env, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return {name: entry["value"] for name, entry in json.loads(raw).items()}


def code_sha256(zip_path: Path) -> str:
    return base64.b64encode(hashlib.sha256(zip_path.read_bytes()).digest()).decode()


@pytest.fixture
def moto(tmp_path: Path) -> Iterator[str]:
    with moto_server(tmp_path / "moto.log") as endpoint:
        yield endpoint


@pytest.mark.terraform
@pytest.mark.timeout(1800)
def test_the_guide_works_against_moto(tmp_path: Path, moto: str) -> None:
    require_terraform()
    blocks = guide_blocks()
    assert tuple(blocks) == STEPS
    root = copy_repository(tmp_path / "repository")
    module = root / "infrastructure" / "terraform"
    binary = terraform_binary()
    assert binary is not None
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(TERMINAL_UNSET)},
        **client_environment(moto),
        "TF_CLI_CONFIG_FILE": str(mirror_config(tmp_path / "terraform.rc")),
        "CHECKPOINT_DISABLE": "1",
        "PATH": f"{Path(binary).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    session = Session(root, env, tmp_path)
    session.say(
        f"moto-only settings: AWS_ENDPOINT_URL={moto} with dummy credentials, "
        f"TF_CLI_CONFIG_FILE (hashicorp/aws from {plugin_dir()})"
    )
    clients = aws_clients(moto)

    session.run("package", blocks["package"])
    zips = {name: root / "dist" / f"{name}.zip" for name in ("dashboard", "sse")}
    assert all(path.stat().st_size > 1_000_000 for path in zips.values()), zips

    session.run("configure", blocks["configure"])
    tfvars = module / "terraform.tfvars"
    assert re.fullmatch(r"[0-9a-f]{64}", tfvars_value(tfvars, "auth_secret"))
    ingest_key = tfvars_value(tfvars, "ingest_api_key")
    assert re.fullmatch(r"[0-9a-f]{48}", ingest_key)
    layer = publish_lwa_layer(moto)
    (module / "moto.auto.tfvars.json").write_text(json.dumps({"lwa_layer_arn": layer}))
    session.say(f"moto-only setting: lwa_layer_arn = {layer} (moto.auto.tfvars.json)")

    session.run("init", blocks["init"])
    planned = session.run("plan", blocks["plan"])
    assert re.search(r"Plan: \d+ to add, 0 to change, 0 to destroy\.", planned), planned[-3000:]
    session.run("apply", blocks["apply"])
    lam = clients["lambda"]
    for name, path in zips.items():
        deployed = lam.get_function(FunctionName=f"{ENVIRONMENT}-sentiment-{name}")
        assert deployed["Configuration"]["CodeSha256"] == code_sha256(path), name

    printed = session.run("output", blocks["output"])
    outputs = terraform_outputs(binary, module, env)
    assert f'dashboard_function_url = "{outputs["dashboard_function_url"]}"' in printed

    planned = session.run("cors", blocks["cors"])
    assert "Plan: 0 to add, 2 to change, 0 to destroy." in planned, planned[-3000:]
    for name in ("dashboard", "sse"):
        cors = lam.get_function_url_config(FunctionName=f"{ENVIRONMENT}-sentiment-{name}")["Cors"]
        assert cors["AllowOrigins"] == [outputs["dashboard_origin"]], name

    # moto never runs the functions: a local stack with the deployment's key answers instead.
    with running_stack(demo=False, env={**LOCAL_ENV, "INGEST_API_KEY": ingest_key}) as stack:
        stand_in = {"DASHBOARD_URL": stack.dashboard_url, "SSE_LAMBDA_URL": stack.sse_url}
        session.say(f"moto-only setting for step e2e: {stand_in} (a local stack)")
        checked = session.run("e2e", blocks["e2e"], env=stand_in)
    parameter = outputs["ingest_api_key_parameter_name"]
    assert f"INGEST_API_KEY=(set)  <- SSM parameter {parameter}" in checked, checked[-3000:]
    assert ingest_key not in checked
    summary = re.findall(r"^=+ (.+) in [\d.]+s.* =+$", checked, re.MULTILINE)[-1]
    assert re.fullmatch(r"\d+ passed", summary), summary  # no skip: the writes ran too

    cleaned = subprocess.run(["make", "clean"], cwd=root, env=env, capture_output=True, text=True,
                             check=False)  # fmt: skip
    assert cleaned.returncode == 0, cleaned.stderr
    assert not (root / "dist").exists()
    assert not (root / "build").exists()
    assert (ROOT / ".venv" / "bin" / "python").exists()  # only the copy's link went
    session.run("destroy", blocks["destroy"], answer="yes\n")
    remaining = {kind: names for kind, names in leftovers(moto, ENVIRONMENT).items() if names}
    assert not remaining, remaining


@pytest.mark.terraform
@pytest.mark.timeout(300)
def test_terraform_sh_init_survives_make_clean(tmp_path: Path) -> None:
    """`scripts/terraform.sh init` must leave nothing that `terraform destroy` needs under
    build/, which `make clean` deletes."""
    require_terraform()
    root = tmp_path / "repository"
    shutil.copytree(ROOT / "scripts", root / "scripts", ignore=NOT_COPIED)
    shutil.copytree(ROOT / "infrastructure", root / "infrastructure", ignore=NOT_COPIED)
    binary = terraform_binary()
    assert binary is not None
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TF_")},
        "TF_PLUGIN_DIR": str(plugin_dir()),
        "TERRAFORM": binary,
    }

    def terraform_sh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(root / "scripts" / "terraform.sh"), *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=240, check=False)  # fmt: skip

    initialised = terraform_sh("init", "-backend=false", "-no-color")
    assert initialised.returncode == 0, initialised.stdout + initialised.stderr
    shutil.rmtree(root / "build")  # what `make clean` does to it

    validated = terraform_sh("validate", "-no-color")

    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "The configuration is valid." in validated.stdout
