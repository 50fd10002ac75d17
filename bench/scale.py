"""The data model at scale, in process against moto's ``mock_aws``: 100,000 distinct tickers in
one hour, then what metrics cost and weigh, next to the same with 10 tickers.

Run by ``python -m bench`` in a subprocess of its own (``python -m bench.scale --output F``), so
moto's patching stays out of the other groups.

1. Two fresh stores, each loaded with the same number of items within the current UTC hour,
   10 tickers an item: one drawing them from 10 tickers, one naming 100,000 distinct
   10-character tickers once each. Loaded with ``ItemStore.load`` (batch writes of the items and
   of counter rows summed in memory, the very rows ingest writes): the producer's path, one
   transaction of 23 actions per item, costs ~50 ms an item inside moto (its update-expression
   parser), ~8 minutes for 10,000 items. tests/unit/test_scale.py proves that path at 10,000
   tickers; here, after the load, a few items naming 10 new tickers each go through
   ``ItemStore.ingest`` into the 100,000-ticker hour, and every one must be stored.
2. ``MetricsService.compute`` as the apps wire it (``build_services``: settled hours cached per
   process) for the global view and a 5-ticker watch list, timed in process, first a few times
   against moto (reported with and without the time inside moto's request handling,
   ``bench.rest``'s ``MotoClock``), then many times against moto's answers recorded and played
   back (:class:`Replay`): the app's own time, what it spends with a real DynamoDB across the
   wire. The first call of each view is a warm-up.
3. The size in bytes of a ``metrics`` SSE event as sent (``sse.events.encode``) and of the REST
   answer for the longest window, at 10 and at 100,000 tickers.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import string
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.rest import ENV, MOTO

RATIO_TARGET = 1.2
EVENT_BOUND = 8 * 1024  # docs/architecture.md, "Counters and hot keys"
REST_BOUND = 32 * 1024
TICKERS_PER_ITEM = 10


def symbols(count: int, seed: int) -> list[str]:
    """``count`` distinct 10-character tickers."""
    rng = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        rest = "".join(rng.choices(string.ascii_uppercase + string.digits, k=9))
        found.add(rng.choice(string.ascii_uppercase) + rest)
    return sorted(found)


def items(
    tickers: list[str], count: int, start: datetime, end: datetime, prefix: str
) -> Iterator[Any]:
    """``count`` items from ``start`` to ``end``, naming 10 of ``tickers`` each in turn."""
    from tests.utils.factories import item_in

    from sentiment.models import SENTIMENTS

    step = (end - start) / count
    for n in range(count):
        first = (n * TICKERS_PER_ITEM) % len(tickers)
        named = [tickers[(first + k) % len(tickers)] for k in range(TICKERS_PER_ITEM)]
        item = item_in(
            item_id=f"{prefix}-{n:06d}",
            tickers=named,
            sentiment=SENTIMENTS[n % 3],
            score=round((n % 200) / 100 - 1, 2),
        )
        yield item, start + step * n


def count_rows(table: Any) -> int:
    request: dict[str, Any] = {"Select": "COUNT"}
    count = 0
    while True:
        page = table.scan(**request)
        count += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return count
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class Replay:
    """DynamoDB's answers, recorded from moto and played back to the same requests.

    Timing a call against moto and subtracting moto's time still leaves moto's traces in the
    app's time: its GSI Query walks every row of the table (100,000s of objects here), and the
    app's code then runs on caches that walk flushed. Played back, the app's code (building
    requests, botocore parsing answers, the metrics themselves) runs alone, as it does on
    Lambda with DynamoDB across the wire."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, bytes], Any] = {}
        self.replaying = False
        self.misses = 0

    def install(self) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.process_request
        replay = self

        def answer(stubber: Any, request: Any) -> Any:
            key = (request.url, bytes(request.body or b""))
            if replay.replaying and key in replay.answers:
                return replay.answers[key]
            replay.misses += replay.replaying
            found = original(stubber, request)
            replay.answers[key] = found
            return found

        BotocoreStubber.process_request = answer  # type: ignore[method-assign]


REPLAY = Replay()


def timed(call: Any, moto_calls: int, iterations: int) -> dict[str, Any]:
    """``call()`` against moto ``moto_calls`` times (its time reported, and subtracted:
    ``excluding_moto``), then ``iterations`` times against the recorded answers (``app``: the
    app's own time; cheap, so many, which the percentiles of a few milliseconds need on a
    shared machine)."""
    from bench.common import summary_ms

    call()  # warm-up: settled rows are cached from here on
    total, without_moto, own = [], [], []
    for _ in range(moto_calls):
        in_moto = MOTO.seconds
        started = time.perf_counter()
        call()  # records the answers
        elapsed = time.perf_counter() - started
        total.append(elapsed)
        without_moto.append(elapsed - (MOTO.seconds - in_moto))
    REPLAY.replaying, REPLAY.misses = True, 0
    try:
        for _ in range(iterations):
            started = time.perf_counter()
            call()
            own.append(time.perf_counter() - started)
    finally:
        REPLAY.replaying = False
    return {
        **summary_ms(total),
        "excluding_moto": summary_ms(without_moto),
        "app": summary_ms(own),
        "replay_misses": REPLAY.misses,
    }


