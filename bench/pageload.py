"""Page weight: the bytes and requests of opening the dashboard in Chromium, cold (empty cache)
and warm (a reload with the cache primed), on a fresh local stack.

Chromium (Debian's, as in the browser tests) is driven by Playwright; the DevTools protocol's
Network domain counts every request and its ``encodedDataLength``: the bytes on the wire,
headers included, after any Content-Encoding. A load is measured from navigation until the
page shows "Connected", the chart and the snapshot's items, plus a settle second; the open
stream counts as one request and its bytes so far (heartbeat and the first metrics frame).
The stack's SSE app runs with its production timings (30 s heartbeat and metrics), so the
stream adds the same frames in every run.

The same run measures compression resource by resource: the page's files and its JSON asked
for with and without ``Accept-Encoding: gzip``, from the local stack (uvicorn) and through the
Lambda handler (Mangum, in this process, against the stack's DynamoDB): what a Function URL
would pass on.

Run against another source tree (say, main before a change) with ``PYTHONPATH=<tree>/src``:
the stack's processes import the apps from there.
"""

from __future__ import annotations

import base64
import os
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import expect, sync_playwright
from tests.browser.support import CHROMIUM_ARGS, CHROMIUM_PATH, new_stack, news_item
from tests.utils.lambda_events import LambdaContext, function_url_event

from bench.common import say
from dashboard import handler as dashboard_handler
from devstack.stack import DEV_INGEST_API_KEY

ITEMS = 60  # more than the feed seeds (20), with realistic headlines
HEADLINES = [
    "Chipmaker beats estimates as data-center sales double",
    "Retailer cuts full-year outlook, citing weaker demand in Europe",
    "Bank sets aside more for credit losses after a quiet quarter",
    "Carmaker expands battery plant ahead of new model launch",
    "Regulators open inquiry into app store fees",
    "Cloud provider raises guidance on strong enterprise demand",
]
PRODUCTION_SSE = {"SSE_HEARTBEAT_INTERVAL": "30", "SSE_METRICS_INTERVAL": "30"}


class NetworkLog:
    """Requests and wire bytes of one page, from the DevTools protocol."""

    def __init__(self, page: Any) -> None:
        self.requests: dict[str, dict[str, Any]] = {}
        session = page.context.new_cdp_session(page)
        session.on("Network.requestWillBeSent", self._sent)
        session.on("Network.responseReceived", self._response)
        session.on("Network.dataReceived", self._data)
        session.on("Network.loadingFinished", self._finished)
        session.send("Network.enable")

    def _sent(self, event: dict[str, Any]) -> None:
        url = event["request"]["url"]
        if not url.startswith("data:"):
            self.requests[event["requestId"]] = {
                "url": url,
                "type": event.get("type", "Other"),
                "bytes": 0,
                "streamed": 0,
                "status": None,
                "encoding": None,
            }

    def _response(self, event: dict[str, Any]) -> None:
        request = self.requests.get(event["requestId"])
        if request is not None:
            response = event["response"]
            request["status"] = response["status"]
            headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
            request["encoding"] = headers.get("content-encoding")
            if "text/event-stream" in headers.get("content-type", ""):
                request["type"] = "EventStream"

    def _data(self, event: dict[str, Any]) -> None:
        request = self.requests.get(event["requestId"])
        if request is not None:
            request["streamed"] += event.get("encodedDataLength", 0)

    def _finished(self, event: dict[str, Any]) -> None:
        request = self.requests.get(event["requestId"])
        if request is not None:
            request["bytes"] = event["encodedDataLength"]

    def clear(self) -> None:
        self.requests.clear()

    def summary(self) -> dict[str, Any]:
        by_kind: Counter[str] = Counter()
        bytes_by_kind: Counter[str] = Counter()
        paths: Counter[str] = Counter()
        for request in self.requests.values():
            kind = request["type"]
            by_kind[kind] += 1
            # A finished response reports its total; an open stream, what arrived so far.
            bytes_by_kind[kind] += request["bytes"] or request["streamed"]
            paths[urlsplit(request["url"]).path] += 1
        return {
            "requests": sum(by_kind.values()),
            "bytes": sum(bytes_by_kind.values()),
            "by_kind": dict(by_kind),
            "bytes_by_kind": dict(bytes_by_kind),
            "not_modified": sum(1 for r in self.requests.values() if r["status"] == 304),
            "gzip": sum(1 for r in self.requests.values() if r["encoding"] == "gzip"),
            "snapshot_loads": {
                "metrics": paths["/api/v2/metrics"],
                "items": paths["/api/v2/items"],
            },
        }


def seed(dashboard_url: str, api_key: str) -> None:
    tickers = [["AAPL"], ["MSFT", "NVDA"], ["TSLA"], ["JPM"], ["AMZN"], ["META", "GOOGL"]]
    sentiments = ["positive", "neutral", "negative"]
    items = [
        news_item(tickers[n % 6], sentiments[n % 3], title=HEADLINES[n % 6], source="Newswire")
        for n in range(ITEMS)
    ]
    with httpx.Client(base_url=dashboard_url, timeout=30) as client:
        for start in range(0, ITEMS, 25):
            answer = client.post(
                "/api/v2/items",
                json={"items": items[start : start + 25]},
                headers={"X-API-Key": api_key},
            )
            answer.raise_for_status()


