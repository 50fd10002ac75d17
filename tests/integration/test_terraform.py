"""infrastructure/terraform: formatting, validation, checkov, and a real apply/destroy on moto.

Terraform runs offline against the hashicorp/aws provider in a filesystem mirror
($TF_PLUGIN_DIR, default /opt/tf-plugins), always in a temporary copy of the module with its own
TF_DATA_DIR, so nothing is written into the repository (tests/utils/terraform.py). Tests skip
with the reason when the terraform binary or the provider mirror is missing.

The apply test deploys the module into a moto server on loopback (a provider override in the
copy points every endpoint there) and reads everything back with boto3; the stack is the shared
``applied_terraform`` session fixture and ``terraform destroy`` is checked to leave nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

# Its asserts (the destroy check) get pytest's messages; it is also loaded as a plugin below.
pytest.register_assert_rewrite("tests.utils.terraform")

from tests.utils.terraform import (  # noqa: E402
    AUTH_SECRET,
    CORS_ORIGINS,
    ENVIRONMENT,
    INGEST_API_KEY,
    MODULE,
    ROOT,
    AppliedTerraform,
    TerraformWorkdir,
    aws_clients,
    destroy,
    leftovers,
    require_terraform,
    terraform_binary,
)

# The shared session fixture `applied_terraform` (and its teardown) is loaded by tests/conftest.py.
pytestmark = [pytest.mark.terraform, pytest.mark.timeout(600)]

TOOLS_VENV = Path(os.environ.get("TOOLS_VENV", ROOT / ".venv-tools"))
SETTINGS_FIELDS = {
    "ENVIRONMENT", "ITEMS_TABLE", "COUNTERS_TABLE", "CONFIGURATIONS_TABLE", "ITEM_TTL_DAYS",
    "INDEX_WRITE_SHARDS", "DYNAMODB_CONNECT_TIMEOUT", "DYNAMODB_READ_TIMEOUT",
    "DYNAMODB_MAX_ATTEMPTS",
    "AUTH_SECRET_PARAM", "AUTH_SECRET_PREVIOUS_PARAM", "INGEST_API_KEY_PARAM",
    "SESSION_TTL_SECONDS", "STREAM_TICKET_TTL_SECONDS", "SSE_URL", "CORS_ALLOWED_ORIGINS",
    "SSE_HEARTBEAT_INTERVAL", "SSE_METRICS_INTERVAL", "SSE_POLL_INTERVAL", "SSE_MAX_CONNECTIONS",
    "SSE_REPLAY_LIMIT", "SSE_MAX_STREAM_SECONDS", "METRICS_NAMESPACE",
}  # fmt: skip
LWA_ENVIRONMENT = {
    "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
    "AWS_LWA_INVOKE_MODE": "response_stream",
    "AWS_LWA_READINESS_CHECK_PATH": "/health",
    "AWS_LWA_PORT": "8080",
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> TerraformWorkdir:
    """An initialised copy of the module (no backend, provider from the mirror)."""
    require_terraform()
    base = tmp_path_factory.mktemp("terraform-validate")
    terraform = TerraformWorkdir.create(base, base / "plugin-cache")
    terraform.init()
    return terraform


# --- static checks ----------------------------------------------------------------------------


def test_fmt_check(workdir: TerraformWorkdir) -> None:
    result = workdir.run("fmt", "-check", "-recursive", "-diff", "-no-color", str(MODULE),
                         check=False)  # fmt: skip
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


def test_validate(workdir: TerraformWorkdir) -> None:
    result = workdir.run("validate", "-json", "-no-color", check=False)
    report = json.loads(result.stdout)
    assert report["valid"], json.dumps(report["diagnostics"], indent=2)
    assert report["warning_count"] == 0, json.dumps(report["diagnostics"], indent=2)


def console(workdir: TerraformWorkdir, expression: str, **variables: str) -> CompletedProcess[str]:
    """``terraform console`` on one expression, with the required variables and ``variables``."""
    values = {
        "auth_secret": AUTH_SECRET,
        "ingest_api_key": INGEST_API_KEY,
        "environment": "tftest",
        "cors_allowed_origins": json.dumps(CORS_ORIGINS),
        **variables,
    }
    arguments = [part for name, value in values.items() for part in ("-var", f"{name}={value}")]
    return subprocess.run(
        [str(terraform_binary()), "console", "-no-color", *arguments],
        input=f"{expression}\n",
        cwd=workdir.path,
        env=workdir.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("previous", "stored"),
    [({}, AUTH_SECRET), ({"auth_secret_previous": ""}, AUTH_SECRET),
     ({"auth_secret_previous": "old-" + "s" * 40}, "old-" + "s" * 40)],
    ids=["unset", "empty CI secret", "rotation"],
)  # fmt: skip
def test_previous_signing_secret_parameter_value(
    workdir: TerraformWorkdir, previous: dict[str, str], stored: str
) -> None:
    """An unset or empty AUTH_SECRET_PREVIOUS (as an absent CI secret arrives) stores the current
    secret, which adds no key; during a rotation it stores the old one (ssm.tf's expression)."""
    result = console(
        workdir, "nonsensitive(coalesce(var.auth_secret_previous, var.auth_secret))", **previous
    )
    assert result.returncode == 0, result.stderr
    assert "Invalid value for variable" not in result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == stored


def test_a_short_previous_signing_secret_is_refused(workdir: TerraformWorkdir) -> None:
    result = console(workdir, "var.environment", auth_secret_previous="short")
    # console reports the failed validation without failing (plan and apply stop on it).
    output = " ".join((result.stdout + result.stderr).split())
    assert "Invalid value for variable" in output
    assert "auth_secret_previous must be at least 32 characters (the old auth_secret)" in output


def test_repository_module_has_no_local_state() -> None:
    """The tests never init in the repository itself (and nobody should commit state)."""
    assert not (MODULE / ".terraform").exists()
    assert not list(MODULE.glob("*.tfstate*"))


def checkov_binary() -> Path:
    checkov = TOOLS_VENV / "bin" / "checkov"
    if not checkov.exists():
        installer = subprocess.run(
            [str(ROOT / "scripts" / "install-tools.sh")],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "TOOLS_VENV": str(TOOLS_VENV)},
        )
        if installer.returncode != 0 or not checkov.exists():
            pytest.skip(
                "checkov is not installed and scripts/install-tools.sh could not install it "
                f"(no PyPI access?):\n{installer.stderr[-2000:]}"
            )
    return checkov


