"""The packager's command line becomes a frozen configuration, and reading it creates nothing:
the folders are made by the steps that write into them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from scripts.package import FUNCTIONS, Config, Target, parse_args


def test_parsing_creates_no_folder(tmp_path: Path) -> None:
    cache, dist = tmp_path / "cache", tmp_path / "dist"
    parse_args(["--build-dir", str(cache), "--dist", str(dist), "--python-version", "3.12"])
    assert sorted(tmp_path.iterdir()) == []


def test_the_configuration_is_frozen_and_resolved(tmp_path: Path) -> None:
    config = parse_args(
        ["sse", "sse", "--build-dir", str(tmp_path / "a" / ".." / "cache"), "--arch", "arm64"]
    )
    assert isinstance(config, Config)
    assert config.functions == ("sse",)
    assert config.target == Target(config.target.python_version, "arm64")
    assert config.build_dir == tmp_path.resolve() / "cache"
    assert config.bytecode is True
    assert config.runtime_dir is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.offline = True  # type: ignore[misc]


def test_no_function_named_means_both() -> None:
    config = parse_args(["--no-bytecode", "--python-version", "3.13"])
    assert config.functions == FUNCTIONS == ("dashboard", "sse")
    assert config.target.python_version == "3.13"
    assert config.bytecode is False


def test_a_malformed_python_version_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--python-version", "312"])
    assert "--python-version must look like 3.12, not '312'" in capsys.readouterr().err
