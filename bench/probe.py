"""Where an SSE server's memory goes: the product's app plus one diagnostic route.

``uvicorn --factory bench.probe:create_app`` serves ``sse.app.create_app()`` unchanged and adds
``GET /__bench/memory`` and ``GET /__bench/gc`` (never part of the product), answering:

- ``rss_kib`` and a split of the process's mappings from /proc/self/smaps: the brk heap (glibc's
  main malloc arena), other anonymous mappings by size class (pymalloc arenas are 1 MiB
  mmaps; glibc's per-thread arenas reserve 64 MiB each), file-backed (code);
- glibc ``mallinfo2()``: bytes in use by malloc callers vs held free inside the heaps;
- with tracemalloc on (``PYTHONTRACEMALLOC=N``): traced bytes, and with ``?mark=1`` a
  baseline snapshot; later calls return the top allocation sites grown since the mark;
- asyncio task count, GC-tracked objects (per stream by type, after a ``?mark=1``), and the
  time the cyclic collector has spent so far (``GET /__bench/gc``: just that).

``BENCH_GC_THRESHOLD=a,b,c`` in the server's environment calls ``gc.set_threshold(a, b, c)``
at startup (an experiment knob, not a product setting).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import os
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from sse.app import create_app as create_product_app

_MIB = 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def mallinfo() -> dict[str, int]:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    return {
        "heap_kib": info.arena // 1024,  # bytes taken from the OS by brk/arena heaps
        "mmapped_kib": info.hblkhd // 1024,  # chunks malloc mmapped on their own
        "in_use_kib": info.uordblks // 1024,  # handed to callers and not freed
        "free_in_heap_kib": info.fordblks // 1024,  # freed, kept by malloc (fragmentation)
    }


def smaps_split() -> dict[str, int]:
    """Resident KiB by kind of mapping."""
    split: Counter[str] = Counter()
    size = 0
    kind = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if not head:
            continue
        if "-" in head[0] and not head[0].endswith(":"):
            start, end = (int(part, 16) for part in head[0].split("-"))
            size = (end - start) // 1024
            name = head[5] if len(head) > 5 else ""
            if name == "[heap]":
                kind = "brk heap (main malloc arena)"
            elif name.startswith("["):
                kind = f"{name}"
            elif name:
                kind = "files (code, libraries)"
            elif size == _MIB:
                kind = "anon 1 MiB (pymalloc arenas)"
            elif size >= 60 * _MIB:
                kind = "anon >= 60 MiB (glibc thread arenas)"
            else:
                kind = "anon other (thread stacks, big malloc chunks)"
        elif head[0] == "Rss:":
            split[kind] += int(head[1])
    return dict(split)


def _rss_kib() -> int:
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line.split()[1] for line in status if line.startswith("VmRSS:")))


class GcClock:
    """Time the cyclic garbage collector spends, per generation (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.perf_counter() - self._started
            self.collections[generation] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "seconds_by_generation": [round(s, 3) for s in self.seconds],
            "collections_by_generation": list(self.collections),
            "thresholds": list(gc.get_threshold()),
            "frozen_objects": gc.get_freeze_count(),
        }


def pymalloc_stats() -> dict[str, int]:
    """The summary of ``sys._debugmallocstats()`` (printed to fd 2, so read back from a file):
    pymalloc's arenas (1 MiB each), blocks in use and free blocks inside used pools."""
    with tempfile.TemporaryFile(mode="w+") as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        text = capture.read()
    stats: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("# ") and "=" in line:
            name, _, value = line[2:].partition("=")
            stats[name.strip().replace(" ", "_")] = int(value.strip().replace(",", ""))
    return stats


def object_types() -> tuple[Counter[str], Counter[str]]:
    """GC-tracked objects by type name: counts, and bytes (``sys.getsizeof``, shallow)."""
    counts: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for item in gc.get_objects():
        name = type(item).__qualname__
        counts[name] += 1
        with contextlib.suppress(TypeError):
            sizes[name] += sys.getsizeof(item)
    return counts, sizes