def measure(
    label: str, tickers: list[str], count: int, timing: tuple[int, int], ingest: int
) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from sentiment.positions import Position
    from sentiment.services import build_services
    from sentiment.settings import Settings
    from sentiment.store.tables import create_tables
    from sse import events

    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    if now - hour < timedelta(minutes=2):  # room for the items in the current hour, past only
        time.sleep((hour + timedelta(minutes=2) - now).total_seconds())
        now = datetime.now(UTC)
    result: dict[str, Any] = {"label": label, "items": count, "distinct_tickers": len(tickers)}
    with mock_aws():
        settings = Settings()
        dynamodb = boto3.resource("dynamodb")
        create_tables(dynamodb.meta.client, settings)
        services = build_services(settings, dynamodb)
        started = time.perf_counter()
        loaded = services.items.load(items(tickers, count, hour, now, label))
        result["load_seconds"] = round(time.perf_counter() - started, 1)
        assert loaded == count
        result["counter_rows"] = count_rows(dynamodb.Table(settings.COUNTERS_TABLE))
        # The tables live in this process (moto), not in a DynamoDB across the wire: keep their
        # millions of objects out of the garbage collector's passes, or those land in the
        # app's time at random.
        gc.collect()
        gc.freeze()
        if ingest:
            fresh = symbols(ingest * TICKERS_PER_ITEM, seed=99)
            more = list(items(fresh, ingest, now, now, f"{label}-live"))
            durations = []
            stored = 0
            for item, _ in more:
                begun = time.perf_counter()
                stored += services.items.ingest(item)
                durations.append(time.perf_counter() - begun)
            from bench.common import summary_ms

            result["ingest"] = {"items": ingest, "stored": stored, **summary_ms(durations)}
        watch = tickers[:5]
        result["global"] = timed(lambda: services.metrics.compute(24), *timing)
        result["watch_list"] = timed(lambda: services.metrics.compute(24, watch), *timing)
        everything = services.metrics.compute(24)
        mine = services.metrics.compute(24, watch)
        week = services.metrics.compute(168)
        position = Position.at(now)
        result["event_bytes"] = {
            "global": len(events.encode(events.metrics(everything, position))),
            "watch_list": len(events.encode(events.metrics(mine, position))),
        }
        result["rest_bytes_168h"] = len(week.model_dump_json())
        result["by_ticker"] = len(everything.by_ticker)
        result["others"] = everything.others
        result["ranking_exact"] = everything.ranking_exact
        result["total"] = everything.total
    gc.unfreeze()
    return result


def run_here(
    items_per_store: int, distinct: int, timing: tuple[int, int], ingest: int
) -> dict[str, Any]:
    from devstack.transactions import make_atomic

    MOTO.install()
    REPLAY.install()
    make_atomic()  # as the local stack: a transaction saves the items it touches, not tables
    os.environ.update(ENV)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        os.environ.pop(name, None)
    stores = []
    for label, tickers in (
        ("few", symbols(10, seed=10)),
        ("many", symbols(distinct, seed=14)),
    ):
        print(
            f"scale: {items_per_store:,} items naming {len(tickers):,} distinct tickers: "
            f"loading, then per view {timing[0]} computes against moto and {timing[1]} "
            "against its recorded answers",
            flush=True,
        )
        live = ingest if label == "many" else 0
        done = measure(label, tickers, items_per_store, timing, live)
        stores.append(done)
        print(
            f"scale: {len(tickers):,} tickers loaded in {done['load_seconds']} s "
            f"({done['counter_rows']:,} counter rows); global p50 {done['global']['p50']} ms "
            f"(app {done['global']['app']['p50']}), watch list p50 {done['watch_list']['p50']} "
            f"ms (app {done['watch_list']['app']['p50']}); event {done['event_bytes']['global']} "
            f"bytes",
            flush=True,
        )
    few, many = stores
    ratios = {
        view: round(many[view]["app"]["p50"] / few[view]["app"]["p50"], 2)
        for view in ("global", "watch_list")
    }
    return {
        "stores": stores,
        "ratio_target": RATIO_TARGET,
        "app_p50_ratio": ratios,
        "ratio_met": {view: ratio <= RATIO_TARGET for view, ratio in ratios.items()},
        "event_bound": EVENT_BOUND,
        "rest_bound": REST_BOUND,
        "bytes_met": all(
            s["event_bytes"]["global"] < EVENT_BOUND and s["rest_bytes_168h"] < REST_BOUND
            for s in stores
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--tickers", type=int, default=100_000, help="distinct tickers (many)")
    parser.add_argument(
        "--moto-calls", type=int, default=3, help="computes per view against moto (slow)"
    )
    parser.add_argument(
        "--iterations", type=int, default=500, help="computes per view against replayed answers"
    )
    parser.add_argument("--ingest", type=int, default=20, help="items ingested after the load")
    parser.add_argument("--output", type=Path, required=True, help="where to write the JSON")
    args = parser.parse_args(argv)
    per_store = args.tickers // TICKERS_PER_ITEM
    result = run_here(per_store, args.tickers, (args.moto_calls, args.iterations), args.ingest)
    args.output.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
