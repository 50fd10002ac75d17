"""The module's monitoring, applied to moto and read back: alarms, their topic, the dashboard
body and the saved Logs Insights queries (infrastructure/terraform/alarms.tf, dashboard.tf,
log_queries.tf).

moto stores what Terraform sends (dashboards, alarms with their metric math, SNS) and the test
server adds the saved-query calls moto lacks (tests/utils/moto_query_definitions.py); it
evaluates none of it. What these tests show is what a deployment gets: which metric each alarm
watches with which statistic, threshold and action, what each graph plots, what each query says.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

pytest.register_assert_rewrite("tests.utils.terraform")

from sse.telemetry import METRIC_NAMES, POLL_ERROR_KINDS, STREAM_END_REASONS  # noqa: E402
from tests.utils.moto_server import ACCOUNT_ID, REGION  # noqa: E402
from tests.utils.terraform import (  # noqa: E402
    ALARM_EMAILS,
    ENVIRONMENT,
    ROOT,
    AppliedTerraform,
    aws_clients,
)

pytestmark = [pytest.mark.terraform, pytest.mark.timeout(600)]

PREFIX = f"{ENVIRONMENT}-sentiment"
NAMESPACE = "SentimentDashboard"
SSE_DIMENSIONS = {"service": "sse", "environment": ENVIRONMENT}
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{PREFIX}-alarms"
ALARMS = {
    f"{PREFIX}-{name}"
    for name in (
        "sse-concurrency-near-limit", "sse-throttles", "sse-errors", "dashboard-throttles",
        "dashboard-errors", "dashboard-5xx", "stream-errors", "delivery-lag-p99", "poll-errors",
        "dynamodb-throttles", "no-ingest",
    )
}  # fmt: skip
# The app's metrics besides the SSE app's own (src/dashboard/routes/items.py).
DASHBOARD_APP_METRICS = {"ItemsCreated", "ItemsDuplicate"}


def alarms(applied: AppliedTerraform) -> dict[str, dict[str, Any]]:
    cloudwatch = aws_clients(applied.endpoint)["cloudwatch"]
    found = cloudwatch.describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"]
    return {alarm["AlarmName"]: alarm for alarm in found}


def dimensions(alarm_or_metric: dict[str, Any]) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in alarm_or_metric.get("Dimensions", [])}


def test_every_alarm_notifies_the_topic_on_alarm_and_on_ok(
    applied_terraform: AppliedTerraform,
) -> None:
    found = alarms(applied_terraform)

    assert set(found) == ALARMS
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [TOPIC], name
        assert alarm["OKActions"] == [TOPIC], name
        assert alarm["ActionsEnabled"] is True, name
        assert "docs/operations.md" in alarm["AlarmDescription"], name
    assert sorted(applied_terraform.output_json()["alarm_names"]) == sorted(ALARMS)
    assert applied_terraform.output_json()["alarm_topic_arn"] == TOPIC


def test_the_topic_and_its_email_subscription(applied_terraform: AppliedTerraform) -> None:
    sns = aws_clients(applied_terraform.endpoint)["sns"]
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert TOPIC in topics
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [
        ("email", address) for address in ALARM_EMAILS
    ]


def test_lambda_alarms_watch_the_right_function_and_statistic(
    applied_terraform: AppliedTerraform,
) -> None:
    found = alarms(applied_terraform)
    function = {name: f"{PREFIX}-{name}" for name in ("dashboard", "sse")}

    concurrency = found[f"{PREFIX}-sse-concurrency-near-limit"]
    assert (concurrency["Namespace"], concurrency["MetricName"]) == (
        "AWS/Lambda", "ConcurrentExecutions")  # fmt: skip
    assert dimensions(concurrency) == {"FunctionName": function["sse"]}
    assert concurrency["Statistic"] == "Maximum"
    # 80% of the default reservation of 50 streams.
    assert concurrency["Threshold"] == 40
    assert concurrency["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (concurrency["Period"], concurrency["EvaluationPeriods"]) == (60, 3)
    assert concurrency["DatapointsToAlarm"] == 2

    for name in ("dashboard", "sse"):
        for metric, threshold in (("Errors", 5), ("Throttles", 1)):
            alarm = found[f"{PREFIX}-{name}-{metric.lower()}"]
            assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", metric)
            assert dimensions(alarm) == {"FunctionName": function[name]}
            assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == (
                "Sum", 300, threshold)  # fmt: skip
            assert alarm["TreatMissingData"] == "notBreaching"

    rest = found[f"{PREFIX}-dashboard-5xx"]
    assert (rest["MetricName"], dimensions(rest)) == (
        "Url5xxCount", {"FunctionName": function["dashboard"]})  # fmt: skip
    assert (rest["Statistic"], rest["Period"], rest["Threshold"]) == ("Sum", 300, 5)


def test_app_metric_alarms_use_the_metrics_the_apps_write(
    applied_terraform: AppliedTerraform,
) -> None:
    found = alarms(applied_terraform)

    lag = found[f"{PREFIX}-delivery-lag-p99"]
    assert (lag["Namespace"], lag["MetricName"]) == (NAMESPACE, "DeliveryLag")
    assert dimensions(lag) == SSE_DIMENSIONS
    assert lag["ExtendedStatistic"] == "p99"
    assert "Statistic" not in lag
    assert (lag["Threshold"], lag["ComparisonOperator"]) == (5000, "GreaterThanThreshold")
    assert (lag["Period"], lag["EvaluationPeriods"], lag["DatapointsToAlarm"]) == (60, 5, 3)

    errors = found[f"{PREFIX}-stream-errors"]
    assert (errors["Namespace"], errors["MetricName"]) == (NAMESPACE, "StreamsClosed")
    assert dimensions(errors) == {**SSE_DIMENSIONS, "Reason": "error"}
    assert "error" in STREAM_END_REASONS

    ingest = found[f"{PREFIX}-no-ingest"]
    assert (ingest["Namespace"], ingest["MetricName"]) == (NAMESPACE, "ItemsCreated")
    assert dimensions(ingest) == {"service": "dashboard", "environment": ENVIRONMENT}
    # An hour of 5-minute periods, every one without an item; no data at all counts as none.
    assert (ingest["Period"], ingest["EvaluationPeriods"], ingest["DatapointsToAlarm"]) == (
        300, 12, 12)  # fmt: skip
    assert (ingest["Threshold"], ingest["ComparisonOperator"]) == (1, "LessThanThreshold")
    assert ingest["TreatMissingData"] == "breaching"


def math_alarm(alarm: dict[str, Any]) -> tuple[str, dict[str, dict[str, Any]]]:
    """The expression the alarm watches, and its metrics by id."""
    [watched] = [q for q in alarm["Metrics"] if q.get("ReturnData")]
    metrics = {q["Id"]: q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q}
    return watched["Expression"], metrics


def test_poll_errors_alarm_adds_up_every_kind(applied_terraform: AppliedTerraform) -> None:
    alarm = alarms(applied_terraform)[f"{PREFIX}-poll-errors"]
    expression, metrics = math_alarm(alarm)

    assert {m["Metric"]["MetricName"] for m in metrics.values()} == {"PollErrors"}
    kinds = {dimensions(m["Metric"])["Kind"] for m in metrics.values()}
    assert kinds == set(POLL_ERROR_KINDS)
    for stat in metrics.values():
        assert stat["Metric"]["Namespace"] == NAMESPACE
        assert dimensions(stat["Metric"]) == {
            **SSE_DIMENSIONS,
            "Kind": dimensions(stat["Metric"])["Kind"],
        }
        assert (stat["Stat"], stat["Period"]) == ("Sum", 60)
    assert expression == f"SUM(FILL([{', '.join(sorted(metrics))}], 0))"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 3)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        1, "GreaterThanOrEqualToThreshold")  # fmt: skip


def test_dynamodb_throttles_alarm_covers_every_table_and_the_index(
    applied_terraform: AppliedTerraform,
) -> None:
    alarm = alarms(applied_terraform)[f"{PREFIX}-dynamodb-throttles"]
    expression, metrics = math_alarm(alarm)

    watched = {
        (m["Metric"]["MetricName"], tuple(sorted(dimensions(m["Metric"]).items())))
        for m in metrics.values()
    }
    tables = {t: f"{PREFIX}-{t}" for t in ("items", "counters", "configurations")}
    expected = {
        (f"{kind}ThrottleEvents", tuple(sorted(d.items())))
        for kind in ("Read", "Write")
        for d in [{"TableName": name} for name in tables.values()]
        + [{"TableName": tables["items"], "GlobalSecondaryIndexName": "by_bucket"}]
    }
    assert watched == expected
    assert all(m["Metric"]["Namespace"] == "AWS/DynamoDB" for m in metrics.values())
    assert expression == f"SUM(FILL([{', '.join(sorted(metrics))}], 0))"
    assert alarm["Threshold"] == 10


def dashboard_body(applied: AppliedTerraform) -> dict[str, Any]:
    cloudwatch = aws_clients(applied.endpoint)["cloudwatch"]
    body: dict[str, Any] = json.loads(
        cloudwatch.get_dashboard(DashboardName=PREFIX)["DashboardBody"]
    )
    return body


def graphed(widget: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of each metric a graph plots (expressions left out)."""
    found = []
    for row in widget["properties"]["metrics"]:
        names = [part for part in row if isinstance(part, str)]
        if len(names) >= 2:
            found.append((names[0], names[1], dict(zip(names[2::2], names[3::2], strict=True))))
    return found