def create_app() -> FastAPI:
    app = create_product_app()
    baseline: dict[str, Any] = {}
    gc_clock = GcClock()
    gc.callbacks.append(gc_clock)
    # An experiment knob, never the product's: BENCH_GC_THRESHOLD=700,10,10 (CPython's default).
    threshold = os.environ.get("BENCH_GC_THRESHOLD")
    if threshold:
        product_lifespan = app.router.lifespan_context

        @contextlib.asynccontextmanager
        async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
            async with product_lifespan(app_):
                # After the product's own gc.set_threshold, so that the experiment's wins.
                gc.set_threshold(*(int(part) for part in threshold.split(",")))
                yield

        app.router.lifespan_context = lifespan

    @app.get("/__bench/gc", include_in_schema=False)
    async def collector() -> dict[str, Any]:
        return gc_clock.snapshot()

    @app.get("/__bench/garbage", include_in_schema=False)
    async def garbage(seconds: float = 5.0, top: int = 30) -> dict[str, Any]:
        """Cyclic garbage (objects only the collector can free) made in ``seconds``, by type
        and by the function of the frames/coroutines among them."""
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            await asyncio.sleep(seconds)
            gc.collect()
            found = list(gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        types = Counter(type(o).__qualname__ for o in found)
        code = Counter(
            getattr(o, "cr_code", None) or getattr(o, "gi_code", None) or getattr(o, "f_code", None)
            for o in found
        )
        code.pop(None, None)
        return {
            "objects": len(found),
            "types": dict(types.most_common(top)),
            "code": {
                f"{c.co_name} ({c.co_filename.rsplit('/', 2)[-2:]}:{c.co_firstlineno})": n
                for c, n in code.most_common(top)
            },
        }

    @app.get("/__bench/exceptions", include_in_schema=False)
    async def exceptions(top: int = 10) -> dict[str, Any]:
        """Exceptions kept alive (with their tracebacks), by type and innermost frames."""
        gc.collect()
        kept: Counter[str] = Counter()
        for item in gc.get_objects():
            if isinstance(item, BaseException) and item.__traceback__ is not None:
                frames = []
                tb = item.__traceback__
                while tb is not None:
                    code = tb.tb_frame.f_code
                    frames.append(f"{code.co_name}:{tb.tb_lineno}")
                    tb = tb.tb_next
                kept[f"{type(item).__name__}: {' > '.join(frames[-4:])}"] += 1
        return {"exceptions": dict(kept.most_common(top))}

    @app.get("/__bench/memory", include_in_schema=False)
    async def memory(mark: bool = False, top: int = 25) -> dict[str, Any]:
        # On the event loop on purpose: the numbers do not move while they are read.
        collector = gc_clock.snapshot()  # before this request's own gc.collect()
        gc.collect()
        result: dict[str, Any] = {
            "gc": collector,
            "rss_kib": _rss_kib(),
            "smaps_kib": smaps_split(),
            "mallinfo": mallinfo(),
            "pymalloc": pymalloc_stats(),
            "gc_objects": len(gc.get_objects()),
            "allocated_blocks": sys.getallocatedblocks(),
            "streams": app.state.runtime.connections.active,
            "asyncio_tasks": len(asyncio.all_tasks()),
            "event_loop": type(asyncio.get_running_loop()).__module__,
            "http_modules": sorted(
                m for m in sys.modules if m.startswith("uvicorn.protocols.http.")
            ),
        }
        types, sizes = object_types()
        if mark or "types" not in baseline:
            baseline.update(types=types, sizes=sizes, type_streams=result["streams"])
        else:
            streams = max(1, result["streams"] - baseline["type_streams"])
            grown, grown_bytes = types.copy(), sizes.copy()
            grown.subtract(baseline["types"])
            grown_bytes.subtract(baseline["sizes"])
            result["gc_objects_per_stream"] = {
                name: round(count / streams, 2) for name, count in grown.most_common(top)
            }
            result["gc_bytes_per_stream"] = {
                name: round(size / streams) for name, size in grown_bytes.most_common(top)
            }
            result["gc_bytes_per_stream_total"] = round(sum(grown_bytes.values()) / streams)
        if tracemalloc.is_tracing():
            current, _ = tracemalloc.get_traced_memory()
            result["tracemalloc_kib"] = current // 1024
            snapshot = tracemalloc.take_snapshot()
            if mark or "snapshot" not in baseline:
                baseline.update(snapshot=snapshot, streams=result["streams"])
            else:
                grown = snapshot.compare_to(baseline["snapshot"], "lineno")
                streams = max(1, result["streams"] - baseline["streams"])
                result["per_stream_sites"] = [
                    {
                        "site": str(stat.traceback[0]),
                        "bytes_per_stream": round(stat.size_diff / streams),
                        "blocks_per_stream": round(stat.count_diff / streams, 2),
                    }
                    for stat in grown[:top]
                ]
                result["traced_bytes_per_stream"] = round(
                    sum(stat.size_diff for stat in grown) / streams
                )
                # The project's own allocation sites (sentiment/, sse/), wherever they run from.
                own = [
                    stat
                    for stat in grown
                    if "site-packages" not in stat.traceback[0].filename
                    and any(f"/{p}/" in stat.traceback[0].filename for p in ("sse", "sentiment"))
                ]
                result["project_bytes_per_stream"] = round(
                    sum(stat.size_diff for stat in own) / streams
                )
                result["project_sites"] = [
                    {
                        "site": str(stat.traceback[0]),
                        "bytes_per_stream": round(stat.size_diff / streams),
                    }
                    for stat in own[:top]
                ]
        return result

    return app
