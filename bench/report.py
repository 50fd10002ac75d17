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


def scale_rows(result: dict[str, Any]) -> list[Row]:
    few, many = result["stores"]
    n, m = few["distinct_tickers"], many["distinct_tickers"]
    rows: list[Row] = [
        (
            f"scale: {many['items']:,} items naming {m:,} distinct tickers in one hour, "
            "bulk load (ItemStore.load)",
            "-",
            f"{many['load_seconds']:g} s, {many['counter_rows']:,} counter rows",
            "-",
        )
    ]
    ingest = many.get("ingest")
    if ingest:
        rows.append(
            (
                "scale: then ItemStore.ingest, items naming 10 new tickers each, into that hour",
                "every one stored",
                f"{ingest['stored']} of {ingest['items']} stored, p50 {ingest['p50']:,.0f} ms "
                "a transaction (moto)",
                _met(ingest["stored"] == ingest["items"]),
            )
        )
    for view, label in (("global", "global view"), ("watch_list", "5-ticker watch list")):
        a, b = few[view], many[view]
        rows.append(
            (
                f"scale: metrics, {label}, app's own time p50 (p99), {n} vs {m:,} tickers",
                f"within {result.get('ratio_target', 1.2):g}x",
                f"{a['app']['p50']:.2f} ({a['app']['p99']:.2f}) vs {b['app']['p50']:.2f} "
                f"({b['app']['p99']:.2f}) ms = {result['app_p50_ratio'][view]}x; with moto: "
                f"{a['p50']:,.0f} vs {b['p50']:,.0f} ms",
                _met(result["ratio_met"][view]),
            )
        )
    rows.append(
        (
            f"scale: metrics event bytes (global / watch list), {n} vs {m:,} tickers",
            f"< {result['event_bound']:,} B",
            f"{few['event_bytes']['global']:,} / {few['event_bytes']['watch_list']:,} vs "
            f"{many['event_bytes']['global']:,} / {many['event_bytes']['watch_list']:,} B; "
            f"REST 168 h {few['rest_bytes_168h']:,} vs {many['rest_bytes_168h']:,} B "
            f"(< {result['rest_bound']:,})",
            _met(result["bytes_met"]),
        )
    )
    rows.append(
        (
            f"scale: global view at {m:,} tickers: by_ticker, others, ranking_exact",
            "-",
            f"{many['by_ticker']} named, {many['others']:,} others, {many['ranking_exact']}",
            "-",
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


def page_rows(result: dict[str, Any]) -> list[Row]:
    if "skipped" in result:
        return [("page load", "-", f"skipped: {result['skipped']}", "-")]
    rows: list[Row] = []
    for phase, label in (("cold", "cold (empty cache)"), ("warm", "warm (reload)")):
        load = result.get(phase)
        if not load:
            continue
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(load["by_kind"].items()))
        snapshot = load["snapshot_loads"]
        rows.append(
            (
                f"page load, {label}: requests, bytes on the wire",
                "-",
                f"{load['requests']:g} requests ({kinds}; {load['not_modified']:g} x 304), "
                f"{load['bytes'] / 1000:,.1f} kB; metrics {snapshot['metrics']}x, "
                f"items {snapshot['items']}x; Connected after {load['connected_ms']:,.0f} ms",
                "-",
            )
        )
    totals = result.get("compression", {}).get("totals")
    if totals:
        rows.append(
            (
                "page files + JSON, body bytes: as is / gzip via uvicorn / via the Lambda handler",
                "-",
                f"{totals['identity'] / 1000:,.1f} / {totals['local'] / 1000:,.1f} / "
                f"{totals['lambda'] / 1000:,.1f} kB",
                "-",
            )
        )
    return rows


def soak_rows(result: dict[str, Any]) -> list[Row]:
    stalls = ", ".join(f"{s['seconds']:g} s" for s in result["stalls"])
    label = f"soak, {result['viewers']} streams for {result['seconds']:g} s, stalls {stalls}"
    start, end = result["process_start"], result["process_end"]
    one = result["one_stream"]
    return [
        (f"{label}: items lost", "0", f"{result['items_lost']} of {result['items_posted']}",
         _met(result["items_lost"] == 0)),
        (f"{label}: duplicates per reconnect", "-",
         f"{result['duplicates_per_reconnect']} ({result['reconnects']} reconnects)", "-"),
        (f"{label}: longest heartbeat gap", "<= 2 s (interval + 1 s)",
         f"{result['longest_heartbeat_gap_s']} s", _met(result["longest_heartbeat_gap_s"] <= 2)),
        (f"{label}: SSE RSS / open fds, start -> end", "growth <= 10%",
         f"{start['rss_kib'] / 1024:.1f} -> {end['rss_kib'] / 1024:.1f} MiB "
         f"({result['rss_growth']:+.1%}); {start['fds']} -> {end['fds']} "
         f"({result['fd_growth']:+.1%})",
         _met(result["rss_growth"] <= 0.1 and result["fd_growth"] <= 0.1)),
        (f"one stream for a whole lifetime ({one['lifetime_setting_s']:g} s): peak RSS",
         "< 96 MiB (128 MB Lambda, room for LWA)", f"{one['peak_rss_mib']} MiB",
         _met(one["fits_128_mb"])),
    ]  # fmt: skip


def rows(results: dict[str, Any]) -> list[Row]:
    table: list[Row] = []
    for group, build in (
        ("delivery", delivery_rows),
        ("fanout", fanout_rows),
        ("rest", rest_rows),
        ("refusal", refusal_rows),
        ("scale", scale_rows),
        ("coldstart", coldstart_rows),
        ("page", page_rows),
        ("soak", soak_rows),
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
