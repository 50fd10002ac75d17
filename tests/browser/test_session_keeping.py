"""The page keeps its anonymous session (and with it the user's watch lists) through any 401 but
the one that says the token is dead (``WWW-Authenticate: Bearer error="invalid_token"``): a key
rotation keeps old tokens valid, so nothing else is a reason to start over."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from playwright.sync_api import Route, expect

from sentiment.auth import ISSUER, SESSION_AUDIENCE, key_id
from tests.browser.support import browser_marks

pytestmark = browser_marks()

SESSION_KEY = "sentiment.session"


def stored_session(page: Any) -> dict[str, Any] | None:
    raw = page.evaluate(f"localStorage.getItem('{SESSION_KEY}')")
    return json.loads(raw) if raw else None


def with_watch_list(api: httpx.Client, name: str) -> dict[str, Any]:
    session: dict[str, Any] = api.post("/api/v2/auth/anonymous").json()
    created = api.post(
        "/api/v2/configurations",
        json={"name": name, "tickers": ["KEEP"]},
        headers={"Authorization": f"Bearer {session['token']}"},
    )
    assert created.status_code == 201, created.text
    return session


def open_with(open_page: Any, stack: Any, session: dict[str, Any]) -> Any:
    opened = open_page(goto=False)
    opened.page.add_init_script(
        f"localStorage.setItem({SESSION_KEY!r}, {json.dumps(json.dumps(session))})"
    )
    opened.page.goto(f"{stack.dashboard_url}/")
    return opened


def test_a_401_that_does_not_say_invalid_token_keeps_the_session(
    open_page: Any, stack: Any, api: httpx.Client
) -> None:
    session = with_watch_list(api, "Kept")
    opened = open_page(goto=False)
    page = opened.page
    refused: list[str] = []

    def refuse_once(route: Route) -> None:
        if route.request.method == "GET" and not refused:
            refused.append(route.request.url)
            route.fulfill(
                status=401,
                headers={"WWW-Authenticate": "Bearer", "Content-Type": "application/json"},
                body=json.dumps({"detail": "not now"}),
            )
        else:
            route.continue_()

    page.route("**/api/v2/configurations", refuse_once)
    page.add_init_script(
        f"localStorage.setItem({SESSION_KEY!r}, {json.dumps(json.dumps(session))})"
    )
    page.goto(f"{stack.dashboard_url}/")

    expect(page.get_by_test_id("errors")).to_contain_text("Could not load your watch lists")
    assert refused
    assert stored_session(page) == session
    page.unroute("**/api/v2/configurations")
    page.reload()
    expect(page.get_by_test_id("config-row").filter(has_text="Kept")).to_be_visible()
    assert stored_session(page) == session


def test_a_token_signed_with_an_unknown_key_is_dropped(
    open_page: Any, stack: Any, api: httpx.Client
) -> None:
    """The real server's answer to a key it does not know: the page starts a new session."""
    session = with_watch_list(api, "Unreachable")
    secret = "a-key-this-stack-never-had-0123456789abcdef"
    claims = {
        "iss": ISSUER,
        "aud": SESSION_AUDIENCE,
        "sub": session["user_id"],
        "exp": int((datetime.now(UTC) + timedelta(days=1)).timestamp()),
    }
    forged = {
        **session,
        "token": jwt.encode(claims, secret, algorithm="HS256", headers={"kid": key_id(secret)}),
    }
    opened = open_with(open_page, stack, forged)
    page = opened.page

    expect(page.get_by_test_id("config-row")).to_have_count(0)
    page.wait_for_function(f"localStorage.getItem('{SESSION_KEY}') === null")
    assert not opened.log.page_errors
