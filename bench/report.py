"""The final table: every figure next to its target, met or missed (Markdown, for the README)."""

from __future__ import annotations

from typing import Any

Row = tuple[str, str, str, str]  # figure, target, measured, verdict
RATIO_TARGET = 2.0  # a refusal of 20,000 tickers vs one of a few (bench/refusal.py)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "MISSED")


def delivery_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for run in result.get("runs", []):
        poll, latency, target = run["poll_interval_s"], run["latency_ms"], run["target"]
        label = f"delivery, P={poll:g} s ({run['items']} items, POST->new_item)"
        rows.append(
            (
                f"{label} p50",
                f"<= {target['p50_ms']:.0f} ms",
                _ms(latency["p50"]),
                _met(latency["p50"] is not None and latency["p50"] <= target["p50_ms"]),
            )
        )
        rows.append(
            (
                f"{label} p95 / p99",
                f"p99 <= {target['p99_ms']:.0f} ms",
                f"{_ms(latency['p95'])} / {_ms(latency['p99'])}"
                + (f", {run['missing']} missing" if run["missing"] else ""),
                _met(
                    latency["p99"] is not None
                    and latency["p99"] <= target["p99_ms"]
                    and not run["missing"]
                ),
            )
        )
    return rows


def fanout_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    hub = result.get("hub")
    if hub:
        verdict = result["verdict"]
        top = hub["levels"][-1]
        n = top["streams"]
        rows.append(
            (
                f"fan-out, {n:,} streams: p99 delivery (p50)",
                "<= 2,000 ms (P + 1 s)",
                f"{_ms(top['latency_ms']['p99'])} ({_ms(top['latency_ms']['p50'])}), "
                f"{top['delivered_fraction']:.2%} delivered",
                _met(verdict["p99_met"]),
            )
        )
        per_stream = top["rss_bytes_per_stream"]
        rows.append(
            (
                f"fan-out, {n:,} streams: RSS per stream",
                "<= 20 KB",
                "n/a" if per_stream is None else f"{per_stream / 1000:.1f} KB",
                _met(verdict["memory_met"]),
            )
        )
        queries = " -> ".join(
            f"{lv['query_per_s']:g} (N={lv['streams']:,})" for lv in hub["levels"]
        )
        rows.append(
            (
                "fan-out: DynamoDB Query calls/s",
                "flat from 1 to 10,000 (max <= 1.25x N=1)",
                queries,
                _met(verdict["query_flat_met"]),
            )
        )
        cpu = ", ".join(
            f"{lv['server_cpu_percent']:g}% (N={lv['streams']:,})" for lv in hub["levels"]
        )
        rows.append(("fan-out: server CPU (one core = 100%)", "-", cpu, "-"))
    for row in result.get("comparison", []):
        n = row["streams"]
        rows.append(
            (
                f"naive vs hub, {n:,} stream{'s' if n != 1 else ''}: Query/s, CPU, p99",
                "-",
                f"Query/s {row['query_per_s'][1]:g} vs {row['query_per_s'][0]:g} "
                f"(x{row['query_ratio']}); CPU {row['cpu_percent'][1]:g}% vs "
                f"{row['cpu_percent'][0]:g}% (x{row['cpu_ratio']}); p99 "
                f"{_ms(row['p99_ms'][1])} vs {_ms(row['p99_ms'][0])} (x{row['p99_ratio']})",
                "-",
            )
        )
    return rows


