"""The dashboard page in a real Chromium: connection, live feed, metrics and watch lists."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    POLL_INTERVAL,
    BrowserStack,
    browser_marks,
    cards_match_api,
    news_item,
    post_items,
    shown_count,
    ticker_symbol,
    wait_until,
)

pytestmark = browser_marks()


def feed_entry(page: Page, item_id: str) -> Any:
    return page.locator(f'[data-testid="feed-item"][data-item-id="{item_id}"]')


def record_feed_additions(page: Page) -> None:
    """Remember the id of every entry ever added to the feed (``window.feedHistory``)."""
    page.evaluate(
        """() => {
          const feed = document.querySelector('[data-testid="feed"]');
          window.feedHistory = [...feed.children].map((li) => li.dataset.itemId);
          new MutationObserver((records) => {
            for (const record of records)
              for (const node of record.addedNodes)
                if (node.dataset) window.feedHistory.push(node.dataset.itemId);
          }).observe(feed, { childList: true });
        }"""
    )


def test_connected_within_five_seconds_without_console_errors(
    open_page: Any, stack: BrowserStack
) -> None:
    session = open_page()
    page = session.page
    status = page.get_by_test_id("connection-status")
    expect(status).to_have_text("Connected", timeout=5_000)
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    # The snapshot and the first metrics event have been drawn.
    expect(page.get_by_test_id("metric-total")).to_have_text("0")
    expect(page.get_by_test_id("chart-bar")).to_have_count(24)
    assert session.log.console_errors == []
    # The stream goes to the SSE app, never to the dashboard (buffered) origin.
    streams = [url for url in session.log.requests if "/api/v2/stream" in url]
    assert streams, session.log.requests
    assert all(url.startswith(f"{stack.sse_url}/api/v2/stream") for url in streams), streams


def test_posted_item_appears_and_metrics_match_the_api(open_page: Any, api: httpx.Client) -> None:
    session = open_page()
    page = session.page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    item = news_item(["AAPL", "MSFT"], "negative", score=-0.437)
    post_items(api, item)
    entry = feed_entry(page, item["item_id"])
    expect(entry).to_be_visible(timeout=(POLL_INTERVAL + 2) * 1000)
    expect(entry.get_by_test_id("feed-item-title")).to_have_text(item["title"])
    expect(entry.get_by_test_id("feed-item-title")).to_have_attribute("href", item["url"])
    expect(entry.get_by_test_id("feed-item-tickers")).to_have_text("AAPLMSFT")
    expect(entry.get_by_test_id("feed-item-sentiment")).to_have_text("Negative")
    expect(entry.get_by_test_id("feed-item-score")).to_have_text("\u22120.44")
    expect(entry.get_by_test_id("feed-item-age")).to_have_text(
        # "just now", then "2 s ago", "3 s ago"...
        re.compile(r"^(just now|\d+ s ago)$")
    )

    more = [
        news_item(["NVDA"], "positive", score=0.81),
        news_item(["AAPL"], "neutral", score=0.02),
        news_item(["TSLA", "AAPL"], "positive", score=0.35),
    ]
    post_items(api, *more)
    for posted in more:
        expect(feed_entry(page, posted["item_id"])).to_be_visible(
            timeout=(POLL_INTERVAL + 2) * 1000
        )
    # Newest first.
    ids = page.get_by_test_id("feed-item").evaluate_all("els => els.map((e) => e.dataset.itemId)")
    assert ids[:4] == [m["item_id"] for m in reversed(more)] + [item["item_id"]]

    cards_match_api(page, api)
    metrics = api.get("/api/v2/metrics").json()
    assert metrics["total"] == 4
    expect(page.get_by_test_id("distribution-positive")).to_have_text(str(metrics["positive"]))
    aapl = page.locator('[data-testid="ticker-row"][data-ticker="AAPL"]')
    expect(aapl.get_by_test_id("ticker-count")).to_have_text("3")
    assert session.log.console_errors == []


def test_the_ticker_list_names_the_top_ten_and_sums_the_rest(
    open_page: Any, api: httpx.Client
) -> None:
    """Everything: the ten most mentioned tickers, then "Others" with every other mention
    (the API's ``others`` plus the named tickers past the tenth). A watch list: no such row."""
    fresh = [ticker_symbol("O") for _ in range(12)]
    post_items(api, news_item(fresh[:10]), news_item(fresh[10:]), news_item(fresh[:3]))
    session = open_page()
    page = session.page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)

    def shown() -> tuple[list[str], str] | None:
        rows = page.get_by_test_id("ticker-row")
        named = rows.evaluate_all("els => els.map((e) => e.dataset.ticker)")
        others = page.get_by_test_id("ticker-others-count")
        return (named, others.inner_text()) if others.count() else None

    def expected() -> tuple[list[str], str]:
        metrics = api.get("/api/v2/metrics").json()
        ranked = list(metrics["by_ticker"].items())
        rest = metrics["others"] + sum(count for _, count in ranked[10:])
        return [ticker for ticker, _ in ranked[:10]], shown_count(rest)

    assert len(api.get("/api/v2/metrics").json()["by_ticker"]) > 10
    wait_until(lambda: shown() == expected(), 10, lambda: f"{shown()} != {expected()}", page)
    others = page.get_by_test_id("ticker-others")
    expect(others).to_contain_text("Others")
    expect(others.locator(".ticker-row__bar")).to_have_attribute("aria-hidden", "true")
    assert session.log.console_errors == []


