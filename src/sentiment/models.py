"""Pydantic models: the payloads both Lambdas accept and return, and the rules on them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticKnownError

from sentiment.commas import comma_parts
from sentiment.positions import ITEM_ID_PATTERN

TICKER_PATTERN = r"^[A-Z][A-Z0-9.-]{0,9}$"
# Unicode White_Space (what pydantic strips), spelled out: regex engines disagree on ``\s``
# (Rust's is this set, Python's adds \x1c-\x1f, ECMAScript's adds \ufeff and drops \x85),
# and the OpenAPI document must mean the same to every client that reads it.
_SPACE = r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
URL_PATTERN = rf"^https?://[^{_SPACE}]+$"
MAX_BATCH_ITEMS = 25
MAX_CONFIGURATIONS_PER_USER = 5
MAX_TICKERS_PER_CONFIGURATION = 5
CONFIG_ID_PATTERN = r"^[0-9a-f]{32}$"  # a uuid4's hex, as ConfigurationStore.create makes them
MAX_TICKERS_PER_ITEM = 10
MAX_FILTER_TICKERS = 10
# Tickers the global metrics list by name; the rest are summed in ``others``.
TOP_TICKERS = 50
SCORE_DECIMALS = 6
STORED_PRECISION = (
    f"Stored rounded to {SCORE_DECIMALS} decimal places (a magnitude under "
    f"0.{'0' * SCORE_DECIMALS}5 is stored as 0) and listed back as stored"
)

Sentiment = Literal["positive", "neutral", "negative"]
SENTIMENTS: tuple[Sentiment, ...] = ("positive", "neutral", "negative")

Ticker = Annotated[str, StringConstraints(pattern=TICKER_PATTERN)]
ItemId = Annotated[str, StringConstraints(pattern=ITEM_ID_PATTERN)]


def _unique(values: list[str]) -> list[str]:
    duplicates = sorted(value for value, count in Counter(values).items() if count > 1)
    if duplicates:
        raise ValueError(f"duplicate values: {', '.join(duplicates)}")
    return values


def _split_commas(value: object) -> object:
    """``?tickers=AAPL,MSFT`` and ``?tickers=AAPL&tickers=MSFT`` both become a list.

    More than :data:`MAX_FILTER_TICKERS` comma-separated parts (empty ones too) are refused
    from a count of the values and commas, before anything is split."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list):
        return value
    if len(values) > MAX_FILTER_TICKERS:
        raise _too_many_tickers(len(values))
    texts = [str(v) for v in values]
    parts = sum(text.count(",") + 1 for text in texts)
    if parts > MAX_FILTER_TICKERS:
        raise _too_many_tickers(parts)
    return comma_parts(*texts)


def _too_many_tickers(count: int) -> PydanticKnownError:
    """The error pydantic's own length check gives a list (type ``too_long``)."""
    context = {"field_type": "List", "max_length": MAX_FILTER_TICKERS, "actual_length": count}
    return PydanticKnownError("too_long", context)


# The length bounds sit on the list itself, before the uniqueness check: pydantic then refuses
# a longer list before validating any element. (An AfterValidator placed before the bounds
# saw, and scanned for duplicates, every element first.)
_UNIQUE: JsonDict = {"uniqueItems": True}
ItemTickers = Annotated[
    list[Ticker],
    Field(min_length=1, max_length=MAX_TICKERS_PER_ITEM, json_schema_extra=_UNIQUE),
    AfterValidator(_unique),
]
ConfigTickers = Annotated[
    list[Ticker],
    Field(min_length=1, max_length=MAX_TICKERS_PER_CONFIGURATION, json_schema_extra=_UNIQUE),
    AfterValidator(_unique),
]
TickerFilter = Annotated[
    list[Ticker],
    Field(min_length=1, max_length=MAX_FILTER_TICKERS, json_schema_extra=_UNIQUE),
    AfterValidator(_unique),
    BeforeValidator(_split_commas),
]


def _stored_precision(value: float) -> float:
    """``value`` as stored: rounded to :data:`SCORE_DECIMALS` places, never ``-0.0``.

    DynamoDB numbers keep 38 digits between 1E-130 and 1E+126: a float like 5e-324 cannot be
    stored at all, and 1e-40 added to a counter's 0.5 needs 41 digits. Six decimals always fit,
    alone and summed."""
    return round(value, SCORE_DECIMALS) + 0.0