def rest_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    stores = result.get("stores", [])
    if not stores:
        return rows
    first = stores[0]
    for kind, path in (
        ("health", "GET /health"),
        ("metrics", "GET /api/v2/metrics"),
        ("items", "GET /api/v2/items"),
        ("ingest", "POST /api/v2/items (1 item)"),
    ):
        if kind not in first:
            continue
        figures, own = first[kind], first[kind]["excluding_moto"]
        rows.append(
            (
                f"REST in process, {path}, {first['stored_items']:,} items: p50 / p99",
                "-",
                f"{figures['p50']:.1f} / {figures['p99']:.1f} ms "
                f"(without moto's time: {own['p50']:.1f} / {own['p99']:.1f} ms)",
                "-",
            )
        )
    for store in stores[1:]:
        parts = []
        for kind in ("metrics", "items"):
            figures, own = store[kind], store[kind]["excluding_moto"]
            parts.append(
                f"{kind} {figures['p50']:.1f} / {figures['p99']:.1f} ms "
                f"(without moto: {own['p50']:.1f} / {own['p99']:.1f})"
            )
        rows.append(
            (
                f"REST in process, {store['stored_items']:,} items: p50 / p99",
                "-",
                "; ".join(parts),
                "-",
            )
        )
    if len(stores) > 1:
        last = stores[-1]
        rows.append(
            (
                f"REST metrics p50, {first['stored_items']:,} vs {last['stored_items']:,} items",
                "within 1.2x",
                f"{first['metrics']['p50']:.1f} vs {last['metrics']['p50']:.1f} ms "
                f"= {result['metrics_p50_ratio']}x (without moto: "
                f"{result['metrics_p50_ratio_excluding_moto']}x)",
                _met(result["metrics_ratio_met"]),
            )
        )
    return rows


def refusal_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for case, request in (
        ("configuration", "POST /api/v2/configurations"),
        ("metrics", "GET /api/v2/metrics?tickers="),
    ):
        figures = result[case]
        small, huge = figures["tickers"]["small"], figures["tickers"]["huge"]
        rows.append(
            (
                f"422 for {huge:,} vs {small} tickers, {request}: p50",
                f"<= {RATIO_TARGET:g}x",
                f"{figures['huge']['p50']:.2f} vs {figures['small']['p50']:.2f} ms "
                f"= {figures['p50_ratio']}x",
                _met(figures["ratio_met"]),
            )
        )
    return rows


def coldstart_rows(result: dict[str, Any]) -> list[Row]:
    if "skipped" in result:
        return [("cold start", "-", f"skipped: {result['skipped']}", "-")]
    rows: list[Row] = []
    shipped = result["as_shipped"]
    medians = shipped["median_ms"]
    for name in ("dashboard", "sse"):
        what = "handler answers /health" if name == "dashboard" else "run.sh until /health"
        rows.append(
            (
                f"cold start, {name}.zip ({what}), median",
                "<= 1.5x floor",
                f"{medians[name]:,.0f} ms vs floor {medians['floor_' + name]:,.0f} ms "
                f"= {shipped['ratio'][name]}x",
                _met(result["met"][name]),
            )
        )
    sources = result.get("sources_only")  # absent from runs before the zips shipped bytecode
    if sources:
        rows.append(
            (
                "cold start, zips without their bytecode (sources only), median",
                "-",
                "; ".join(
                    f"{name} {sources['median_ms'][name]:,.0f} ms vs floor "
                    f"{sources['median_ms']['floor_' + name]:,.0f} ms = {sources['ratio'][name]}x"
                    for name in ("dashboard", "sse")
                ),
                "-",
            )
        )
    for name, size in result["zip_bytes"].items():
        rows.append((f"{name}.zip size", "< 20 MB", f"{size / 1e6:.2f} MB", _met(size < 20e6)))
    return rows


def rows(results: dict[str, Any]) -> list[Row]:
    table: list[Row] = []
    for group, build in (
        ("delivery", delivery_rows),
        ("fanout", fanout_rows),
        ("rest", rest_rows),
        ("refusal", refusal_rows),
        ("coldstart", coldstart_rows),
    ):
        if group in results:
            if "error" in results[group]:
                table.append((group, "-", f"error: {results[group]['error']}", "-"))
            else:
                table.extend(build(results[group]))
    return table


def markdown(table: list[Row]) -> str:
    lines = ["| figure | target | measured | |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in table]
    return "\n".join(lines)
