"""The data model at scale, in process against moto's ``mock_aws``: 100,000 distinct tickers in
one hour, then what metrics cost and weigh, next to the same with 10 tickers.

Run by ``python -m bench`` in a subprocess of its own (``python -m bench.scale --output F``), so
moto's patching stays out of the other groups.

1. Two stores in tables of their own, each loaded with the same number of items within the
   current UTC hour, 10 tickers an item: one drawing them from 10 tickers, one naming 100,000
   distinct 10-character tickers once each. Loaded with ``ItemStore.load`` (batch writes of the
   items and of counter rows summed in memory, the very rows ingest writes): the producer's
   path, one transaction of 23 actions per item, costs 40-50 ms an item inside moto (its
   update-expression parser), ~7 minutes for 10,000 items. tests/unit/test_scale.py proves that
   path at 10,000 tickers; here, after the load, a few items naming 10 new tickers each go
   through ``ItemStore.ingest`` into the 100,000-ticker hour, and every one must be stored.
2. ``MetricsService.compute`` as the apps wire it (``build_services``: settled hours cached per
   process) for the global view and a 5-ticker watch list, timed in process, first a few times
   against moto (reported with and without the time inside moto's request handling,
   ``bench.rest``'s ``MotoClock``), then many times against moto's answers recorded and played
   back (:class:`Replay`), the four kinds of call taking turns: the app's own time, what it
   spends with a real DynamoDB across the wire. The first call of each view is a warm-up.
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
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
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

        # moto has no hook around its request handling, so its method is wrapped in place;
        # mypy cannot type assigning a function to a method (python/mypy#2427).
        BotocoreStubber.process_request = answer  # type: ignore[assignment]


REPLAY = Replay()


def against_moto(call: Any, calls: int) -> dict[str, Any]:
    """``call()`` against moto ``calls`` times (after a warm-up, from which settled rows are
    cached): its time, and the same less the time inside moto (``excluding_moto``). These
    calls also record the answers :func:`app_times` plays back."""
    from bench.common import summary_ms

    call()
    total, without_moto = [], []
    for _ in range(calls):
        in_moto = MOTO.seconds
        started = time.perf_counter()
        call()
        elapsed = time.perf_counter() - started
        total.append(elapsed)
        without_moto.append(elapsed - (MOTO.seconds - in_moto))
    return {**summary_ms(total), "excluding_moto": summary_ms(without_moto)}


Call = Callable[[], Any]


def app_times(calls: dict[tuple[str, str], Call], iterations: int) -> dict[tuple[str, str], Any]:
    """Each call ``iterations`` times against the recorded answers, taking turns, so a busy
    moment of a shared machine slows every one of them alike: the app's own time."""
    from bench.common import summary_ms

    times: dict[tuple[str, str], list[float]] = {name: [] for name in calls}
    REPLAY.replaying, REPLAY.misses = True, 0
    try:
        for _ in range(iterations):
            for name, call in calls.items():
                started = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - started)
    finally:
        REPLAY.replaying = False
    return {
        name: {**summary_ms(values), "replay_misses": REPLAY.misses}
        for name, values in times.items()
    }


def load_store(
    label: str, tickers: list[str], count: int, ingest: int, span: tuple[datetime, datetime]
) -> tuple[Any, dict[str, Any]]:
    """A store of its own tables, loaded; with ``ingest``, that many items ingested after."""
    import boto3

    from bench.common import summary_ms
    from sentiment.services import build_services
    from sentiment.settings import Settings
    from sentiment.store.tables import create_tables

    settings = Settings().model_copy(
        update={
            f"{t.upper()}_TABLE": f"{label}-{t}" for t in ("items", "counters", "configurations")
        }
    )
    dynamodb = boto3.resource("dynamodb")
    create_tables(dynamodb.meta.client, settings)
    services = build_services(settings, dynamodb)
    result: dict[str, Any] = {"label": label, "items": count, "distinct_tickers": len(tickers)}
    started = time.perf_counter()
    assert services.items.load(items(tickers, count, *span, label)) == count
    result["load_seconds"] = round(time.perf_counter() - started, 1)
    result["counter_rows"] = count_rows(dynamodb.Table(settings.COUNTERS_TABLE))
    if ingest:
        fresh = symbols(ingest * TICKERS_PER_ITEM, seed=99)
        durations, stored = [], 0
        for item, _ in items(fresh, ingest, span[1], span[1], f"{label}-live"):
            begun = time.perf_counter()
            stored += services.items.ingest(item)
            durations.append(time.perf_counter() - begun)
        result["ingest"] = {"items": ingest, "stored": stored, **summary_ms(durations)}
    return services, result


