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
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, TracebackType
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
    """The product's SSE app, plus the ``/__bench`` routes and the GC threshold knob."""
    app = create_product_app()
    gc_clock = GcClock()
    gc.callbacks.append(gc_clock)
    # An experiment knob, never the product's: BENCH_GC_THRESHOLD=700,10,10 (CPython's default).
    threshold = os.environ.get("BENCH_GC_THRESHOLD")
    if threshold:
        set_gc_threshold_after_startup(app, tuple(int(part) for part in threshold.split(",")))
    probe = MemoryProbe(gc_clock, active_streams=lambda: app.state.runtime.connections.active)
    for path, route in (
        ("/__bench/gc", probe.collector),
        ("/__bench/garbage", garbage),
        ("/__bench/exceptions", exceptions),
        ("/__bench/memory", probe.memory),
    ):
        app.add_api_route(path, route, methods=["GET"], include_in_schema=False)
    return app


def set_gc_threshold_after_startup(app: FastAPI, threshold: tuple[int, ...]) -> None:
    """``gc.set_threshold(*threshold)`` once the product's lifespan has set its own, so that
    the experiment's wins."""
    product_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with product_lifespan(app_):
            gc.set_threshold(*threshold)
            yield

    app.router.lifespan_context = lifespan


async def garbage(seconds: float = 5.0, top: int = 30) -> dict[str, Any]:
    """Cyclic garbage (objects only the collector can free) made in ``seconds``, by type and by
    the function of the frames/coroutines among them."""
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
    code = Counter(c for c in map(_code_of, found) if c is not None)
    return {
        "objects": len(found),
        "types": dict(types.most_common(top)),
        "code": {
            f"{c.co_name} ({c.co_filename.rsplit('/', 2)[-2:]}:{c.co_firstlineno})": n
            for c, n in code.most_common(top)
        },
    }


def _code_of(thing: object) -> CodeType | None:
    """The code object of a coroutine, generator or frame; None for anything else."""
    for attribute in ("cr_code", "gi_code", "f_code"):
        code = getattr(thing, attribute, None)
        if isinstance(code, CodeType):
            return code
    return None


async def exceptions(top: int = 10) -> dict[str, Any]:
    """Exceptions kept alive (with their tracebacks), by type and innermost frames."""
    gc.collect()
    kept: Counter[str] = Counter()
    for item in gc.get_objects():
        if isinstance(item, BaseException) and item.__traceback__ is not None:
            frames = []
            tb: TracebackType | None = item.__traceback__
            while tb is not None:
                code = tb.tb_frame.f_code
                frames.append(f"{code.co_name}:{tb.tb_lineno}")
                tb = tb.tb_next
            kept[f"{type(item).__name__}: {' > '.join(frames[-4:])}"] += 1
    return {"exceptions": dict(kept.most_common(top))}


@dataclass(frozen=True)
class _ObjectsMark:
    """GC-tracked objects by type at the mark, and how many streams were open then."""

    counts: Counter[str]
    sizes: Counter[str]
    streams: int


@dataclass(frozen=True)
class _TracedMark:
    """tracemalloc's snapshot at the mark, and how many streams were open then."""

    snapshot: tracemalloc.Snapshot
    streams: int


class MemoryProbe:
    """``GET /__bench/memory``: where the process's memory is now and, from the second call
    (or after a ``?mark=1``), what grew per stream opened since the mark."""

    def __init__(self, gc_clock: GcClock, active_streams: Callable[[], int]) -> None:
        self._gc_clock = gc_clock
        self._active_streams = active_streams
        self._objects: _ObjectsMark | None = None
        self._traced: _TracedMark | None = None

    async def collector(self) -> dict[str, Any]:
        """``GET /__bench/gc``: the time the cyclic collector has spent so far."""
        return self._gc_clock.snapshot()

    async def memory(self, mark: bool = False, top: int = 25) -> dict[str, Any]:
        """Memory now, then growth per stream since the mark (``mark``: set it here)."""
        # On the event loop on purpose: the numbers do not move while they are read.
        collector = self._gc_clock.snapshot()  # before this request's own gc.collect()
        gc.collect()
        result = self._process_memory(collector)
        streams: int = result["streams"]
        result.update(self._object_growth(streams, mark, top))
        if tracemalloc.is_tracing():
            result.update(self._traced_growth(streams, mark, top))
        return result

    def _process_memory(self, collector: dict[str, Any]) -> dict[str, Any]:
        return {
            "gc": collector,
            "rss_kib": _rss_kib(),
            "smaps_kib": smaps_split(),
            "mallinfo": mallinfo(),
            "pymalloc": pymalloc_stats(),
            "gc_objects": len(gc.get_objects()),
            "allocated_blocks": sys.getallocatedblocks(),
            "streams": self._active_streams(),
            "asyncio_tasks": len(asyncio.all_tasks()),
            "event_loop": type(asyncio.get_running_loop()).__module__,
            "http_modules": sorted(
                m for m in sys.modules if m.startswith("uvicorn.protocols.http.")
            ),
        }

    def _object_growth(self, streams: int, mark: bool, top: int) -> dict[str, Any]:
        """GC-tracked objects and their shallow bytes grown per stream since the mark."""
        counts, sizes = object_types()
        if mark or self._objects is None:
            self._objects = _ObjectsMark(counts, sizes, streams)
            return {}
        opened = max(1, streams - self._objects.streams)
        counts.subtract(self._objects.counts)
        sizes.subtract(self._objects.sizes)
        return {
            "gc_objects_per_stream": {
                name: round(count / opened, 2) for name, count in counts.most_common(top)
            },
            "gc_bytes_per_stream": {
                name: round(size / opened) for name, size in sizes.most_common(top)
            },
            "gc_bytes_per_stream_total": round(sum(sizes.values()) / opened),
        }

    def _traced_growth(self, streams: int, mark: bool, top: int) -> dict[str, Any]:
        """tracemalloc's total and the allocation sites grown per stream since the mark, all of
        them and the project's own."""
        current, _ = tracemalloc.get_traced_memory()
        traced = {"tracemalloc_kib": current // 1024}
        snapshot = tracemalloc.take_snapshot()
        if mark or self._traced is None:
            self._traced = _TracedMark(snapshot, streams)
            return traced
        grown = snapshot.compare_to(self._traced.snapshot, "lineno")
        opened = max(1, streams - self._traced.streams)
        own = [stat for stat in grown if _is_project_site(stat)]
        return {
            **traced,
            "per_stream_sites": [
                {
                    **_site_per_stream(stat, opened),
                    "blocks_per_stream": round(stat.count_diff / opened, 2),
                }
                for stat in grown[:top]
            ],
            "traced_bytes_per_stream": round(sum(stat.size_diff for stat in grown) / opened),
            "project_bytes_per_stream": round(sum(stat.size_diff for stat in own) / opened),
            "project_sites": [_site_per_stream(stat, opened) for stat in own[:top]],
        }


def _site_per_stream(stat: tracemalloc.StatisticDiff, streams: int) -> dict[str, Any]:
    return {"site": str(stat.traceback[0]), "bytes_per_stream": round(stat.size_diff / streams)}


def _is_project_site(stat: tracemalloc.StatisticDiff) -> bool:
    """An allocation in the project's own code (sentiment/, sse/), wherever it runs from."""
    filename = stat.traceback[0].filename
    return "site-packages" not in filename and any(
        f"/{package}/" in filename for package in ("sse", "sentiment")
    )
