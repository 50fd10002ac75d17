"""Helpers for the browser tests: Chromium discovery, a local stack whose SSE app can be stopped
and restarted alone, and the page's number formatting mirrored in Python."""

from __future__ import annotations

import json
import math
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest

from devstack.stack import (
    DEV_INGEST_API_KEY,
    StackConfig,
    app_environment,
    process_specs,
)
from devstack.supervisor import Supervisor
from sentiment.settings import Settings
from sentiment.store.tables import create_tables
from tests.utils.factories import item_payload
from tests.utils.processes import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Fast timings so a test waits seconds, not the 30 s production defaults.
FAST_SSE_ENV = {
    "SSE_HEARTBEAT_INTERVAL": "1",
    "SSE_POLL_INTERVAL": "0.5",
    "SSE_METRICS_INTERVAL": "1",
}
POLL_INTERVAL = float(FAST_SSE_ENV["SSE_POLL_INTERVAL"])
MINUS = "\u2212"  # the page writes negative scores with a real minus sign
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results" / "browser"

# Ports Chromium refuses to connect to (ERR_UNSAFE_PORT), from net/base/port_util.cc.
# fmt: off
CHROMIUM_BLOCKED_PORTS = frozenset({
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95,
    101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161,
    179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563,
    587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
    6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
})
# fmt: on


def browser_marks() -> list[pytest.MarkDecorator]:
    """``pytestmark`` of every browser test module: marked, and skipped without Chromium."""
    missing = not (os.path.isfile(CHROMIUM_PATH) and os.access(CHROMIUM_PATH, os.X_OK))
    return [
        pytest.mark.browser,
        pytest.mark.skipif(
            missing,
            reason=f"no Chromium at {CHROMIUM_PATH} (install Debian's chromium or set "
            "CHROMIUM_PATH); Playwright's own browsers are not used",
        ),
    ]


def browser_safe_port() -> int:
    """A free loopback port Chromium is willing to connect to."""
    while True:
        port = free_port()
        if port not in CHROMIUM_BLOCKED_PORTS:
            return port


