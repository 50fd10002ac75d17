"""EMF metrics for the SSE app, aggregated in process and flushed on a timer.

Under LWA there is no Lambda handler to flush Powertools Metrics, and one metric per event
would be thousands of log lines a second at high fan-out, so counts are summed here and
latency samples are capped per flush; :meth:`StreamTelemetry.flush` writes one EMF blob.
"""

from __future__ import annotations

import random
from collections import Counter

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

FLUSH_INTERVAL_SECONDS = 60.0
MAX_SAMPLES = 100  # EMF's limit of values per metric in one blob


class _Reservoir:
    """A uniform sample of at most MAX_SAMPLES values (reservoir sampling)."""

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
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._events: Counter[str] = Counter()
        self._opened = 0
        self._rejected = 0
        self._outages: Counter[str] = Counter()
        self._poll_seconds = _Reservoir()
        self._lag_ms = _Reservoir()
        self.events_total: Counter[str] = Counter()

    def stream_opened(self) -> None:
        self._opened += 1

    def stream_rejected(self) -> None:
        self._rejected += 1

    def event_sent(self, event_type: str) -> None:
        self._events[event_type] += 1
        self.events_total[event_type] += 1

    def delivery_lag(self, milliseconds: float) -> None:
        self._lag_ms.add(milliseconds)

    def poll_failed(self, kind: str) -> None:
        """A storage outage began (counted once per kind of failure per outage)."""
        self._outages[kind] += 1

    def poll_duration(self, seconds: float) -> None:
        self._poll_seconds.add(seconds * 1000)

    def flush(self, connections: int) -> None:
        """Write everything gathered since the last flush as one EMF blob."""
        add = self._metrics.add_metric
        add(name="Connections", unit=MetricUnit.Count, value=connections)
        add(name="StreamsOpened", unit=MetricUnit.Count, value=self._opened)
        add(name="ConnectionsRejected", unit=MetricUnit.Count, value=self._rejected)
        for event_type, count in self._events.items():
            add(name=f"EventsSent_{event_type}", unit=MetricUnit.Count, value=count)
        for kind, count in self._outages.items():
            add(name=f"PollFailures_{kind}", unit=MetricUnit.Count, value=count)
        for value in self._poll_seconds.values:
            add(name="PollDuration", unit=MetricUnit.Milliseconds, value=value)
        for value in self._lag_ms.values:
            add(name="DeliveryLag", unit=MetricUnit.Milliseconds, value=value)
        self._metrics.flush_metrics()
        self._events.clear()
        self._outages.clear()
        self._opened = self._rejected = 0
        self._poll_seconds = _Reservoir()
        self._lag_ms = _Reservoir()
