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
from collections.abc import Callable


def healthy(url: str) -> str | None:
    """None when ``url`` answers 200, else what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 - given URLs
            return None if response.status == 200 else f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return str(error)


def health_urls(dashboard_url: str, sse_url: str) -> dict[str, str]:
    """``{DASHBOARD_URL: <base>/health, SSE_LAMBDA_URL: <base>/health}``."""
    return {
        "DASHBOARD_URL": f"{dashboard_url.rstrip('/')}/health",
        "SSE_LAMBDA_URL": f"{sse_url.rstrip('/')}/health",
    }


def wait_until_ready(
    targets: dict[str, str], timeout: float, say: Callable[[str], None] = print
) -> bool:
    """Poll every URL in ``targets`` with backoff until all answer 200; False after ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 1.0
    while True:
        problems = {name: p for name, url in targets.items() if (p := healthy(url)) is not None}
        if not problems:
            say("ready: " + ", ".join(targets.values()))
            return True
        if time.monotonic() + delay > deadline:
            say(f"not ready after {timeout:.0f}s: {problems}")
            return False
        say(f"waiting {delay:.0f}s: {problems}")
        time.sleep(delay)
        delay = min(delay * 2, 15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=180, help="seconds (default 180)")
    args = parser.parse_args(argv)
    bases = {
        name: os.environ.get(name, "").rstrip("/") for name in ("DASHBOARD_URL", "SSE_LAMBDA_URL")
    }
    for name, base in bases.items():
        if not base:
            print(f"{name} is not set", file=sys.stderr)
            return 2
    targets = health_urls(bases["DASHBOARD_URL"], bases["SSE_LAMBDA_URL"])
    return 0 if wait_until_ready(targets, args.timeout, lambda line: print(line, flush=True)) else 1


if __name__ == "__main__":
    sys.exit(main())
