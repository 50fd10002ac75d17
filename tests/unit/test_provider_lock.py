"""The AWS provider is pinned: versions.tf allows only the tested 5.100.x line, and the committed
.terraform.lock.hcl (``make tf-lock``) names one release of it with checksums. Every init in
``make tf-check`` and the terraform tests reads that lock read-only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2

MODULE = Path(__file__).resolve().parents[2] / "infrastructure" / "terraform"
PROVIDER = "registry.terraform.io/hashicorp/aws"
TESTED = "~> 5.100.0"


def load(name: str) -> dict[str, Any]:
    with (MODULE / name).open() as handle:
        parsed: dict[str, Any] = hcl2.load(handle)
    return parsed


def test_versions_tf_allows_only_the_tested_provider_line() -> None:
    [terraform] = load("versions.tf")["terraform"]
    [providers] = terraform["required_providers"]
    assert providers["aws"] == {"source": "hashicorp/aws", "version": TESTED}


def test_the_lock_pins_one_release_with_checksums() -> None:
    [block] = load(".terraform.lock.hcl")["provider"]
    assert list(block) == [PROVIDER]
    aws = block[PROVIDER]
    assert re.fullmatch(r"5\.100\.\d+", aws["version"]), aws["version"]
    assert aws["constraints"] == TESTED
    # h1: hashes the unpacked package (what a mirror can give offline); zh: a registry zip.
    assert aws["hashes"]
    assert all(re.fullmatch(r"(h1:[A-Za-z0-9+/]{43}=|zh:[0-9a-f]{64})", h) for h in aws["hashes"])
    assert any(h.startswith("h1:") for h in aws["hashes"])


def test_every_terraform_init_reads_the_lock_read_only() -> None:
    root = MODULE.parents[1]
    script = (root / "scripts" / "terraform.sh").read_text()
    assert '"$module/.terraform.lock.hcl"' in script
    assert "-lockfile=readonly" in script
    helper = (root / "tests" / "utils" / "terraform.py").read_text()
    assert '".terraform.lock.hcl"' in helper
    assert '"-lockfile=readonly"' in helper
    assert "tf-lock:" in (root / "Makefile").read_text()
