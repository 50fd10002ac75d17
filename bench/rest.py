"""REST latency through the Lambda entry point, in process: ``dashboard.handler.handler`` called
with Function URL 2.0 events (tests/utils/lambda_events.py) against moto's ``mock_aws``.

Run by ``python -m bench`` in a subprocess of its own (``python -m bench.rest --output F``), so
moto's patching stays out of the other groups and the handler's stdout (EMF metrics, logs, as
on Lambda) can go to /dev/null. Each invocation is timed around ``handler(event, context)``;
events are built before the clock starts. Stored items are seeded with ``ItemStore.load`` (bulk
writes, counters summed once): 1,000 items, then a fresh mock with 100,000, spread over the last
24 hours. The first invocation of each mock (it builds the app: a cold start in process) is
reported apart and not counted in the percentiles.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ENV = {
    "ENVIRONMENT": "local",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AUTH_SECRET": "bench-auth-secret-" + "x" * 32,
    "INGEST_API_KEY": "bench-ingest-key",
    "SSE_URL": "https://sse.example.invalid",
    "POWERTOOLS_SERVICE_NAME": "dashboard",
}
ENDPOINTS = ("health", "metrics", "items", "ingest")
METRICS_RATIO_TARGET = 1.2


def seed(items: int, now: datetime) -> Iterator[tuple[Any, datetime]]:
    """``items`` demo items spread evenly over the 24 hours before ``now`` (8 tickers)."""
    from devstack.demo import DemoFeed

    feed = DemoFeed(seed=11)
    step = timedelta(hours=24) / items
    for n in range(items):
        at = now - timedelta(hours=24) + step * (n + 0.5)
        yield feed.item(f"seed-{n:07d}", at - timedelta(minutes=2)), at


def events(kind: str) -> Callable[[int], dict[str, Any]]:
    from tests.utils.factories import item_payload
    from tests.utils.lambda_events import function_url_event

    if kind == "health":
        return lambda _: function_url_event("GET", "/health")
    if kind == "metrics":
        return lambda _: function_url_event("GET", "/api/v2/metrics", query="hours=24")
    if kind == "items":
        return lambda _: function_url_event("GET", "/api/v2/items", query="limit=20")
    headers = {"x-api-key": ENV["INGEST_API_KEY"]}
    return lambda n: function_url_event(
        "POST", "/api/v2/items", headers=headers, body=item_payload(item_id=f"rest-{n:07d}")
    )


class MotoClock:
    """Time spent inside moto's request handling (parse, execute, serialize a response): what a
    real DynamoDB would spend on its side of the wire, so it is reported apart."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def install(self) -> None:
        from botocore.awsrequest import AWSPreparedRequest
        from moto.core.botocore_stubber import BotocoreStubber
        from moto.core.common_types import TYPE_RESPONSE

        original = BotocoreStubber.process_request
        clock = self

        def timed(stubber: BotocoreStubber, request: AWSPreparedRequest) -> TYPE_RESPONSE | None:
            started = time.perf_counter()
            try:
                return original(stubber, request)
            finally:
                clock.seconds += time.perf_counter() - started

        # moto has no hook around its request handling, so its method is wrapped in place;
        # mypy cannot type assigning a function to a method (python/mypy#2427).
        BotocoreStubber.process_request = timed  # type: ignore[assignment]


MOTO = MotoClock()


def time_calls(
    handler: Callable[..., dict[str, Any]],
    kind: str,
    iterations: int,
    warmup: int,
    budget: float,
) -> dict[str, Any]:
    """``iterations`` timed calls, or as many as fit in ``budget`` seconds (at least 30)."""
    from tests.utils.lambda_events import LambdaContext

    from bench.common import summary_ms

    make = events(kind)
    expected = 201 if kind == "ingest" else 200
    durations: list[float] = []
    without_moto: list[float] = []
    failures = 0
    deadline = time.perf_counter() + budget
    for n in range(warmup + iterations):
        if len(durations) >= 30 and time.perf_counter() > deadline:
            break
        event, context = make(n), LambdaContext()
        in_moto = MOTO.seconds
        started = time.perf_counter()
        response = handler(event, context)
        elapsed = time.perf_counter() - started
        if response["statusCode"] != expected:
            failures += 1
        if n >= warmup:
            durations.append(elapsed)
            without_moto.append(elapsed - (MOTO.seconds - in_moto))
    return {
        **summary_ms(durations),
        "excluding_moto": summary_ms(without_moto),
        "failures": failures,
    }