def test_configuration_view_shows_only_its_tickers(open_page: Any, api: httpx.Client) -> None:
    session = open_page()
    page = session.page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    first, second, other = ticker_symbol("W"), ticker_symbol("X"), ticker_symbol("Z")
    # Something for the watched tickers already exists: the snapshot must show it.
    earlier = news_item([first], "positive")
    unrelated_earlier = news_item([other], "negative")
    post_items(api, earlier, unrelated_earlier)

    page.get_by_test_id("config-name-input").fill("Two tickers")
    tickers_input = page.get_by_test_id("config-tickers-input")
    tickers_input.press_sequentially(f"{first.lower()}, {second.lower()}")
    expect(tickers_input).to_have_value(f"{first}, {second}")  # upper case while typing
    page.get_by_test_id("config-create").click()

    row = page.get_by_test_id("config-row").filter(has_text="Two tickers")
    expect(row).to_be_visible()
    expect(row.get_by_test_id("config-tickers")).to_have_text(f"{first}{second}")
    row.get_by_test_id("config-show").click()
    expect(page.locator('[data-testid="view-config"][aria-pressed="true"]')).to_have_text(
        "Two tickers"
    )
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    expect(page.get_by_test_id("view-summary")).to_contain_text(f"{first}, {second}")
    config_streams = [
        u for u in session.log.requests if "/configurations/" in u and "/stream?" in u
    ]
    assert config_streams
    assert "ticket=" in config_streams[-1], config_streams

    expect(feed_entry(page, earlier["item_id"])).to_be_visible()
    record_feed_additions(page)

    unrelated = [news_item([other], "negative"), news_item(["AAPL"], "positive")]
    matching = [
        news_item([first], "positive"),
        news_item([other, second], "negative"),  # shares one ticker: belongs to the view
    ]
    post_items(api, unrelated[0])
    post_items(api, matching[0])
    post_items(api, unrelated[1])
    post_items(api, matching[1])
    for item in matching:
        expect(feed_entry(page, item["item_id"])).to_be_visible(timeout=(POLL_INTERVAL + 2) * 1000)
    # Items arrive in order: once a later item is shown, the unrelated ones had their chance.
    last = news_item([second], "neutral")
    post_items(api, last)
    expect(feed_entry(page, last["item_id"])).to_be_visible(timeout=(POLL_INTERVAL + 2) * 1000)

    history = page.evaluate("window.feedHistory")
    for item in [*unrelated, unrelated_earlier]:
        assert item["item_id"] not in history
        expect(feed_entry(page, item["item_id"])).to_have_count(0)
    for tickers in page.get_by_test_id("feed-item-tickers").all_inner_texts():
        assert first in tickers or second in tickers, tickers

    # Metrics are restricted to the watch list too (mentions of its tickers).
    cards_match_api(page, api, [first, second])
    expect(page.get_by_test_id("metric-total")).to_have_text("4")
    rows = page.get_by_test_id("ticker-row").evaluate_all("els => els.map((e) => e.dataset.ticker)")
    assert sorted(rows) == sorted([first, second])
    expect(page.get_by_test_id("ticker-others")).to_have_count(0)

    # Back to everything: the unrelated items are there.
    page.get_by_test_id("view-global").click()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    expect(feed_entry(page, unrelated[1]["item_id"])).to_be_visible()
    assert session.log.console_errors == []


