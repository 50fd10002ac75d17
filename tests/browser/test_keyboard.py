"""Keyboard use of the dashboard: every action that removes the focused element puts focus
somewhere deliberate (never back on <body>), skip links land below the sticky header, and what
the page says about a change reaches a screen reader."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.support import (
    POLL_INTERVAL,
    anonymous_session,
    browser_marks,
    create_watch_lists,
    news_item,
    post_items,
    storage_with_session,
)

pytestmark = browser_marks()

ARRIVAL_MS = (POLL_INTERVAL + 2) * 1000
# What document.activeElement is, in words a failure message can show.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return { tag: 'body' };
  const row = el.closest('[data-config-id]');
  return {
    tag: el.tagName.toLowerCase(), testid: el.dataset.testid || null, id: el.id || null,
    name: el.getAttribute('name'), text: el.textContent.trim().slice(0, 60),
    row: row ? row.dataset.configId : null,
    item: el.closest('[data-item-id]') ? el.closest('[data-item-id]').dataset.itemId : null,
  };
}"""


def focused(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(FOCUSED)
    return result


def signed_in(
    open_page: Any, api: httpx.Client, lists: list[tuple[str, list[str]]], **options: Any
) -> Page:
    session = anonymous_session(api)
    create_watch_lists(api, session["token"], lists)
    page: Page = open_page(
        storage_state=storage_with_session(str(api.base_url).rstrip("/"), session), **options
    ).page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    expect(page.get_by_test_id("config-row")).to_have_count(len(lists))
    return page


def row(page: Page, name: str) -> Any:
    return page.get_by_test_id("config-row").filter(has_text=name)


def config_id(page: Page, name: str) -> str:
    value = row(page, name).get_attribute("data-config-id")
    assert value
    return value


def test_row_buttons_name_their_watch_list(open_page: Any, api: httpx.Client) -> None:
    page = signed_in(open_page, api, [("Chips", ["NVDA"]), ("Banks", ["JPM"])])
    for name in ("Chips", "Banks"):
        for action, label in [("config-show", "Show"), ("config-edit", "Edit")]:
            button = row(page, name).get_by_test_id(action)
            expect(button).to_have_accessible_name(f"{label} {name}")
        expect(row(page, name).get_by_test_id("config-delete")).to_have_accessible_name(
            f"Delete {name}"
        )


def test_edit_cancel_and_save_return_focus_to_the_rows_edit_button(
    open_page: Any, api: httpx.Client
) -> None:
    page = signed_in(open_page, api, [("Chips", ["NVDA", "AMD"]), ("Banks", ["JPM"])])
    chips = config_id(page, "Chips")
    row(page, "Chips").get_by_test_id("config-edit").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("config-edit-name")).to_be_focused()
    page.get_by_test_id("config-cancel").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("config-edit-form")).to_have_count(0)
    assert focused(page) == {**focused(page), "testid": "config-edit", "row": chips}, focused(page)

    page.keyboard.press("Enter")  # Edit again, from the restored focus
    expect(page.get_by_test_id("config-edit-name")).to_be_focused()
    page.keyboard.press("Escape")  # Escape cancels too
    expect(page.get_by_test_id("config-edit-form")).to_have_count(0)
    assert focused(page)["testid"] == "config-edit", focused(page)

    page.keyboard.press("Enter")
    page.get_by_test_id("config-edit-name").fill("Semis")
    page.keyboard.press("Enter")  # submits: Save
    expect(row(page, "Semis")).to_be_visible()
    expect(page.get_by_test_id("config-edit-form")).to_have_count(0)
    assert focused(page) == {**focused(page), "testid": "config-edit", "row": chips}, focused(page)
    expect(page.get_by_test_id("config-status")).to_have_text("Watch list “Semis” saved.")


def test_edit_errors_are_tied_to_their_field(open_page: Any, api: httpx.Client) -> None:
    page = signed_in(open_page, api, [("Chips", ["NVDA"])])
    row(page, "Chips").get_by_test_id("config-edit").click()
    name = page.get_by_test_id("config-edit-name")
    tickers = page.get_by_test_id("config-edit-tickers")
    tickers.fill("NVDA, 9X")
    page.get_by_test_id("config-save").click()
    expect(tickers).to_be_focused()
    expect(tickers).to_have_attribute("aria-invalid", "true")
    expect(tickers).to_have_accessible_description("Not a ticker symbol: 9X.")
    expect(name).not_to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("")

    tickers.fill("NVDA")
    name.fill("  ")
    page.get_by_test_id("config-save").click()
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Give the watch list a name.")
    expect(tickers).not_to_have_attribute("aria-invalid", "true")
    expect(tickers).to_have_accessible_description("")


def test_create_form_errors_name_only_the_field_at_fault(open_page: Any) -> None:
    page = open_page().page
    name = page.get_by_test_id("config-name-input")
    tickers = page.get_by_test_id("config-tickers-input")
    name.fill("Good name")
    tickers.fill("AAPL, 1ABC")
    page.get_by_test_id("config-create").click()
    expect(tickers).to_be_focused()
    expect(tickers).to_have_attribute("aria-invalid", "true")
    expect(tickers).to_have_accessible_description(re.compile(r"Not a ticker symbol: 1ABC\."))
    expect(name).not_to_have_attribute("aria-invalid", "true")
    expect(name).not_to_have_accessible_description(re.compile("ticker", re.IGNORECASE))


