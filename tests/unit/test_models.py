"""Payload models: what a producer and a browser may send, and what the API returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from sentiment.models import (
    ConfigurationIn,
    ConfigurationPatch,
    Item,
    ItemBatch,
    ItemIn,
    TickerFilter,
)
from tests.utils.factories import item_payload


def error_locs(error: pytest.ExceptionInfo[ValidationError]) -> list[tuple[Any, ...]]:
    return [e["loc"] for e in error.value.errors()]


def test_item_in_accepts_a_valid_payload() -> None:
    """Every field of the contract is kept as sent; strings are stripped."""
    payload = item_payload(item_id="abc-1", title="  Apple beats  ", tickers=["AAPL", "BRK.B"])
    item = ItemIn.model_validate(payload)
    assert item.item_id == "abc-1"
    assert item.title == "Apple beats"
    assert item.tickers == ["AAPL", "BRK.B"]
    assert item.published_at == datetime(2026, 11, 21, 10, tzinfo=UTC)


@pytest.mark.parametrize("ticker", ["A", "AAPL", "BRK.B", "BF-B", "X1234567.9"])
def test_ticker_pattern_accepts(ticker: str) -> None:
    """A capital letter, then up to nine of ``A-Z0-9.-``."""
    assert ItemIn.model_validate(item_payload(tickers=[ticker])).tickers == [ticker]


@pytest.mark.parametrize("ticker", ["", "aapl", "1ABC", ".A", "ABCDEFGHIJK", "AB CD", "ÄPL"])
def test_ticker_pattern_rejects(ticker: str) -> None:
    with pytest.raises(ValidationError) as error:
        ItemIn.model_validate(item_payload(tickers=[ticker]))
    assert error_locs(error) == [("tickers", 0)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("score", float("nan")),
        ("score", float("inf")),
        ("confidence", float("nan")),
        ("score", -1.0001),
        ("confidence", 1.0001),
        ("published_at", "2026-11-21T10:00:00"),
        ("published_at", "yesterday"),
        ("sentiment", "bullish"),
        ("source", ""),
        ("url", "https://has space.example.com"),
        ("item_id", ""),
    ],
)
def test_item_in_rejects_out_of_contract_values(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as error:
        ItemIn.model_validate(item_payload(**{field: value}))
    assert error_locs(error) == [(field,)]


@pytest.mark.parametrize(("score", "confidence"), [(-1, 0), (1, 1), (0, 0.5)])
def test_item_in_accepts_range_ends(score: float, confidence: float) -> None:
    item = ItemIn.model_validate(item_payload(score=score, confidence=confidence))
    assert (item.score, item.confidence) == (score, confidence)


def test_stored_item_ignores_storage_attributes() -> None:
    """A stored row carries index and TTL attributes; the API model drops them."""
    row = {
        **item_payload(item_id="a"),
        "ingested_at": "2026-11-21T12:00:00.000001Z",
        "bucket": "2026-11-21T12",
        "position": "2026-11-21T12:00:00.000001Z#a",
        "expires_at": 1797000000,
    }
    dumped = Item.model_validate(row).model_dump(mode="json")
    assert dumped["ingested_at"] == "2026-11-21T12:00:00.000001Z"
    assert not {"bucket", "position", "expires_at"} & dumped.keys()


def test_batch_rejects_duplicate_item_ids() -> None:
    with pytest.raises(ValidationError, match="duplicate values: dup"):
        ItemBatch.model_validate({"items": [item_payload(item_id="dup")] * 2})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["AAPL,MSFT"], ["AAPL", "MSFT"]),
        (["AAPL", "MSFT"], ["AAPL", "MSFT"]),
        (["AAPL, MSFT", "TSLA"], ["AAPL", "MSFT", "TSLA"]),
        ("AAPL", ["AAPL"]),
    ],
)
def test_ticker_filter_splits_commas(raw: Any, expected: list[str]) -> None:
    """``?tickers=A,B`` and ``?tickers=A&tickers=B`` mean the same filter."""
    assert TypeAdapter(TickerFilter).validate_python(raw) == expected


def test_configuration_name_is_stripped_and_bounded() -> None:
    assert ConfigurationIn(name="  Tech  ", tickers=["AAPL"]).name == "Tech"
    with pytest.raises(ValidationError):
        ConfigurationIn(name="   ", tickers=["AAPL"])
    with pytest.raises(ValidationError):
        ConfigurationIn(name="x" * 51, tickers=["AAPL"])


@pytest.mark.parametrize("body", [{}, {"name": None}, {"tickers": None}])
def test_configuration_patch_needs_a_change(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="give at least one of name, tickers"):
        ConfigurationPatch.model_validate(body)
