"""Builds the SSE FastAPI app (``uvicorn --factory sse.app:create_app``; see run.sh)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from sentiment.docs import install_docs
from sentiment.observability import Observability, create_observability, metric_dimensions
from sentiment.services import Services, build_services
from sentiment.settings import Settings
from sentiment.web import install_common
from sse.connections import ConnectionManager
from sse.hub import Hub
from sse.metrics_cache import MetricsCache
from sse.routes import router
from sse.stream import StreamRuntime
from sse.telemetry import FLUSH_INTERVAL_SECONDS, EmfWriter, StreamTelemetry

# Open streams keep a few hundred objects each alive, and every event makes objects that live
# until the next one; with CPython's default thresholds (700, 10, 10) they reach the oldest
# generation and trigger a full collection of everything every second or so (70% of a core at
# 3,000 streams, bench/README.md). Collecting the young generations less often lets them die young.
GC_THRESHOLDS = (50_000, 20, 10)


def count_calls(client: Any) -> Counter[str]:
    """Counts DynamoDB API calls by operation (shown on /api/v2/stream/status)."""
    calls: Counter[str] = Counter()

    def record(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client.meta.events.register("before-call.dynamodb", record)
    return calls


def build_runtime(services: Services, observability: Observability) -> StreamRuntime:
    settings = services.settings
    telemetry = StreamTelemetry(
        EmfWriter(settings.METRICS_NAMESPACE, metric_dimensions("sse", settings))
    )
    return StreamRuntime(
        hub=Hub(
            services.items,
            settings.SSE_POLL_INTERVAL,
            observability.logger,
            on_poll=telemetry.poll_duration,
            on_failure=telemetry.poll_failed,
        ),
        source=services.items,
        metrics=MetricsCache(services.metrics, observability.logger),
        connections=ConnectionManager(settings.SSE_MAX_CONNECTIONS),
        telemetry=telemetry,
        logger=observability.logger,
        heartbeat_interval=settings.SSE_HEARTBEAT_INTERVAL,
        metrics_interval=settings.SSE_METRICS_INTERVAL,
        poll_interval=settings.SSE_POLL_INTERVAL,
        replay_limit=settings.SSE_REPLAY_LIMIT,
        max_stream_seconds=settings.SSE_MAX_STREAM_SECONDS,
        started_at=time.monotonic(),
    )


async def _flush_periodically(runtime: StreamRuntime) -> None:
    """Metrics of long streams, once a minute. On Lambda this timer stops while the environment
    is frozen between invocations; streams flush as they close (sse/telemetry.py)."""
    while True:
        await asyncio.sleep(FLUSH_INTERVAL_SECONDS)
        runtime.telemetry.flush()


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    observability: Observability | None = None,
) -> FastAPI:
    settings = settings or (services.settings if services else Settings())
    services = services or build_services(settings)
    observability = observability or create_observability("sse", settings)
    runtime = build_runtime(services, observability)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        previous = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)  # the server process's, set when it starts serving
        flusher = asyncio.create_task(_flush_periodically(runtime))
        try:
            yield
        finally:
            flusher.cancel()
            await runtime.hub.close()
            runtime.telemetry.flush()
            gc.set_threshold(*previous)

    app = FastAPI(
        title="Sentiment dashboard streams",
        version="2",
        description="Server-sent events: heartbeat, metrics and new_item. Resume with "
        "Last-Event-ID. Runs behind the Lambda Web Adapter in RESPONSE_STREAM mode.",
        lifespan=lifespan,
        docs_url=None,  # install_docs serves Swagger UI locally, ReDoc would need a CDN
        redoc_url=None,
    )
    install_common(app, services, observability)
    install_docs(app)
    app.state.runtime = runtime
    app.state.dynamodb_calls = count_calls(services.dynamodb.meta.client)
    app.include_router(router)
    return app
