#!/usr/bin/env python3
"""Check an applied deployment: wait until both functions answer, then run the E2E suite
(tests/e2e) against the URLs Terraform output, writing with the ingest key stored in SSM.

    make deploy-check                        # from the repository root, after terraform apply
    python -m scripts.deploy_check [--dir infrastructure/terraform] [--timeout 180] [pytest args]

Reads ``terraform output -json`` in --dir: ``dashboard_function_url``,
``sse_lambda_function_url``, ``aws_region`` and ``ingest_api_key_parameter_name`` (the key is
read with the caller's AWS credentials: ssm:GetParameter and kms:Decrypt). Set in the
environment, DASHBOARD_URL / SSE_LAMBDA_URL replace the two URLs (e.g. a custom domain in front
of them) and INGEST_API_KEY replaces the SSM read. The suite writes (E2E_WRITES=1, the default
here: a deployment being checked is yours); E2E_WRITES=0 leaves its data alone and reads no key.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from scripts.export_outputs import EXPORTS, function_urls, terraform_outputs
from scripts.wait_ready import health_urls, wait_until_ready

ROOT = Path(__file__).resolve().parent.parent
KeyReader = Callable[[str, str], str]
WRITES = "E2E_WRITES"


@dataclass(frozen=True)
class Target:
    """What the E2E suite runs against, and where each value came from (for the log)."""

    environment: dict[str, str]
    sources: dict[str, str]


def output_value(outputs: Mapping[str, Any], name: str) -> str:
    entry = outputs.get(name)
    value = entry.get("value") if isinstance(entry, dict) else None
    if not isinstance(value, str) or not value:
        raise SystemExit(f"terraform output {name!r} is missing: apply the current module first")
    return value


def ssm_parameter(name: str, region: str) -> str:
    """A SecureString's value, decrypted, with the caller's AWS credentials."""
    client = boto3.client("ssm", region_name=region)
    value: str = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return value


def resolve_target(
    outputs: Mapping[str, Any], environ: Mapping[str, str], read_key: KeyReader = ssm_parameter
) -> Target:
    """The suite's DASHBOARD_URL, SSE_LAMBDA_URL and INGEST_API_KEY, from the environment where
    set, else from the outputs (the key from the SSM parameter they name)."""
    urls = function_urls(dict(outputs))
    environment: dict[str, str] = {}
    sources: dict[str, str] = {}
    for output, (variable, _) in EXPORTS.items():
        if environ.get(variable):
            environment[variable] = environ[variable].rstrip("/")
            sources[variable] = "environment"
        else:
            environment[variable] = urls[variable]
            sources[variable] = f"terraform output {output}"
    environment[WRITES] = environ.get(WRITES, "1")
    sources[WRITES] = "environment" if WRITES in environ else "default"
    if environ.get("INGEST_API_KEY"):
        environment["INGEST_API_KEY"] = environ["INGEST_API_KEY"]
        sources["INGEST_API_KEY"] = "environment"
    elif environment[WRITES] == "1":
        parameter = output_value(outputs, "ingest_api_key_parameter_name")
        region = output_value(outputs, "aws_region")
        try:
            environment["INGEST_API_KEY"] = read_key(parameter, region)
        except (BotoCoreError, ClientError) as error:
            raise SystemExit(
                f"could not read the ingest key from SSM parameter {parameter} ({region}): "
                f"{error}\nSet INGEST_API_KEY (the ingest_api_key of terraform.tfvars), or "
                "E2E_WRITES=0 for a read-only run."
            ) from error
        sources["INGEST_API_KEY"] = f"SSM parameter {parameter}"
    return Target(environment, sources)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="Other arguments are passed to pytest."
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=ROOT / "infrastructure" / "terraform",
        help="the applied Terraform module (default: infrastructure/terraform)",
    )
    parser.add_argument(
        "--timeout", type=float, default=180, help="seconds to wait for /health (default 180)"
    )
    args, pytest_args = parser.parse_known_args(argv)

    target = resolve_target(terraform_outputs(args.dir), os.environ)
    for variable, source in target.sources.items():
        shown = "(set)" if variable == "INGEST_API_KEY" else target.environment[variable]
        print(f"deploy-check | {variable}={shown}  <- {source}", flush=True)
    urls = health_urls(target.environment["DASHBOARD_URL"], target.environment["SSE_LAMBDA_URL"])
    if not wait_until_ready(
        urls, args.timeout, lambda line: print(f"deploy-check | {line}", flush=True)
    ):
        return 1
    command = [sys.executable, "-m", "pytest", "tests/e2e", "-p", "no:cacheprovider", *pytest_args]
    print(f"deploy-check | {' '.join(command[1:])}", flush=True)
    return subprocess.call(command, cwd=ROOT, env={**os.environ, **target.environment})  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())
