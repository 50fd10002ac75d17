"""Terraform (infrastructure/terraform) and the code must agree, read straight from the HCL.

- The three tables: keys, attribute types, indexes (all projections ALL) and TTL attributes equal
  sentiment.store.tables (ITEMS, COUNTERS, CONFIGURATIONS).
- The environment variables each function gets equal the fields of sentiment.settings.Settings
  (secrets by SSM parameter name only), plus the Lambda Web Adapter's on the SSE function only.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

from sentiment.settings import Settings
from sentiment.store.tables import ALL_TABLES, CONFIGURATIONS, COUNTERS, ITEMS, TableSpec

MODULE = Path(__file__).resolve().parents[2] / "infrastructure" / "terraform"
# Plain-text secrets are the local stack's; deployed functions get the *_PARAM names instead.
LOCAL_ONLY_FIELDS = {"AUTH_SECRET", "AUTH_SECRET_PREVIOUS", "INGEST_API_KEY"}
LWA_VARIABLES = {
    "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
    "AWS_LWA_INVOKE_MODE": "response_stream",
    "AWS_LWA_READINESS_CHECK_PATH": "/health",
    "AWS_LWA_PORT": "8080",
}
TABLE_RESOURCES = {"items": ITEMS, "counters": COUNTERS, "configurations": CONFIGURATIONS}


@cache
def module() -> dict[str, Any]:
    """Every block of every .tf file, merged by kind."""
    merged: dict[str, Any] = {"resource": {}, "locals": {}}
    for path in sorted(MODULE.glob("*.tf")):
        with path.open() as handle:
            parsed = hcl2.load(handle)
        for block in parsed.get("resource", []):
            for kind, instances in block.items():
                merged["resource"].setdefault(kind, {}).update(instances)
        for block in parsed.get("locals", []):
            merged["locals"].update(block)
    return merged


def resource(kind: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = module()["resource"][kind][name]
    return found


def local_reference(expression: str) -> str:
    match = re.fullmatch(r"\$\{local\.(\w+)\}", expression)
    assert match, f"expected a reference to a local, got {expression!r}"
    return match.group(1)


def merged_locals(name: str) -> list[str]:
    """The locals a ``merge(local.a, local.b, ...)`` local is made of, in order."""
    expression = module()["locals"][name]
    match = re.fullmatch(r"\$\{merge\(((?:local\.\w+(?:,\s*)?)+)\)\}", expression)
    assert match, f"local.{name} should merge other locals, got {expression!r}"
    return [part.strip().removeprefix("local.") for part in match.group(1).split(",")]


def function_environment(function: str) -> dict[str, Any]:
    """The variables a function gets, resolving its merge of literal maps."""
    block = resource("aws_lambda_function", function)["environment"]
    assert len(block) == 1
    name = local_reference(block[0]["variables"])
    variables: dict[str, Any] = {}
    for part in merged_locals(name):
        value = module()["locals"][part]
        assert isinstance(value, dict), f"local.{part} should be a literal map"
        variables.update(value)
    return variables


# --- tables -----------------------------------------------------------------------------------


def table_shape(spec: TableSpec) -> dict[str, Any]:
    return {
        "hash_key": spec.hash_key,
        "range_key": spec.range_key,
        "attributes": dict(spec.attributes),
        "indexes": {
            index.name: {
                "hash_key": index.hash_key,
                "range_key": index.range_key,
                "projection": "ALL",
            }
            for index in spec.indexes
        },
        "ttl": spec.ttl_attribute,
    }


def terraform_shape(table: dict[str, Any]) -> dict[str, Any]:
    ttl = [t["attribute_name"] for t in table.get("ttl", []) if t.get("enabled") is True]
    return {
        "hash_key": table["hash_key"],
        "range_key": table.get("range_key"),
        "attributes": {a["name"]: a["type"] for a in table["attribute"]},
        "indexes": {
            index["name"]: {
                "hash_key": index["hash_key"],
                "range_key": index.get("range_key"),
                "projection": index["projection_type"],
            }
            for index in table.get("global_secondary_index", [])
        },
        "ttl": ttl[0] if ttl else None,
    }


def test_every_table_spec_has_a_terraform_table() -> None:
    assert sorted(spec.settings_field for spec in TABLE_RESOURCES.values()) == sorted(
        spec.settings_field for spec in ALL_TABLES
    )
    assert set(module()["resource"]["aws_dynamodb_table"]) == set(TABLE_RESOURCES)


@pytest.mark.parametrize("name", sorted(TABLE_RESOURCES))
def test_table_matches_store_definition(name: str) -> None:
    table = resource("aws_dynamodb_table", name)
    assert terraform_shape(table) == table_shape(TABLE_RESOURCES[name])


@pytest.mark.parametrize("name", sorted(TABLE_RESOURCES))
def test_table_name_billing_and_protection(name: str) -> None:
    table = resource("aws_dynamodb_table", name)
    # ${environment}-sentiment-<name>, the names Settings' defaults follow ("local-sentiment-...").
    assert table["name"] == "${local.name_prefix}-" + name
    assert module()["locals"]["name_prefix"] == "${var.environment}-sentiment"
    default_name = Settings.model_fields[TABLE_RESOURCES[name].settings_field].default
    assert default_name == f"local-sentiment-{name}"
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["point_in_time_recovery"] == [{"enabled": True}]
    assert table["server_side_encryption"][0]["enabled"] is True


def test_table_names_reach_the_settings_fields() -> None:
    common = module()["locals"]["common_environment"]
    for name, spec in TABLE_RESOURCES.items():
        assert common[spec.settings_field] == f"${{aws_dynamodb_table.{name}.name}}"


# --- environment variables ----------------------------------------------------------------------


def settings_fields() -> set[str]:
    return set(Settings.model_fields)


def test_common_environment_is_exactly_the_settings_fields() -> None:
    common = set(module()["locals"]["common_environment"])
    assert common == settings_fields() - LOCAL_ONLY_FIELDS
    for field in LOCAL_ONLY_FIELDS:
        assert f"{field}_PARAM" in common


@pytest.mark.parametrize("function", ["dashboard", "sse"])
def test_function_environment_names(function: str) -> None:
    variables = function_environment(function)
    expected = settings_fields() - LOCAL_ONLY_FIELDS
    if function == "sse":
        expected |= set(LWA_VARIABLES)
    assert set(variables) == expected
    assert not set(variables) & LOCAL_ONLY_FIELDS


def test_dashboard_gets_the_sse_url_and_no_adapter_settings() -> None:
    variables = function_environment("dashboard")
    assert variables["SSE_URL"] == '${trimsuffix(aws_lambda_function_url.sse.function_url, "/")}'
    assert variables["CORS_ALLOWED_ORIGINS"] == ""
    assert not set(variables) & set(LWA_VARIABLES)


def test_sse_gets_the_web_adapter_settings() -> None:
    variables = function_environment("sse")
    assert {name: variables[name] for name in LWA_VARIABLES} == LWA_VARIABLES
    assert variables["CORS_ALLOWED_ORIGINS"] == ""
    function = resource("aws_lambda_function", "sse")
    assert function["handler"] == "run.sh"
    assert function["layers"] == ["${local.lwa_layer_arn}"]
    assert resource("aws_lambda_function", "dashboard")["handler"] == "dashboard.handler.handler"
