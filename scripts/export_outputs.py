#!/usr/bin/env python3
"""Export the two Function URLs from Terraform's outputs for the E2E suite.

Reads ``terraform output -json`` (run in ``--dir``, or given as a file / stdin with ``--json``)
and prints ``DASHBOARD_URL=...`` and ``SSE_LAMBDA_URL=...`` lines, ready for ``export`` or a
dotenv file. With ``--github-output`` it also appends ``dashboard_url=...`` and
``sse_lambda_url=...`` to ``$GITHUB_OUTPUT`` so a deploy job can hand them to an E2E job.

    python scripts/export_outputs.py --dir infrastructure/terraform
    terraform output -json | python scripts/export_outputs.py --json -
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

# terraform output name -> (environment variable, GitHub step output)
EXPORTS = {
    "dashboard_function_url": ("DASHBOARD_URL", "dashboard_url"),
    "sse_lambda_function_url": ("SSE_LAMBDA_URL", "sse_lambda_url"),
}


def terraform_outputs(directory: Path) -> dict[str, Any]:
    binary = os.environ.get("TERRAFORM") or shutil.which("terraform")
    if binary is None:
        raise SystemExit("terraform is not on PATH (or set TERRAFORM=/path/to/terraform)")
    result = subprocess.run(  # noqa: S603 - a fixed terraform command
        [binary, "output", "-json", "-no-color"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"terraform output failed:\n{result.stderr.strip()}")
    outputs: dict[str, Any] = json.loads(result.stdout)
    return outputs


def function_urls(outputs: dict[str, Any]) -> dict[str, str]:
    """``{DASHBOARD_URL: ..., SSE_LAMBDA_URL: ...}`` without trailing slashes; fails clearly
    when an output is missing or is not an http(s) URL."""
    urls = {}
    for output, (variable, _) in EXPORTS.items():
        entry = outputs.get(output)
        value = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(value, str) or urlparse(value).scheme not in ("http", "https"):
            raise SystemExit(f"terraform output {output!r} is missing or not a URL: {value!r}")
        urls[variable] = value.rstrip("/")
    return urls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--dir",
        type=Path,
        default=Path("infrastructure/terraform"),
        help="run `terraform output -json` here (default: %(default)s)",
    )
    source.add_argument(
        "--json",
        type=argparse.FileType(),
        metavar="FILE",
        help="read `terraform output -json` from FILE ('-' for stdin)",
    )
    parser.add_argument(
        "--github-output",
        action="store_true",
        help="also append the URLs to $GITHUB_OUTPUT as step outputs",
    )
    args = parser.parse_args(argv)

    outputs = json.load(args.json) if args.json else terraform_outputs(args.dir)
    urls = function_urls(outputs)
    for variable, url in urls.items():
        print(f"{variable}={url}")
    if args.github_output:
        path = os.environ.get("GITHUB_OUTPUT")
        if not path:
            raise SystemExit("--github-output needs $GITHUB_OUTPUT (set by GitHub Actions)")
        with open(path, "a", encoding="utf-8") as handle:
            for variable, step_output in EXPORTS.values():
                handle.write(f"{step_output}={urls[variable]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
