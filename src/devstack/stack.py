"""The local stack: moto server, tables, demo data, both apps and the demo producer.

The apps run exactly as on AWS but for where they listen and what they talk to: the dashboard
app under uvicorn (Mangum's job on Lambda), the SSE app through the same ``run.sh`` the Lambda
Web Adapter executes, and DynamoDB is moto's server mode on loopback.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib.resources import files

import boto3

from devstack.demo import seed_history
from devstack.supervisor import ProcessSpec, Supervisor
from sentiment.services import build_services
from sentiment.settings import Settings
from sentiment.store.tables import create_tables

HOST = "127.0.0.1"
DEV_AUTH_SECRET = "local-development-auth-secret-not-for-production"
DEV_INGEST_API_KEY = "local-dev-ingest-key"


@dataclass(frozen=True)
class StackConfig:
    dashboard_port: int = 8000
    sse_port: int = 8001
    moto_port: int = 8002
    seed_demo_data: bool = True
    producer_interval: float = 3.0

    @property
    def dashboard_url(self) -> str:
        return f"http://{HOST}:{self.dashboard_port}"

    @property
    def sse_url(self) -> str:
        return f"http://{HOST}:{self.sse_port}"

    @property
    def dynamodb_url(self) -> str:
        return f"http://{HOST}:{self.moto_port}"


def app_environment(config: StackConfig, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment both apps get: the caller's, with local wiring and dev defaults."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "ENVIRONMENT": "local",
            # Dummy credentials: the local stack must never reach a real AWS account.
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_DYNAMODB": config.dynamodb_url,
            "SSE_URL": config.sse_url,
            "CORS_ALLOWED_ORIGINS": f"{config.dashboard_url},http://localhost:{config.dashboard_port}",
            "PYTHON": sys.executable,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.setdefault("AUTH_SECRET", DEV_AUTH_SECRET)
    env.setdefault("INGEST_API_KEY", DEV_INGEST_API_KEY)
    env.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")
    # EMF lines are for CloudWatch; locally they would only drown the logs.
    env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        env.pop(name, None)
    return env


def process_specs(config: StackConfig, env: dict[str, str]) -> dict[str, ProcessSpec]:
    python = sys.executable
    return {
        "dynamodb": ProcessSpec(
            "dynamodb",
            [python, "-m", "devstack.dynamodb", "--host", HOST, "--port", str(config.moto_port)],
            env,
            ready_url=f"{config.dynamodb_url}/moto-api/",
        ),
        "dashboard": ProcessSpec(
            "dashboard",
            [
                python,
                "-m",
                "uvicorn",
                "--factory",
                "dashboard.app:create_app",
                "--host",
                HOST,
                "--port",
                str(config.dashboard_port),
                "--no-access-log",
            ],
            env,
            ready_url=f"{config.dashboard_url}/health",
        ),
        "sse": ProcessSpec(
            "sse",
            ["sh", str(files("sse") / "run.sh")],
            {**env, "PORT": str(config.sse_port), "SSE_HOST": HOST},
            ready_url=f"{config.sse_url}/health",
        ),
        "producer": ProcessSpec(
            "producer",
            [
                python,
                "-m",
                "devstack.demo",
                "--dashboard-url",
                config.dashboard_url,
                "--api-key",
                env["INGEST_API_KEY"],
                "--interval",
                str(config.producer_interval),
            ],
            env,
        ),
    }


def start_stack(config: StackConfig, supervisor: Supervisor) -> dict[str, str]:
    """Start everything in order; returns the environment the apps run with."""
    env = app_environment(config)
    specs = process_specs(config, env)
    supervisor.start(specs["dynamodb"])

    settings = Settings.model_validate({k: v for k, v in env.items() if k in Settings.model_fields})
    dynamodb = boto3.resource(
        "dynamodb",
        endpoint_url=config.dynamodb_url,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    created = create_tables(dynamodb.meta.client, settings)
    supervisor.say(f"created tables: {', '.join(created) or '(already there)'}")
    if config.seed_demo_data:
        count = seed_history(build_services(settings, dynamodb).items)
        supervisor.say(f"seeded {count} demo items over the last 24 hours")

    supervisor.start(specs["dashboard"])
    supervisor.start(specs["sse"])
    if config.seed_demo_data:
        supervisor.start(specs["producer"])
    return env
