"""Integration tests talk to real processes on loopback: the local stack as ``make run`` starts
it (moto server, dashboard under uvicorn, SSE app through run.sh), with fast SSE timings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.utils.processes import RunningStack, running_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    """One empty local stack (no demo data) shared by the session."""
    with running_stack(demo=False) as running:
        yield running


@pytest.fixture
def api(stack: RunningStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.dashboard_url, timeout=10) as client:
        yield client


@pytest.fixture
async def sse_client() -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=30), limits=limits) as client:
        yield client
