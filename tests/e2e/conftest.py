"""The deployment suite: runs against ANY deployment given DASHBOARD_URL and SSE_LAMBDA_URL.

Tests that write (items, configurations) are marked ``writes`` and run only with
``E2E_WRITES=1``: the local stack and preprod allow it, prod does not, so the suite against prod
reads health, metrics and streams and leaves the data alone. A test that asks for the
``writer`` or ``config`` fixture without the mark is a collection error, so none slips through.
"""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.e2e.client import MISSING_INGEST_KEY, Deployment, MissingTargetError
from tests.utils.factories import item_payload

pytestmark = pytest.mark.e2e

WRITES_ENV = "E2E_WRITES"
WRITING_FIXTURES = frozenset({"writer", "config"})


def writes_allowed() -> bool:
    return os.environ.get(WRITES_ENV) == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if WRITING_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("writes") is None
    ]
    if unmarked:
        raise pytest.UsageError(f"tests that write must be marked `writes`: {unmarked}")
    if writes_allowed():
        return
    kept = [item for item in items if item.get_closest_marker("writes") is None]
    deselected = [item for item in items if item.get_closest_marker("writes") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


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
    """The deployment, for tests that write (``E2E_WRITES=1``): a missing key fails them."""
    if not writes_allowed():
        pytest.fail(f"{WRITES_ENV} is not 1: this suite must not write to the deployment")
    if not deployment.api_key:
        pytest.fail(MISSING_INGEST_KEY, pytrace=False)
    return deployment


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
