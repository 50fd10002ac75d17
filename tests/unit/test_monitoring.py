"""The monitoring in infrastructure/terraform agrees with the code and the runbook, read straight
from the HCL (the applied read-back is tests/integration/test_monitoring_applied.py).

- Every alarm Terraform can create is explained in docs/operations.md.
- The dimension values the alarms and graphs name are the ones the SSE app writes.
- The saved Logs Insights queries name only fields the apps log, and docs/operations.md lists
  every field the apps log.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

from sentiment.request_context import LOG_FIELDS
from sse.telemetry import POLL_ERROR_KINDS, STREAM_END_REASONS

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "infrastructure" / "terraform"
RUNBOOK = ROOT / "docs" / "operations.md"
# Keys Powertools writes on every line (and on Lambda-context lines), and Logs Insights' own.
POWERTOOLS_FIELDS = {"level", "location", "message", "timestamp", "service", "xray_trace_id",
                     "function_name", "function_arn", "function_memory_size", "exception",
                     "exception_name", "stack_trace"}  # fmt: skip
INSIGHTS_WORDS = {"fields", "filter", "stats", "sort", "limit", "by", "as", "and", "or", "not",
                  "in", "like", "desc", "asc", "count", "count_distinct", "avg", "max", "min",
                  "sum", "pct", "display", "parse", "dedup"}  # fmt: skip


@cache
def parsed(name: str) -> dict[str, Any]:
    with (MODULE / name).open() as handle:
        result: dict[str, Any] = hcl2.load(handle)
    return result


def alarm_names() -> list[str]:
    """Every alarm_name in alarms.tf, for_each keys expanded, as the runbook writes them."""
    module = parsed("alarms.tf")
    functions = module["locals"][0]["functions"]
    names = []
    for block in module["resource"]:
        for name, alarm in block.get("aws_cloudwatch_metric_alarm", {}).items():
            template = alarm["alarm_name"].replace("${local.name_prefix}", "<env>-sentiment")
            if "${each.key}" in template:
                assert alarm["for_each"] == "${local.functions}", name
                names += [template.replace("${each.key}", key) for key in functions]
            else:
                names.append(template)
    return names


def test_the_alarms_are_the_ones_the_runbook_explains() -> None:
    names = alarm_names()
    assert len(names) == 11
    runbook = RUNBOOK.read_text()
    missing = [name for name in names if f"`{name}`" not in runbook]
    assert not missing, f"docs/operations.md does not explain: {missing}"
    # And the runbook explains no alarm that does not exist.
    documented = set(re.findall(r"`(<env>-sentiment-[a-z0-9-]+)`", runbook))
    alarm_like = {name for name in documented if not name.endswith(("-sse", "-dashboard"))}
    assert alarm_like - set(names) <= {"<env>-sentiment-alarms"}, alarm_like - set(names)


def test_dimension_values_are_the_ones_the_sse_app_writes() -> None:
    values = parsed("alarms.tf")["locals"][0]
    assert tuple(values["stream_end_reasons"]) == STREAM_END_REASONS
    assert tuple(values["poll_error_kinds"]) == POLL_ERROR_KINDS


def queries() -> dict[str, str]:
    saved = parsed("log_queries.tf")["locals"][0]["log_queries"]
    return {key: query["query"] for key, query in saved.items()}


def named_fields(query: str) -> set[str]:
    """The field names a query reads: its words, less strings, numbers, keywords, functions
    and the names its stats define with ``as``."""
    text = re.sub(r'"[^"]*"', " ", query)
    aliases = set(re.findall(r"\bas\s+(\w+)", text))
    words = set(re.findall(r"@?[A-Za-z_][A-Za-z0-9_]*", text))
    return {w for w in words if not w.startswith("@")} - INSIGHTS_WORDS - aliases


@pytest.mark.parametrize("key", sorted(queries()))
def test_saved_queries_name_only_logged_fields(key: str) -> None:
    unknown = named_fields(queries()[key]) - LOG_FIELDS - POWERTOOLS_FIELDS
    assert not unknown, f"query {key} names fields no app logs: {sorted(unknown)}"


def test_the_issues_three_queries_are_saved() -> None:
    saved = queries()
    assert 'filter message = "stream closed" and reason = "error"' in saved["stream_errors"]
    assert "sort max_delivery_lag_ms desc" in saved["slowest_deliveries"]
    assert "by client_ip" in saved["rejected_clients"]


def test_the_runbook_lists_every_log_field() -> None:
    runbook = RUNBOOK.read_text()
    missing = sorted(field for field in LOG_FIELDS if f"`{field}`" not in runbook)
    assert not missing, f"docs/operations.md does not list these log fields: {missing}"


def test_the_correlation_header_is_allowed_by_both_function_urls() -> None:
    for name, function in (("lambda_dashboard.tf", "dashboard"), ("lambda_sse.tf", "sse")):
        url = next(
            block["aws_lambda_function_url"][function]
            for block in parsed(name)["resource"]
            if "aws_lambda_function_url" in block
        )
        assert "x-correlation-id" in url["cors"][0]["allow_headers"], name