def sizes(services: Any, watch: list[str], now: datetime) -> dict[str, Any]:
    from sentiment.positions import Position
    from sse import events

    everything = services.metrics.compute(24)
    mine = services.metrics.compute(24, watch)
    position = Position.at(now)
    return {
        "event_bytes": {
            "global": len(events.encode(events.metrics(everything, position))),
            "watch_list": len(events.encode(events.metrics(mine, position))),
        },
        "rest_bytes_168h": len(services.metrics.compute(168).model_dump_json()),
        "by_ticker": len(everything.by_ticker),
        "others": everything.others,
        "ranking_exact": everything.ranking_exact,
        "total": everything.total,
    }


def in_process_moto() -> tuple[datetime, datetime]:
    """moto in this process, atomic as the local stack; returns (hour, now) with at least two
    minutes of the hour gone, so the items of the current hour all lie in the past."""
    from devstack.transactions import make_atomic

    MOTO.install()
    REPLAY.install()
    make_atomic()  # as the local stack: a transaction saves the items it touches, not tables
    os.environ.update(ENV)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        os.environ.pop(name, None)
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    if now - hour < timedelta(minutes=2):
        time.sleep((hour + timedelta(minutes=2) - now).total_seconds())
        now = datetime.now(UTC)
    return hour, now


Stores = dict[str, tuple[Any, dict[str, Any], list[str]]]


def load_both(
    items_per_store: int, distinct: int, ingest: int, window: tuple[datetime, datetime]
) -> Stores:
    """A store naming 10 tickers and one naming ``distinct``; the second also times ingest."""
    stores: Stores = {}
    for label, tickers in (("few", symbols(10, seed=10)), ("many", symbols(distinct, seed=14))):
        print(
            f"scale: loading {items_per_store:,} items naming {len(tickers):,} tickers", flush=True
        )
        live = ingest if label == "many" else 0
        services, result = load_store(label, tickers, items_per_store, live, window)
        stores[label] = (services, result, tickers[:5])
        print(
            f"scale: {len(tickers):,} tickers loaded in {result['load_seconds']} s "
            f"({result['counter_rows']:,} counter rows)",
            flush=True,
        )
    return stores


def time_views(stores: Stores, timing: tuple[int, int], now: datetime) -> None:
    """Each store's global and watch-list computes, against moto and against replayed answers,
    and the sizes of what they produce, into each store's result."""
    # The tables live in this process (moto), not in a DynamoDB across the wire: keep their
    # millions of objects out of the garbage collector's passes, or those land in the app's
    # time at random.
    gc.collect()
    gc.freeze()
    calls: dict[tuple[str, str], Call] = {}
    for label, (services, result, watch) in stores.items():
        views: dict[str, Call] = {
            "global": partial(services.metrics.compute, 24),
            "watch_list": partial(services.metrics.compute, 24, watch),
        }
        for view, call in views.items():
            result[view] = against_moto(call, timing[0])
            calls[(label, view)] = call
        result.update(sizes(services, watch, now))
    print(f"scale: {timing[1]} computes per store and view against moto's answers", flush=True)
    for (label, view), own in app_times(calls, timing[1]).items():
        stores[label][1][view]["app"] = own
    gc.unfreeze()


def verdict(few: dict[str, Any], many: dict[str, Any]) -> dict[str, Any]:
    for done in (few, many):
        print(
            f"scale: {done['distinct_tickers']:,} tickers: global p50 {done['global']['p50']} ms "
            f"(app {done['global']['app']['p50']}), watch list p50 {done['watch_list']['p50']} ms "
            f"(app {done['watch_list']['app']['p50']}); event {done['event_bytes']['global']} "
            "bytes",
            flush=True,
        )
    ratios = {
        view: round(many[view]["app"]["p50"] / few[view]["app"]["p50"], 2)
        for view in ("global", "watch_list")
    }
    return {
        "stores": [few, many],
        "ratio_target": RATIO_TARGET,
        "app_p50_ratio": ratios,
        "ratio_met": {view: ratio <= RATIO_TARGET for view, ratio in ratios.items()},
        "event_bound": EVENT_BOUND,
        "rest_bound": REST_BOUND,
        "bytes_met": all(
            s["event_bytes"]["global"] < EVENT_BOUND and s["rest_bytes_168h"] < REST_BOUND
            for s in (few, many)
        ),
    }


def run_here(
    items_per_store: int, distinct: int, timing: tuple[int, int], ingest: int
) -> dict[str, Any]:
    from moto import mock_aws

    hour, now = in_process_moto()
    with mock_aws():
        stores = load_both(items_per_store, distinct, ingest, (hour, now))
        time_views(stores, timing, now)
    return verdict(stores["few"][1], stores["many"][1])


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
