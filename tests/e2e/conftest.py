"""The deployment suite: runs against ANY deployment given DASHBOARD_URL and SSE_LAMBDA_URL."""

from __future__ import annotations

import secrets
import string
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.e2e.client import MISSING_INGEST_KEY, Deployment, MissingTargetError
from tests.utils.factories import item_payload

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def deployment() -> Deployment:
    try:
        return Deployment.from_environment()
    except MissingTargetError as error:
        pytest.exit(str(error), returncode=4)


@pytest.fixture(scope="session")
def stream_status(deployment: Deployment) -> dict[str, Any]:
    response = deployment.get("/api/v2/stream/status")
    assert response.status_code == 200, response.text
    status: dict[str, Any] = response.json()
    return status


@pytest.fixture
def writer(deployment: Deployment) -> Deployment:
    """The deployment, for tests that write: a missing key fails them, unless E2E_READ_ONLY."""
    if deployment.api_key:
        return deployment
    if deployment.read_only:
        pytest.skip("E2E_READ_ONLY is set: the tests that write are skipped")
    pytest.fail(MISSING_INGEST_KEY, pytrace=False)


@pytest.fixture
def ticker() -> str:
    """A ticker no one else uses, so a shared deployment's traffic cannot confuse a test."""
    return "E" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(7))


@pytest.fixture
def make_item(ticker: str) -> Callable[..., dict[str, Any]]:
    def make(**overrides: Any) -> dict[str, Any]:
        return item_payload(**{"tickers": [ticker], **overrides})

    return make


@pytest.fixture
async def sse_client() -> AsyncIterator[httpx.AsyncClient]:
    timeout = httpx.Timeout(30, read=90)
    async with httpx.AsyncClient(timeout=timeout) as client:
        yield client
