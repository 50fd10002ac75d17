"""Where a stream starts: fresh (now), or resumed after the position a ``Last-Event-ID`` names.

Event ids are :class:`sentiment.positions.Position` tokens. A malformed, expired or future id is
never an error status: the stream starts live and first tells the page to resync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sentiment.positions import InvalidPositionError, Position, from_the_future

# Older ids are "expired": the page is better served by a fresh REST snapshot than a long replay.
REPLAY_MAX_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class StartPoint:
    position: Position
    resumed: bool = False
    resync_reason: str | None = None


def start_point(last_event_id: str | None, now: datetime) -> StartPoint:
    """Parse a ``Last-Event-ID`` (header or query) into where the stream begins."""
    live = Position.at(now)
    if not last_event_id:
        return StartPoint(live)
    try:
        position = Position.decode(last_event_id.strip())
    except InvalidPositionError:
        return StartPoint(live, resync_reason="malformed")
    if position.ingested_at < now - REPLAY_MAX_AGE:
        return StartPoint(live, resync_reason="expired")
    if from_the_future(position.ingested_at, now):
        return StartPoint(live, resync_reason="malformed")
    return StartPoint(position, resumed=True)
