"""Screenshots of the loaded dashboard, desktop and phone, under test-results/browser/."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from devstack.demo import seed_history
from sentiment.services import build_services
from tests.browser.support import (
    RESULTS_DIR,
    BrowserStack,
    browser_marks,
    cards_match_api,
    news_item,
    post_items,
)

pytestmark = browser_marks()

HEADLINES = [
    (["NVDA"], "positive", 0.86, "Nvidia beats estimates as data-center sales double"),
    (["AAPL", "MSFT"], "neutral", 0.05, "Apple and Microsoft hold steady ahead of earnings week"),
    (["TSLA"], "negative", -0.72, "Tesla cuts delivery outlook, citing weaker demand in Europe"),
    (["AMZN"], "positive", 0.44, "Amazon expands same-day delivery to 20 more cities"),
    (["JPM"], "negative", -0.31, "JPMorgan sets aside more for credit losses"),
    (["GOOGL", "META"], "positive", 0.58, "Ad spending rebound lifts Alphabet and Meta"),
    (["MSFT"], "positive", 0.67, "Microsoft raises full-year cloud guidance"),
    (["AAPL"], "negative", -0.49, "Regulators open inquiry into Apple app store fees"),
    (["NVDA", "AMZN"], "neutral", -0.08, "What to watch as chip supply talks resume"),
    (["META"], "positive", 0.39, "Analysts upgrade Meta after product launch"),
]


def loaded(page: Page, item_ids: list[str]) -> None:
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    for item_id in item_ids:
        expect(page.locator(f'[data-item-id="{item_id}"]')).to_be_visible()
    expect(page.get_by_test_id("chart-bar")).to_have_count(24)


def test_dashboard_screenshots(open_page: Any, api: httpx.Client, stack: BrowserStack) -> None:
    # A day of history straight into the tables (as `make run` seeds it), then live items.
    seed_history(build_services(stack.settings(), stack.dynamodb()).items)
    items = [
        news_item(tickers, sentiment, score=score, title=title, source=source)
        for (tickers, sentiment, score, title), source in zip(
            HEADLINES,
            ["Newswire", "MarketDesk", "Street Journal", "Capital Brief", "Ticker Times"] * 2,
            strict=True,
        )
    ]
    session = open_page()
    page = session.page
    page.emulate_media(reduced_motion="reduce")
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    for item in items:
        post_items(api, item)
    # Two watch lists, one through the form (which creates the session).
    page.get_by_test_id("config-name-input").fill("Big tech")
    page.get_by_test_id("config-tickers-input").fill("AAPL, MSFT, GOOGL")
    page.get_by_test_id("config-create").click()
    expect(page.get_by_test_id("config-row")).to_have_count(1)
    page.get_by_test_id("config-name-input").fill("AI chips")
    page.get_by_test_id("config-tickers-input").fill("NVDA, AMD")
    page.get_by_test_id("config-create").click()
    expect(page.get_by_test_id("config-row")).to_have_count(2)
    ids = [item["item_id"] for item in items]
    loaded(page, ids)

    # What the screenshot shows is what the API says.
    cards_match_api(page, api)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header belongs at the top
    page.screenshot(path=RESULTS_DIR / "dashboard.png", full_page=True)

    state = page.context.storage_state()
    for name, options in {
        "dashboard-phone.png": {
            "viewport": {"width": 390, "height": 844},
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
        },
        "dashboard-light.png": {"color_scheme": "light"},
    }.items():
        other = open_page(storage_state=state, **options).page
        other.emulate_media(reduced_motion="reduce")
        loaded(other, ids)
        expect(other.get_by_test_id("config-row")).to_have_count(2)
        other.screenshot(path=RESULTS_DIR / name, full_page=True)
        if name == "dashboard-phone.png":
            other.screenshot(path=RESULTS_DIR / "dashboard-phone-viewport.png")

    # The "Big tech" watch list: metrics, chart, tickers and feed restricted to its tickers.
    page.locator('[data-testid="view-config"]', has_text="Big tech").click()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    expect(page.get_by_test_id("ticker-row")).to_have_count(3)
    expect(page.locator('[data-item-id="{}"]'.format(items[1]["item_id"]))).to_be_visible()
    expect(page.locator('[data-item-id="{}"]'.format(items[0]["item_id"]))).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=RESULTS_DIR / "dashboard-watchlist.png", full_page=True)

    for name in ("dashboard.png", "dashboard-phone.png", "dashboard-light.png"):
        assert (RESULTS_DIR / name).stat().st_size > 10_000
    assert session.log.console_errors == []
