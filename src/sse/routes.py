"""The SSE app's routes. Stream routes answer errors as JSON before the stream starts:
config streams check auth (401), then the configuration (404), then capacity (503)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.sse import EventSourceResponse
from pydantic import BaseModel

from sentiment.auth import InvalidTokenError
from sentiment.models import Configuration
from sentiment.store import ConfigurationNotFoundError
from sentiment.web import BearerDep, ConfigIdPath, ServicesDep, invalid_token, user_from_bearer
from sse.connections import Slot
from sse.events import encode
from sse.lifetime import stream_end
from sse.start import StartPoint, start_point
from sse.stream import StreamRequest, StreamRuntime, event_stream

router = APIRouter(tags=["stream"])
RETRY_AFTER_SECONDS = 5


class StreamStatus(BaseModel):
    connections: int
    max_connections: int
    available: int
    uptime_seconds: float
    heartbeat_interval: float
    metrics_interval: float
    poll_interval: float
    poller_running: bool
    polls: int
    poll_failures: int  # consecutive failed polls now; 0 while storage answers
    dynamodb_calls: dict[str, int]


def get_runtime(request: Request) -> StreamRuntime:
    runtime: StreamRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[StreamRuntime, Depends(get_runtime)]


async def stream_slot(runtime: RuntimeDep) -> AsyncIterator[Slot]:
    """Holds a connection slot for the life of the stream; 503 when none is free."""
    slot = runtime.connections.try_acquire()
    if slot is None:
        runtime.telemetry.stream_rejected()
        limit = runtime.connections.limit
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"stream capacity reached ({limit} open); retry in {RETRY_AFTER_SECONDS} s",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    try:
        yield slot
    finally:
        slot.release()


def stream_start(
    runtime: RuntimeDep,
    last_event_id_header: Annotated[
        str | None, Header(alias="last-event-id", include_in_schema=False)
    ] = None,
    last_event_id: Annotated[
        str | None, Query(description="Resume after this event id (as `Last-Event-ID` does)")
    ] = None,
) -> StartPoint:
    return start_point(last_event_id_header or last_event_id, runtime.clock())


def lambda_context(
    context: Annotated[
        str | None, Header(alias="x-amzn-lambda-context", include_in_schema=False)
    ] = None,
) -> str | None:
    return context


def stream_owner(
    config_id: ConfigIdPath,
    services: ServicesDep,
    credentials: BearerDep,
    ticket: Annotated[
        str | None, Query(description="A stream ticket, for browsers that cannot send headers")
    ] = None,
) -> str:
    """The user a ticket (for this configuration) or a session token names; else 401."""
    if ticket is None:
        return user_from_bearer(services, credentials)
    try:
        return services.tokens.verify_ticket(ticket, config_id)
    except InvalidTokenError as error:
        raise invalid_token(error) from error


def owned_configuration(
    config_id: ConfigIdPath, services: ServicesDep, user_id: Annotated[str, Depends(stream_owner)]
) -> Configuration:
    try:
        return services.configurations.get(user_id, config_id)
    except ConfigurationNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "configuration not found") from error


SlotDep = Annotated[Slot, Depends(stream_slot)]
StartDep = Annotated[StartPoint, Depends(stream_start)]
ContextDep = Annotated[str | None, Depends(lambda_context)]
# No caching, and no buffering by proxies such as nginx.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# Documented by hand: these routes return an EventSourceResponse themselves (see event_source).
STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Server-sent events", "content": {"text/event-stream": {}}},
    503: {"description": "Stream capacity reached; see Retry-After"},
}


def event_source(runtime: StreamRuntime, stream: StreamRequest) -> EventSourceResponse:
    """The stream as FastAPI's EventSourceResponse, fed directly with encoded events.

    FastAPI's generator-endpoint SSE path would add two tasks, two memory streams and a timer
    per event to every stream; at thousands of streams per process that framework work, not
    ours, is what saturates the CPU (bench/README.md). The bytes are the same.
    """

    async def frames() -> AsyncIterator[bytes]:
        async for event in event_stream(runtime, stream):
            yield encode(event)

    return EventSourceResponse(frames(), headers=STREAM_HEADERS)


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness (the LWA readiness check)."""
    return {"status": "ok"}


@router.get("/api/v2/stream/status", response_model=StreamStatus)
def stream_status(runtime: RuntimeDep, request: Request) -> StreamStatus:
    """Open streams, capacity and timing knobs of this process."""
    return StreamStatus(
        connections=runtime.connections.active,
        max_connections=runtime.connections.limit,
        available=runtime.connections.available,
        uptime_seconds=runtime.uptime(),
        heartbeat_interval=runtime.heartbeat_interval,
        metrics_interval=runtime.metrics_interval,
        poll_interval=runtime.poll_interval,
        poller_running=runtime.hub.running,
        polls=runtime.hub.polls,
        poll_failures=runtime.hub.outage.failures if runtime.hub.outage else 0,
        dynamodb_calls=dict(request.app.state.dynamodb_calls),
    )


@router.get("/api/v2/stream", responses=STREAM_RESPONSES)
async def global_stream(
    runtime: RuntimeDep, slot: SlotDep, start: StartDep, context: ContextDep
) -> EventSourceResponse:
    """Every new item, heartbeats and metrics. Resumes after `Last-Event-ID`."""
    end_at = stream_end(runtime.max_stream_seconds, context, now=runtime.monotonic())
    stream = StreamRequest(slot=slot, start=start, end_at=end_at)
    return event_source(runtime, stream)


@router.get(
    "/api/v2/configurations/{config_id}/stream",
    responses={
        401: {"description": "No valid token or ticket"},
        404: {"description": "No such configuration for this user"},
        **STREAM_RESPONSES,
    },
)
async def configuration_stream(
    runtime: RuntimeDep,
    config: Annotated[Configuration, Depends(owned_configuration)],
    slot: SlotDep,
    start: StartDep,
    context: ContextDep,
) -> EventSourceResponse:
    """Items sharing a ticker with the configuration, and metrics for its tickers."""
    stream = StreamRequest(
        slot=slot,
        start=start,
        end_at=stream_end(runtime.max_stream_seconds, context, now=runtime.monotonic()),
        tickers=config.tickers,
        config_id=config.config_id,
    )
    return event_source(runtime, stream)
