"""scripts/deploy_check.py: what `make deploy-check` runs the E2E suite against. The whole
command, against a stack applied to moto server, is in tests/integration/test_deploy_guide.py."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from scripts.deploy_check import resolve_target

PARAMETER = "/dev/sentiment/ingest-api-key"
OUTPUTS: dict[str, Any] = {
    "dashboard_function_url": {"value": "https://dash.lambda-url.us-east-1.on.aws/"},
    "sse_lambda_function_url": {"value": "https://sse.lambda-url.us-east-1.on.aws/"},
    "aws_region": {"value": "us-east-1"},
    "ingest_api_key_parameter_name": {"value": PARAMETER},
}


@pytest.fixture
def stored_key(aws: None) -> str:
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=PARAMETER, Value="key-from-ssm-0123456789", Type="SecureString"
    )
    return "key-from-ssm-0123456789"


def test_urls_from_the_outputs_and_the_key_from_ssm(stored_key: str) -> None:
    target = resolve_target(OUTPUTS, {})

    assert target.environment == {
        "DASHBOARD_URL": "https://dash.lambda-url.us-east-1.on.aws",
        "SSE_LAMBDA_URL": "https://sse.lambda-url.us-east-1.on.aws",
        "E2E_WRITES": "1",
        "INGEST_API_KEY": stored_key,
    }
    assert target.sources == {
        "DASHBOARD_URL": "terraform output dashboard_function_url",
        "SSE_LAMBDA_URL": "terraform output sse_lambda_function_url",
        "E2E_WRITES": "default",
        "INGEST_API_KEY": f"SSM parameter {PARAMETER}",
    }


def test_the_environment_replaces_outputs_and_ssm(aws: None) -> None:
    environ = {
        "DASHBOARD_URL": "https://dashboard.example.com/",
        "SSE_LAMBDA_URL": "https://streams.example.com",
        "E2E_WRITES": "1",
        "INGEST_API_KEY": "key-from-env-0123456789",
    }

    target = resolve_target(OUTPUTS, environ)

    assert target.environment == {
        "DASHBOARD_URL": "https://dashboard.example.com",
        "SSE_LAMBDA_URL": "https://streams.example.com",
        "E2E_WRITES": "1",
        "INGEST_API_KEY": "key-from-env-0123456789",
    }
    assert set(target.sources.values()) == {"environment"}


def test_read_only_reads_no_key(aws: None) -> None:
    target = resolve_target(OUTPUTS, {"E2E_WRITES": "0"})

    assert "INGEST_API_KEY" not in target.environment
    assert target.environment["E2E_WRITES"] == "0"


def test_an_unreadable_key_stops_with_what_to_do(aws: None) -> None:
    with pytest.raises(SystemExit) as stopped:
        resolve_target(OUTPUTS, {})

    message = str(stopped.value)
    assert message.startswith(
        f"could not read the ingest key from SSM parameter {PARAMETER} (us-east-1): "
    )
    assert "ParameterNotFound" in message
    assert "Set INGEST_API_KEY (the ingest_api_key of terraform.tfvars)" in message
    assert "E2E_WRITES=0 for a read-only run" in message


def test_outputs_of_an_older_module_are_named(aws: None) -> None:
    older = {k: v for k, v in OUTPUTS.items() if k != "aws_region"}

    with pytest.raises(SystemExit, match="terraform output 'aws_region' is missing"):
        resolve_target(older, {})
