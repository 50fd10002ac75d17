"""``python -m bench``: run the benchmark groups, print progress and a final table, and write
every figure to bench/results/<timestamp>.json. Missed targets never fail the run; a group that
crashes does (exit status 1)."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench import coldstart, delivery, fanout, pageload, report, soak
from bench.common import RESULTS, ROOT, machine, say

GROUPS = ("delivery", "fanout", "rest", "refusal", "scale", "coldstart", "page", "soak")


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip() and int(part) > 0]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of the sentiment dashboard: delivery latency, SSE fan-out (and "
        "a naive poller-per-stream baseline), REST latency through the Lambda handler, the "
        "time to refuse an oversized list, metrics at 100,000 tickers an hour (scale), cold "
        "start of the packaged zips, page weight in "
        "Chromium, and a soak (200 streams, reconnects, storage stalls). Each group starts its "
        "own fresh local stack.",
        epilog="make bench = python -m bench --quick (a few minutes); make bench-full = "
        "python -m bench --full (the README figures). The fan-out options below are for "
        "experiments (profiling, allocator settings, another source tree).",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="short runs (the default)")
    mode.add_argument("--full", action="store_true", help="the full figures (about 15 minutes)")
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"comma-separated groups to run (default: all of {','.join(GROUPS)})",
    )
    parser.add_argument(
        "--output", type=Path, help="JSON results file (default: bench/results/<timestamp>.json)"
    )
    experiments = parser.add_argument_group("fan-out experiments")
    experiments.add_argument("--levels", type=_ints, help="stream counts, e.g. 1,1000,10000")
    experiments.add_argument(
        "--naive-levels", type=_ints, help="stream counts for the naive baseline (0: skip it)"
    )
    experiments.add_argument("--window", type=float, help="measurement window per level (s)")
    experiments.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment of the SSE server (MALLOC_ARENA_MAX=2, PYTHONMALLOC=malloc, ...)",
    )
    experiments.add_argument("--src", type=Path, help="run the SSE server from this source tree")
    experiments.add_argument(
        "--probe",
        action="store_true",
        help="serve the hub design through bench.probe (adds GET /__bench/memory: smaps, "
        "mallinfo, tracemalloc sites when the server env has PYTHONTRACEMALLOC)",
    )
    experiments.add_argument("--py-spy", type=int, metavar="N", help="py-spy record at level N")
    experiments.add_argument("--clients", type=int, help="load-client processes (default 1-2)")
    rest = parser.add_argument_group("REST")
    rest.add_argument("--rest-sizes", help="stored items, e.g. 1000,100000")
    rest.add_argument("--rest-iterations", type=int, help="calls per endpoint")
    args = parser.parse_args(argv)
    args.groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = sorted(set(args.groups) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    for pair in args.server_env:
        if "=" not in pair:
            parser.error(f"--server-env wants KEY=VALUE, not {pair!r}")
    return args


def fanout_options(args: argparse.Namespace) -> fanout.Options:
    full = args.full
    return fanout.Options(
        levels=args.levels if args.levels is not None else
        ([1, 100, 1000, 5000, 10000] if full else [1, 100, 1000]),
        naive_levels=args.naive_levels if args.naive_levels is not None else
        ([1, 100, 1000] if full else [1, 100]),
        window=args.window or (45.0 if full else 10.0),
        server_env=dict(pair.split("=", 1) for pair in args.server_env),
        src=args.src.resolve() if args.src else None,
        probe=args.probe,
        profile_level=args.py_spy,
        clients=args.clients,
    )  # fmt: skip


def in_own_process(module: str, *args: str) -> dict[str, Any]:
    """``python -m bench.<module> ... --output F`` (moto's patching stays in there): its JSON."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / f"{module}.json"
        command = [sys.executable, "-m", f"bench.{module}", *args, "--output", str(output)]
        process = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for line in process.stdout.splitlines():
            say(line)
        if process.returncode != 0:
            raise RuntimeError(f"bench.{module} exited with {process.returncode}")
        result: dict[str, Any] = json.loads(output.read_text())
        return result


def run_rest(args: argparse.Namespace) -> dict[str, Any]:
    sizes = args.rest_sizes or ("1000,10000,100000" if args.full else "1000,10000")
    iterations = args.rest_iterations or (500 if args.full else 60)
    budget = 40.0 if args.full else 6.0
    return in_own_process(
        "rest", "--iterations", str(iterations), "--budget", str(budget), "--sizes", sizes
    )


def _stop(signum: int, _frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so every stack, server and client process is stopped.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop)
    args = parse_args(argv)
    started = time.monotonic()
    mode = "full" if args.full else "quick"
    results: dict[str, Any] = {"mode": mode, "machine": machine(), "seconds": {}}
    info = results["machine"]
    say(
        f"bench ({mode}): {', '.join(args.groups)} on {info['cores']} cores, "
        f"{info['ram_gib']} GiB, Python {info['python']}, load {info['load_average_at_start']}"
    )
    failed = False
    for group in args.groups:
        group_started = time.monotonic()
        say(f"=== {group}")
        try:
            if group == "delivery":
                results[group] = delivery.run(args.full)
            elif group == "fanout":
                results[group] = fanout.run(args.full, fanout_options(args))
            elif group == "rest":
                results[group] = run_rest(args)
            elif group == "refusal":
                iterations = 500 if args.full else 50
                results[group] = in_own_process("refusal", "--iterations", str(iterations))
            elif group == "scale":
                timing = ("10", "2000") if args.full else ("3", "500")
                results[group] = in_own_process(
                    "scale", "--moto-calls", timing[0], "--iterations", timing[1]
                )
            elif group == "page":
                results[group] = pageload.run(args.full)
            elif group == "soak":
                results[group] = soak.run(args.full)
            else:
                results[group] = coldstart.run(args.full)
            if "skipped" in results[group]:
                say(f"{group}: skipped: {results[group]['skipped']}")
        except Exception as error:  # report the others; fail the run at the end
            failed = True
            traceback.print_exc()
            results[group] = {"error": f"{type(error).__name__}: {error}"}
        results["seconds"][group] = round(time.monotonic() - group_started, 1)
    results["seconds"]["total"] = round(time.monotonic() - started, 1)
    table = report.rows(results)
    results["table"] = [list(row) for row in table]
    output = args.output or RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}-{mode}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print()
    print(report.markdown(table))
    print()
    say(
        f"done in {results['seconds']['total']:.0f} s "
        f"({', '.join(f'{g} {s:.0f} s' for g, s in results['seconds'].items() if g != 'total')})"
        f"; results in {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