def loaded(page: Any, navigated: float) -> int:
    """Wait until the page shows live data; returns the milliseconds from navigation to
    "Connected" (as polled, so within a few ms)."""
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=30_000)
    connected = round((time.monotonic() - navigated) * 1000)
    expect(page.get_by_test_id("chart-bar")).to_have_count(24, timeout=30_000)
    expect(page.get_by_test_id("feed-item")).to_have_count(20, timeout=30_000)
    page.wait_for_timeout(1_000)  # anything the page would load twice, it has by now
    return connected


def measure(browser: Any, url: str) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        network = NetworkLog(page)
        navigated = time.monotonic()
        page.goto(url, wait_until="commit")
        connected = loaded(page, navigated)
        cold = network.summary() | {"connected_ms": connected}
        network.clear()
        navigated = time.monotonic()
        page.reload(wait_until="commit")
        connected = loaded(page, navigated)
        return {"cold": cold, "warm": network.summary() | {"connected_ms": connected}}
    finally:
        context.close()


def page_resources() -> list[str]:
    """Every file the page loads, and its JSON."""
    static = files("dashboard") / "static"
    scripts = sorted(f"/js/{p.name}" for p in (static / "js").iterdir() if p.name.endswith(".js"))
    return ["/", "/styles.css", *scripts, "/api/v2/metrics", "/api/v2/items?limit=20"]


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def raw_length(client: httpx.Client, path: str, encoding: str) -> tuple[int, str | None]:
    """Body bytes as sent (no client-side decoding) and the Content-Encoding."""
    with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as response:
        response.raise_for_status()
        body = b"".join(response.iter_raw())
        return len(body), response.headers.get("content-encoding")


def compression(stack: Any) -> dict[str, Any]:

    rows = []
    with (
        httpx.Client(base_url=stack.dashboard_url, timeout=30) as client,
        environment(stack.env),
    ):
        dashboard_handler.build_handler.cache_clear()
        for resource in page_resources():
            path, _, query = resource.partition("?")
            plain, _ = raw_length(client, resource, "identity")
            local, local_encoding = raw_length(client, resource, "gzip, deflate, br")
            event = function_url_event(
                "GET", path, query=query, headers={"accept-encoding": "gzip, deflate, br"}
            )
            answer = dashboard_handler.handler(event, LambdaContext())
            body = answer.get("body", "")
            lambda_bytes = (
                len(base64.b64decode(body)) if answer["isBase64Encoded"] else len(body.encode())
            )
            rows.append(
                {
                    "resource": resource,
                    "identity": plain,
                    "local": local,
                    "local_encoding": local_encoding,
                    "lambda": lambda_bytes,
                    "lambda_encoding": answer["headers"].get("content-encoding"),
                    "lambda_base64": answer["isBase64Encoded"],
                }
            )
        dashboard_handler.build_handler.cache_clear()
    totals = {key: sum(row[key] for row in rows) for key in ("identity", "local", "lambda")}
    say(
        f"page: compression: {totals['identity']:,} bytes as is, {totals['local']:,} gzipped "
        f"by uvicorn, {totals['lambda']:,} by the Lambda handler"
    )
    return {"resources": rows, "totals": totals}


def run(full: bool) -> dict[str, Any]:
    if not os.access(CHROMIUM_PATH, os.X_OK):
        return {"skipped": f"no Chromium at {CHROMIUM_PATH} (apt-get install chromium)"}
    repetitions = 5 if full else 2
    stack = new_stack(PRODUCTION_SSE)
    say("page: starting a fresh local stack (SEED_DEMO_DATA=0), production SSE timings")
    stack.start()
    try:
        seed(stack.dashboard_url, DEV_INGEST_API_KEY)
        compressed = compression(stack)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True
            )
            try:
                measure(browser, f"{stack.dashboard_url}/")  # warm the servers, not the browser
                runs = [measure(browser, f"{stack.dashboard_url}/") for _ in range(repetitions)]
            finally:
                browser.close()
    finally:
        stack.stop()
    result: dict[str, Any] = {"repetitions": repetitions, "runs": runs, "compression": compressed}
    for phase in ("cold", "warm"):
        last = runs[-1][phase]
        result[phase] = {
            **{key: last[key] for key in ("by_kind", "bytes_by_kind", "snapshot_loads")},
            "requests": statistics.median(run[phase]["requests"] for run in runs),
            "bytes": statistics.median(run[phase]["bytes"] for run in runs),
            "not_modified": statistics.median(run[phase]["not_modified"] for run in runs),
            "gzip": statistics.median(run[phase]["gzip"] for run in runs),
            "connected_ms": statistics.median(run[phase]["connected_ms"] for run in runs),
        }
        say(
            f"page: {phase}: {result[phase]['requests']} requests, "
            f"{result[phase]['bytes']:,} bytes, snapshot loads {last['snapshot_loads']}, "
            f"Connected after {result[phase]['connected_ms']} ms"
        )
    return result
