"""A full service: the SSE app at its stream limit answers 503, Lambda throttling answers 429.
The page treats both alike: it says "Busy", backs off with jitter (``backoffDelay``, the same
schedule as any failed attempt), never storms, and connects by itself once there is room."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import httpx
import pytest
from playwright.sync_api import Route, expect

from tests.browser.support import BrowserStack, browser_marks, news_item, post_items, wait_until

pytestmark = browser_marks()

MAX_CONNECTIONS = 2


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return {"SSE_MAX_CONNECTIONS": str(MAX_CONNECTIONS)}


class HeldStream:
    """One stream held open from another thread until released."""

    def __init__(self, url: str) -> None:
        self.opened = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(url,), daemon=True)
        self.thread.start()
        assert self.opened.wait(10), "the stream did not open"

    def _hold(self, url: str) -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(5, read=None)) as client,
            client.stream("GET", url) as response,
        ):
            assert response.status_code == 200
            self.opened.set()
            for _ in response.iter_bytes():
                if self.release.is_set():
                    return

    def close(self) -> None:
        self.release.set()
        self.thread.join(10)


@pytest.fixture
def full_sse(stack: BrowserStack) -> Iterator[list[HeldStream]]:
    """Every stream slot of the SSE app taken."""
    held = [HeldStream(f"{stack.sse_url}/api/v2/stream") for _ in range(MAX_CONNECTIONS)]
    refused = httpx.get(f"{stack.sse_url}/api/v2/stream", timeout=5)
    assert refused.status_code == 503, refused.text
    assert refused.json()["detail"].startswith("stream capacity reached")
    try:
        yield held
    finally:
        for stream in held:
            stream.close()


def test_stream_at_its_limit_shows_busy_backs_off_and_connects_when_free(
    open_page: Any, stack: BrowserStack, full_sse: list[HeldStream]
) -> None:
    session = open_page(goto=False)
    page = session.page
    attempts: list[float] = []
    page.on(
        "request",
        lambda request: (
            attempts.append(time.monotonic()) if "/api/v2/stream" in request.url else None
        ),
    )
    page.goto(f"{stack.dashboard_url}/")
    status = page.get_by_test_id("connection-status")
    expect(status).to_have_text("Busy", timeout=10_000)
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "busy")
    expect(page.get_by_test_id("connection-detail")).to_have_text(
        re.compile(r"^(retry in \d+ s|retrying…)$")
    )
    page.wait_for_timeout(8_000)
    # backoffDelay: 0.5, 1, 2, 4 s (±20 %): at most 5 attempts in the first ~8 s, spreading out.
    assert 3 <= len(attempts) <= 5, attempts
    gaps = [b - a for a, b in pairwise(attempts)]
    assert all(later > earlier * 1.3 for earlier, later in pairwise(gaps)), gaps
    full_sse[0].close()
    expect(status).to_have_text("Connected", timeout=20_000)


def test_api_429_and_503_are_busy_too_and_retried_with_backoff(
    open_page: Any, api: httpx.Client, stack: BrowserStack
) -> None:
    session = open_page(goto=False)
    page = session.page
    answers = [(429, None), (503, "5")]
    seen: list[float] = []

    def busy_then_fine(route: Route) -> None:
        seen.append(time.monotonic())
        if answers:
            code, retry_after = answers.pop(0)
            headers = {"Retry-After": retry_after} if retry_after else {}
            detail = "Too Many Requests" if code == 429 else "storage is unavailable; retry shortly"
            route.fulfill(status=code, headers=headers, json={"detail": detail})
        else:
            route.continue_()

    page.route(f"{stack.dashboard_url}/api/v2/metrics*", busy_then_fine)
    earlier = news_item(["AAPL"], "positive")
    post_items(api, earlier)  # only the snapshot can show it (the stream starts after it)
    page.goto(f"{stack.dashboard_url}/")
    toast = page.get_by_test_id("error-toast")
    expect(toast).to_contain_text("The service is busy")
    expect(page.locator(f'[data-item-id="{earlier["item_id"]}"]')).to_be_visible(timeout=15_000)
    # The toast goes once the metrics are in: two refusals, one success, no storm.
    wait_until(lambda: not toast.count(), 15, "the busy toast did not go away", page=page)
    page.wait_for_timeout(1_000)
    assert len(seen) == 3, seen
    first_gap, second_gap = seen[1] - seen[0], seen[2] - seen[1]
    # backoffDelay, as for streams: about 0.5 s, then about 1 s (±20 %).
    assert 0.35 < first_gap < 1.5, first_gap
    assert 0.75 < second_gap < 2.5, second_gap
