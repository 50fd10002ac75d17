"""The page keeps itself connected: SSE outages, non-200 answers and the network going away.

A browser's EventSource gives up for good after a non-200 answer, so the page reconnects by
itself with backoff, resuming after the last event id (``?last_event_id=``) so the items it
missed are replayed from DynamoDB, each shown once.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from playwright.sync_api import Page, Route, expect

from tests.browser.support import (
    POLL_INTERVAL,
    RESULTS_DIR,
    BrowserStack,
    browser_marks,
    news_item,
    post_items,
)

pytestmark = browser_marks()

ARRIVAL_MS = (POLL_INTERVAL + 2) * 1000


def status(page: Page) -> Any:
    return page.get_by_test_id("connection-status")


def feed_entry(page: Page, item_id: str) -> Any:
    return page.locator(f'[data-testid="feed-item"][data-item-id="{item_id}"]')


def test_sse_outage_reconnects_and_replays_each_item_once(
    open_page: Any, api: httpx.Client, stack: BrowserStack
) -> None:
    session = open_page()
    page = session.page
    expect(status(page)).to_have_text("Connected", timeout=10_000)
    before = news_item(["AAPL"], "positive")
    post_items(api, before)
    expect(feed_entry(page, before["item_id"])).to_be_visible(timeout=ARRIVAL_MS)

    stack.stop_sse()
    try:
        expect(status(page)).to_have_text("Reconnecting", timeout=10_000)
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "reconnecting")
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        page.locator(".topbar").screenshot(path=RESULTS_DIR / "reconnecting.png")
        requests_before_restart = len(session.log.requests)
        missed = [
            news_item(["MSFT"], "negative"),
            news_item(["NVDA", "AAPL"], "positive"),
            news_item(["TSLA"], "neutral"),
        ]
        for item in missed:
            post_items(api, item)
    finally:
        stack.start_sse()

    expect(status(page)).to_have_text("Connected", timeout=40_000)
    for item in missed:
        expect(feed_entry(page, item["item_id"])).to_be_visible(timeout=ARRIVAL_MS)
    # Live items still flow after the replay, and nothing is shown twice.
    after = news_item(["AMZN"], "positive")
    post_items(api, after)
    expect(feed_entry(page, after["item_id"])).to_be_visible(timeout=ARRIVAL_MS)
    for item in [before, *missed, after]:
        assert feed_entry(page, item["item_id"]).count() == 1, item["item_id"]
    ids = page.get_by_test_id("feed-item").evaluate_all("els => els.map((e) => e.dataset.itemId)")
    assert len(ids) == len(set(ids))
    assert ids[:5] == [i["item_id"] for i in reversed([before, *missed, after])]

    # The missed items came from the stream's replay, not from a REST reload.
    later = session.log.requests[requests_before_restart:]
    streams = [url for url in later if "/api/v2/stream" in url]
    assert streams
    assert all("last_event_id=" in url for url in streams), streams
    assert not [url for url in later if "/api/v2/items" in url], later


def test_non_200_answers_are_retried_with_backoff(open_page: Any, stack: BrowserStack) -> None:
    session = open_page(goto=False)
    page = session.page
    attempts: list[float] = []

    def refuse_twice(route: Route) -> None:
        attempts.append(time.monotonic())
        if len(attempts) <= 2:
            route.fulfill(
                status=503,
                headers={
                    "Access-Control-Allow-Origin": stack.dashboard_url,
                    "Retry-After": "5",
                },
                content_type="application/json",
                body='{"detail": "stream capacity reached"}',
            )
        else:
            route.continue_()

    page.route(f"{stack.sse_url}/api/v2/stream**", refuse_twice)
    page.goto(f"{stack.dashboard_url}/")
    # A 503 is a full service, not a broken one: the page says so (issue 12), same backoff.
    expect(status(page)).to_have_text("Busy", timeout=10_000)
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "busy")
    expect(status(page)).to_have_text("Connected", timeout=15_000)
    assert len(attempts) >= 3
    # Backoff: about 0.5 s, then about 1 s (±20 % jitter), never the browser's 3 s retry.
    first_gap, second_gap = attempts[1] - attempts[0], attempts[2] - attempts[1]
    assert 0.35 < first_gap < 1.5, first_gap
    assert 0.75 < second_gap < 2.5, second_gap


def test_offline_and_back(open_page: Any) -> None:
    session = open_page()
    page = session.page
    expect(status(page)).to_have_text("Connected", timeout=10_000)
    page.context.set_offline(True)
    expect(status(page)).to_have_text("Offline", timeout=10_000)
    expect(page.get_by_test_id("connection-detail")).to_have_text("no network")
    page.context.set_offline(False)
    expect(status(page)).to_have_text("Connected", timeout=15_000)


def test_backoff_schedule(open_page: Any) -> None:
    """0.5 s doubling, ±20 %, never over 15 s; resuming puts the id in the query string."""
    page = open_page().page
    result = page.evaluate(
        """async () => {
          const { backoffDelay, withLastEventId } = await import('/js/stream.js');
          const bounds = (random) =>
            [1, 2, 3, 4, 5, 6, 7, 12].map((n) => backoffDelay(n, {}, random));
          return {
            low: bounds(() => 0), mid: bounds(() => 0.5), high: bounds(() => 0.999999),
            url: withLastEventId('http://sse.test/api/v2/stream?ticket=t', 'abc_-1'),
            fresh: withLastEventId('http://sse.test/api/v2/stream', null),
          };
        }"""
    )
    assert result["mid"] == [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]
    assert result["low"] == [400, 800, 1600, 3200, 6400, 12000, 12000, 12000]
    assert result["high"] == [600, 1200, 2400, 4800, 9600, 15000, 15000, 15000]
    assert result["url"] == "http://sse.test/api/v2/stream?ticket=t&last_event_id=abc_-1"
    assert result["fresh"] == "http://sse.test/api/v2/stream"


# Drives ResilientStream with a stand-in EventSource: each connection optionally greets with a
# heartbeat (id "id-N"), then fails after ``livedMs``; it runs until ``attempts`` connections
# were made. Millisecond backoff keeps it quick.
STATE_MACHINE = """async ({ greet, livedMs, healthyAfterMs, attempts }) => {
  const { ResilientStream } = await import('/js/stream.js');
  const ids = [];
  let opened = 0;
  class FakeSource {
    constructor() {
      this.listeners = {};
      const n = ++opened;
      setTimeout(() => {
        if (greet) for (const fn of this.listeners.heartbeat || [])
          fn({ type: 'heartbeat', data: '{}', lastEventId: `id-${n}` });
        setTimeout(() => this.onerror && this.onerror(), greet ? livedMs : 0);
      }, 1);
    }
    addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
    close() { this.onerror = null; }
  }
  const states = [];
  const stream = new ResilientStream({
    url: async (lastEventId) => { ids.push(lastEventId); return 'http://fake.test/'; },
    events: ['heartbeat'], onEvent() {}, onState: (state) => states.push(state),
    minDelayMs: 2, maxDelayMs: 8, jitter: 0, offlineAfterFailures: 4, healthyAfterMs,
    eventSource: FakeSource,
  });
  stream.start();
  const deadline = Date.now() + 10000;
  while (opened < attempts && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  stream.stop();
  return { states, ids, opened };
}"""


def run_state_machine(page: Page, **options: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(STATE_MACHINE, options)
    return result


def test_state_machine_failing_attempts_go_offline_and_keep_retrying(open_page: Any) -> None:
    page = open_page().page
    result = run_state_machine(page, greet=False, livedMs=0, healthyAfterMs=50, attempts=12)
    states = result["states"]
    assert states[:5] == ["connecting", "reconnecting", "reconnecting", "reconnecting", "offline"]
    assert set(states[5:]) == {"offline"}  # and it keeps trying, every 8 ms here
    assert result["opened"] >= 12
    assert set(result["ids"]) == {None}  # nothing received, nothing to resume from


def test_state_machine_rotation_is_quiet_and_resumes(open_page: Any) -> None:
    page = open_page().page
    # Streams that live past healthyAfterMs and then end: resumed at once, never announced.
    result = run_state_machine(page, greet=True, livedMs=30, healthyAfterMs=20, attempts=5)
    assert result["states"] == ["connecting", "connected"]
    assert result["opened"] >= 5
    assert result["ids"][:3] == [None, "id-1", "id-2"]  # each attempt resumes after the last id


def test_state_machine_flapping_server_backs_off_visibly(open_page: Any) -> None:
    page = open_page().page
    # Streams that fail right after the greeting do not reset the backoff and are announced.
    result = run_state_machine(page, greet=True, livedMs=0, healthyAfterMs=50, attempts=8)
    states = result["states"]
    assert states[:4] == ["connecting", "connected", "reconnecting", "connected"]
    assert "offline" in states  # failures keep counting across the short-lived connections


def test_event_stream_parser_follows_the_sse_format(open_page: Any) -> None:
    """js/eventstream.js reads what EventSource would: any line ending, chunks split anywhere,
    multi-line data, comments, ids on events without data, unknown fields ignored."""
    page = open_page().page
    result = page.evaluate(
        """async () => {
          const { EventStreamParser } = await import('/js/eventstream.js');
          const parse = (chunks) => {
            const events = [];
            const parser = new EventStreamParser((event) => events.push(event));
            for (const chunk of chunks) parser.push(chunk);
            return { events, lastEventId: parser.lastEventId };
          };
          const whole = 'retry: 3000\\nevent: heartbeat\\nid: a1\\ndata: {"n":1}\\n\\n'
            + ': ping\\n\\nevent: new_item\\ndata: line one\\ndata:line two\\nid: a2\\n\\n'
            + 'id: a3\\nretry: 250\\n\\ndata: no type\\nbogus: x\\n\\nevent: cut';
          const split = [...whole].map((c) => c);  // one character per chunk
          const crlf = parse(['event: x\\r', '\\ndata: 1\\r\\n\\r', '\\nevent: y\\rdata: 2\\r\\r']);
          return { whole: parse([whole]), split: parse(split), crlf };
        }"""
    )
    expected = [
        {"type": "heartbeat", "data": '{"n":1}', "lastEventId": "a1"},
        {"type": "new_item", "data": "line one\nline two", "lastEventId": "a2"},
        {"type": "message", "data": "no type", "lastEventId": "a3"},
    ]
    assert result["whole"] == {"events": expected, "lastEventId": "a3"}
    assert result["split"] == result["whole"]
    # CRLF split across chunks is one line end; a lone CR ends a line too.
    assert result["crlf"]["events"] == [
        {"type": "x", "data": "1", "lastEventId": ""},
        {"type": "y", "data": "2", "lastEventId": ""},
    ]