def test_checkov_has_no_unexplained_failures() -> None:
    checkov = checkov_binary()
    result = subprocess.run(
        [str(checkov), "--directory", str(MODULE), "--framework", "terraform", "--output", "json",
         "--skip-download", "--compact", "--quiet"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )  # fmt: skip
    assert result.stdout.strip(), f"checkov printed nothing:\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"
        for section in reports
        for check in section.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, "checkov failures (fix them, or skip inline with a reason):\n" + "\n".join(
        failed
    )
    skipped = [c for s in reports for c in s.get("results", {}).get("skipped_checks", [])]
    unexplained = [
        f"{c['check_id']} {c['resource']}"
        for c in skipped
        if len(str(c.get("check_result", {}).get("suppress_comment", "")).strip()) < 20
    ]
    assert not unexplained, f"skips without a reason: {unexplained}"
    passed = sum(s.get("summary", {}).get("passed", 0) for s in reports)
    assert passed > 0


# --- apply against moto -----------------------------------------------------------------------


def environment_of(function: dict[str, Any]) -> dict[str, str]:
    variables: dict[str, str] = function["Configuration"]["Environment"]["Variables"]
    return variables


def test_apply_creates_the_functions(applied_terraform: AppliedTerraform) -> None:
    lam = aws_clients(applied_terraform.endpoint)["lambda"]
    outputs = applied_terraform.outputs
    dashboard = lam.get_function(FunctionName=f"{ENVIRONMENT}-sentiment-dashboard")
    sse = lam.get_function(FunctionName=f"{ENVIRONMENT}-sentiment-sse")

    for function in (dashboard, sse):
        config = function["Configuration"]
        assert config["Runtime"] == "python3.12"
        assert config["Architectures"] == ["x86_64"]
        assert config["Role"].endswith(f":role/{config['FunctionName']}-role")
        env = environment_of(function)
        assert set(env) - set(LWA_ENVIRONMENT) == SETTINGS_FIELDS
        assert "AUTH_SECRET" not in env
        assert "AUTH_SECRET_PREVIOUS" not in env
        assert "INGEST_API_KEY" not in env
        assert env["ENVIRONMENT"] == ENVIRONMENT
        assert env["ITEMS_TABLE"] == f"{ENVIRONMENT}-sentiment-items"
        assert env["COUNTERS_TABLE"] == f"{ENVIRONMENT}-sentiment-counters"
        assert env["CONFIGURATIONS_TABLE"] == f"{ENVIRONMENT}-sentiment-configurations"
        assert env["AUTH_SECRET_PARAM"] == f"/{ENVIRONMENT}/sentiment/auth-secret"
        assert env["AUTH_SECRET_PREVIOUS_PARAM"] == f"/{ENVIRONMENT}/sentiment/auth-secret-previous"
        assert env["INGEST_API_KEY_PARAM"] == f"/{ENVIRONMENT}/sentiment/ingest-api-key"
        assert env["CORS_ALLOWED_ORIGINS"] == ""
        assert env["SSE_MAX_STREAM_SECONDS"] == "840"
        assert env["INDEX_WRITE_SHARDS"] == "4"
        timeouts = ("DYNAMODB_CONNECT_TIMEOUT", "DYNAMODB_READ_TIMEOUT", "DYNAMODB_MAX_ATTEMPTS")
        assert [env[name] for name in timeouts] == ["2", "5", "4"]

    dashboard_config, sse_config = dashboard["Configuration"], sse["Configuration"]
    assert dashboard_config["Handler"] == "dashboard.handler.handler"
    assert not dashboard_config.get("Layers")
    assert dashboard_config["MemorySize"] == 512
    assert dashboard_config["Timeout"] == 30
    dashboard_env = environment_of(dashboard)
    assert dashboard_env["SSE_URL"] == outputs["sse_lambda_function_url"].rstrip("/")
    assert not set(dashboard_env) & set(LWA_ENVIRONMENT)

    assert sse_config["Handler"] == "run.sh"
    assert [layer["Arn"] for layer in sse_config["Layers"]] == [
        applied_terraform.variables["lwa_layer_arn"]
    ]
    assert sse_config["Timeout"] == 900
    assert sse_config["MemorySize"] == 256
    sse_env = environment_of(sse)
    assert {k: sse_env[k] for k in LWA_ENVIRONMENT} == LWA_ENVIRONMENT
    assert sse_env["SSE_URL"] == ""


def test_apply_creates_public_function_urls(applied_terraform: AppliedTerraform) -> None:
    lam = aws_clients(applied_terraform.endpoint)["lambda"]
    expected = {
        "dashboard": ("BUFFERED", ["GET", "POST", "PATCH", "DELETE"],
                      ["content-type", "authorization", "x-api-key", "x-correlation-id"]),
        "sse": ("RESPONSE_STREAM", ["GET"],
                ["last-event-id", "authorization", "content-type", "x-correlation-id"]),
    }  # fmt: skip
    for name, (mode, methods, headers) in expected.items():
        function = f"{ENVIRONMENT}-sentiment-{name}"
        url = lam.get_function_url_config(FunctionName=function)
        assert url["AuthType"] == "NONE"
        assert url["InvokeMode"] == mode
        assert url["Cors"]["AllowOrigins"] == CORS_ORIGINS
        assert sorted(url["Cors"]["AllowMethods"]) == sorted(methods)
        assert sorted(url["Cors"]["AllowHeaders"]) == sorted(headers)
        assert url["Cors"]["MaxAge"] == 600

        statements = json.loads(lam.get_policy(FunctionName=function)["Policy"])["Statement"]
        by_action = {s["Action"]: s for s in statements if s["Principal"] in ("*", {"AWS": "*"})}
        assert "lambda:InvokeFunctionUrl" in by_action
        assert "lambda:InvokeFunction" in by_action


# The default reservation of the SSE function: the most streams open at once (docs/deploy.md,
# "Concurrency caps").
SSE_RESERVED_CONCURRENCY = 50


def test_apply_caps_sse_concurrency_and_leaves_the_pool_to_the_dashboard(
    applied_terraform: AppliedTerraform,
) -> None:
    """Every open stream holds one SSE environment: without a reservation, anyone holding
    sockets open takes the account's whole concurrency. moto enforces AWS's rule that 100 stay
    unreserved (MOTO_LAMBDA_CONCURRENCY_QUOTA, tests/utils/moto_server.py)."""
    lam = aws_clients(applied_terraform.endpoint)["lambda"]

    sse = lam.get_function_concurrency(FunctionName=f"{ENVIRONMENT}-sentiment-sse")
    dashboard = lam.get_function_concurrency(FunctionName=f"{ENVIRONMENT}-sentiment-dashboard")

    assert sse.get("ReservedConcurrentExecutions") == SSE_RESERVED_CONCURRENCY
    # The dashboard is not reserved: it scales in the unreserved pool the cap leaves free.
    assert "ReservedConcurrentExecutions" not in dashboard


def public_statements(lam: Any, function: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads(lam.get_policy(FunctionName=function)["Policy"])[
        "Statement"
    ]
    return [s for s in statements if s["Principal"] in ("*", {"AWS": "*"})]


def condition(statement: dict[str, Any], operator: str, key: str, parameter: str) -> str | None:
    """A statement's condition value, as AWS writes it (``Condition``) or as moto keeps
    AddPermission's parameter verbatim (``parameter``); lower-cased text."""
    value = statement.get("Condition", {}).get(operator, {}).get(key, statement.get(parameter))
    return None if value is None else str(value).lower()


def test_the_public_reaches_the_functions_only_through_their_urls(
    applied_terraform: AppliedTerraform,
) -> None:
    """Function URLs created since October 2025 need a public lambda:InvokeFunction statement
    too; it must hold only for calls through the URL (lambda:InvokedViaFunctionUrl), or any AWS
    account can Invoke the functions directly, synchronously or not."""
    lam = aws_clients(applied_terraform.endpoint)["lambda"]
    for name in ("dashboard", "sse"):
        function = f"{ENVIRONMENT}-sentiment-{name}"
        public = public_statements(lam, function)
        by_action: dict[str, list[dict[str, Any]]] = {}
        for statement in public:
            by_action.setdefault(statement["Action"], []).append(statement)

        assert set(by_action) == {"lambda:InvokeFunction", "lambda:InvokeFunctionUrl"}, public
        for statement in by_action["lambda:InvokeFunction"]:
            via_url = condition(
                statement, "Bool", "lambda:InvokedViaFunctionUrl", "InvokedViaFunctionUrl"
            )
            assert via_url == "true", f"{function}: public Invoke not only via its URL: {statement}"
            # AWS refuses FunctionUrlAuthType on InvokeFunction (only InvokeFunctionUrl takes it);
            # moto would accept it, so it must not creep in here.
            assert "FunctionUrlAuthType" not in statement
        for statement in by_action["lambda:InvokeFunctionUrl"]:
            auth = condition(
                statement, "StringEquals", "lambda:FunctionUrlAuthType", "FunctionUrlAuthType"
            )
            assert auth == "none", statement

        # Asynchronous invocations (only this account's principals may make any): never retried,
        # dropped after a minute, so one cannot hold an SSE environment three times over.
        invoke_config = lam.get_function_event_invoke_config(FunctionName=function)
        assert invoke_config["MaximumRetryAttempts"] == 0
        assert invoke_config["MaximumEventAgeInSeconds"] == 60


def test_the_example_tfvars_secrets_are_refused(applied_terraform: AppliedTerraform) -> None:
    """Copying terraform.tfvars.example and applying must not deploy its (public) placeholders."""
    result = applied_terraform.terraform.run(
        "plan", "-no-color", "-input=false", "-lock=false",
        f"-var-file={MODULE / 'terraform.tfvars.example'}", check=False,
    )  # fmt: skip
    errors = " ".join(result.stderr.split())

    assert result.returncode != 0, f"plan accepted the example's secrets:\n{result.stdout[-2000:]}"
    for variable, command in (("auth_secret", "openssl rand -hex 32"),
                              ("ingest_api_key", "openssl rand -hex 24")):  # fmt: skip
        assert (
            f"{variable} is still the placeholder of terraform.tfvars.example: generate one "
            f"({command})" in errors
        ), errors


def test_apply_creates_the_tables(applied_terraform: AppliedTerraform) -> None:
    from sentiment.store.tables import ALL_TABLES, TableSpec

    dynamodb = aws_clients(applied_terraform.endpoint)["dynamodb"]
    names = {
        "ITEMS_TABLE": applied_terraform.outputs["items_table_name"],
        "COUNTERS_TABLE": applied_terraform.outputs["counters_table_name"],
        "CONFIGURATIONS_TABLE": applied_terraform.outputs["configurations_table_name"],
    }
    spec: TableSpec
    for spec in ALL_TABLES:
        name = names[spec.settings_field]
        assert name == f"{ENVIRONMENT}-sentiment-{spec.settings_field.split('_')[0].lower()}"
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
        assert keys == {
            "HASH": spec.hash_key,
            **({"RANGE": spec.range_key} if spec.range_key else {}),
        }
        attributes = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        assert attributes == spec.attributes
        indexes = {
            index["IndexName"]: (
                {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]},
                index["Projection"]["ProjectionType"],
            )
            for index in table.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == {
            index.name: ({"HASH": index.hash_key, "RANGE": index.range_key}, "ALL")
            for index in spec.indexes
        }
        assert table["SSEDescription"]["Status"] in ("ENABLED", "ENABLING")
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if spec.ttl_attribute:
            assert ttl["TimeToLiveStatus"] == "ENABLED"
            assert ttl["AttributeName"] == spec.ttl_attribute
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"
        backups = dynamodb.describe_continuous_backups(TableName=name)
        pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def role_policy(iam: Any, role: str) -> dict[str, set[str]]:
    """Actions by resource in the role's inline policies."""
    allowed: dict[str, set[str]] = {}
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [
                statement["Action"]]  # fmt: skip
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [
                statement["Resource"]]  # fmt: skip
            for resource in resources:
                allowed.setdefault(resource, set()).update(actions)
    return allowed


def test_apply_creates_least_privilege_roles(applied_terraform: AppliedTerraform) -> None:
    clients = aws_clients(applied_terraform.endpoint)
    iam = clients["iam"]
    tables = {
        t: clients["dynamodb"].describe_table(TableName=f"{ENVIRONMENT}-sentiment-{t}")["Table"][
            "TableArn"]
        for t in ("items", "counters", "configurations")
    }  # fmt: skip
    indexes = [f"{tables['items']}/index/{name}" for name in ("by_bucket", "by_bucket_r1")]
    by_rank = f"{tables['counters']}/index/by_rank"
    for role in (f"{ENVIRONMENT}-sentiment-dashboard-role", f"{ENVIRONMENT}-sentiment-sse-role"):
        trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
        # Logs only through the inline policy scoped to the function's own group.
        assert not iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]

    dashboard = role_policy(iam, f"{ENVIRONMENT}-sentiment-dashboard-role")
    assert dashboard[tables["items"]] == {"dynamodb:PutItem", "dynamodb:GetItem"}
    for index in indexes:
        assert dashboard[index] == {"dynamodb:Query"}
    assert dashboard[tables["counters"]] == {"dynamodb:UpdateItem", "dynamodb:BatchGetItem"}
    assert dashboard[by_rank] == {"dynamodb:Query"}
    assert dashboard[tables["configurations"]] == {
        "dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }  # fmt: skip
    sse = role_policy(iam, f"{ENVIRONMENT}-sentiment-sse-role")
    for index in indexes:
        assert sse[index] == {"dynamodb:Query"}
    assert sse[tables["counters"]] == {"dynamodb:BatchGetItem"}
    assert sse[by_rank] == {"dynamodb:Query"}
    assert sse[tables["configurations"]] == {"dynamodb:GetItem"}
    assert tables["items"] not in sse
    ssm_resources = {r for r, actions in sse.items() if "ssm:GetParameter" in actions}
    assert sorted(r.rsplit(":parameter", 1)[1] for r in ssm_resources) == [
        f"/{ENVIRONMENT}/sentiment/auth-secret",
        f"/{ENVIRONMENT}/sentiment/auth-secret-previous",
    ]
    for policy, group in ((dashboard, "dashboard"), (sse, "sse")):
        log_resources = [r for r, actions in policy.items() if "logs:PutLogEvents" in actions]
        assert len(log_resources) == 1
        assert log_resources[0].endswith(
            f":log-group:/aws/lambda/{ENVIRONMENT}-sentiment-{group}:*"
        )
        assert not any(r == "*" for r, actions in policy.items() if any(
            a.startswith(("dynamodb:", "ssm:", "logs:", "kms:")) for a in actions))  # fmt: skip


def test_apply_creates_logs_and_secrets(applied_terraform: AppliedTerraform) -> None:
    clients = aws_clients(applied_terraform.endpoint)
    groups = clients["logs"].describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{ENVIRONMENT}-")
    retention = {g["logGroupName"]: g.get("retentionInDays") for g in groups["logGroups"]}
    assert retention == {
        f"/aws/lambda/{ENVIRONMENT}-sentiment-dashboard": 30,
        f"/aws/lambda/{ENVIRONMENT}-sentiment-sse": 30,
    }
    ssm = clients["ssm"]
    # No rotation under way: the previous signing secret is the current one (adds no key).
    for name, value in (
        ("auth-secret", AUTH_SECRET),
        ("auth-secret-previous", AUTH_SECRET),
        ("ingest-api-key", INGEST_API_KEY),
    ):
        parameter = ssm.get_parameter(Name=f"/{ENVIRONMENT}/sentiment/{name}", WithDecryption=True)
        assert parameter["Parameter"]["Type"] == "SecureString"
        assert parameter["Parameter"]["Value"] == value


def test_terraform_output_json(applied_terraform: AppliedTerraform) -> None:
    """What a deploy script reads: `terraform output -json` in the applied workdir."""
    outputs = applied_terraform.output_json()
    for name in ("dashboard_function_url", "sse_lambda_function_url"):
        assert outputs[name].startswith("https://")
        assert outputs[name].endswith(".on.aws/")
    assert outputs["dashboard_function_url"] != outputs["sse_lambda_function_url"]
    assert outputs["dashboard_origin"] == outputs["dashboard_function_url"].rstrip("/")
    assert outputs["dashboard_function_name"] == f"{ENVIRONMENT}-sentiment-dashboard"
    assert outputs["sse_function_name"] == f"{ENVIRONMENT}-sentiment-sse"
    assert outputs["items_table_name"] == f"{ENVIRONMENT}-sentiment-items"
    assert outputs["counters_table_name"] == f"{ENVIRONMENT}-sentiment-counters"
    assert outputs["configurations_table_name"] == f"{ENVIRONMENT}-sentiment-configurations"


def test_destroy_leaves_nothing(
    applied_terraform: AppliedTerraform, request: pytest.FixtureRequest
) -> None:
    """Runs `terraform destroy` now, unless later tests in this session still use the stack:
    then the session fixture destroys it at the end, with the same check."""
    if hasattr(request.config, "workerinput"):
        pytest.skip(
            "a pytest-xdist worker cannot know which tests it runs next; the session "
            "fixture destroys the stack at the end, with the same check"
        )
    items = request.session.items
    later = items[items.index(request.node) + 1 :]
    users = [
        item.nodeid for item in later if "applied_terraform" in getattr(item, "fixturenames", [])
    ]
    if users:
        pytest.skip(
            f"{len(users)} later test(s) use the stack; it is destroyed and checked at session end"
        )
    before = leftovers(applied_terraform.endpoint, ENVIRONMENT)
    assert all(before.values()), before

    destroy(applied_terraform)

    after = leftovers(applied_terraform.endpoint, ENVIRONMENT)
    assert after == {kind: [] for kind in after}


# --- monitoring switches (terraform console: what a plan would create) -----------------------


@pytest.mark.parametrize(
    ("reservation", "percent", "threshold"),
    [("50", "80", 40), ("7", "50", 4), ("1", "1", 1), ("0", "80", None)],
)  # fmt: skip
def test_the_concurrency_alarm_follows_the_reservation(
    workdir: TerraformWorkdir, reservation: str, percent: str, threshold: int | None
) -> None:
    """A share of the reservation, rounded up, at least one stream; no alarm without one (a
    reservation of 0 here; null, which -var cannot pass, takes the same path)."""
    result = console(
        workdir,
        "jsonencode(local.sse_concurrency_alarm)",
        sse_reserved_concurrency=reservation,
        alarm_sse_concurrency_percent=percent,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(json.loads(result.stdout.strip().splitlines()[-1])) == threshold


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [("alarm_no_ingest_minutes", "7", "alarm_no_ingest_minutes must be null or a multiple of 5"),
     ("alarm_sse_concurrency_percent", "0", "alarm_sse_concurrency_percent must be from 1 to 100"),
     ("alarm_sns_topic_arn", "oncall", "alarm_sns_topic_arn must be an SNS topic ARN"),
     ("alarm_email_addresses", '["not-an-address"]', "alarm_email_addresses must be email"),
     ("alarm_sns_kms_key_arn", "alias/aws/sns", "alarm_sns_kms_key_arn must be a KMS key")],
)  # fmt: skip
def test_monitoring_variables_are_validated(
    workdir: TerraformWorkdir, variable: str, value: str, message: str
) -> None:
    result = console(workdir, "var.environment", **{variable: value})
    output = " ".join((result.stdout + result.stderr).split())
    assert "Invalid value for variable" in output
    assert message in output