class _Strict(BaseModel):
    """Request bodies: unknown fields are a 422, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# Text is stripped before its length is checked, so it must hold one non-space character:
# the OpenAPI document says so with this pattern (the 422 stays ``string_too_short``).
_NOT_BLANK: JsonDict = {"pattern": rf"[^{_SPACE}]"}


# --- items -------------------------------------------------------------------------------


class ItemIn(_Strict):
    """One scored news item as a producer sends it."""

    item_id: ItemId = Field(description="Producer-chosen id; ingest is idempotent on it")
    source: str = Field(min_length=1, max_length=100, json_schema_extra=_NOT_BLANK)
    title: str = Field(min_length=1, max_length=300, json_schema_extra=_NOT_BLANK)
    url: str = Field(max_length=2048, pattern=URL_PATTERN)
    tickers: ItemTickers
    sentiment: Sentiment
    score: Annotated[
        float,
        Field(ge=-1, le=1, allow_inf_nan=False, description=STORED_PRECISION),
        AfterValidator(_stored_precision),
    ]
    confidence: Annotated[
        float,
        Field(ge=0, le=1, allow_inf_nan=False, description=STORED_PRECISION),
        AfterValidator(_stored_precision),
    ]
    published_at: AwareDatetime


class Item(ItemIn):
    """An item as stored: what the REST API returns and ``new_item`` events carry."""

    model_config = ConfigDict(extra="ignore")

    ingested_at: datetime
    _json: str | None = PrivateAttr(default=None)

    def json_once(self) -> str:
        """The item as JSON, encoded once however many streams send it (the hub offers the
        same object to every subscriber; a burst after an outage sends it to all of them)."""
        if self._json is None:
            self._json = self.model_dump_json()
        return self._json


class ItemBatch(_Strict):
    items: list[ItemIn] = Field(
        min_length=1,
        max_length=MAX_BATCH_ITEMS,
        description="Items with distinct `item_id`s (a repeated id is a 422)",
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> ItemBatch:
        _unique([item.item_id for item in self.items])
        return self


class IngestResult(BaseModel):
    created: list[str]
    duplicates: list[str]


class ItemPage(BaseModel):
    items: list[Item]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next, older page; null when nothing older is left. "
        "One request reads at most 500 stored items, so a sparse filter can return a short "
        "(even empty) page with a cursor: keep following it."
    )


class ErrorDetail(BaseModel):
    """Every error answer but a 422 (which lists its errors): what went wrong, in words."""

    detail: str


# --- metrics -----------------------------------------------------------------------------


class HourlyCount(BaseModel):
    hour: datetime
    total: int
    positive: int
    neutral: int
    negative: int


class Metrics(BaseModel):
    """Dashboard metrics over whole UTC hours; the REST payload and the SSE ``metrics`` event."""

    window_hours: int
    tickers: list[str] | None = Field(
        None, description="The ticker filter, or null for everything; filtered counts are mentions"
    )
    total: int
    positive: int
    neutral: int
    negative: int
    average_score: float
    by_ticker: dict[str, int] = Field(
        description="Mentions per ticker, most first (ties by symbol). With a ticker filter: "
        "exactly the filter's tickers, zeros included. Without: at most the "
        f"{TOP_TICKERS} most mentioned tickers of the window, ranked from the most mentioned "
        "of each hour and rank shard (8 of each of 8 shards an hour, read further, up to 64, "
        "where fewer cannot prove the ranking); `ranking_exact` says whether it is proven",
        max_length=TOP_TICKERS,
    )
    others: int = Field(
        description="Mentions not counted in `by_ticker`: every other ticker's (0 with a ticker "
        "filter). `by_ticker` and `others` add up to all mentions of the window"
    )
    ranking_exact: bool = Field(
        description="True when every `by_ticker` count is exact and no ticker left out has "
        "more mentions than the last one listed (a tie at the last place may be broken either "
        "way). False when some hour had more tickers than were read for it and the ranking "
        "cannot be proven from what was: counts are then at least those given. Always true "
        "with a ticker filter"
    )
    last_hour: int = Field(description="Rolling hour, in five-minute steps")
    hourly: list[HourlyCount]
    generated_at: datetime


# --- sessions and configurations ---------------------------------------------------------


class Session(BaseModel):
    user_id: str
    token: str
    expires_at: datetime


class StreamTicket(BaseModel):
    ticket: str
    expires_at: datetime


ConfigName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    Field(json_schema_extra=_NOT_BLANK),
]


class ConfigurationIn(_Strict):
    name: ConfigName
    tickers: ConfigTickers


class ConfigurationPatch(_Strict):
    """Either field or both; null is the same as leaving a field out."""

    model_config = ConfigDict(
        # What the validator below enforces: at least one field present and not null.
        json_schema_extra={
            "anyOf": [
                {"required": ["name"], "properties": {"name": {"type": "string"}}},
                {"required": ["tickers"], "properties": {"tickers": {"type": "array"}}},
            ]
        }
    )

    name: ConfigName | None = None
    tickers: ConfigTickers | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> ConfigurationPatch:
        if self.name is None and self.tickers is None:
            raise ValueError("give at least one of name, tickers")
        return self


class Configuration(BaseModel):
    config_id: str
    name: str
    tickers: list[str]
    created_at: datetime
    updated_at: datetime


class ConfigurationList(BaseModel):
    configurations: list[Configuration]
    max_configurations: int = MAX_CONFIGURATIONS_PER_USER


# --- service -----------------------------------------------------------------------------


class WatchListRules(BaseModel):
    """What a watch list may hold, so the page checks input as the API will."""

    ticker_pattern: str = TICKER_PATTERN
    max_tickers: int = MAX_TICKERS_PER_CONFIGURATION
    max_watch_lists: int = MAX_CONFIGURATIONS_PER_USER


class RuntimeConfig(BaseModel):
    sse_url: str
    environment: str
    watch_lists: WatchListRules = WatchListRules()


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    dynamodb: str
