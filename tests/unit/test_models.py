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


# --- bounds: every list is capped before its elements are looked at ----------------------

HUGE = 20_000


def _config(tickers: list[str]) -> Any:
    return ConfigurationIn.model_validate({"name": "x", "tickers": tickers})


def _patch(tickers: list[str]) -> Any:
    return ConfigurationPatch.model_validate({"tickers": tickers})


def _item(tickers: list[str]) -> Any:
    return ItemIn.model_validate(item_payload(tickers=tickers))


def _filter(tickers: list[str]) -> Any:
    return TypeAdapter(TickerFilter).validate_python(",".join(tickers))


def _filter_repeated(tickers: list[str]) -> Any:
    """``?tickers=A&tickers=B...``: the same cap as the comma-separated form."""
    return TypeAdapter(TickerFilter).validate_python(tickers)


LISTS = {
    "configuration": (_config, ("tickers",), 5),
    "configuration-patch": (_patch, ("tickers",), 5),
    "item": (_item, ("tickers",), 10),
    "metrics-filter": (_filter, (), 10),
    "metrics-filter-repeated": (_filter_repeated, (), 10),
}


@pytest.mark.parametrize(("validate", "loc", "cap"), LISTS.values(), ids=LISTS.keys())
@pytest.mark.parametrize("value", ["AAPL", "bad"], ids=["duplicates", "invalid"])
def test_a_huge_ticker_list_is_one_too_long_error(
    validate: Any, loc: tuple[Any, ...], cap: int, value: str
) -> None:
    """20,000 tickers get exactly one ``too_long`` error: no per-element pattern error and no
    duplicate scan (which was quadratic and ran before the length check)."""
    with pytest.raises(ValidationError) as error:
        validate([value] * HUGE)
    [found] = error.value.errors()
    assert (found["type"], found["loc"]) == ("too_long", loc)
    assert found["ctx"] == {"field_type": "List", "max_length": cap, "actual_length": HUGE}


def test_a_huge_batch_is_one_too_long_error() -> None:
    with pytest.raises(ValidationError) as error:
        ItemBatch.model_validate({"items": [{"item_id": "bad id"}] * HUGE})
    [found] = error.value.errors()
    assert (found["type"], found["loc"]) == ("too_long", ("items",))
    assert found["ctx"]["actual_length"] == HUGE


@pytest.mark.parametrize(("validate", "loc", "cap"), LISTS.values(), ids=LISTS.keys())
def test_lists_at_their_cap_are_accepted(validate: Any, loc: tuple[Any, ...], cap: int) -> None:
    tickers = [f"T{n}" for n in range(cap)]
    validated = validate(tickers)
    assert (validated if isinstance(validated, list) else validated.tickers) == tickers


@pytest.mark.parametrize(("validate", "loc", "cap"), LISTS.values(), ids=LISTS.keys())
def test_duplicates_within_the_cap_are_named(validate: Any, loc: tuple[Any, ...], cap: int) -> None:
    with pytest.raises(ValidationError) as error:
        validate(["MSFT", "AAPL", "MSFT", "AAPL", "TSLA"])
    [found] = error.value.errors()
    assert (found["type"], found["loc"]) == ("value_error", loc)
    assert found["msg"] == "Value error, duplicate values: AAPL, MSFT"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [(5.516037776304909e-302, 0.0), (-5.461340542820139e-136, 0.0), (0.1234565001, 0.123457)],
)
def test_scores_keep_six_decimals(sent: float, kept: float) -> None:
    """What DynamoDB can hold, alone and summed in a counter (see SCORE_DECIMALS)."""
    item = ItemIn.model_validate(item_payload(score=sent, confidence=abs(sent)))
    assert (item.score, item.confidence) == (kept, kept)
    assert str(item.score) == str(kept)


TRICKY = ["\x85", "\x1c", "\ufeff", "\u200b", "\xa0", "\u3000", "\u180e", "\x0b", "\t", "é", "["]


@pytest.mark.parametrize("char", TRICKY, ids=[f"U+{ord(c):04X}" for c in TRICKY])
def test_text_patterns_mean_the_same_in_every_regex_engine(char: str) -> None:
    """The documented patterns spell whitespace out, so pydantic's (Rust) verdict is the one a
    Python (or ECMAScript) client computes from the OpenAPI document."""
    import re

    from sentiment.models import URL_PATTERN

    def accepted(**fields: str) -> bool:
        try:
            ItemIn.model_validate(item_payload(**fields))
        except ValidationError:
            return False
        return True

    url = f"http://a{char}b"
    assert accepted(url=url) == bool(re.search(URL_PATTERN, url))
    not_blank = ItemIn.model_json_schema()["properties"]["title"]["pattern"]
    assert accepted(title=char) == bool(re.search(not_blank, char))
