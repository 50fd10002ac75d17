"""Delivery latency: an item POSTed to the dashboard API until its ``new_item`` frame is read by
an SSE client, on a fresh local stack, at poll intervals 1 s and 0.25 s.

The clock starts just before the POST is sent (the send time travels in the item id) and stops
when the client reads the bytes completing the frame. Items are posted one per request at
random gaps uniform in [0.1, 0.2] s (about 6.7/s), so arrivals are spread evenly relative to
the poller's ticks: the expected wait for the next poll is P/2, at most P.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import Poster, load_average, say, summary_ms
from bench.processes import ClientPool, fresh_stack

POLL_INTERVALS = (1.0, 0.25)
GAP_SECONDS = (0.1, 0.2)


def targets(poll: float) -> dict[str, float]:
    return {"p50_ms": poll * 500 + 100, "p99_ms": poll * 1000 + 250}


def measure(poll: float, items: int) -> dict[str, Any]:
    say(f"delivery: P={poll} s: starting a fresh local stack (SEED_DEMO_DATA=0)")
    with (
        fresh_stack({"SSE_POLL_INTERVAL": str(poll)}) as stack,
        ClientPool(stack.sse_url, 1) as clients,
    ):
        opened = clients.open(1)
        if opened["open"] != 1:
            raise RuntimeError(f"could not open the stream: {opened}")
        poster = Poster(stack.dashboard_url, stack.api_key)
        poster.run_count(5, 0.05, 0.1)  # warm the dashboard and the poller path
        time.sleep(poll + 1.5)
        clients.mark()
        poster.post_seconds.clear()
        load_before = load_average()
        started = time.monotonic()
        say(f"delivery: P={poll} s: posting {items} items at ~6.7/s")
        posted = poster.run_count(items, *GAP_SECONDS)
        time.sleep(poll + 2.0)  # the last items' poll, and then some
        report = clients.report()
        poster.close()
    per_item = report["per_item"]
    missing = [i for i in posted if per_item.get(i, 0) == 0]
    duplicates = sum(max(0, n - 1) for n in per_item.values())
    latency = report["histogram"].summary()
    goal = targets(poll)
    result = {
        "poll_interval_s": poll,
        "items": len(posted),
        "seconds": round(time.monotonic() - started, 1),
        "latency_ms": latency,
        "post_round_trip_ms": summary_ms(poster.post_seconds),
        "missing": len(missing),
        "duplicates": duplicates,
        "post_failures": poster.failures,
        "load_average": [round(load_before, 2), round(load_average(), 2)],
        "target": goal,
        "met": bool(
            latency["p50"] is not None
            and latency["p50"] <= goal["p50_ms"]
            and latency["p99"] <= goal["p99_ms"]
            and not missing
        ),
    }
    say(
        f"delivery: P={poll} s: p50 {latency['p50']} ms, p95 {latency['p95']} ms, "
        f"p99 {latency['p99']} ms over {latency['n']} arrivals ({len(missing)} missing); "
        f"POST round trip p50 {result['post_round_trip_ms']['p50']} ms"
    )
    return result


def run(full: bool) -> dict[str, Any]:
    items = 600 if full else 120
    return {"runs": [measure(poll, items) for poll in POLL_INTERVALS]}
