"""The SSE app's metrics (CloudWatch EMF), gathered in process and written in a few lines.

On Lambda each execution environment serves one stream at a time, so anything "per process"
(a gauge of open connections, say) is 0 or 1 there and says little. Every metric here is a
count or a sample that CloudWatch can add up across environments:

=================  ============  ==========  ================================================
metric             unit          dimension   meaning
=================  ============  ==========  ================================================
StreamsOpened      Count                     streams that started
StreamsClosed      Count         Reason      streams that ended: lifetime, client_gone,
                                             slow_subscriber, error
StreamsRejected    Count                     streams refused by this process's cap (503)
StreamSeconds      Seconds                   time streams were open: Sum / period = the mean
                                             number of open streams, on Lambda or not
EventsSent         Count         EventType   heartbeat, metrics, new_item, resync
DeliveryLag        Milliseconds              ingest to send, per live item (sampled: p50/p99)
Polls              Count                     successful polls of the item index
PollDuration       Milliseconds              per successful poll (sampled)
PollErrors         Count         Kind        failed polls: throttled, timeout, unavailable,
                                             rejected, error
=================  ============  ==========  ================================================

Every metric also has the dimensions ``service`` ("sse") and ``environment``. A fixed name with
one small dimension, rather than the kind in the name (``PollErrors_throttled``), keeps one
metric per concept in CloudWatch's console: one query graphs every reason, an alarm picks one
with a dimension, and a new value needs no new name. It costs the same (CloudWatch bills each
name and dimension value pair as one metric); the price is one EMF line per dimension value per
flush, because an EMF document carries one value per dimension.

When metrics are written: every ``FLUSH_INTERVAL_SECONDS`` (app.py), and whenever the last open
stream of the process closes. On Lambda that is every stream's end, just before its response
ends; it has to be, because Lambda freezes the environment as soon as the invocation is over
and the timer is frozen with it (it fires, late, only if the environment is invoked again).
Without the flush on close, an environment would keep the last minute of its stream's counts
until its next stream, or lose them when Lambda retires it. Latency samples are capped per
flush (a uniform sample), so a busy process writes a few lines a minute, not one per event.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, get_args

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from sentiment.store.errors import FailureKind

FLUSH_INTERVAL_SECONDS = 60.0
# EMF allows 100 values per metric in one document; Powertools writes a document early the
# moment a metric reaches 100 (even with metrics disabled), so 99 keeps a flush in one piece.
MAX_SAMPLES = 99

StreamEndReason = Literal["lifetime", "client_gone", "slow_subscriber", "error"]
STREAM_END_REASONS: tuple[str, ...] = get_args(StreamEndReason)
# The storage failure kinds (sentiment.store.errors.classify), and "error" for anything else.
POLL_ERROR_KINDS: tuple[str, ...] = (*get_args(FailureKind), "error")
EVENT_TYPES = ("heartbeat", "metrics", "new_item", "resync")
METRIC_NAMES = (
    "StreamsOpened",
    "StreamsClosed",
    "StreamsRejected",
    "StreamSeconds",
    "EventsSent",
    "DeliveryLag",
    "Polls",
    "PollDuration",
    "PollErrors",
)


class Metric(NamedTuple):
    name: str
    unit: MetricUnit
    values: Sequence[float]


@dataclass(frozen=True)
class EmfWriter:
    """Writes EMF documents to stdout (CloudWatch Logs on Lambda) under fixed dimensions.

    Each document gets a Powertools provider of its own: ``Metrics`` keeps one metric set per
    process, shared by every instance, with one set of dimension values."""

    namespace: str
    dimensions: Mapping[str, str]

    def write(self, metrics: Sequence[Metric], **dimension: str) -> None:
        """One document: ``metrics`` under the fixed dimensions plus ``dimension``. Nothing is
        written when POWERTOOLS_METRICS_DISABLED is true (Powertools checks)."""
        if not metrics:
            return
        provider = AmazonCloudWatchEMFProvider(
            namespace=self.namespace, default_dimensions={**self.dimensions, **dimension}
        )
        for metric in metrics:
            for value in metric.values:
                provider.add_metric(name=metric.name, unit=metric.unit, value=value)
        provider.flush_metrics()


class _Reservoir:
    """A uniform sample of at most MAX_SAMPLES values (reservoir sampling), and how many
    values were offered."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.seen = 0

    def add(self, value: float) -> None:
        self.seen += 1
        if len(self.values) < MAX_SAMPLES:
            self.values.append(value)
        else:
            slot = random.randrange(self.seen)  # noqa: S311 - sampling, not security
            if slot < MAX_SAMPLES:
                self.values[slot] = value


