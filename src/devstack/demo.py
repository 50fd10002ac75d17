"""Demo data: a day of history written straight to the tables, and a live producer that posts
new items through the REST ingest API every few seconds (``python -m devstack.demo``)."""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sentiment.models import ItemIn
from sentiment.store import ItemStore

TICKERS = {
    "AAPL": "Apple",
    "MSFT": "Microsoft",
    "NVDA": "Nvidia",
    "AMZN": "Amazon",
    "GOOGL": "Alphabet",
    "TSLA": "Tesla",
    "META": "Meta",
    "JPM": "JPMorgan",
}
SOURCES = ("Newswire", "MarketDesk", "Ticker Times", "Street Journal", "Capital Brief")
HEADLINES = {
    "positive": (
        "{name} beats earnings expectations as revenue climbs",
        "{name} raises full-year guidance on strong demand",
        "Analysts upgrade {name} after product launch",
        "{name} shares rally on record quarterly sales",
    ),
    "neutral": (
        "{name} schedules annual shareholder meeting",
        "{name} names new chief financial officer",
        "{name} holds steady ahead of earnings week",
        "What to watch as {name} reports next week",
    ),
    "negative": (
        "{name} misses estimates as costs rise",
        "Regulators open inquiry into {name}",
        "{name} cuts outlook, citing weaker demand",
        "{name} shares slide after supply warning",
    ),
}
SCORE_RANGES = {"positive": (0.3, 0.95), "neutral": (-0.2, 0.2), "negative": (-0.95, -0.3)}


class DemoFeed:
    """Plausible scored headlines: a few tickers each, sentiment leaning positive."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)  # noqa: S311 - demo data, not security

    def item(self, item_id: str, published_at: datetime) -> ItemIn:
        rng = self._random
        tickers = rng.sample(list(TICKERS), k=rng.choice((1, 1, 1, 2, 2, 3)))
        sentiment = rng.choices(("positive", "neutral", "negative"), weights=(5, 3, 3))[0]
        low, high = SCORE_RANGES[sentiment]
        title = rng.choice(HEADLINES[sentiment]).format(name=TICKERS[tickers[0]])
        return ItemIn(
            item_id=item_id,
            source=rng.choice(SOURCES),
            title=title,
            url=f"https://news.example.com/{tickers[0].lower()}/{item_id}",
            tickers=tickers,
            sentiment=sentiment,
            score=round(rng.uniform(low, high), 3),
            confidence=round(rng.uniform(0.55, 0.99), 3),
            published_at=published_at,
        )

    def live_batch(self, now: datetime) -> list[ItemIn]:
        """One or two fresh items, as a producer would post them now."""
        count = self._random.choice((1, 1, 2))
        return [self.item(f"live-{uuid.uuid4().hex[:16]}", now) for _ in range(count)]

    def history(self, now: datetime, hours: int = 24) -> Iterator[tuple[ItemIn, datetime]]:
        """Items spread over the last ``hours``, busier in market hours (UTC 13-21)."""
        for hours_ago in range(hours, 0, -1):
            hour = now - timedelta(hours=hours_ago)
            per_hour = (
                self._random.randint(18, 30)
                if 13 <= hour.hour <= 21
                else self._random.randint(4, 10)
            )
            for n in range(per_hour):
                at = hour + timedelta(seconds=self._random.uniform(0, 3600))
                yield self.item(f"demo-{hour:%Y%m%d%H%M}-{n:03d}", at - timedelta(minutes=2)), at


def seed_history(store: ItemStore, now: datetime | None = None, seed: int = 7) -> int:
    """Bulk-load a day of history (backdated ``ingested_at``); returns the number of items."""
    return store.load(DemoFeed(seed).history(now or datetime.now(UTC)))


def post_items(dashboard_url: str, api_key: str, items: list[ItemIn]) -> dict[str, Any]:
    body = json.dumps({"items": [item.model_dump(mode="json") for item in items]}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback URL given by the supervisor
        f"{dashboard_url.rstrip('/')}/api/v2/items",
        data=body,
        headers={"Content-Type": "application/json", "X-API-Key": api_key},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        result: dict[str, Any] = json.load(response)
        return result


def produce(dashboard_url: str, api_key: str, interval: float) -> None:
    """Post one or two new items every ``interval`` seconds, forever."""
    feed = DemoFeed()
    while True:
        items = feed.live_batch(datetime.now(UTC))
        try:
            post_items(dashboard_url, api_key, items)
            for item in items:
                print(
                    f"posted {item.item_id} {','.join(item.tickers)} {item.sentiment} "
                    f"{item.score:+.2f} {item.title}",
                    flush=True,
                )
        except (urllib.error.URLError, OSError) as error:
            print(f"post failed ({error}); retrying", file=sys.stderr, flush=True)
        time.sleep(interval)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.demo",
        description="Post demo items to a dashboard's ingest API every few seconds.",
    )
    parser.add_argument("--dashboard-url", required=True, help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--api-key", required=True, help="the ingest API key (X-API-Key)")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between posts")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        produce(args.dashboard_url, args.api_key, args.interval)


if __name__ == "__main__":
    main()
