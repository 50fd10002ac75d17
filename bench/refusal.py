"""How long the API takes to refuse an oversized list: a 422 for 20,000 tickers next to a 422
for 6 (one over the cap), through the Lambda entry point in process, as ``bench/rest.py`` does.

Run by ``python -m bench`` in a subprocess of its own (``python -m bench.refusal --output F``),
so moto's patching stays out of the other groups. Cases: ``POST /api/v2/configurations`` (a
session token, at most 5 tickers) and the unauthenticated ``GET /api/v2/metrics?tickers=`` (at
most 10). Calls of the small and the large request alternate, so drift of the machine hits
both alike; each is timed around ``handler(event, context)`` with the event built beforehand.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

from bench.report import RATIO_TARGET
from bench.rest import ENV, quiet_stdout

HUGE = 20_000
CASES = ("configuration", "metrics")


def _event(case: str, tickers: list[str], token: str) -> dict[str, Any]:
    from tests.utils.lambda_events import function_url_event

    if case == "configuration":
        return function_url_event(
            "POST",
            "/api/v2/configurations",
            headers={"authorization": f"Bearer {token}"},
            body={"name": "refused", "tickers": tickers},
        )
    return function_url_event("GET", "/api/v2/metrics", query="tickers=" + ",".join(tickers))


def measure(iterations: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws
    from tests.utils.lambda_events import LambdaContext, function_url_event

    from bench.common import summary_ms
    from dashboard import handler as module
    from sentiment.settings import Settings
    from sentiment.store.tables import create_tables

    result: dict[str, Any] = {"iterations": iterations, "huge": HUGE}
    with mock_aws():
        module.build_handler.cache_clear()
        create_tables(boto3.client("dynamodb"), Settings())
        session = module.handler(
            function_url_event("POST", "/api/v2/auth/anonymous"), LambdaContext()
        )
        token = json.loads(session["body"])["token"]
        for case in CASES:
            over = 6 if case == "configuration" else 11
            sizes = {"small": over, "huge": HUGE}
            events = {
                name: _event(case, [f"T{n:05d}" for n in range(size)], token)
                for name, size in sizes.items()
            }
            timings: dict[str, list[float]] = {name: [] for name in sizes}
            statuses: dict[str, set[int]] = {name: set() for name in sizes}
            for n in range(iterations + 10):
                for name, event in events.items():
                    started = time.perf_counter()
                    response = module.handler(event, LambdaContext())
                    elapsed = time.perf_counter() - started
                    statuses[name].add(response["statusCode"])
                    if n >= 10:  # the first calls warm caches (and build the app)
                        timings[name].append(elapsed)
            small, huge = (summary_ms(timings[name]) for name in sizes)
            result[case] = {
                "tickers": sizes,
                "request_bytes": {
                    name: len(event.get("body") or event["rawQueryString"])
                    for name, event in events.items()
                },
                "statuses": {name: sorted(codes) for name, codes in statuses.items()},
                "small": small,
                "huge": huge,
                "p50_ratio": round(huge["p50"] / small["p50"], 2),
                "ratio_met": huge["p50"] / small["p50"] <= RATIO_TARGET
                and statuses == {"small": {422}, "huge": {422}},
            }
        module.build_handler.cache_clear()
    return result


def run_here(iterations: int) -> dict[str, Any]:
    warnings.filterwarnings("ignore", "No application metrics to publish")
    os.environ.update(ENV)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        os.environ.pop(name, None)
    with quiet_stdout():
        result = measure(iterations)
    for case in CASES:
        figures = result[case]
        print(
            f"refusal: {case}: 422 for {figures['tickers']['small']} tickers p50 "
            f"{figures['small']['p50']} ms, for {HUGE:,} p50 {figures['huge']['p50']} ms "
            f"({figures['p50_ratio']}x)",
            flush=True,
        )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.refusal", description=__doc__)
    parser.add_argument("--iterations", type=int, default=200, help="calls per request size")
    parser.add_argument("--output", type=Path, required=True, help="where to write the JSON")
    args = parser.parse_args(argv)
    args.output.write_text(json.dumps(run_here(args.iterations), indent=2))


if __name__ == "__main__":
    main()
