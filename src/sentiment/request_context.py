"""The log fields of one request, set once for every line it writes, in both apps.

Powertools writes ``level``, ``location``, ``message``, ``timestamp``, ``service`` (dashboard or
sse) and ``xray_trace_id`` on every line. On top of that:

======================  ===================================================================
field                   what, and where it comes from
======================  ===================================================================
correlation_id          one page load, across both functions: the page's
                        ``X-Correlation-Id`` header, or ``?correlation_id=`` on stream URLs
                        (EventSource cannot send headers); a fresh id when it is missing or
                        not 1-64 of ``A-Z a-z 0-9 . _ -`` (never trusted further). Every
                        response echoes it as ``X-Correlation-Id``.
function_request_id     the Lambda invocation: Powertools' ``inject_lambda_context``
                        (dashboard) or the Lambda Web Adapter's ``x-amzn-lambda-context``
                        header (sse). On Lambda only.
cold_start              true on the first invocation an execution environment serves.
                        On Lambda only.
client_ip               the caller's address (the Function URL's source IP)
status, method, path    on ``request rejected``: every answer with a status of 400 or more
                        (INFO for 4xx, WARNING for 5xx); the query string is never logged
                        (stream tickets travel in it)
connection_id,          ``stream opened``, ``stream closed`` and any line about one stream
config_id               (sse; no ``config_id`` on the global stream)
reason,                 ``stream closed``: lifetime, client_gone, slow_subscriber or error;
duration_seconds,       how long it was open; new_item events it sent; its slowest live
items_delivered,        item, ingest to send
max_delivery_lag_ms
kind, error             ``storage poll failing``, ``storage unavailable``: throttled,
                        timeout, unavailable, rejected or error, and the exception
======================  ===================================================================

The keys live in a context variable (Powertools' ``thread_safe_append_keys``): each request
runs in a task of its own, so concurrent requests and streams never see each other's keys.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from aws_lambda_powertools import Logger
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The fields above, and the other keys the apps put on their lines (saved queries may name these;
# tests/unit/test_monitoring.py checks they do not name others and docs/operations.md lists them).
LOG_FIELDS = frozenset(
    {
        "correlation_id", "function_request_id", "cold_start",
        "status", "method", "path", "client_ip",
        "connection_id", "config_id", "resumed", "connections",
        "reason", "duration_seconds", "items_delivered", "max_delivery_lag_ms",
        "kind", "code", "error", "failures", "outage_seconds", "kinds",
    }
)  # fmt: skip
CORRELATION_HEADER = "x-correlation-id"
CORRELATION_PARAM = "correlation_id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_MAX_CLIENT_IP = 64  # an IPv6 address with a zone is at most ~50 characters


def accepted_correlation_id(value: str | None) -> str | None:
    """``value`` if it is safe to log and echo as it is, else None."""
    return value if value is not None and _SAFE_ID.fullmatch(value) else None


def lambda_request_id(header: str | None) -> str | None:
    """The invocation's request id from LWA's ``x-amzn-lambda-context`` (a serialized Lambda
    context, field ``request_id``); None if absent or unreadable."""
    if not header:
        return None
    try:
        value = json.loads(header).get("request_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and _SAFE_ID.fullmatch(value) else None


def client_ip(scope: Scope, headers: Headers) -> str | None:
    """The caller's address: from LWA's ``x-amzn-request-context`` (the Function URL's request
    context), else the ASGI client (Mangum puts the Function URL's source IP there)."""
    context = headers.get("x-amzn-request-context")
    if context:
        try:
            source = json.loads(context).get("http", {}).get("sourceIp")
        except (ValueError, AttributeError):
            source = None
        if isinstance(source, str) and source:
            return source[:_MAX_CLIENT_IP]
    client = scope.get("client")
    return str(client[0])[:_MAX_CLIENT_IP] if client else None


class RequestContext:
    """ASGI middleware: the request's log keys, its correlation id echoed on the response, and
    one line for every request answered with an error status."""

    def __init__(self, app: ASGIApp, logger: Logger) -> None:
        self._app = app
        self._logger = logger
        self._invoked = False  # an LWA invocation has been served (cold_start)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        correlation_id = (
            accepted_correlation_id(headers.get(CORRELATION_HEADER))
            or accepted_correlation_id(QueryParams(scope["query_string"]).get(CORRELATION_PARAM))
            or uuid.uuid4().hex
        )
        keys: dict[str, Any] = {
            "correlation_id": correlation_id,
            "client_ip": client_ip(scope, headers),
        }
        request_id = lambda_request_id(headers.get("x-amzn-lambda-context"))
        if request_id is not None:
            keys |= {"function_request_id": request_id, "cold_start": not self._invoked}
            self._invoked = True
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Correlation-Id", correlation_id)
            await send(message)

        self._logger.thread_safe_append_keys(**keys)
        try:
            await self._app(scope, receive, send_with_id)
        except Exception:
            status = status or 500  # what Starlette's outermost middleware answers
            raise
        finally:
            if status is not None and status >= 400:
                log = self._logger.info if status < 500 else self._logger.warning
                log(
                    "request rejected",
                    extra={"status": status, "method": scope["method"], "path": scope["path"]},
                )
            self._logger.thread_safe_remove_keys(keys)
