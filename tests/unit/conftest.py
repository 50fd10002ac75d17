"""Unit tests run in process against moto's ``mock_aws``: no sockets, no processes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from sentiment.services import Services, build_services
from sentiment.settings import Settings
from sentiment.store.tables import create_tables

API_KEY = "unit-test-ingest-key"
AUTH_SECRET = "unit-test-auth-secret-0123456789abcdef"


class Clock:
    """A settable clock for code that takes ``clock=``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def settings() -> Settings:
    return Settings(
        ENVIRONMENT="test",
        AUTH_SECRET=AUTH_SECRET,  # type: ignore[arg-type]
        INGEST_API_KEY=API_KEY,  # type: ignore[arg-type]
        SSE_URL="http://127.0.0.1:8001/",
    )


@pytest.fixture
def dynamodb(aws: None, settings: Settings) -> Any:
    resource = boto3.resource("dynamodb")
    create_tables(resource.meta.client, settings)
    return resource


@pytest.fixture
def services(dynamodb: Any, settings: Settings) -> Services:
    return build_services(settings, dynamodb)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 21, 12, 30, tzinfo=UTC))


@pytest.fixture
def dashboard(services: Services) -> Iterator[TestClient]:
    from dashboard.app import create_app

    with TestClient(create_app(services=services)) as client:
        yield client