def test_the_dashboard_plots_streams_delivery_errors_storage_and_ingest(
    applied_terraform: AppliedTerraform,
) -> None:
    widgets = dashboard_body(applied_terraform)["widgets"]
    by_title = {w["properties"].get("title"): w for w in widgets if w["type"] != "text"}

    assert set(by_title) == {
        "Open streams",
        "Streams opened, ended (by reason) and refused",
        "Delivery lag: item stored to item sent (ms)",
        "Lambda errors and throttles",
        "REST API (dashboard Function URL)",
        "SSE poller: polls and failed polls (by kind)",
        "DynamoDB throttle events",
        "Ingest: items per 5 minutes",
        "Alarms",
        "Streams that ended with an error (newest first)",
    }
    for widget in widgets:  # on the 24-column grid, none overlapping the next row
        assert widget["x"] + widget["width"] <= 24
    plotted = {title: graphed(w) for title, w in by_title.items() if w["type"] == "metric"}

    assert ("AWS/Lambda", "ConcurrentExecutions", {"FunctionName": f"{PREFIX}-sse"}) in plotted[
        "Open streams"]  # fmt: skip
    assert (NAMESPACE, "StreamSeconds", SSE_DIMENSIONS) in plotted["Open streams"]
    reserved = by_title["Open streams"]["properties"]["annotations"]["horizontal"]
    assert {(a["label"], a["value"]) for a in reserved} == {
        ("reserved concurrency (429 beyond)", 50), ("alarm", 40)}  # fmt: skip
    ended = {d.get("Reason") for _, m, d in plotted["Streams opened, ended (by reason) and refused"]
             if m == "StreamsClosed"}  # fmt: skip
    assert ended == set(STREAM_END_REASONS)
    lag = by_title["Delivery lag: item stored to item sent (ms)"]["properties"]["metrics"]
    assert [row[-1]["stat"] for row in lag] == ["p50", "p99"]
    assert {m for _, m, _ in plotted["REST API (dashboard Function URL)"]} == {
        "Url4xxCount", "Url5xxCount", "UrlRequestCount"}  # fmt: skip
    lambda_metrics = {(m, d["FunctionName"]) for _, m, d in plotted["Lambda errors and throttles"]}
    assert lambda_metrics == {
        (metric, f"{PREFIX}-{name}")
        for metric in ("Errors", "Throttles")
        for name in ("dashboard", "sse")
    }
    kinds = {d["Kind"] for _, m, d in plotted["SSE poller: polls and failed polls (by kind)"]
             if m == "PollErrors"}  # fmt: skip
    assert kinds == set(POLL_ERROR_KINDS)
    throttled = {(m, d.get("TableName"), d.get("GlobalSecondaryIndexName"))
                 for _, m, d in plotted["DynamoDB throttle events"]}  # fmt: skip
    assert len(throttled) == 8
    assert ("ReadThrottleEvents", f"{PREFIX}-items", "by_bucket") in throttled
    assert (NAMESPACE, "ItemsCreated", {"service": "dashboard", "environment": ENVIRONMENT}) in (
        plotted["Ingest: items per 5 minutes"]
    )

    # Every app metric graphed is one the apps write, with their dimensions.
    for namespace, metric, found in (row for rows in plotted.values() for row in rows):
        if namespace == NAMESPACE:
            assert metric in set(METRIC_NAMES) | DASHBOARD_APP_METRICS, metric
            assert found["environment"] == ENVIRONMENT
            assert found["service"] in ("sse", "dashboard")

    alarm_arns = set(by_title["Alarms"]["properties"]["alarms"])
    assert alarm_arns == {a["AlarmArn"] for a in alarms(applied_terraform).values()}
    log = by_title["Streams that ended with an error (newest first)"]["properties"]
    assert log["query"].startswith(f"SOURCE '/aws/lambda/{PREFIX}-sse' | fields @timestamp")
    assert 'filter message = "stream closed" and reason = "error"' in log["query"]
    url = applied_terraform.output_json()["cloudwatch_dashboard_url"]
    assert url == (f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
                   f"#dashboards/dashboard/{PREFIX}")  # fmt: skip


