"""The page at the public edge: it runs under a strict Content-Security-Policy, loads its data
once per open, lets go of its stream while the tab is hidden (a background tab must not hold a
Lambda environment) and resumes without losing or repeating an item, and /docs works offline."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, expect

from tests.browser.support import (
    POLL_INTERVAL,
    BrowserStack,
    anonymous_session,
    browser_marks,
    create_watch_lists,
    news_item,
    post_items,
    storage_with_session,
    wait_until,
)

pytestmark = browser_marks()

ARRIVAL_MS = (POLL_INTERVAL + 2) * 1000
# Records every CSP violation the page reports (an init script runs before the page's own).
CSP_RECORDER = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_page_runs_under_its_content_security_policy(
    open_page: Any, api: httpx.Client, stack: BrowserStack
) -> None:
    session = open_page(goto=False)
    page: Page = session.page
    page.add_init_script(CSP_RECORDER)
    response = page.goto(f"{stack.dashboard_url}/")
    assert response is not None
    headers = response.headers
    policy = dict(
        part.strip().partition(" ")[::2] for part in headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["connect-src"] == f"'self' {stack.sse_url}"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    # Everything the page does still works under it: stream, snapshot, a watch list.
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    item = news_item(["AAPL"], "positive")
    post_items(api, item)
    expect(page.locator(f'[data-item-id="{item["item_id"]}"]')).to_be_visible(timeout=ARRIVAL_MS)
    page.get_by_test_id("config-name-input").fill("Apple")
    page.get_by_test_id("config-tickers-input").fill("AAPL")
    page.get_by_test_id("config-create").click()
    page.get_by_test_id("config-row").filter(has_text="Apple").get_by_test_id("config-show").click()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    expect(page.locator(f'[data-item-id="{item["item_id"]}"]')).to_be_visible()
    assert page.evaluate("window.cspViolations") == []
    assert session.log.console_errors == []


def test_docs_work_offline_with_no_third_party_script(open_page: Any, stack: BrowserStack) -> None:
    session = open_page(goto=False)
    page: Page = session.page
    elsewhere: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).netloc == urlsplit(stack.dashboard_url).netloc:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.add_init_script(CSP_RECORDER)
    response = page.goto(f"{stack.dashboard_url}/docs")
    assert response is not None
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Sentiment dashboard API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v2/metrics").first).to_be_visible()
    assert elsewhere == []
    assert page.evaluate("window.cspViolations") == []


def snapshot_requests(requests: list[str]) -> dict[str, int]:
    paths = [urlsplit(url).path for url in requests]
    return {
        "metrics": paths.count("/api/v2/metrics"),
        "items": paths.count("/api/v2/items"),
    }


def test_one_snapshot_load_per_page_open(open_page: Any, api: httpx.Client) -> None:
    session = open_page()
    page = session.page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    page.wait_for_timeout(3_000)  # long enough for a second load to have happened
    assert snapshot_requests(session.log.requests) == {"metrics": 1, "items": 1}
    # Nothing falls between the snapshot and the stream: an item posted right away arrives.
    item = news_item(["AAPL"], "positive")
    post_items(api, item)
    expect(page.locator(f'[data-item-id="{item["item_id"]}"]')).to_have_count(1, timeout=ARRIVAL_MS)

    # A watch list's view: one metrics load, one items load per ticker, once.
    token = anonymous_session(api)
    create_watch_lists(api, token["token"], [("Pair", ["AAPL", "MSFT"])])
    other = open_page(
        storage_state=storage_with_session(str(api.base_url).rstrip("/"), token), settled=True
    )
    other.page.get_by_test_id("view-config").click()
    expect(other.page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    before = snapshot_requests(other.log.requests)
    other.page.wait_for_timeout(3_000)
    after = snapshot_requests(other.log.requests)
    assert after == before
    assert after == {"metrics": 2, "items": 3}  # the global view, then the watch list's
    expect(other.page.locator(f'[data-item-id="{item["item_id"]}"]')).to_have_count(1)


HIDE = """(hidden) => {
  Object.defineProperty(document, 'visibilityState', {
    configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def open_streams(stack: BrowserStack) -> int:
    status = httpx.get(f"{stack.sse_url}/api/v2/stream/status", timeout=5).json()
    connections: int = status["connections"]
    return connections


def test_hidden_tab_lets_go_of_its_stream_and_resumes_losing_nothing(
    open_page: Any, api: httpx.Client, stack: BrowserStack
) -> None:
    session = open_page()
    page = session.page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    before = news_item(["AAPL"], "positive")
    post_items(api, before)
    expect(page.locator(f'[data-item-id="{before["item_id"]}"]')).to_be_visible(timeout=ARRIVAL_MS)
    wait_until(lambda: open_streams(stack) == 1, 5, "the page's stream is not open")

    page.evaluate(HIDE, True)
    # After a short grace period the stream is closed: the server holds nothing for the tab.
    wait_until(lambda: open_streams(stack) == 0, 15, "the hidden tab kept its stream", page=page)
    expect(page.get_by_test_id("connection-status")).to_have_text("Paused")
    requests_while_hidden = len(session.log.requests)
    missed = [news_item(["MSFT"], "negative"), news_item(["NVDA"], "neutral")]
    post_items(api, missed[0])
    post_items(api, missed[1])
    page.wait_for_timeout(2_000)
    assert session.log.requests[requests_while_hidden:] == []  # no polling while hidden

    page.evaluate(HIDE, False)
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    for item in missed:
        expect(page.locator(f'[data-item-id="{item["item_id"]}"]')).to_have_count(
            1, timeout=ARRIVAL_MS
        )
    after = news_item(["AMZN"], "positive")
    post_items(api, after)
    expect(page.locator(f'[data-item-id="{after["item_id"]}"]')).to_have_count(
        1, timeout=ARRIVAL_MS
    )
    ids = page.get_by_test_id("feed-item").evaluate_all("els => els.map((e) => e.dataset.itemId)")
    assert len(ids) == len(set(ids))
    assert ids[:4] == [i["item_id"] for i in reversed([before, *missed, after])]
    resumed = [u for u in session.log.requests[requests_while_hidden:] if "/api/v2/stream" in u]
    assert resumed
    assert "last_event_id=" in resumed[0], resumed
    # The missed items came from the stream's replay, not from a second snapshot.
    assert snapshot_requests(session.log.requests) == {"metrics": 1, "items": 1}
