"""The naive baseline for the fan-out benchmark: every stream runs its own poller.

Built from the product's own pieces without touching ``src/``: the app is
``sse.app.create_app()``, unchanged, except that the ``get_runtime`` dependency hands each
request a copy of the process's :class:`~sse.stream.StreamRuntime` holding a NEW
:class:`~sse.hub.Hub`. A stream subscribes to its private hub, whose poller starts with it and
stops with it, so DynamoDB Query calls grow with the number of open streams (a design that has
shipped elsewhere, and the one the hub exists to avoid). Everything else (connection cap, metrics
cache, telemetry, DynamoDB call counter on ``/api/v2/stream/status``) is shared as usual.

    uvicorn --factory bench.naive:create_app
"""

from __future__ import annotations

import dataclasses

from fastapi import FastAPI, Request

from sse.app import create_app as create_product_app
from sse.hub import Hub
from sse.routes import get_runtime
from sse.stream import StreamRuntime


def create_app() -> FastAPI:
    app = create_product_app()
    shared: StreamRuntime = app.state.runtime
    poll_interval = app.state.services.settings.SSE_POLL_INTERVAL

    def runtime_with_own_hub(request: Request) -> StreamRuntime:
        hub = Hub(
            shared.source,
            poll_interval,
            shared.logger,
            on_poll=shared.telemetry.poll_duration,
        )
        return dataclasses.replace(shared, hub=hub)

    app.dependency_overrides[get_runtime] = runtime_with_own_hub
    return app