def test_watch_lists_rename_edit_delete_and_errors(open_page: Any, api: httpx.Client) -> None:
    session = open_page()
    page = session.page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    assert page.evaluate("localStorage.getItem('sentiment.session')") is None  # on demand only

    page.get_by_test_id("config-name-input").fill("Chips")
    page.get_by_test_id("config-tickers-input").fill("NVDA AMD")
    page.get_by_test_id("config-create").click()
    row = page.get_by_test_id("config-row").filter(has_text="Chips")
    expect(row).to_be_visible()
    session_json = page.evaluate("localStorage.getItem('sentiment.session')")
    assert session_json is not None
    assert "token" in session_json
    token = page.evaluate("JSON.parse(localStorage.getItem('sentiment.session')).token")

    # Client-side checks, before any request.
    page.get_by_test_id("config-name-input").fill("Too many")
    page.get_by_test_id("config-tickers-input").fill("A, B, C, D, E, F")
    page.get_by_test_id("config-create").click()
    expect(page.get_by_test_id("config-form-error")).to_have_text(
        "At most 5 tickers per watch list."
    )
    page.get_by_test_id("config-tickers-input").fill("1ABC")
    page.get_by_test_id("config-create").click()
    expect(page.get_by_test_id("config-form-error")).to_have_text("Not a ticker symbol: 1ABC.")

    # Fill up to the limit behind the page's back: the API's 409 is shown.
    headers = {"Authorization": f"Bearer {token}"}
    for n in range(4):
        created = api.post(
            "/api/v2/configurations",
            json={"name": f"List {n}", "tickers": ["IBM"]},
            headers=headers,
        )
        assert created.status_code == 201, created.text
    page.get_by_test_id("config-tickers-input").fill("ORCL")
    page.get_by_test_id("config-create").click()
    expect(page.get_by_test_id("config-form-error")).to_contain_text(
        "at most 5 configurations", ignore_case=True
    )
    expect(page.get_by_test_id("config-row")).to_have_count(5)  # the list was reloaded
    expect(page.get_by_test_id("config-count")).to_have_text("5 of 5")

    # Rename and edit tickers.
    row.get_by_test_id("config-edit").click()
    page.get_by_test_id("config-edit-name").fill("Semiconductors")
    page.get_by_test_id("config-edit-tickers").fill("nvda, amd, intc")
    page.get_by_test_id("config-save").click()
    row = page.get_by_test_id("config-row").filter(has_text="Semiconductors")
    expect(row.get_by_test_id("config-tickers")).to_have_text("NVDAAMDINTC")
    stored = api.get("/api/v2/configurations", headers=headers).json()["configurations"]
    assert {"name": "Semiconductors", "tickers": ["NVDA", "AMD", "INTC"]} in [
        {"name": c["name"], "tickers": c["tickers"]} for c in stored
    ]
    expect(page.locator('[data-testid="view-config"]', has_text="Semiconductors")).to_be_visible()

    # Delete asks for a second click, and waits for it.
    row.get_by_test_id("config-delete").click()
    confirm = row.get_by_test_id("config-delete-confirm")
    expect(row.get_by_test_id("config-delete-prompt")).to_have_text("Delete “Semiconductors”?")
    expect(confirm).to_have_text("Delete")
    confirm.click()
    expect(page.get_by_test_id("config-row")).to_have_count(4)
    expect(page.get_by_test_id("config-count")).to_have_text("4 of 5")
    assert len(api.get("/api/v2/configurations", headers=headers).json()["configurations"]) == 4

    # A 422 detail list reads as a sentence.
    message = page.evaluate(
        """async () => (await import('/js/api.js')).describeDetail(422, [
             {loc: ['body', 'tickers', 0], msg: "String should match pattern '^[A-Z]'"},
             {loc: ['body', 'name'], msg: 'Value error, too long'}])"""
    )
    assert message == "tickers.0: String should match pattern '^[A-Z]'; name: too long"
    # The only console errors are the 409 the browser logged for the failed request.
    assert all("409" in text for text in session.log.console_errors), session.log.console_errors


