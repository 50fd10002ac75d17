"""Browser tests: Playwright (sync API) driving Debian's Chromium against a local stack.

The stack is composed here from devstack pieces rather than started as one ``python -m
devstack`` group, so a test can stop the SSE app alone and start it again on the same port.
Each test module gets its own empty stack (no demo data) with fast SSE timings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.browser.support import CHROMIUM_ARGS, CHROMIUM_PATH, BrowserStack, new_stack

DESKTOP = {"width": 1440, "height": 1000}


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    """Extra environment for the module's stack (override in a module to change settings)."""
    return {}


@pytest.fixture(scope="module")
def stack(stack_env: dict[str, str]) -> Iterator[BrowserStack]:
    running = new_stack(stack_env)
    try:
        running.start()
    except Exception:
        running.stop()
        raise RuntimeError(f"the browser test stack did not start:\n{running.log()}") from None
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(stack: BrowserStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.dashboard_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageLog:
    """What the page reported: console errors and uncaught exceptions."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@dataclass
class Session:
    page: Any
    log: PageLog


@pytest.fixture
def open_page(browser: Any, stack: BrowserStack) -> Iterator[Callable[..., Session]]:
    """Opens the dashboard in a fresh browser context; fails the test on any uncaught error."""
    contexts: list[Any] = []
    logs: list[PageLog] = []

    def open_(
        viewport: dict[str, int] | None = None,
        goto: bool = True,
        settled: bool = False,
        **context_options: Any,
    ) -> Session:
        """``settled``: return once the page has its newest items too (it reads them when its
        stream opens, just after "Connected"), so anything posted next arrives live."""
        context = browser.new_context(
            viewport=viewport or DESKTOP,
            locale="en-US",
            timezone_id="UTC",
            color_scheme=context_options.pop("color_scheme", "dark"),
            **context_options,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        log = PageLog()
        logs.append(log)
        page.on(
            "console",
            lambda message: (
                log.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: log.page_errors.append(str(error)))
        page.on("request", lambda request: log.requests.append(request.url))
        if settled:
            with page.expect_response(lambda response: "/api/v2/items" in response.url):
                page.goto(f"{stack.dashboard_url}/")
        elif goto:
            page.goto(f"{stack.dashboard_url}/")
        return Session(page, log)

    yield open_
    for context in contexts:
        context.close()
    errors = [error for log in logs for error in log.page_errors]
    assert not errors, f"uncaught errors in the page: {errors}"
