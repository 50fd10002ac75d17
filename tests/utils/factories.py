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
    """Make moto's in-process DynamoDB atomic across threads, as DynamoDB is (the local stack's
    moto server gets the same fix: ``devstack.transactions``)."""
    from devstack.transactions import make_atomic

    make_atomic(monkeypatch.setattr)
