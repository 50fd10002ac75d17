"""Security headers both apps send on every answer: a Content-Security-Policy, ``nosniff`` and
frame protection.

JSON, event streams and errors get a policy that loads nothing (they are never rendered). The
dashboard's page files and the API docs set a policy of their own on their responses; this
middleware only fills in what a response did not set.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# An answer nobody should ever render: no scripts, styles, frames, nothing.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
HARDENING = {
    "X-Content-Type-Options": "nosniff",
    # Old browsers ignore frame-ancestors; X-Frame-Options covers them.
    "X-Frame-Options": "DENY",
}


def page_policy(connect_origins: list[str]) -> str:
    """The dashboard page: its own scripts and styles only (no inline code), data: images (the
    favicon, Swagger UI's icons), and fetches to itself and the SSE app."""
    connect = " ".join(["'self'", *connect_origins])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def origin_of(url: str) -> str | None:
    """``https://host[:port]`` of an absolute URL (what CSP source lists match), else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


class SecurityHeaders:
    """Pure ASGI middleware (no buffering, so event streams pass through untouched)."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = dict(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_hardened)


def default_headers() -> dict[str, str]:
    """What every answer carries unless it set its own policy."""
    return {"Content-Security-Policy": API_POLICY, **HARDENING}
