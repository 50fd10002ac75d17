"""WCAG 2.2 AA checks in a real Chromium: axe-core (from npm, tools/axe) over the loaded
dashboard in every mode a person meets it in, plus reflow at 320 px.

The page is checked full: 50 feed items, 5 watch lists (the most a user can have), the chart
and every card drawn, light and dark, desktop and phone widths.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    BLOCKING_IMPACTS,
    RESULTS_DIR,
    BrowserStack,
    anonymous_session,
    browser_marks,
    create_watch_lists,
    describe_violations,
    news_item,
    post_items,
    run_axe,
    storage_with_session,
)

pytestmark = browser_marks()

FEED_LIMIT = 50
WATCH_LISTS = [
    ("Big tech", ["AAPL", "MSFT", "GOOGL", "AMZN", "META"]),
    ("AI chips", ["NVDA", "AMD", "INTC"]),
    ("Banks and insurers", ["JPM", "BAC", "WFC", "AIG"]),
    ("Energy", ["XOM", "CVX"]),
    ("Carmakers and batteries", ["TSLA", "F", "GM", "ALB"]),
]
SENTIMENTS = ["positive", "neutral", "negative"]


@pytest.fixture(scope="module")
def full_dashboard(stack: BrowserStack) -> dict[str, Any]:
    """A session owning five watch lists (the most a user can have)."""
    with httpx.Client(base_url=stack.dashboard_url, timeout=10) as api:
        session = anonymous_session(api)
        create_watch_lists(api, session["token"], WATCH_LISTS)
    return {"storage": storage_with_session(stack.dashboard_url, session)}


def fill_feed(api: httpx.Client, count: int = FEED_LIMIT) -> list[dict[str, Any]]:
    """Post ``count`` varied items (the snapshot seeds 20; the rest arrive live), naming every
    watched ticker: more than the ticker list names, so it ends with its "Others" row."""
    items = []
    for n in range(count):
        tickers = WATCH_LISTS[n % 5][1]
        ticker = tickers[(n // 5) % len(tickers)]
        items.append(news_item([ticker], SENTIMENTS[n % 3], confidence=0.5 + (n % 5) / 10))
    for start in range(0, len(items), 25):
        post_items(api, *items[start : start + 25])
    return items


def open_full(
    open_page: Any, api: httpx.Client, full_dashboard: dict[str, Any], **options: Any
) -> Page:
    """The dashboard with a full feed, five watch lists, the chart and the cards drawn."""
    page: Page = open_page(storage_state=full_dashboard["storage"], **options).page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    expect(page.get_by_test_id("config-row")).to_have_count(len(WATCH_LISTS))
    items = fill_feed(api)
    expect(page.locator(f'[data-item-id="{items[-1]["item_id"]}"]')).to_be_visible()
    expect(page.get_by_test_id("ticker-others")).to_be_visible()
    expect(page.get_by_test_id("feed-item")).to_have_count(FEED_LIMIT)
    expect(page.get_by_test_id("chart-bar")).to_have_count(24)
    total = api.get("/api/v2/metrics").json()["total"]
    expect(page.get_by_test_id("metric-total")).to_have_text(f"{total:,}")
    page.wait_for_timeout(2_500)  # the arrival highlight has faded
    return page


MODES = {
    "1280-light": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "light"},
    "1280-dark": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"},
    "390-light": {"viewport": {"width": 390, "height": 844}, "color_scheme": "light"},
    "390-dark": {"viewport": {"width": 390, "height": 844}, "color_scheme": "dark"},
}


@pytest.mark.parametrize("mode", list(MODES))
def test_axe_finds_no_serious_or_critical_violations(
    open_page: Any, api: httpx.Client, full_dashboard: dict[str, Any], mode: str
) -> None:
    page = open_full(open_page, api, full_dashboard, **MODES[mode])
    violations = run_axe(page)
    counts = Counter(v["impact"] for v in violations for _ in v["nodes"])
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"axe-{mode}.json").write_text(json.dumps(violations, indent=2))
    print(f"axe {mode}: {dict(counts)} by rule {[(v['id'], len(v['nodes'])) for v in violations]}")
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, describe_violations(blocking)


def test_reflow_at_320_px_with_five_watch_lists(
    open_page: Any, api: httpx.Client, full_dashboard: dict[str, Any]
) -> None:
    """WCAG 1.4.10: nothing scrolls sideways or overlaps at 320 CSS px (1280 px at 400%)."""
    page = open_full(open_page, api, full_dashboard, viewport={"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    outside = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter((el) => {
          const r = el.getBoundingClientRect();
          return r.width > 0 && r.height > 0 && (r.left < -0.5 || r.right > innerWidth + 0.5);
        }).map((el) => `${el.tagName}.${el.className} [${el.dataset.testid || ''}]`)"""
    )
    assert outside == []
    # Every watch-list chip is on screen (they wrap; none hidden in a sideways scroller).
    switcher = page.get_by_test_id("view-switcher")
    assert switcher.evaluate("(el) => el.scrollWidth - el.clientWidth") <= 0
    expect(page.get_by_test_id("view-config")).to_have_count(len(WATCH_LISTS))
    for chip in page.get_by_test_id("view-config").all():
        expect(chip).to_be_in_viewport()
    boxes = page.evaluate(
        """() => Object.fromEntries(['.brand__env', '.connection', '.brand__name']
             .map((s) => [s, document.querySelector(s).getBoundingClientRect().toJSON()]))"""
    )
    assert not overlapping(boxes[".brand__env"], boxes[".connection"]), boxes
    assert not overlapping(boxes[".brand__name"], boxes[".connection"]), boxes
    panel = page.locator(".panel--distribution").bounding_box()
    assert panel
    for share in page.locator(".distribution__share").all():
        box = share.bounding_box()
        assert box
        assert box["x"] + box["width"] <= panel["x"] + panel["width"], (box, panel)