def test_the_saved_queries(applied_terraform: AppliedTerraform) -> None:
    logs = aws_clients(applied_terraform.endpoint)["logs"]
    found = logs.describe_query_definitions(queryDefinitionNamePrefix=f"{PREFIX}/")
    queries = {q["name"].removeprefix(f"{PREFIX}/"): q for q in found["queryDefinitions"]}
    sse, dashboard = f"/aws/lambda/{PREFIX}-sse", f"/aws/lambda/{PREFIX}-dashboard"

    assert {name: sorted(q["logGroupNames"]) for name, q in queries.items()} == {
        "Streams that ended with an error": [sse],
        "Slowest deliveries (per stream, once it ended)": [sse],
        "Top rejected clients": [dashboard, sse],
        "Why streams ended": [sse],
        "Stream opens by client": [sse],
        "Storage outages and failures": [dashboard, sse],
        "Everything one page did (edit the correlation id)": [dashboard, sse],
    }
    errors = queries["Streams that ended with an error"]["queryString"]
    assert 'filter message = "stream closed" and reason = "error"' in errors
    assert "sort @timestamp desc" in errors
    slowest = queries["Slowest deliveries (per stream, once it ended)"]["queryString"]
    assert "sort max_delivery_lag_ms desc" in slowest
    rejected = queries["Top rejected clients"]["queryString"]
    assert re.search(
        r'filter message = "request rejected"\s*\| stats count\(\*\) as rejected', rejected
    )
    assert "by client_ip, status" in rejected
    assert sorted(applied_terraform.output_json()["log_query_names"]) == sorted(
        f"{PREFIX}/{name}" for name in queries
    )


