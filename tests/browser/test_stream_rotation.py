"""Streams end on purpose before the Lambda deadline (here every 2-3 s): the page resumes
at once with the last event id, loses nothing, shows nothing twice and stays "Connected"."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.support import POLL_INTERVAL, browser_marks, news_item, post_items, wait_until

pytestmark = browser_marks()

MAX_STREAM_SECONDS = 3


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return {"SSE_MAX_STREAM_SECONDS": str(MAX_STREAM_SECONDS)}


def test_rotated_streams_resume_quietly_and_lose_nothing(open_page: Any, api: httpx.Client) -> None:
    session = open_page()
    page = session.page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    page.evaluate(
        """() => {
          const node = document.querySelector('[data-testid="connection"]');
          window.connectionStates = [node.dataset.state];
          new MutationObserver(() => window.connectionStates.push(node.dataset.state))
            .observe(node, { attributes: true, attributeFilter: ['data-state'] });
        }"""
    )

    def stream_requests() -> list[str]:
        return [url for url in session.log.requests if "/api/v2/stream" in url]

    posted = []
    for round_ in range(3):
        # One item just before a rotation and one during it, so some come by replay.
        seen = len(stream_requests())
        for _ in range(2):
            item = news_item(["AAPL"], "positive" if round_ % 2 else "negative")
            post_items(api, item)
            posted.append(item)
        wait_until(
            lambda seen=seen: len(stream_requests()) > seen,
            MAX_STREAM_SECONDS + 5,
            "the stream was not rotated",
            page=page,
        )
    for item in posted:
        expect(page.locator(f'[data-item-id="{item["item_id"]}"]')).to_have_count(
            1, timeout=(POLL_INTERVAL + 2) * 1000
        )
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
    assert set(page.evaluate("window.connectionStates")) == {"connected"}
    resumed = stream_requests()[1:]
    assert len(resumed) >= 3
    assert all("last_event_id=" in url for url in resumed), resumed
