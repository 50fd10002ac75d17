"""Positions in the item stream: where an item sits in time, and how that is written down.

A position is ``(ingested_at, item_id)``. In DynamoDB it is the sort key of the time-bucketed
index (``2026-11-21T13:05:01.123456Z#item-1``): fixed-width ISO text, so string order is time
order. On the wire (SSE ``id`` and REST ``cursor``) it is an opaque, URL-safe token.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ITEM_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
_ITEM_ID = re.compile(ITEM_ID_PATTERN)
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
_TOKEN = re.compile(TOKEN_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Writers' clocks may run this far ahead of ours. Readers look that far into the next hour, and
# a position (event id or cursor) further ahead than this cannot be one we wrote.
CLOCK_SKEW = timedelta(minutes=1)


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601 with microseconds, so text order equals time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def hour_bucket(moment: datetime) -> str:
    """The index partition an item lands in: its UTC hour."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_buckets(start: datetime, end: datetime) -> list[str]:
    """Every hour bucket from ``start``'s hour to ``end``'s hour, oldest first."""
    buckets = []
    hour, last = hour_start(start), hour_start(end)
    while hour <= last:
        buckets.append(hour_bucket(hour))
        hour += timedelta(hours=1)
    return buckets


def from_the_future(moment: datetime, now: datetime) -> bool:
    """True when ``moment`` lies beyond :data:`CLOCK_SKEW` ahead of ``now``."""
    return moment > now + CLOCK_SKEW


class InvalidPositionError(ValueError):
    """A token that is not a position this service wrote."""


@dataclass(frozen=True, order=True)
class Position:
    """A point in the item stream. ``item_id`` is empty for a point between items."""

    ingested_at: datetime
    item_id: str = ""

    @property
    def sort_key(self) -> str:
        return f"{format_timestamp(self.ingested_at)}#{self.item_id}"

    @property
    def bucket(self) -> str:
        return hour_bucket(self.ingested_at)

    @classmethod
    def at(cls, moment: datetime) -> Position:
        """The point just before every item ingested at ``moment`` or later."""
        return cls(moment.astimezone(UTC))

    @classmethod
    def from_sort_key(cls, sort_key: str) -> Position:
        stamp, _, item_id = sort_key.partition("#")
        return cls(parse_timestamp(stamp), item_id)

    def encode(self) -> str:
        """An opaque, ASCII, URL- and header-safe token of at most 128 bytes."""
        micros = (self.ingested_at - _EPOCH) // timedelta(microseconds=1)
        raw = f"{micros}:{self.item_id}".encode("ascii")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Position:
        """Parse a token from :meth:`encode`; anything else raises InvalidPositionError."""
        if not _TOKEN.match(token):
            raise InvalidPositionError("position token must be 1-128 URL-safe base64 characters")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            micros_text, item_id = raw.split(":", 1)
            micros = int(micros_text)
            moment = _EPOCH + timedelta(microseconds=micros)
        except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as error:
            raise InvalidPositionError("position token is malformed") from error
        position = cls(moment, item_id)
        if micros < 0 or (item_id and not _ITEM_ID.match(item_id)) or position.encode() != token:
            # Only the one canonical spelling is ours ("+1", " 1", "01" all parse as ints).
            raise InvalidPositionError("position token is malformed")
        return position