def test_watch_list_view_by_keyboard_and_after_a_reload(open_page: Any) -> None:
    session = open_page()
    page = session.page
    page.get_by_test_id("config-name-input").fill("Banks")
    page.get_by_test_id("config-tickers-input").fill("JPM, BAC")
    page.get_by_test_id("config-tickers-input").press("Enter")  # submits the form
    show = page.get_by_test_id("config-row").filter(has_text="Banks").get_by_test_id("config-show")
    show.focus()
    page.keyboard.press("Enter")
    expect(show).to_have_text("Showing")
    expect(show).to_be_focused()  # the row was redrawn; focus stays on its button
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    chip = page.get_by_test_id("view-global")
    chip.focus()
    page.keyboard.press("Enter")
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(chip).to_be_focused()
    banks = page.locator('[data-testid="view-config"]', has_text="Banks")
    banks.focus()
    page.keyboard.press("Enter")
    expect(banks).to_have_attribute("aria-pressed", "true")
    expect(banks).to_be_focused()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    page.reload()
    expect(page.locator('[data-testid="view-config"][aria-pressed="true"]')).to_have_text("Banks")
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    expect(page.get_by_test_id("view-summary")).to_contain_text("JPM, BAC")


@pytest.mark.parametrize("width", [390])
def test_phone_layout_has_no_horizontal_scroll(open_page: Any, width: int) -> None:
    session = open_page(viewport={"width": width, "height": 844})
    page = session.page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_page_helpers(open_page: Any) -> None:
    """Formatting and ticker parsing, run in the page's own modules."""
    page = open_page().page
    result = page.evaluate(
        """async () => {
          const f = await import('/js/format.js');
          const c = await import('/js/configs.js');
          const rules = (await (await fetch('/api/v2/runtime-config')).json()).watch_lists;
          const now = Date.parse('2026-11-21T12:00:00Z');
          return {
            ages: [0, 1500, 12000, 59000, 60000, 3599000, 3600000, 47 * 3600000, 49 * 3600000]
              .map((ms) => f.formatAge(now - ms, now)),
            future: f.formatAge(now + 5000, now),
            scores: [0.4, -0.1, 0, -0.004, 0.125, -0.375, 1].map(f.formatScore),
            shares: [f.formatShare(1, 3), f.formatShare(1, 8), f.formatShare(0, 0)],
            counts: [f.formatCount(0), f.formatCount(1234567)],
            parsed: c.parseTickers(' aapl,msft; brk.b  AAPL ', rules),
            empty: c.parseTickers(' , ', rules),
            bad: c.parseTickers('AAPL, 9X', rules),
            many: c.parseTickers('A B C D E F', rules),
            micro: f.parseTime('2026-11-21T02:10:26.716712Z')
              === Date.parse('2026-11-21T02:10:26.716Z'),
          };
        }"""
    )
    assert result["ages"] == [
        "just now", "just now", "12 s ago", "59 s ago", "1 min ago", "59 min ago", "1 h ago",
        "47 h ago", "2 d ago",
    ]  # fmt: skip
    assert result["future"] == "just now"
    assert result["scores"] == [
        "+0.40",
        "\u22120.10",
        "0.00",
        "0.00",
        "+0.13",
        "\u22120.38",
        "+1.00",
    ]
    assert result["shares"] == ["33%", "13%", "0%"]
    assert result["counts"] == ["0", "1,234,567"]
    assert result["parsed"] == {"tickers": ["AAPL", "MSFT", "BRK.B"]}
    assert result["empty"] == {"error": "Add at least one ticker."}
    assert result["bad"] == {"error": "Not a ticker symbol: 9X."}
    assert result["many"] == {"error": "At most 5 tickers per watch list."}
    assert result["micro"] is True