def measure_store(
    stored: int, iterations: int, budget: float, kinds: tuple[str, ...]
) -> dict[str, Any]:
    import boto3
    from moto import mock_aws
    from tests.utils.lambda_events import LambdaContext, function_url_event

    from dashboard import handler as module
    from sentiment.services import build_services
    from sentiment.settings import Settings
    from sentiment.store.tables import create_tables

    result: dict[str, Any] = {"stored_items": stored}
    with mock_aws():
        module.build_handler.cache_clear()
        settings = Settings()
        dynamodb = boto3.resource("dynamodb")
        create_tables(dynamodb.meta.client, settings)
        started = time.perf_counter()
        build_services(settings, dynamodb).items.load(seed(stored, datetime.now(UTC)))
        result["seed_seconds"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        first = module.handler(function_url_event("GET", "/health"), LambdaContext())
        result["first_invocation_ms"] = round((time.perf_counter() - started) * 1000, 1)
        assert first["statusCode"] == 200, first
        for kind in kinds:
            result[kind] = time_calls(
                module.handler, kind, iterations, max(5, iterations // 20), budget
            )
        module.build_handler.cache_clear()
    return result


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """The handler prints EMF blobs and logs (CloudWatch's job on Lambda): to /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def run_here(iterations: int, sizes: list[int], budget: float) -> dict[str, Any]:
    warnings.filterwarnings("ignore", "No application metrics to publish")
    MOTO.install()
    os.environ.update(ENV)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        os.environ.pop(name, None)
    stores = []
    for n, stored in enumerate(sizes):
        # Ingest only on the first store: moto deep-copies tables per transaction.
        kinds = ENDPOINTS if n == 0 else ("health", "metrics", "items")
        print(
            f"rest: {stored:,} stored items: seeding, then up to {iterations} calls "
            f"({budget:g} s) per endpoint",
            flush=True,
        )
        with quiet_stdout():
            stores.append(measure_store(stored, iterations, budget, kinds))
        done = stores[-1]
        print(
            f"rest: {stored:,} items (seeded in {done['seed_seconds']} s): "
            + "; ".join(
                f"{kind} p50 {done[kind]['p50']} / p99 {done[kind]['p99']} ms "
                f"(without moto {done[kind]['excluding_moto']['p50']} / "
                f"{done[kind]['excluding_moto']['p99']})"
                for kind in kinds
            ),
            flush=True,
        )
    small, large = stores[0], stores[-1]
    ratio = app_ratio = None
    if len(stores) > 1:
        ratio = large["metrics"]["p50"] / small["metrics"]["p50"]
        app_ratio = (
            large["metrics"]["excluding_moto"]["p50"] / small["metrics"]["excluding_moto"]["p50"]
        )
    return {
        "iterations": iterations,
        "stores": stores,
        "metrics_p50_ratio": round(ratio, 2) if ratio else None,
        "metrics_p50_ratio_excluding_moto": round(app_ratio, 2) if app_ratio else None,
        "metrics_ratio_met": ratio is not None and ratio <= METRICS_RATIO_TARGET,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rest", description=__doc__)
    parser.add_argument("--iterations", type=int, default=300, help="calls per endpoint")
    parser.add_argument(
        "--budget", type=float, default=30.0, help="seconds per endpoint, at most (>= 30 calls)"
    )
    parser.add_argument("--sizes", default="1000,100000", help="stored items, comma-separated")
    parser.add_argument("--output", type=Path, required=True, help="where to write the JSON")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    args.output.write_text(json.dumps(run_here(args.iterations, sizes, args.budget), indent=2))


if __name__ == "__main__":
    main()
