"""``python -m devstack`` (what ``make run`` starts): the whole product on loopback."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType

from devstack.stack import StackConfig, start_stack
from devstack.supervisor import StackError, Supervisor


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def parse_args(argv: list[str] | None = None) -> StackConfig:
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description="Run the sentiment dashboard locally: moto server (DynamoDB), tables, "
        "a day of demo data, a demo producer, the dashboard app and the SSE app. "
        "Ctrl-C stops everything. Every SSE_* and other setting is read from the environment.",
    )
    parser.add_argument(
        "--dashboard-port",
        type=int,
        default=_env_int("DASHBOARD_PORT", 8000),
        help="dashboard app port (env DASHBOARD_PORT, default 8000)",
    )
    parser.add_argument(
        "--sse-port",
        type=int,
        default=_env_int("SSE_PORT", 8001),
        help="SSE app port (env SSE_PORT, default 8001)",
    )
    parser.add_argument(
        "--moto-port",
        type=int,
        default=_env_int("MOTO_PORT", 8002),
        help="moto server port (env MOTO_PORT, default 8002)",
    )
    parser.add_argument(
        "--no-demo",
        action="store_true",
        default=os.environ.get("SEED_DEMO_DATA", "1") == "0",
        help="start empty, without the demo producer (env SEED_DEMO_DATA=0)",
    )
    parser.add_argument(
        "--producer-interval",
        type=float,
        default=float(os.environ.get("DEMO_PRODUCER_INTERVAL", "3")),
        help="seconds between demo posts (env DEMO_PRODUCER_INTERVAL, default 3)",
    )
    args = parser.parse_args(argv)
    return StackConfig(
        dashboard_port=args.dashboard_port,
        sse_port=args.sse_port,
        moto_port=args.moto_port,
        seed_demo_data=not args.no_demo,
        producer_interval=args.producer_interval,
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    supervisor = Supervisor()

    def stop(signum: int, _frame: FrameType | None) -> None:
        supervisor.say(f"received {signal.Signals(signum).name}; stopping")
        supervisor.request_stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        env = start_stack(config, supervisor)
        supervisor.say("")
        supervisor.say("The sentiment dashboard is running:")
        supervisor.say(f"  Dashboard   {config.dashboard_url}/")
        supervisor.say(f"  REST API    {config.dashboard_url}/docs")
        supervisor.say(f"  SSE stream  {config.sse_url}/api/v2/stream")
        supervisor.say(f"  DynamoDB    {config.dynamodb_url} (moto server)")
        supervisor.say(f"  API key     {env['INGEST_API_KEY']}  (X-API-Key for POST /api/v2/items)")
        supervisor.say("Press Ctrl-C to stop.")
        supervisor.say("ready")
        supervisor.watch()
    except StackError as error:
        supervisor.say(f"ERROR: {error}")
        return 1
    finally:
        supervisor.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