@dataclass
class BrowserStack:
    """moto server + dashboard in one supervisor, the SSE app in another (so it can go down)."""

    config: StackConfig
    env: dict[str, str]
    output: list[str] = field(default_factory=list)
    _core: Supervisor | None = None
    _sse: Supervisor | None = None

    @property
    def dashboard_url(self) -> str:
        return self.config.dashboard_url

    @property
    def sse_url(self) -> str:
        return self.config.sse_url

    def _supervisor(self) -> Supervisor:
        return Supervisor(write=self.output.append)

    def start(self) -> None:
        specs = process_specs(self.config, self.env)
        self._core = self._supervisor()
        self._core.start(specs["dynamodb"])
        settings = Settings.model_validate(
            {k: v for k, v in self.env.items() if k in Settings.model_fields}
        )
        create_tables(self.dynamodb().meta.client, settings)
        self._core.start(specs["dashboard"])
        self.start_sse()

    def dynamodb(self) -> Any:
        return boto3.resource(
            "dynamodb",
            endpoint_url=self.config.dynamodb_url,
            region_name=self.env["AWS_DEFAULT_REGION"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def settings(self) -> Settings:
        return Settings.model_validate(
            {k: v for k, v in self.env.items() if k in Settings.model_fields}
        )

    def start_sse(self) -> None:
        """Start (or restart) the SSE app on its fixed port; returns once /health answers."""
        assert self._sse is None, "the SSE app is already running"
        supervisor = self._supervisor()
        supervisor.start(process_specs(self.config, self.env)["sse"])
        self._sse = supervisor

    def stop_sse(self) -> None:
        if self._sse is not None:
            self._sse.stop_all()
            self._sse = None

    def stop(self) -> None:
        self.stop_sse()
        if self._core is not None:
            self._core.stop_all()
            self._core = None

    def log(self, lines: int = 60) -> str:
        return "\n".join(self.output[-lines:])


def new_stack(extra_env: dict[str, str] | None = None) -> BrowserStack:
    config = StackConfig(
        dashboard_port=browser_safe_port(),
        sse_port=browser_safe_port(),
        moto_port=browser_safe_port(),
        seed_demo_data=False,
    )
    env = app_environment(config, {**os.environ, **FAST_SSE_ENV, **(extra_env or {})})
    return BrowserStack(config, env)


# --- the REST API ------------------------------------------------------------------------


def post_items(api: httpx.Client, *items: dict[str, Any]) -> None:
    response = api.post(
        "/api/v2/items", json={"items": list(items)}, headers={"X-API-Key": DEV_INGEST_API_KEY}
    )
    assert response.status_code == 201, response.text
    assert sorted(response.json()["created"]) == sorted(item["item_id"] for item in items)


def news_item(tickers: list[str], sentiment: str = "positive", **overrides: Any) -> dict[str, Any]:
    """An item with a readable headline (what the screenshots show)."""
    scores = {"positive": 0.62, "neutral": 0.04, "negative": -0.58}
    payload = item_payload(tickers=tickers, sentiment=sentiment, score=scores[sentiment])
    payload["title"] = f"{' and '.join(tickers)}: {payload['title']}"
    payload.update(overrides)
    return payload


# --- what the page shows ----------------------------------------------------------------


def shown_count(value: int) -> str:
    """JS ``Intl.NumberFormat("en-US")``."""
    return f"{value:,}"


def shown_share(part: int, total: int) -> str:
    """JS ``Math.round(part / total * 100)`` (halves round up, unlike Python's round)."""
    return f"{math.floor(part / total * 100 + 0.5) if total else 0}%"


def shown_score(value: float) -> str:
    """JS ``Math.abs(v).toFixed(2)`` with a sign (halves of the exact binary value round up)."""
    magnitude = Decimal(abs(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if magnitude == 0:
        return "0.00"
    return f"{'+' if value > 0 else MINUS}{magnitude}"


def expected_cards(metrics: dict[str, Any]) -> dict[str, str]:
    total = metrics["total"]
    cards = {
        "metric-total": shown_count(total),
        "metric-last-hour": shown_count(metrics["last_hour"]),
        "metric-average-score": shown_score(metrics["average_score"]),
    }
    for sentiment in ("positive", "neutral", "negative"):
        cards[f"metric-{sentiment}"] = shown_count(metrics[sentiment])
        cards[f"metric-{sentiment}-share"] = shown_share(metrics[sentiment], total)
    return cards


def wait_until(
    check: Callable[[], Any],
    timeout: float,
    message: Callable[[], str] | str = "",
    page: Any = None,
) -> Any:
    """Poll ``check()`` until it returns something truthy; fail with ``message`` after timeout.

    Give ``page`` when ``check`` reads what page events recorded: the sync Playwright API only
    delivers events while it is called, so the wait is then ``page.wait_for_timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"not within {timeout:g} s: {text}")
        if page is not None:
            page.wait_for_timeout(100)
        else:
            time.sleep(0.1)


def ticker_symbol(prefix: str = "Q") -> str:
    """A fresh ticker symbol nobody else in the session posts about."""
    return (prefix + re.sub(r"[^A-Z]", "", uuid.uuid4().hex.upper()))[:5]


def shown_cards(page: Page, names: list[str]) -> dict[str, str]:
    return {name: page.get_by_test_id(name).inner_text() for name in names}


def cards_match_api(page: Page, api: httpx.Client, tickers: list[str] | None = None) -> None:
    """Wait until every card shows what GET /api/v2/metrics says (events come every second)."""
    seen: dict[str, Any] = {}

    def matches() -> bool:
        params = {"tickers": ",".join(tickers)} if tickers else {}
        metrics = api.get("/api/v2/metrics", params=params).json()
        expected = expected_cards(metrics)
        expected["chart"] = ",".join(str(hour["total"]) for hour in metrics["hourly"])
        shown = shown_cards(page, [name for name in expected if name != "chart"])
        shown["chart"] = ",".join(
            page.get_by_test_id("chart-bar").evaluate_all("els => els.map((e) => e.dataset.total)")
        )
        seen["expected"], seen["shown"] = expected, shown
        return bool(shown == expected)

    wait_until(matches, 10, lambda: f"cards {seen.get('shown')} != API {seen.get('expected')}")


# --- accessibility -----------------------------------------------------------------------

# axe-core from the npm registry (tools/axe, installed by `make test` / `make browser`).
AXE_PATH = Path(__file__).resolve().parents[2] / "tools" / "axe" / "node_modules" / "axe-core"
BLOCKING_IMPACTS = ("serious", "critical")


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (every rule axe runs by default).

    The source is evaluated through the DevTools protocol, so the page's Content-Security-Policy
    (no inline script) does not stop it, and nothing is fetched from a CDN.
    """
    source = AXE_PATH / "axe.min.js"
    if not source.is_file():
        pytest.fail(f"{source} is missing: run `make browser` (npm ci --prefix tools/axe)")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(source.read_text())
    result: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const { violations } = await window.axe.run(document, { resultTypes: ['violations'] });
          return violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
          }));
        }"""
    )
    return result


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']}: {violation['id']} ({violation['help']})")
        lines.extend(f"    {node['target']}: {node['summary']}" for node in violation["nodes"][:8])
    return "\n".join(lines)


def anonymous_session(api: httpx.Client) -> dict[str, Any]:
    response = api.post("/api/v2/auth/anonymous")
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    return session


def storage_with_session(dashboard_url: str, session: dict[str, Any]) -> dict[str, Any]:
    """A Playwright ``storage_state`` in which the page already has ``session``."""
    value = json.dumps(session)
    return {
        "cookies": [],
        "origins": [
            {
                "origin": dashboard_url,
                "localStorage": [{"name": "sentiment.session", "value": value}],
            }
        ],
    }


def create_watch_lists(api: httpx.Client, token: str, lists: list[tuple[str, list[str]]]) -> None:
    for name, tickers in lists:
        created = api.post(
            "/api/v2/configurations",
            json={"name": name, "tickers": tickers},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201, created.text
