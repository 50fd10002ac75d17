"""How long a stream may live: it must end cleanly before the Lambda deadline so the browser
reconnects with ``Last-Event-ID`` instead of seeing the invocation killed mid-event."""

from __future__ import annotations

import json
import random
import time

# Ends this long before the invocation deadline, leaving LWA time to finish the response.
DEADLINE_MARGIN_SECONDS = 2.0
# Lifetimes are spread over 80-100% of the maximum so reconnects do not arrive as a herd.
JITTER_LOW = 0.8


def deadline_from_context(header: str | None) -> float | None:
    """The invocation deadline (epoch seconds) from LWA's ``x-amzn-lambda-context`` header.

    LWA forwards the serialized Lambda context, whose field is ``deadline`` (epoch ms); one LWA
    guide shows ``deadline_ms``, so both are accepted. Anything unparsable means "unknown".
    """
    if not header:
        return None
    try:
        context = json.loads(header)
        value = context.get("deadline")
        if value is None:
            value = context.get("deadline_ms")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None
        return float(value) / 1000
    except (ValueError, TypeError, AttributeError):
        return None


def stream_end(
    max_stream_seconds: float,
    context_header: str | None,
    now: float | None = None,
    jitter: float | None = None,
) -> float:
    """The monotonic instant (``now``'s clock, ``time.monotonic()`` by default) this stream
    should close."""
    now = time.monotonic() if now is None else now
    if jitter is None:
        jitter = random.uniform(JITTER_LOW, 1.0)  # noqa: S311 - spreading, not security
    lifetime = max_stream_seconds * jitter
    deadline = deadline_from_context(context_header)
    if deadline is not None:
        lifetime = min(lifetime, deadline - time.time() - DEADLINE_MARGIN_SECONDS)
    return now + max(lifetime, 0.0)