class StreamTelemetry:
    """Counts and samples since the last flush. Every method runs on the event loop."""

    def __init__(self, writer: EmfWriter, clock: Callable[[], float] = time.monotonic) -> None:
        self._writer = writer
        self._clock = clock
        self._open = 0
        self._since = clock()
        self._stream_seconds = 0.0
        self._opened = 0
        self._rejected = 0
        self._closed: Counter[str] = Counter()
        self._events: Counter[str] = Counter()
        self._poll_errors: Counter[str] = Counter()
        self._polls = _Reservoir()
        self._lag_ms = _Reservoir()

    @property
    def open_streams(self) -> int:
        return self._open

    def stream_opened(self) -> None:
        self._tally()
        self._open += 1
        self._opened += 1

    def stream_closed(self, reason: StreamEndReason) -> None:
        """Count the end; if no stream is left open, flush: the process may be frozen next."""
        self._tally()
        self._open = max(self._open - 1, 0)
        self._closed[reason] += 1
        if self._open == 0:
            self.flush()

    def stream_rejected(self) -> None:
        self._rejected += 1

    def event_sent(self, event_type: str) -> None:
        self._events[event_type] += 1

    def delivery_lag(self, milliseconds: float) -> None:
        self._lag_ms.add(max(milliseconds, 0.0))

    def poll_duration(self, seconds: float) -> None:
        """A successful poll and how long it took."""
        self._polls.add(seconds * 1000)

    def poll_failed(self, kind: str) -> None:
        """One failed poll (every one, not once per outage)."""
        self._poll_errors[kind] += 1

    def flush(self) -> None:
        """Write everything gathered since the last flush; nothing at all if nothing happened."""
        self._tally()
        if self._quiet():
            return
        count, ms = MetricUnit.Count, MetricUnit.Milliseconds
        main = [
            Metric("StreamsOpened", count, [self._opened]),
            Metric("StreamsRejected", count, [self._rejected]),
            Metric("StreamSeconds", MetricUnit.Seconds, [round(self._stream_seconds, 3)]),
            Metric("Polls", count, [self._polls.seen]),
        ]
        if self._polls.values:
            main.append(Metric("PollDuration", ms, [round(v, 3) for v in self._polls.values]))
        if self._lag_ms.values:
            main.append(Metric("DeliveryLag", ms, [round(v, 3) for v in self._lag_ms.values]))
        self._writer.write(main)
        for reason, n in sorted(self._closed.items()):
            self._writer.write([Metric("StreamsClosed", count, [n])], Reason=reason)
        for event_type, n in sorted(self._events.items()):
            self._writer.write([Metric("EventsSent", count, [n])], EventType=event_type)
        for kind, n in sorted(self._poll_errors.items()):
            self._writer.write([Metric("PollErrors", count, [n])], Kind=kind)
        self._reset()

    def _quiet(self) -> bool:
        """Nothing happened since the last flush (an idle process, or a thawed environment)."""
        counts = (self._opened, self._rejected, self._polls.seen, self._lag_ms.seen)
        gathered = self._closed or self._events or self._poll_errors
        return not any(counts) and not self._stream_seconds and not gathered

    def _tally(self) -> None:
        """Add the stream time since the last change (open streams x elapsed seconds)."""
        now = self._clock()
        self._stream_seconds += self._open * (now - self._since)
        self._since = now

    def _reset(self) -> None:
        self._stream_seconds = 0.0
        self._opened = self._rejected = 0
        self._closed.clear()
        self._events.clear()
        self._poll_errors.clear()
        self._polls = _Reservoir()
        self._lag_ms = _Reservoir()
