"""The page's correlation id: one per page load, on every API call and every stream URL, and in
both apps' logs (docs/operations.md, "Tracing one page")."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.support import BrowserStack, wait_until

PAGE_ID = re.compile(r"[0-9a-f]{32}")


def test_the_page_tags_its_api_calls_and_streams_with_one_id(
    open_page: Any, stack: BrowserStack
) -> None:
    session = open_page(goto=False)
    page = session.page
    api_calls: list[tuple[str, str | None, str | None]] = []

    def record(response: Any) -> None:
        if "/api/v2/" in response.url and "/stream" not in response.url:
            sent = response.request.headers.get("x-correlation-id")
            api_calls.append((response.url, sent, response.headers.get("x-correlation-id")))

    page.on("response", record)
    page.goto(f"{stack.dashboard_url}/")
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=20_000)

    streams = [url for url in session.log.requests if "/api/v2/stream" in url]
    assert api_calls
    assert streams
    [page_id] = {sent for _, sent, _ in api_calls}
    assert page_id is not None
    assert PAGE_ID.fullmatch(page_id)
    # The dashboard took it as it was (it echoes what it logs).
    assert {echoed for _, _, echoed in api_calls} == {page_id}
    for url in streams:
        assert parse_qs(urlsplit(url).query)["correlation_id"] == [page_id], url

    def sse_logged() -> list[dict[str, Any]]:
        records = []
        for line in stack.output:
            name, _, text = line.partition("| ")
            if name.strip() == "sse" and text.startswith("{"):
                record = json.loads(text)
                if record.get("message") == "stream opened":
                    records.append(record)
        return records

    wait_until(
        lambda: any(r.get("correlation_id") == page_id for r in sse_logged()),
        10,
        "the SSE app never logged a stream opened with the page's correlation id",
    )

    # A reload is another page: another id.
    page.reload()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=20_000)
    assert len({sent for _, sent, _ in api_calls}) == 2
