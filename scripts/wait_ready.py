#!/usr/bin/env python3
"""Wait until a deployment answers: both functions' /health return 200 (cold starts, a fresh
Function URL). Bounded: gives up after --timeout seconds with the last error.

    DASHBOARD_URL=... SSE_LAMBDA_URL=... python scripts/wait_ready.py --timeout 180
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
import urllib.request


def healthy(url: str) -> str | None:
    """None when ``url`` answers 200, else what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 - given URLs
            return None if response.status == 200 else f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return str(error)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=180, help="seconds (default 180)")
    args = parser.parse_args(argv)
    targets = {}
    for name in ("DASHBOARD_URL", "SSE_LAMBDA_URL"):
        base = os.environ.get(name, "").rstrip("/")
        if not base:
            print(f"{name} is not set", file=sys.stderr)
            return 2
        targets[name] = f"{base}/health"

    deadline = time.monotonic() + args.timeout
    delay = 1.0
    while True:
        problems = {name: p for name, url in targets.items() if (p := healthy(url)) is not None}
        if not problems:
            print("ready: " + ", ".join(targets.values()))
            return 0
        if time.monotonic() + delay > deadline:
            print(f"not ready after {args.timeout:.0f}s: {problems}", file=sys.stderr)
            return 1
        print(f"waiting {delay:.0f}s: {problems}", flush=True)
        time.sleep(delay)
        delay = min(delay * 2, 15)


if __name__ == "__main__":
    sys.exit(main())
