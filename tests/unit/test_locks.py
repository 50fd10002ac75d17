"""The dependency locks (requirements/*.txt, written by ``make lock``) agree with pyproject.toml,
with each other, and with what the builder makes of them for each Lambda platform."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from scripts.package import RUNTIME_PROVIDED, Pin, Target, locked, normalize, read_lock

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LAMBDA_LOCKS = ("dashboard", "sse", "lambda-runtime")
TARGETS = [Target(version, arch) for version in ("3.12", "3.13") for arch in ("x86_64", "arm64")]


def pins(name: str) -> list[Pin]:
    return read_lock(LOCKS / f"{name}.txt")


def test_every_range_in_pyproject_is_satisfied_by_the_dev_lock() -> None:
    """An edited range without `make lock` fails here, not in a deploy."""
    project = PYPROJECT["project"]
    ranges = [
        *project["dependencies"],
        *(spec for extra in project["optional-dependencies"].values() for spec in extra),
        *PYPROJECT["build-system"]["requires"],
    ]
    dev: dict[str, list[str]] = {}
    for pin in pins("dev"):
        dev.setdefault(pin.name, []).append(pin.version)
    for spec in ranges:
        requirement = Requirement(spec)
        versions = dev.get(normalize(requirement.name))
        assert versions, f"{requirement.name} is not in requirements/dev.txt: run `make lock`"
        assert all(requirement.specifier.contains(v) for v in versions), (spec, versions)


@pytest.mark.parametrize("name", LAMBDA_LOCKS)
def test_lambda_locks_pin_the_versions_the_dev_venv_tests(name: str) -> None:
    dev_versions = {(pin.name, pin.version) for pin in pins("dev")}
    for pin in pins(name):
        assert (pin.name, pin.version) in dev_versions, pin
        assert pin.hashes, pin
        assert all(h.startswith("sha256:") for h in pin.hashes), pin


@pytest.mark.parametrize("function", ["dashboard", "sse"])
def test_zips_leave_out_what_the_lambda_runtime_provides(function: str) -> None:
    names = {pin.name for pin in pins(function)}
    assert not names & RUNTIME_PROVIDED
    assert {"fastapi", "pydantic", "aws-lambda-powertools", "pyjwt"} <= names
    assert ("mangum" in names) == (function == "dashboard")
    assert ("uvicorn" in names) == (function == "sse")
    assert {pin.name for pin in pins("lambda-runtime")} >= RUNTIME_PROVIDED


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.tag)
def test_every_lambda_platform_gets_one_version_of_each(target: Target) -> None:
    for function in ("dashboard", "sse"):
        chosen = locked(function, target, bundle_boto3=True)
        names = [pin.name for pin in chosen]
        assert len(names) == len(set(names))
        assert "boto3" in names


def test_markers_are_evaluated_for_the_target_not_this_machine(tmp_path: Path) -> None:
    digest = "sha256:" + "a" * 64
    (tmp_path / "dashboard.txt").write_text(
        f"plain==1.0 \\\n    --hash={digest}\n    # via sentiment\n"
        f"old-only==2.0 ; python_full_version < '3.12' \\\n    --hash={digest}\n"
        f"arm-only==3.0 ; platform_machine == 'aarch64' \\\n    --hash={digest}\n"
        f"windows-only==4.0 ; sys_platform == 'win32' \\\n    --hash={digest}\n"
    )

    def chosen(version: str, arch: str) -> list[str]:
        return [p.name for p in locked("dashboard", Target(version, arch), False, tmp_path)]

    assert chosen("3.12", "x86_64") == ["plain"]
    assert chosen("3.12", "arm64") == ["arm-only", "plain"]
    assert chosen("3.11", "x86_64") == ["old-only", "plain"]


def test_an_unhashed_or_unpinned_line_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dashboard.txt").write_text("fastapi==0.165.0\n")
    with pytest.raises(SystemExit, match=r"fastapi==0.165.0 has no --hash"):
        locked("dashboard", Target("3.12", "x86_64"), False, tmp_path)
    (tmp_path / "dashboard.txt").write_text("fastapi>=0.140 --hash=sha256:" + "a" * 64 + "\n")
    with pytest.raises(SystemExit, match="not a pinned, hashed requirement"):
        locked("dashboard", Target("3.12", "x86_64"), False, tmp_path)