def test_create_with_space_keeps_focus_announces_and_disables_at_the_limit(
    open_page: Any, api: httpx.Client
) -> None:
    page = signed_in(open_page, api, [(f"List {n}", ["IBM"]) for n in range(3)])
    create = page.get_by_test_id("config-create")
    for n, name in enumerate(["Fourth", "Fifth"]):
        page.get_by_test_id("config-name-input").fill(name)
        page.get_by_test_id("config-tickers-input").fill("ORCL")
        create.focus()
        page.keyboard.press("Space")
        expect(row(page, name)).to_be_visible()
        expect(page.get_by_test_id("config-status")).to_have_text(f"Watch list “{name}” created.")
        # Focus moves to the new list's Show button, ready to show it.
        new_id = config_id(page, name)
        assert focused(page) == {**focused(page), "testid": "config-show", "row": new_id}, (
            n,
            focused(page),
        )
    expect(page.get_by_test_id("config-count")).to_have_text("5 of 5")
    expect(create).to_be_disabled()
    expect(page.get_by_test_id("config-name-input")).to_be_disabled()
    expect(page.get_by_test_id("config-limit-note")).to_have_text(
        "You have 5 watch lists, the most allowed. Delete one to add another."
    )
    # Deleting one enables the form again.
    delete_by_keyboard(page, "Fifth")
    expect(create).to_be_enabled()


def delete_by_keyboard(page: Page, name: str) -> None:
    row(page, name).get_by_test_id("config-delete").focus()
    page.keyboard.press("Enter")
    confirm = row(page, name).get_by_test_id("config-delete-confirm")
    expect(confirm).to_be_focused()
    page.keyboard.press("Enter")
    expect(row(page, name)).to_have_count(0)


def test_delete_asks_waits_and_moves_focus_to_a_neighbour(
    open_page: Any, api: httpx.Client
) -> None:
    page = signed_in(open_page, api, [("First", ["IBM"]), ("Second", ["ORCL"]), ("Third", ["SAP"])])
    second, third = config_id(page, "Second"), config_id(page, "Third")
    delete = row(page, "Second").get_by_test_id("config-delete")
    delete.focus()
    page.keyboard.press("Enter")
    confirm = row(page, "Second").get_by_test_id("config-delete-confirm")
    expect(confirm).to_be_focused()
    expect(confirm).to_have_accessible_name("Delete Second")
    expect(row(page, "Second").get_by_test_id("config-delete-prompt")).to_have_text(
        "Delete “Second”?"
    )
    page.wait_for_timeout(6_000)  # the question stays until answered
    expect(confirm).to_be_visible()
    expect(confirm).to_be_focused()
    page.keyboard.press("Escape")  # Keep
    expect(confirm).to_have_count(0)
    assert focused(page) == {**focused(page), "testid": "config-delete", "row": second}

    page.keyboard.press("Enter")
    expect(row(page, "Second").get_by_test_id("config-delete-cancel")).to_have_text("Keep")
    row(page, "Second").get_by_test_id("config-delete-cancel").press("Enter")
    assert focused(page) == {**focused(page), "testid": "config-delete", "row": second}

    delete_by_keyboard(page, "Second")
    expect(page.get_by_test_id("config-status")).to_have_text("Watch list “Second” deleted.")
    # The next row's Show button takes the focus; after the last row, the previous one's.
    assert focused(page) == {**focused(page), "testid": "config-show", "row": third}
    delete_by_keyboard(page, "Third")
    first = config_id(page, "First")
    assert focused(page) == {**focused(page), "testid": "config-show", "row": first}
    delete_by_keyboard(page, "First")
    expect(page.get_by_test_id("config-name-input")).to_be_focused()


def fail_deletes(page: Page) -> None:
    """The API answers every DELETE with a 500 (the page shows a toast)."""
    page.route(
        "**/api/v2/configurations/*",
        lambda route: (
            route.fulfill(status=500, json={"detail": "storage is unavailable"})
            if route.request.method == "DELETE"
            else route.continue_()
        ),
    )


def test_toast_waits_while_focused_or_hovered_and_returns_focus(
    open_page: Any, api: httpx.Client
) -> None:
    page = signed_in(open_page, api, [("Chips", ["NVDA"])])
    fail_deletes(page)
    row(page, "Chips").get_by_test_id("config-delete").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # confirm: the API fails, a toast says so
    toast = page.get_by_test_id("error-toast")
    expect(toast).to_contain_text("Could not delete “Chips”")
    expect(row(page, "Chips")).to_be_visible()
    close = toast.get_by_role("button", name="Dismiss")
    box = close.bounding_box()
    assert box
    assert box["width"] >= 24
    assert box["height"] >= 24, box
    before = focused(page)
    assert before["tag"] != "body", before
    close.focus()
    page.wait_for_timeout(11_000)  # longer than a toast lives
    expect(toast).to_be_visible()
    page.keyboard.press("Enter")
    expect(toast).to_have_count(0)
    # Back where the person was before they went to the toast.
    assert focused(page) == before, focused(page)

    # Hovered: it stays too.
    page.keyboard.press("Enter")  # Delete -> confirm
    page.keyboard.press("Enter")
    expect(toast).to_be_visible()
    toast.hover()
    page.wait_for_timeout(11_000)
    expect(toast).to_be_visible()