def overlapping(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


def test_chart_numbers_are_in_a_table_too(open_page: Any, api: httpx.Client) -> None:
    page = open_page().page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    post_items(api, news_item(["AAPL"], "positive"), news_item(["MSFT"], "negative"))
    metrics = api.get("/api/v2/metrics").json()
    expect(page.get_by_test_id("metric-total")).to_have_text(f"{metrics['total']:,}")
    chart = page.get_by_test_id("hourly-chart").locator("svg")
    expect(chart).to_have_attribute("role", "img")
    expect(chart).to_have_accessible_name(
        re.compile(r"^\d[\d,]* items over 24 hours; busiest hour \d\d:00")
    )
    details = page.get_by_test_id("chart-details")
    table = details.locator("table")
    expect(table).to_be_hidden()
    details.locator("summary").click()
    expect(table).to_be_visible()
    expect(table.locator("caption")).to_have_text("Items per hour, last 24 hours")
    expect(table.locator("thead th")).to_have_text(
        ["Hour", "Positive", "Neutral", "Negative", "Total"]
    )
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(24)
    expected = [
        [
            hour["hour"][11:16],
            *(f"{hour[s]:,}" for s in SENTIMENTS),
            f"{hour['total']:,}",
        ]
        for hour in metrics["hourly"]
    ]
    shown = rows.evaluate_all(
        "rows => rows.map((r) => [...r.cells].map((c) => c.textContent.trim()))"
    )
    assert shown == expected
    # Row headers, so each number is read with its hour.
    expect(rows.first.locator("th")).to_have_attribute("scope", "row")


def linear(channel: float) -> float:
    """An sRGB channel (0-255) as linear light (0-1)."""
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else float(((c + 0.055) / 1.055) ** 2.4)


def relative_luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def deuteranopia_luminance(rgb: tuple[float, float, float]) -> float:
    """Luminance as a deuteranope sees ``rgb`` (Machado, Oliveira & Fernandes 2009, severity
    1.0, applied in linear RGB)."""
    matrix = [
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ]
    lin = [linear(c) for c in rgb]
    seen = [min(1.0, max(0.0, sum(m * c for m, c in zip(row, lin, strict=True)))) for row in matrix]
    return 0.2126 * seen[0] + 0.7152 * seen[1] + 0.0722 * seen[2]


def contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def rgb(css: str) -> tuple[float, float, float]:
    match = re.fullmatch(r"rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)", css)
    assert match, css
    assert match.group(4) in (None, "1"), f"translucent colour {css}"
    return float(match.group(1)), float(match.group(2)), float(match.group(3))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_chart_segments_are_separated_and_tell_apart_without_red_green(
    open_page: Any, api: httpx.Client, scheme: str
) -> None:
    page = open_page(color_scheme=scheme).page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    post_items(api, *(news_item(["AAPL"], s) for s in SENTIMENTS))
    for sentiment in SENTIMENTS:
        expect(page.locator(f".chart__segment--{sentiment}").first).to_be_attached()
    styles = page.evaluate(
        """() => {
          const style = (s) => getComputedStyle(document.querySelector(s));
          const out = { surface: style('.panel--chart').backgroundColor };
          for (const s of ['positive', 'neutral', 'negative']) {
            const seg = style(`.chart__segment--${s}`);
            out[s] = { fill: seg.fill, stroke: seg.stroke, width: parseFloat(seg.strokeWidth) };
          }
          return out;
        }"""
    )
    surface = relative_luminance(rgb(styles["surface"]))
    for sentiment in SENTIMENTS:
        segment = styles[sentiment]
        # A separator in the panel's colour between stacked segments, so each segment only
        # has to stand out from the panel (WCAG 1.4.11: 3:1).
        assert segment["stroke"] == styles["surface"], (sentiment, styles)
        assert segment["width"] >= 1, (sentiment, styles)
        fill = relative_luminance(rgb(segment["fill"]))
        assert contrast(fill, surface) >= 3, (sentiment, segment, styles["surface"])
    positive = deuteranopia_luminance(rgb(styles["positive"]["fill"]))
    negative = deuteranopia_luminance(rgb(styles["negative"]["fill"]))
    assert contrast(positive, negative) >= 1.5, styles


# Graphics that carry meaning and must survive Windows High Contrast (forced colours).
FORCED_COLOUR_MARKS = {
    "card swatch": (".card--positive .swatch", None),
    "legend key": (".legend__item--negative", "::before"),
    "distribution swatch": (".distribution__row--neutral .swatch", None),
    "feed rail": (".feed-item__rail", None),
    "gauge": (".gauge", None),
    "gauge mark": (".gauge__mark", None),
    "ticker bar": (".ticker-row__fill", None),
    "connection dot": (".connection__dot", None),
    "chart segment": (".chart__segment--positive", None),
    "donut segment": (".donut__segment--negative", None),
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_forced_colours_keep_every_mark_visible(
    open_page: Any, api: httpx.Client, scheme: str
) -> None:
    page = open_page(color_scheme=scheme, forced_colors="active").page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    posted = [news_item(["AAPL"], s) for s in SENTIMENTS]
    post_items(api, *posted)
    for item in posted:
        expect(page.locator(f'[data-item-id="{item["item_id"]}"]')).to_be_visible()
    expect(page.locator(".chart__segment--positive").first).to_be_attached()
    invisible = page.evaluate(
        """(marks) => {
          const canvas = getComputedStyle(document.body).backgroundColor;
          const paints = (style) => [
            style.backgroundColor, style.fill, style.stroke,
            style.backgroundImage !== 'none' ? style.backgroundImage : null,
            parseFloat(style.borderTopWidth) > 0 ? style.borderTopColor : null,
            parseFloat(style.outlineWidth) > 0 && style.outlineStyle !== 'none'
              ? style.outlineColor : null,
          ];
          const drawn = (c) => c && c !== 'none' && c !== canvas && !/, 0\\)$/.test(c)
            && c !== 'transparent';
          return Object.entries(marks).filter(([, [selector, pseudo]]) => {
            const el = document.querySelector(selector);
            if (!el) return true;
            return !paints(getComputedStyle(el, pseudo)).some(drawn);
          }).map(([name]) => name);
        }""",
        FORCED_COLOUR_MARKS,
    )
    assert invisible == []


def test_feed_pause_and_a_throttled_polite_summary(open_page: Any, api: httpx.Client) -> None:
    page = open_page(settled=True).page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    announcer = page.get_by_test_id("feed-announcer")
    expect(announcer).to_have_attribute("role", "status")
    expect(announcer).to_have_attribute("aria-live", "polite")
    page.evaluate(
        """() => {
          const node = document.querySelector('[data-testid="feed-announcer"]');
          window.announced = [];
          new MutationObserver(() => node.textContent && window.announced.push(node.textContent))
            .observe(node, { childList: true, characterData: true, subtree: true });
        }"""
    )
    first = [news_item(["AAPL"], "positive") for _ in range(2)]
    post_items(api, *first)
    page.wait_for_timeout(1_000)
    second = [news_item(["MSFT"], "negative") for _ in range(3)]
    post_items(api, *second)
    for item in first + second:
        expect(page.locator(f'[data-item-id="{item["item_id"]}"]')).to_be_visible()
    # One summary for both batches: a screen reader hears one sentence, not five.
    expect(announcer).to_have_text("5 new items", timeout=10_000)
    assert page.evaluate("window.announced") == ["5 new items"]

    pause = page.get_by_test_id("feed-pause")
    expect(pause).to_have_accessible_name("Pause feed")
    pause.focus()
    page.keyboard.press("Enter")
    expect(pause).to_have_text("Resume feed")
    expect(pause).to_be_focused()
    held = [news_item(["NVDA"], "neutral") for _ in range(3)]
    post_items(api, *held)
    expect(pause).to_have_text("Resume feed (3 new)", timeout=10_000)
    expect(announcer).to_have_text("3 new items waiting; the feed is paused", timeout=10_000)
    for item in held:
        expect(page.locator(f'[data-item-id="{item["item_id"]}"]')).to_have_count(0)
    page.keyboard.press("Enter")  # Resume
    expect(pause).to_have_text("Pause feed")
    expect(pause).to_be_focused()
    for item in held:
        expect(page.locator(f'[data-item-id="{item["item_id"]}"]')).to_have_count(1)
    ids = page.get_by_test_id("feed-item").evaluate_all("els => els.map((e) => e.dataset.itemId)")
    assert ids[:3] == [item["item_id"] for item in reversed(held)]


def test_confidence_and_publish_time_are_on_screen(open_page: Any, api: httpx.Client) -> None:
    page = open_page().page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    item = news_item(["AAPL"], "positive", confidence=0.87, published_at="2026-11-21T09:30:00Z")
    post_items(api, item)
    entry = page.locator(f'[data-item-id="{item["item_id"]}"]')
    expect(entry.get_by_test_id("feed-item-confidence")).to_have_text("87% confidence")
    expect(entry.get_by_test_id("feed-item-confidence")).to_be_visible()
    expect(entry.get_by_test_id("feed-item-published")).to_have_text("published Nov 21, 09:30")
    expect(entry.get_by_test_id("feed-item-published")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_page_has_one_h1_naming_the_view(open_page: Any, scheme: str) -> None:
    page = open_page(color_scheme=scheme).page
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("Sentiment dashboard: all tickers")