def test_a_second_plan_changes_nothing(applied_terraform: AppliedTerraform) -> None:
    """Everything reads back as applied (the saved queries included), so no drift on re-plan."""
    result = applied_terraform.terraform.run(
        "plan", "-detailed-exitcode", "-no-color", "-input=false", "-lock=false", check=False
    )
    assert result.returncode == 0, f"plan wants changes:\n{result.stdout[-4000:]}{result.stderr}"


def test_the_runbook_covers_every_alarm(applied_terraform: AppliedTerraform) -> None:
    runbook = (ROOT / "docs" / "operations.md").read_text()
    for name in alarms(applied_terraform):
        documented = name.replace(f"{ENVIRONMENT}-", "<env>-", 1)
        assert f"`{documented}`" in runbook, f"docs/operations.md does not explain {documented}"


def test_an_own_topic_replaces_the_created_one(applied_terraform: AppliedTerraform) -> None:
    """Planned on the applied stack: with alarm_sns_topic_arn the module deletes its topic and
    subscription and points every alarm at the given topic; alarm_no_ingest_minutes = null
    removes that alarm (and its place on the dashboard) and touches nothing else."""
    own = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:oncall"
    terraform = applied_terraform.terraform
    # A file, not -var: -var cannot pass null.
    overrides = terraform.path / "monitoring.tfvars.json"
    overrides.write_text(json.dumps({"alarm_sns_topic_arn": own, "alarm_no_ingest_minutes": None}))
    terraform.run(
        "plan", "-out=monitoring.tfplan", "-no-color", "-input=false", "-lock=false",
        f"-var-file={overrides}",
    )  # fmt: skip
    plan = json.loads(terraform.run("show", "-json", "monitoring.tfplan").stdout)
    changes = {
        change["address"]: change
        for change in plan["resource_changes"]
        if change["change"]["actions"] != ["no-op"]
    }

    deleted = {address for address, c in changes.items() if c["change"]["actions"] == ["delete"]}
    assert deleted == {
        "aws_sns_topic.alarms[0]",
        f'aws_sns_topic_subscription.alarm_email["{ALARM_EMAILS[0]}"]',
        "aws_cloudwatch_metric_alarm.no_ingest[0]",
    }
    updated = {address: c for address, c in changes.items() if c["change"]["actions"] == ["update"]}
    # Every other alarm, and the dashboard, whose alarm widget loses the ingest alarm.
    dashboard = updated.pop("aws_cloudwatch_dashboard.main")
    body = json.loads(dashboard["change"]["after"]["dashboard_body"])
    [widget] = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert not [arn for arn in widget["properties"]["alarms"] if arn.endswith("-no-ingest")]
    assert len(widget["properties"]["alarms"]) == len(ALARMS) - 1
    assert len(updated) == len(ALARMS) - 1
    for address, change in updated.items():
        assert address.startswith("aws_cloudwatch_metric_alarm."), address
        assert change["change"]["after"]["alarm_actions"] == [own], address
        assert change["change"]["after"]["ok_actions"] == [own], address
