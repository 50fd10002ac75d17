"""Builders for payloads the API accepts; every field can be overridden."""

from __future__ import annotations

import itertools
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

    from sentiment.models import ItemIn

_counter = itertools.count(1)


def item_payload(**overrides: Any) -> dict[str, Any]:
    """A valid ingest body for one item with a fresh item_id."""
    n = next(_counter)
    payload: dict[str, Any] = {
        "item_id": f"test-{uuid.uuid4().hex[:12]}-{n}",
        "source": "newswire",
        "title": f"Test headline number {n}",
        "url": f"https://news.example.com/articles/{n}",
        "tickers": ["AAPL"],
        "sentiment": "positive",
        "score": 0.5,
        "confidence": 0.9,
        "published_at": "2026-11-21T10:00:00Z",
    }
    payload.update(overrides)
    return payload


def configuration_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"name": "Big tech", "tickers": ["AAPL", "MSFT"]}
    payload.update(overrides)
    return payload


def item_in(**overrides: Any) -> ItemIn:
    """An ``ItemIn`` model built from :func:`item_payload` (for store-level tests)."""
    from sentiment.models import ItemIn

    return ItemIn.model_validate(item_payload(**overrides))


def serialize_moto_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto's in-process ``TransactWriteItems`` atomic across threads, as DynamoDB's is.

    moto snapshots the touched tables before a transaction and restores the snapshot when it
    is cancelled, without a lock: a cancelled transaction in one thread can erase another
    thread's committed write. Real DynamoDB transactions are serializable, so concurrency tests
    hold one lock around each moto transaction; the code under test still runs concurrently.
    """
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