def test_toast_that_expires_leaves_focus_alone(open_page: Any, api: httpx.Client) -> None:
    """Neither hovered nor focused: gone after its time, and focus stays where it was."""
    page = signed_in(open_page, api, [("Chips", ["NVDA"])])
    fail_deletes(page)
    row(page, "Chips").get_by_test_id("config-delete").click()
    row(page, "Chips").get_by_test_id("config-delete-confirm").click()
    toast = page.get_by_test_id("error-toast")
    expect(toast).to_contain_text("Could not delete “Chips”")
    page.mouse.move(0, 0)
    page.get_by_test_id("view-global").focus()
    expect(toast).to_have_count(0, timeout=12_000)
    assert focused(page)["testid"] == "view-global"


def test_focused_oldest_feed_link_that_drops_off_hands_focus_on(
    open_page: Any, api: httpx.Client
) -> None:
    page = open_page().page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    items = [news_item(["AAPL"], "positive") for _ in range(50)]
    post_items(api, *items[:25])
    post_items(api, *items[25:])
    expect(page.get_by_test_id("feed-item")).to_have_count(50, timeout=ARRIVAL_MS)
    oldest = page.get_by_test_id("feed-item").last
    oldest_id = oldest.get_attribute("data-item-id")
    oldest.get_by_test_id("feed-item-title").focus()
    newest = news_item(["MSFT"], "neutral")
    post_items(api, newest)
    expect(page.locator(f'[data-item-id="{newest["item_id"]}"]')).to_be_visible(timeout=ARRIVAL_MS)
    expect(page.locator(f'[data-item-id="{oldest_id}"]')).to_have_count(0)
    now_oldest = page.get_by_test_id("feed-item").last.get_attribute("data-item-id")
    assert focused(page) == {**focused(page), "testid": "feed-item-title", "item": now_oldest}


def test_skip_links_land_below_the_sticky_header(open_page: Any) -> None:
    page = open_page(viewport={"width": 390, "height": 844}).page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    # The second one saves 50 feed links on the way to the watch-list form.
    expect(page.locator(".skip-link")).to_have_text(
        ["Skip to the live feed", "Skip to watch lists"]
    )
    for presses, target in [(1, "feed-heading"), (2, "configs-heading")]:
        # Tab starts from the top of the page again; the jump is made once the feed, above the
        # watch lists at this width, has its items.
        with page.expect_response(lambda response: "/api/v2/items" in response.url):
            page.goto(page.url.split("#")[0])
        expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
        for _ in range(presses):
            page.keyboard.press("Tab")
        link = page.locator(":focus")
        expect(link).to_have_attribute("href", f"#{target}")
        page.keyboard.press("Enter")
        expect(page.locator(f"#{target}")).to_be_focused()
        page.wait_for_timeout(200)
        fully_below_header(page, f"#{target}")


def fully_below_header(page: Page, selector: str) -> None:
    box = page.evaluate(
        """(selector) => {
          const el = document.querySelector(selector);
          const r = el.getBoundingClientRect();
          const header = document.querySelector('.topbar').getBoundingClientRect();
          return { top: r.top, bottom: r.bottom, header: header.bottom, height: innerHeight };
        }""",
        selector,
    )
    assert box["top"] >= box["header"] - 0.5, box
    assert box["bottom"] <= box["height"] + 0.5, box


def test_feed_links_are_never_hidden_under_the_header_at_200_percent(
    open_page: Any, api: httpx.Client
) -> None:
    # 1280 x 800 at 200% zoom is a 640 x 400 CSS-pixel viewport.
    page = open_page(viewport={"width": 640, "height": 400}).page
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=10_000)
    items = [news_item(["AAPL"], "positive") for _ in range(25)]
    post_items(api, *items)
    for item in items:
        expect(page.locator(f'[data-item-id="{item["item_id"]}"]')).to_be_attached(
            timeout=ARRIVAL_MS
        )
    # From the first stop after the feed, Shift+Tab back through every feed link.
    page.get_by_test_id("feed-item-title").last.focus()
    page.keyboard.press("Tab")
    hidden = []
    for _ in range(25):
        page.keyboard.press("Shift+Tab")
        page.wait_for_timeout(50)
        box = page.evaluate(
            """() => {
              const r = document.activeElement.getBoundingClientRect();
              const header = document.querySelector('.topbar').getBoundingClientRect();
              return { top: r.top, bottom: r.bottom, header: header.bottom,
                       item: document.activeElement.closest('[data-item-id]')?.dataset.itemId };
            }"""
        )
        if box["top"] < box["header"] - 0.5:
            hidden.append(box)
    assert not hidden, f"{len(hidden)} of 25 stops partly under the header: {hidden[:3]}"
