"""A sick DynamoDB on demand: an HTTP proxy on loopback between the apps and moto server.

Point an app's ``AWS_ENDPOINT_URL_DYNAMODB`` at :attr:`FaultProxy.url` and it talks to the
embedded DynamoDB through the proxy, which can, at any moment:

- ``stall()``: accept requests and hold them unanswered (a frozen endpoint); when it heals,
  held requests go through, except those whose client gave up meanwhile (as with DynamoDB, an
  abandoned request costs the storage nothing);
- ``refuse()``: stop listening and drop open connections (connection refused);
- ``reset()``: accept each request, then reset the connection;
- ``slow(seconds)``: add latency to every request;
- ``throttle(fraction)``: answer that fraction of requests with DynamoDB's throttling errors;
- ``fail(fraction, status, code)``: answer that fraction with another DynamoDB error (by default
  a 500 InternalServerError; a 400 ValidationException is a permanent rejection);
- ``heal()``: back to forwarding everything promptly.

HTTP/1.1 is parsed with h11 (one request at a time per connection, as botocore sends them) and
forwarded with httpx, so bodies and botocore's CRC32 checksums pass through untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import h11
import httpx

from tests.utils.processes import RunningStack, extra_app

_HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"host", b"content-length"}
_THROTTLING = (
    ("ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    (
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    ),
)


@dataclass
class Fault:
    """What the proxy does to the next request. The default forwards everything."""

    stalled: bool = False
    refused: bool = False
    reset: bool = False
    latency: float = 0.0
    throttle: float = 0.0
    errors: float = 0.0
    error: tuple[int, str, str] = (500, "InternalServerError", "injected fault")


class FaultProxy:
    """An asyncio server; create, ``await start()``, then switch faults from the same loop."""

    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self._upstream = upstream.rstrip("/")
        self._host = host
        self._port = port
        self._fault = Fault()
        self._healed = asyncio.Event()
        self._healed.set()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._connections: set[asyncio.Task[Any]] = set()
        self._client = httpx.AsyncClient(base_url=self._upstream, timeout=30)
        self._random = random.Random(1234)
        self.requests = 0
        self.injected = 0

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    @property
    def fault(self) -> Fault:
        return self._fault

    async def start(self) -> str:
        await self._listen()
        return self.url

    async def close(self) -> None:
        self.heal()
        await self._stop_listening()
        # Every connection was reset: let their handlers finish rather than be cancelled.
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._client.aclose()

    # --- switching faults ----------------------------------------------------------------

    def stall(self) -> None:
        self._set(Fault(stalled=True))

    async def refuse(self) -> None:
        self._set(Fault(refused=True))
        await self._stop_listening()

    def reset(self) -> None:
        self._set(Fault(reset=True))

    def slow(self, seconds: float) -> None:
        self._set(Fault(latency=seconds))

    def throttle(self, fraction: float) -> None:
        self._set(Fault(throttle=fraction))

    def fail(
        self,
        fraction: float,
        status: int = 500,
        code: str = "InternalServerError",
        message: str = "injected fault",
    ) -> None:
        self._set(Fault(errors=fraction, error=(status, code, message)))

    def heal(self) -> None:
        """Forward everything again (held requests go through now); call ``await
        restart()`` too after ``refuse()``."""
        self._set(Fault())

    async def restart(self) -> None:
        """Listen again on the same port after ``refuse()``."""
        self.heal()
        if self._server is None:
            await self._listen()

    @contextlib.asynccontextmanager
    async def refusing(self) -> AsyncIterator[None]:
        await self.refuse()
        try:
            yield
        finally:
            await self.restart()

    async def _held_until_healed(self, reader: asyncio.StreamReader) -> bool:
        """Hold a request until the proxy heals; False if its client hung up first (botocore
        sends nothing more on a connection while it waits for an answer)."""
        return await _wait_first(self._healed.wait(), reader.read(1)) == 0

    def _set(self, fault: Fault) -> None:
        self._fault = fault
        if fault.stalled:
            self._healed.clear()
        else:
            self._healed.set()

    # --- serving ---------------------------------------------------------------------------

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def _stop_listening(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            _abort(writer)
        if server is not None:
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)
        self._writers.add(writer)
        connection = h11.Connection(h11.SERVER)
        try:
            while True:
                request = await _read_request(connection, reader)
                if request is None:
                    return
                await self._answer(connection, reader, writer, *request)
                if connection.our_state is h11.MUST_CLOSE:
                    return
                connection.start_next_cycle()
        except (ConnectionError, h11.RemoteProtocolError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            _abort(writer)

    async def _answer(
        self,
        connection: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        body: bytes,
    ) -> None:
        self.requests += 1
        fault = self._fault
        if fault.refused or fault.reset:
            self.injected += 1
            raise ConnectionResetError("fault: reset")
        if fault.stalled:
            self.injected += 1
            if not await self._held_until_healed(reader):
                raise ConnectionResetError("fault: the client gave up while stalled")
        if fault.latency:
            self.injected += 1
            await asyncio.sleep(fault.latency)
        roll = self._random.random()
        if roll < fault.throttle:
            self.injected += 1
            code, message = self._random.choice(_THROTTLING)
            await _respond(connection, writer, 400, _error_body(code, message))
        elif roll < fault.errors:
            self.injected += 1
            status, code, message = fault.error
            await _respond(connection, writer, status, _error_body(code, message))
        else:
            upstream = await self._client.request(
                request.method.decode(),
                request.target.decode(),
                headers=[(k, v) for k, v in request.headers if k.lower() not in _HOP_BY_HOP],
                content=body,
            )
            headers = [
                (k.encode(), v.encode())
                for k, v in upstream.headers.multi_items()
                if k.lower().encode() not in _HOP_BY_HOP | {b"content-encoding"}
            ]
            await _respond(connection, writer, upstream.status_code, upstream.content, headers)


async def _wait_first(*waits: Awaitable[object]) -> int:
    """The index of the first of ``waits`` to finish; the others are cancelled."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return next(i for i, task in enumerate(tasks) if task in done)


async def _read_request(
    connection: h11.Connection, reader: asyncio.StreamReader
) -> tuple[h11.Request, bytes] | None:
    """The next whole request on this connection, or None when the client closed it."""
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            connection.receive_data(data)
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, bytes(body)
        elif isinstance(event, h11.ConnectionClosed):
            return None


async def _respond(
    connection: h11.Connection,
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [*(headers or [(b"content-type", b"application/x-amz-json-1.0")])]
    headers.append((b"content-length", str(len(body)).encode()))
    writer.write(connection.send(h11.Response(status_code=status, headers=headers)) or b"")
    writer.write(connection.send(h11.Data(data=body)) or b"")
    writer.write(connection.send(h11.EndOfMessage()) or b"")
    await writer.drain()


def _error_body(code: str, message: str) -> bytes:
    """A DynamoDB JSON-protocol error, as botocore parses it into ``ClientError``."""
    return json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
    ).encode()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with a reset (RST), the way a dead endpoint looks to the client."""
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()


@contextlib.asynccontextmanager
async def app_behind(
    proxy: FaultProxy,
    stack: RunningStack,
    env: dict[str, str],
    app: str = "sse",
    output: list[str] | None = None,
) -> AsyncIterator[str]:
    """One of the stack's apps (see ``extra_app``) whose DynamoDB is ``proxy``; yields its URL.

    Started and stopped in a thread: the proxy runs on this event loop, and the app's readiness
    check may need it to answer."""
    with contextlib.ExitStack() as apps:
        url = await asyncio.to_thread(
            apps.enter_context,
            extra_app(stack, env, app=app, dynamodb_port=proxy.port, output=output),
        )
        try:
            yield url
        finally:
            await asyncio.to_thread(apps.close)
